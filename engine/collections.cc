// The collections side of the ledger: behaviour statistics, segments, the strategies' steps and
// their actions, and the priority worklist. Everything here is decided inside Ledger::Apply, so
// actions land in the same commit as the event that caused them and replays decide the same.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>

#include "engine/ledger.h"

namespace rms {

namespace {

constexpr int32_t kNoWake = INT32_MAX;
constexpr int32_t kDisputeWindowDays = 180;
constexpr int kWeightExponent = 4;  // behaviour weights in 1e-4 major units

double Pow10(int n) {
    double v = 1.0;
    for (int i = 0; i < n; ++i) {
        v *= 10.0;
    }
    return v;
}

int64_t IntPow10(int n) {
    int64_t v = 1;
    for (int i = 0; i < n; ++i) {
        v *= 10;
    }
    return v;
}

// Orders (customer, promise) pairs by customer alone.
bool ByCustomer(const std::pair<uint32_t, uint32_t>& a, const std::pair<uint32_t, uint32_t>& b) {
    return a.first < b.first;
}

}  // namespace

void Ledger::SetRules(std::shared_ptr<const rules::RulesConfig> rules) {
    rules_ = std::move(rules);
    // Ranks depend on the score weights: recompute them (no decisions are taken here).
    if (business_date_) {
        for (uint32_t c = 0; c < customers_.size(); ++c) {
            Evaluate(c, /*decide=*/false);
        }
    }
}

void Ledger::EnsureCustomerSlots() {
    stats_.resize(customers_.size());
    rank_key_.resize(customers_.size(), std::nan(""));
    wake_day_.resize(customers_.size(), kNoWake);
}

void Ledger::Touch(uint32_t customer) {
    touched_.push_back(customer);
}

void Ledger::EvaluateTouched() {
    // The promises broken before this point, by customer (each customer's in the order they
    // broke), so that Evaluate finds a customer's own by binary search: a day close can break
    // thousands while waking hundreds of thousands of customers.
    std::stable_sort(broken_promises_.begin(), broken_promises_.end(), ByCustomer);
    // In ascending customer order, each once: action ids follow this order. Evaluating touches
    // no other customer, but should it ever, those get a round of their own.
    while (!touched_.empty()) {
        evaluating_.swap(touched_);
        std::sort(evaluating_.begin(), evaluating_.end());
        evaluating_.erase(std::unique(evaluating_.begin(), evaluating_.end()), evaluating_.end());
        for (uint32_t c : evaluating_) {
            Evaluate(c, /*decide=*/true);
        }
        evaluating_.clear();
    }
    broken_promises_.clear();
}

void Ledger::WakeCustomers() {
    int32_t today = business_date_->days();
    while (!wakes_.empty() && wakes_.begin()->first <= today) {
        auto day = wakes_.extract(wakes_.begin());
        for (uint32_t c : day.mapped()) {
            if (wake_day_[c] == day.key()) {
                wake_day_[c] = kNoWake;
                Touch(c);
            }
        }
    }
    EvaluateTouched();
}

void Ledger::CountPaid(const InvoiceRec& inv, int sign) {
    rules::BehaviourStats& s = stats_[inv.customer];
    int32_t late = std::max(0, *inv.paid_date - inv.installments.back().due);
    int64_t weight = inv.amount * IntPow10(kWeightExponent - inv.currency.exponent());
    s.paid_invoices += sign;
    s.paid_on_time += late == 0 ? sign : 0;
    s.paid_weight += sign * weight;
    s.paid_weight_days_late += static_cast<__int128>(sign) * weight * late;
}

void Ledger::SetPromiseStatus(uint32_t idx, PromiseStatus status) {
    PromiseRec& p = promises_[idx];
    if (p.status == status) {
        return;
    }
    rules::BehaviourStats& s = stats_[p.customer];
    EffectKey effect{p.contact_channel, p.contact_step};
    bool attributed = !p.contact_channel.empty();
    TallyPromise(p, -1);
    if (p.status == PromiseStatus::kKept) {
        --s.promises_kept;
        if (attributed) {
            --effects_[effect].promises_kept;
            dirty_.effects.insert(effect);
        }
    }
    p.status = status;
    p.status_date = *business_date_;
    p.status_event = current_event_;
    ++promise_transitions_[static_cast<size_t>(status)];
    TallyPromise(p, +1);
    Note(p.customer, "promise",
         {{"promise", p.id}, {"status", std::string(PromiseStatusName(status))}});
    if (status == PromiseStatus::kKept) {
        ++s.promises_kept;
        if (attributed) {
            ++effects_[effect].promises_kept;
            dirty_.effects.insert(effect);
        }
    } else if (status == PromiseStatus::kBroken) {
        ++s.promises_broken;
        broken_promises_.emplace_back(p.customer, idx);
    }
    dirty_.promises.insert(idx);
    Touch(p.customer);
}

void Ledger::TallyPromise(const PromiseRec& p, int sign) {
    PromiseTally& t = promise_tallies_[p.currency];
    t.by_status[static_cast<size_t>(p.status)] += sign;
    if (p.status == PromiseStatus::kKept || p.status == PromiseStatus::kBroken) {
        auto& [kept, broken] = t.decided_by_day[p.status_date.days()];
        (p.status == PromiseStatus::kKept ? kept : broken) += sign;
    }
}

std::optional<double> Ledger::PromiseKeptRate(std::optional<Currency> currency) const {
    if (!business_date_) {
        return std::nullopt;
    }
    int32_t to = business_date_->days();
    int64_t kept = 0;
    int64_t broken = 0;
    for (const auto& [c, tally] : promise_tallies_) {
        if (currency && c != *currency) {
            continue;
        }
        for (auto it = tally.decided_by_day.lower_bound(to - (kWindowDays - 1));
             it != tally.decided_by_day.end() && it->first <= to; ++it) {
            kept += it->second.first;
            broken += it->second.second;
        }
    }
    if (kept + broken == 0) {
        return std::nullopt;
    }
    return static_cast<double>(kept) / static_cast<double>(kept + broken);
}

rules::CustomerFacts Ledger::FactsOf(uint32_t c) const {
    const CustomerRec& cust = customers_[c];
    rules::CustomerFacts f;
    f.kind = cust.attributes.kind ? std::string_view(*cust.attributes.kind) : "";
    f.risk = cust.attributes.risk ? std::string_view(*cust.attributes.risk) : "";
    f.segment = cust.segment;
    // One pass over the customer's invoices. Open and overdue are summed per currency first (a
    // customer has few: a small list, no map), then added up in currency order, as
    // CustomerFigures() would give them, so that the floating-point sums are the same.
    struct Sums {
        Currency currency;
        int64_t open = 0;
        int64_t overdue = 0;
    };
    std::vector<Sums> sums;
    std::optional<Date> oldest;
    std::optional<Date> oldest_open;
    const Date today = *business_date_;
    for (uint32_t idx : cust.invoices) {
        const InvoiceRec& inv = invoices_[idx];
        const InstallmentRec* first = inv.OldestOpen();
        if (first == nullptr) {
            continue;
        }
        auto it = std::find_if(sums.begin(), sums.end(),
                               [&](const Sums& x) { return x.currency == inv.currency; });
        if (it == sums.end()) {
            it = sums.insert(sums.end(), Sums{inv.currency});
        }
        for (const InstallmentRec& i : inv.installments) {
            it->open += i.open;
            it->overdue += i.due < today ? i.open : 0;
        }
        f.open_disputes += inv.disputed ? 1 : 0;
        if (!oldest_open || first->due < *oldest_open) {
            oldest_open = first->due;
        }
        if (first->due < today && (!oldest || first->due < *oldest)) {
            oldest = first->due;
        }
    }
    std::sort(sums.begin(), sums.end(),
              [](const Sums& a, const Sums& b) { return a.currency < b.currency; });
    for (const Sums& x : sums) {
        int64_t scale = IntPow10(x.currency.exponent());
        // Saturating: several currencies near their limits must not wrap the sum.
        if (__builtin_add_overflow(f.open_major, x.open / scale, &f.open_major)) {
            f.open_major = INT64_MAX;
        }
        if (__builtin_add_overflow(f.overdue_major, x.overdue / scale, &f.overdue_major)) {
            f.overdue_major = INT64_MAX;
        }
        f.open_exact_major += static_cast<double>(x.open) / Pow10(x.currency.exponent());
        f.overdue_exact_major += static_cast<double>(x.overdue) / Pow10(x.currency.exponent());
    }
    // Days past due of the oldest overdue item; with nothing overdue, of the oldest open item
    // (zero or negative: days until it falls due), so day conditions below zero can match.
    f.days_past_due = oldest        ? *business_date_ - *oldest
                      : oldest_open ? *business_date_ - *oldest_open
                                    : 0;
    const PromiseRec* last_decided = nullptr;
    for (uint32_t idx : cust.promises) {
        const PromiseRec& p = promises_[idx];
        f.has_open_promise = f.has_open_promise || p.status == PromiseStatus::kOpen;
        bool decided = p.status == PromiseStatus::kKept || p.status == PromiseStatus::kBroken;
        if (decided && (last_decided == nullptr || p.status_date >= last_decided->status_date)) {
            last_decided = &p;
        }
    }
    f.last_promise_broken = last_decided && last_decided->status == PromiseStatus::kBroken;
    f.broken_promises = stats_[c].promises_broken;
    if (cust.attributes.credit_limit) {
        f.credit_limit_major = std::strtod(cust.attributes.credit_limit->c_str(), nullptr);
    }
    return f;
}

void Ledger::FireAction(uint32_t customer, const rules::Strategy& strategy, const rules::Step& step,
                        std::string key, std::string_view invoice, Date step_date) {
    if (action_index_.Contains(key, actions_, ActionKeyOf())) {
        return;
    }
    ActionRec a;
    a.id = actions_.size() + 1;
    a.key = key;
    a.customer = customer;
    a.invoice = std::string(invoice);
    a.strategy = strategy.name;
    a.step = step.name;
    a.kind = step.action;
    a.channel = step.channel;
    a.template_name = step.template_name;
    // A large negative offset on an early due date can fall before year 1: clamp it there.
    a.step_date = std::max(step_date, Date::FromCivil(1, 1, 1).value());
    a.created = *business_date_;
    a.caused_by = current_event_;
    uint32_t idx = static_cast<uint32_t>(actions_.size());
    Fields fields{{"action_id", std::to_string(a.id)},
                  {"key", a.key},
                  {"strategy", a.strategy},
                  {"step", a.step},
                  {"action", std::string(rules::ActionKindName(a.kind))}};
    if (!a.channel.empty()) {
        fields.emplace_back("channel", a.channel);
    }
    if (!a.invoice.empty()) {
        fields.emplace_back("invoice", a.invoice);
    }
    fields.emplace_back("status", a.status);
    Note(customer, "action", std::move(fields));
    action_index_.Insert(key, idx);
    ++action_statuses_[a.status];
    actions_.push_back(std::move(a));
    dirty_.actions.push_back(idx);
}

void Ledger::Rank(uint32_t c, const rules::CustomerFacts& facts) {
    // The days term grows by the same amount for every overdue customer each day, so the index
    // keeps the score with that term's date part taken out: ordering never needs a daily pass.
    // NaN: not on the worklist (nothing overdue).
    double key = std::nan("");
    if (facts.overdue_exact_major > 0) {
        rules::ScoreBreakdown b = Score(rules_->score, facts);
        key = b.Total() - rules_->score.days * business_date_->days();
    }
    double& held = rank_key_[c];
    if (key == held || (std::isnan(key) && std::isnan(held))) {
        return;  // most events leave the score where it was
    }
    if (std::isnan(held)) {
        worklist_.emplace(key, c);
    } else if (std::isnan(key)) {
        worklist_.erase({held, c});
    } else {
        auto node = worklist_.extract({held, c});  // moved, not freed and allocated again
        node.value().first = key;
        worklist_.insert(std::move(node));
    }
    held = key;
}

void Ledger::Schedule(uint32_t c, Date wake) {
    int32_t day = wake.days();
    if (day == wake_day_[c]) {
        return;
    }
    wake_day_[c] = day;
    if (day != kNoWake) {
        wakes_[day].push_back(c);
    }
}

void Ledger::Evaluate(uint32_t c, bool decide) {
    if (!business_date_) {
        return;
    }
    EnsureCustomerSlots();
    CustomerRec& cust = customers_[c];
    Date today = *business_date_;
    int32_t wake = kNoWake;
    auto wake_at = [&](Date d) {
        if (d > today) {
            wake = std::min(wake, d.days());
        }
    };

    rules::BehaviourStats& stats = stats_[c];
    stats.disputes_180d = 0;
    for (Date d : cust.dispute_dates) {
        if (today - d < kDisputeWindowDays) {
            ++stats.disputes_180d;
            wake_at(d.AddDays(kDisputeWindowDays));
        }
    }
    if (decide) {
        rules::SegmentDecision seg = rules::Classify(rules_->segments, stats);
        if (seg.segment == cust.segment && seg.reason != cust.segment_reason) {
            cust.segment_reason = seg.reason;  // same segment, fresher figures
            dirty_.customers.insert(c);
        } else if (seg.segment != cust.segment) {
            SegmentChange change{c,          cust.segment, std::string(seg.segment),
                                 seg.reason, today,        current_event_};
            Note(c, "segment", {{"from", cust.segment}, {"to", change.to}, {"reason", seg.reason}});
            dirty_.segment_changes.push_back(static_cast<uint32_t>(segment_changes_.size()));
            segment_changes_.push_back(std::move(change));
            if (!cust.segment.empty()) {
                --segment_counts_[cust.segment];
            }
            ++segment_counts_[std::string(seg.segment)];
            cust.segment = std::string(seg.segment);
            cust.segment_reason = seg.reason;
            dirty_.customers.insert(c);
        }
    }

    rules::CustomerFacts facts = FactsOf(c);
    const rules::Strategy* strategy = MatchStrategy(*rules_, facts);
    bool paused = facts.has_open_promise;
    std::vector<const rules::Step*> invoice_steps;
    std::vector<const rules::Step*> customer_steps;
    if (strategy != nullptr) {
        for (const rules::Step& step : strategy->steps) {
            if (step.trigger == rules::StepTrigger::kPromiseBroken) {
                // Another open promise holds every step of the customer, this one included.
                if (!decide || paused) {
                    continue;
                }
                auto [from, to] = std::equal_range(broken_promises_.begin(), broken_promises_.end(),
                                                   std::pair{c, 0u}, ByCustomer);
                for (auto it = from; it != to; ++it) {
                    FireAction(
                        c, *strategy, step,
                        strategy->name + "/" + step.name + "/promise/" + promises_[it->second].id,
                        "", today);
                }
            } else if (step.scope == rules::StepScope::kInvoice) {
                invoice_steps.push_back(&step);
            } else {
                customer_steps.push_back(&step);
            }
        }
    }

    std::optional<Date> oldest_chased;  // the oldest overdue item not under dispute
    for (uint32_t idx : cust.invoices) {
        InvoiceRec& inv = invoices_[idx];
        const InstallmentRec* first = inv.OldestOpen();
        if (first == nullptr) {
            continue;
        }
        for (const InstallmentRec& i : inv.installments) {
            if (i.open > 0) {
                wake_at(i.due.AddDays(1));  // the day it becomes overdue
            }
        }
        if (!inv.disputed && first->due < today &&
            (!oldest_chased || first->due < *oldest_chased)) {
            oldest_chased = first->due;
        }
        if (strategy == nullptr) {
            if (decide && !inv.strategy.empty()) {
                inv.strategy.clear();  // coming back later starts afresh
                dirty_.invoices.insert(idx);
            }
            continue;
        }
        bool fresh = inv.strategy != strategy->name;
        int32_t after = fresh ? INT32_MIN : inv.last_offset;
        std::vector<const rules::Step*> due;
        for (const rules::Step* step : invoice_steps) {
            Date day = first->due.AddDays(step->offset_days);
            if (step->offset_days <= after) {
                continue;
            }
            if (day <= today) {
                due.push_back(step);
            } else {
                wake_at(day);
            }
        }
        if (!decide) {
            continue;
        }
        if (fresh) {
            // A new cadence starts at the step that is due now, not with all the past ones.
            inv.strategy = strategy->name;
            inv.last_offset = INT32_MIN;
            inv.held = !due.empty();
            dirty_.invoices.insert(idx);
        }
        if (due.empty()) {
            continue;
        }
        if (inv.disputed || paused) {
            inv.held = true;
        } else {
            size_t from = inv.held ? due.size() - 1 : 0;
            for (size_t k = from; k < due.size(); ++k) {
                FireAction(c, *strategy, *due[k],
                           strategy->name + "/" + due[k]->name + "/invoice/" + inv.id, inv.id,
                           first->due.AddDays(due[k]->offset_days));
            }
            inv.last_offset = due.back()->offset_days;
            inv.held = false;
        }
        dirty_.invoices.insert(idx);
    }

    // Customer-level steps count from the oldest overdue item not under dispute, and re-arm
    // only once nothing at all is overdue (a dispute does not end an episode).
    if (facts.overdue_exact_major <= 0) {
        if (decide && (!cust.fired_customer_steps.empty() || cust.held)) {
            cust.fired_customer_steps.clear();
            cust.held = false;
            ++cust.episode;
            dirty_.customers.insert(c);
        }
    } else if (strategy != nullptr && oldest_chased) {
        bool fresh = cust.strategy != strategy->name;
        std::vector<const rules::Step*> due;
        for (const rules::Step* step : customer_steps) {
            std::string name = strategy->name + "/" + step->name;
            bool fired =
                std::find(cust.fired_customer_steps.begin(), cust.fired_customer_steps.end(),
                          name) != cust.fired_customer_steps.end();
            if (fired) {
                continue;
            }
            Date day = oldest_chased->AddDays(step->offset_days);
            if (day <= today) {
                due.push_back(step);
            } else {
                wake_at(day);
            }
        }
        if (decide && fresh) {
            cust.strategy = strategy->name;
            cust.held = !due.empty();
            dirty_.customers.insert(c);
        }
        if (decide && !due.empty()) {
            if (paused) {
                cust.held = true;
            } else {
                size_t from = cust.held ? due.size() - 1 : 0;
                for (size_t k = 0; k < due.size(); ++k) {
                    const rules::Step& step = *due[k];
                    std::string name = strategy->name + "/" + step.name;
                    if (k >= from) {
                        FireAction(
                            c, *strategy, step,
                            name + "/customer/" + cust.id + "/" + std::to_string(cust.episode), "",
                            oldest_chased->AddDays(step.offset_days));
                    }
                    cust.fired_customer_steps.push_back(std::move(name));  // fired or skipped
                }
                cust.held = false;
            }
            dirty_.customers.insert(c);
        }
    }

    Rank(c, facts);
    Schedule(c, Date(wake));
}

std::vector<Ledger::WorklistEntry> Ledger::Worklist(size_t limit, std::string_view owner,
                                                    std::string_view segment) const {
    std::vector<WorklistEntry> out;
    for (auto it = worklist_.rbegin(); it != worklist_.rend() && out.size() < limit; ++it) {
        const CustomerRec& cust = customers_[it->second];
        if (!owner.empty() && (!cust.attributes.owner || *cust.attributes.owner != owner)) {
            continue;
        }
        if (!segment.empty() && cust.segment != segment) {
            continue;
        }
        WorklistEntry e;
        e.customer = it->second;
        e.facts = FactsOf(it->second);
        e.breakdown = Score(rules_->score, e.facts);
        e.score = e.breakdown.Total();
        const rules::Strategy* s = MatchStrategy(*rules_, e.facts);
        e.strategy = s ? s->name : "";
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace rms
