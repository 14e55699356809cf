#include "rules/rules_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace rms::rules {

namespace {

constexpr std::string_view kChannels[] = {"email",  "phone",  "whatsapp", "sms",
                                          "letter", "portal", "other"};

std::string Line(const toml::node& n) {
    return "line " + std::to_string(n.source().begin.line);
}

// Reads one table, remembering which keys were used so that unknown ones are errors.
class TableReader {
public:
    TableReader(const toml::table& t, std::string where, std::string origin)
        : table_(t), where_(std::move(where)), origin_(std::move(origin)) {}

    bool ok() const { return status_.ok(); }
    Status TakeStatus() { return std::move(status_); }

    void Fail(const toml::node& n, const std::string& message) {
        if (ok()) {
            status_ =
                Status::Error("invalid_config", origin_ + ": " + Line(n) + ": " + where_ + message);
        }
    }

    const toml::node* Get(std::string_view key) {
        used_.insert(std::string(key));
        return table_.get(key);
    }

    // A name that goes into action keys: 1 to 64 characters, no '/'.
    std::string Name(std::string_view key) {
        std::optional<std::string> v = String(key, true);
        if (v && (v->empty() || v->size() > 64 || v->find('/') != std::string::npos)) {
            Fail(*Get(key), std::string(key) + " must be 1 to 64 characters without '/'");
            return "";
        }
        return v.value_or("");
    }

    std::optional<std::string> String(std::string_view key, bool required) {
        const toml::node* n = Get(key);
        if (n == nullptr) {
            if (required) {
                Missing(key);
            }
            return std::nullopt;
        }
        std::optional<std::string> v = n->value<std::string>();
        if (!v) {
            Fail(*n, std::string(key) + " must be a string");
        }
        return v;
    }

    std::optional<int64_t> Int(std::string_view key, int64_t lo, int64_t hi) {
        const toml::node* n = Get(key);
        if (n == nullptr) {
            return std::nullopt;
        }
        std::optional<int64_t> v = n->is_integer() ? n->value<int64_t>() : std::nullopt;
        if (!v || *v < lo || *v > hi) {
            Fail(*n, std::string(key) + " must be a whole number from " + std::to_string(lo) +
                         " to " + std::to_string(hi));
            return std::nullopt;
        }
        return v;
    }

    // A weight: a number from -1e6 to 1e6, so that scores stay readable and exact enough.
    void Double(std::string_view key, double* out) {
        const toml::node* n = Get(key);
        if (n == nullptr) {
            return;
        }
        std::optional<double> v = n->value<double>();
        if (!v || !std::isfinite(*v) || std::fabs(*v) > 1e6) {
            Fail(*n, std::string(key) + " must be a number from -1000000 to 1000000");
            return;
        }
        *out = *v;
    }

    template <size_t N>
    std::optional<std::string> Choice(std::string_view key, const std::string_view (&allowed)[N],
                                      bool required) {
        std::optional<std::string> v = String(key, required);
        if (v && std::find(std::begin(allowed), std::end(allowed), *v) == std::end(allowed)) {
            std::string list;
            for (std::string_view a : allowed) {
                list += (list.empty() ? "" : ", ") + std::string(a);
            }
            Fail(*Get(key), std::string(key) + " \"" + *v + "\" is not one of " + list);
            return std::nullopt;
        }
        return v;
    }

    template <size_t N>
    std::vector<std::string> List(std::string_view key, const std::string_view (*allowed)[N]) {
        std::vector<std::string> out;
        const toml::node* n = Get(key);
        if (n == nullptr) {
            return out;
        }
        const toml::array* a = n->as_array();
        if (a == nullptr) {
            Fail(*n, std::string(key) + " must be an array of strings");
            return out;
        }
        for (const toml::node& item : *a) {
            std::optional<std::string> v = item.value<std::string>();
            if (!v) {
                Fail(item, std::string(key) + " must hold only strings");
                return out;
            }
            if (allowed != nullptr &&
                std::find(std::begin(*allowed), std::end(*allowed), *v) == std::end(*allowed)) {
                Fail(item, std::string(key) + ": \"" + *v + "\" is not a known value");
                return out;
            }
            out.push_back(*v);
        }
        return out;
    }

    // Fails on the first key that no Get() asked for.
    void RejectUnknown() {
        for (const auto& [key, node] : table_) {
            if (used_.count(std::string(key.str())) == 0) {
                Fail(node, "unknown key \"" + std::string(key.str()) + "\"");
                return;
            }
        }
    }

private:
    void Missing(std::string_view key) {
        if (ok()) {
            status_ =
                Status::Error("invalid_config", origin_ + ": " + Line(table_) + ": " + where_ +
                                                    std::string(key) + " is required");
        }
    }

    const toml::table& table_;
    std::string where_;
    std::string origin_;
    std::set<std::string> used_;
    Status status_;
};

constexpr std::string_view kActions[] = {"reminder", "call", "escalation", "credit_hold"};
constexpr std::string_view kScopes[] = {"invoice", "customer"};
constexpr std::string_view kTriggers[] = {"due", "promise_broken"};
constexpr std::string_view kDisputeFilters[] = {"any", "none", "some"};
constexpr std::string_view kPromiseFilters[] = {"any", "none", "open", "broken"};
constexpr std::string_view kRisks[] = {"low", "medium", "high"};

template <size_t N>
int IndexOf(const std::string_view (&list)[N], std::string_view v) {
    return static_cast<int>(std::find(std::begin(list), std::end(list), v) - std::begin(list));
}

Status ParseStep(const toml::table& t, const std::string& where, std::string_view origin,
                 Step* step) {
    TableReader r(t, where, std::string(origin));
    step->name = r.Name("name");
    std::string trigger = r.Choice("on", kTriggers, false).value_or("due");
    step->trigger = trigger == "due" ? StepTrigger::kDueOffset : StepTrigger::kPromiseBroken;
    std::optional<int64_t> offset = r.Int("offset_days", -3660, 3660);
    if (step->trigger == StepTrigger::kDueOffset && !offset && r.ok()) {
        r.Fail(t, "offset_days is required for a step on the due date");
    }
    step->offset_days = static_cast<int32_t>(offset.value_or(0));
    step->scope = r.Choice("scope", kScopes, false).value_or("invoice") == "invoice"
                      ? StepScope::kInvoice
                      : StepScope::kCustomer;
    std::string action = r.Choice("action", kActions, true).value_or("reminder");
    step->action = static_cast<ActionKind>(IndexOf(kActions, action));
    if (step->action == ActionKind::kReminder) {
        step->channel = r.Choice("channel", kChannels, true).value_or("");
        step->template_name = r.String("template", true).value_or("");
    } else {
        step->channel = r.Choice("channel", kChannels, false).value_or("");
        step->template_name = r.String("template", false).value_or("");
    }
    r.RejectUnknown();
    return r.TakeStatus();
}

Status ParseStrategy(const toml::table& t, size_t index, std::string_view origin, Strategy* s) {
    std::string where = "strategy " + std::to_string(index + 1) + ": ";
    TableReader r(t, where, std::string(origin));
    s->name = r.Name("name");
    s->kinds = r.List<1>("kinds", nullptr);
    s->risks = r.List("risks", &kRisks);
    s->segments = r.List("segments", &kSegments);
    s->min_open = r.Int("min_open", 0, INT64_MAX);
    s->max_open = r.Int("max_open", 0, INT64_MAX);
    s->min_overdue = r.Int("min_overdue", 0, INT64_MAX);
    s->max_overdue = r.Int("max_overdue", 0, INT64_MAX);
    std::optional<int64_t> min_dpd = r.Int("min_days_past_due", -3660, 36600);
    std::optional<int64_t> max_dpd = r.Int("max_days_past_due", -3660, 36600);
    if (min_dpd) {
        s->min_days_past_due = static_cast<int32_t>(*min_dpd);
    }
    if (max_dpd) {
        s->max_days_past_due = static_cast<int32_t>(*max_dpd);
    }
    s->disputes = static_cast<DisputeFilter>(
        IndexOf(kDisputeFilters, r.Choice("disputes", kDisputeFilters, false).value_or("any")));
    s->promises = static_cast<PromiseFilter>(
        IndexOf(kPromiseFilters, r.Choice("promises", kPromiseFilters, false).value_or("any")));
    const toml::node* steps = r.Get("step");
    if (r.ok() && steps != nullptr) {
        const toml::array* a = steps->as_array();
        if (a == nullptr) {
            r.Fail(*steps, "step must be an array of tables ([[strategy.step]])");
        } else {
            std::string step_errors;
            for (size_t i = 0; i < a->size() && r.ok(); ++i) {
                const toml::table* st = (*a)[i].as_table();
                if (st == nullptr) {
                    r.Fail((*a)[i], "each step must be a table");
                    break;
                }
                Step step;
                Status ps =
                    ParseStep(*st, where + "step " + std::to_string(i + 1) + ": ", origin, &step);
                if (!ps.ok()) {
                    step_errors += (step_errors.empty() ? "" : "\n") + ps.message();
                    continue;
                }
                s->steps.push_back(std::move(step));
            }
            if (!step_errors.empty()) {
                return Status::Error("invalid_config", step_errors);
            }
        }
    }
    auto check_range = [&](const auto& lo, const auto& hi, const char* what) {
        if (r.ok() && lo && hi && *lo > *hi) {
            r.Fail(t, std::string("min_") + what + " is above max_" + what);
        }
    };
    check_range(s->min_open, s->max_open, "open");
    check_range(s->min_overdue, s->max_overdue, "overdue");
    check_range(s->min_days_past_due, s->max_days_past_due, "days_past_due");
    r.RejectUnknown();
    if (r.ok()) {
        std::set<std::string> names;
        for (const Step& step : s->steps) {
            if (!names.insert(step.name).second) {
                r.Fail(t, "two steps are named \"" + step.name + "\"");
            }
        }
    }
    std::stable_sort(s->steps.begin(), s->steps.end(),
                     [](const Step& a, const Step& b) { return a.offset_days < b.offset_days; });
    return r.TakeStatus();
}

}  // namespace

std::string_view ActionKindName(ActionKind k) {
    return kActions[static_cast<int>(k)];
}

Result<RulesConfig> ParseRules(std::string_view text, std::string_view origin) {
    toml::table root;
    try {
        root = toml::parse(text, origin);
    } catch (const toml::parse_error& e) {
        return Status::Error("invalid_config", std::string(origin) + ": line " +
                                                   std::to_string(e.source().begin.line) + ": " +
                                                   std::string(e.description()));
    }
    RulesConfig config;
    std::vector<std::string> errors;
    TableReader top(root, "", std::string(origin));
    if (const toml::node* n = top.Get("score")) {
        const toml::table* t = n->as_table();
        if (t == nullptr) {
            top.Fail(*n, "score must be a table");
        } else {
            TableReader r(*t, "[score] ", std::string(origin));
            ScoreWeights& w = config.score;
            r.Double("overdue_weight", &w.overdue);
            r.Double("days_weight", &w.days);
            r.Double("risk_weight", &w.risk);
            r.Double("broken_promise_weight", &w.broken_promise);
            r.Double("dispute_weight", &w.dispute);
            r.Double("credit_limit_weight", &w.credit_limit);
            r.RejectUnknown();
            if (!r.ok()) {
                errors.push_back(r.TakeStatus().message());
            }
        }
    }
    if (const toml::node* n = top.Get("segments")) {
        const toml::table* t = n->as_table();
        if (t == nullptr) {
            top.Fail(*n, "segments must be a table");
        } else {
            TableReader r(*t, "[segments] ", std::string(origin));
            SegmentRules& s = config.segments;
            auto set = [&](std::string_view key, int* out) {
                if (std::optional<int64_t> v = r.Int(key, 0, 100000)) {
                    *out = static_cast<int>(*v);
                }
            };
            set("new_below_paid", &s.new_below_paid);
            set("disputing_min_180d", &s.disputing_min_180d);
            set("promise_breaker_min_broken", &s.promise_breaker_min_broken);
            set("chronic_late_min_days", &s.chronic_late_min_days);
            set("slow_min_days", &s.slow_min_days);
            set("slow_max_on_time_percent", &s.slow_max_on_time_percent);
            r.RejectUnknown();
            if (!r.ok()) {
                errors.push_back(r.TakeStatus().message());
            }
        }
    }
    if (const toml::node* n = top.Get("strategy")) {
        const toml::array* a = n->as_array();
        if (a == nullptr) {
            top.Fail(*n, "strategy must be an array of tables ([[strategy]])");
        } else {
            std::set<std::string> names;
            for (size_t i = 0; i < a->size(); ++i) {
                const toml::table* t = (*a)[i].as_table();
                if (t == nullptr) {
                    top.Fail((*a)[i], "each strategy must be a table");
                    break;
                }
                Strategy s;
                Status ps = ParseStrategy(*t, i, origin, &s);
                if (!ps.ok()) {
                    errors.push_back(ps.message());
                    continue;
                }
                if (!names.insert(s.name).second) {
                    top.Fail(*t, "two strategies are named \"" + s.name + "\"");
                    break;
                }
                config.strategies.push_back(std::move(s));
            }
        }
    }
    top.RejectUnknown();
    if (!top.ok()) {
        errors.push_back(top.TakeStatus().message());
    }
    if (!errors.empty()) {
        // Every error found, one a line, so that one check shows all that is wrong.
        std::string all;
        for (const std::string& e : errors) {
            all += (all.empty() ? "" : "\n") + e;
        }
        return Status::Error("invalid_config", all);
    }
    return config;
}

Result<RulesConfig> LoadRulesFile(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return Status::Error("invalid_config", path + ": not a regular file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::Error("invalid_config", path + ": cannot be read");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return ParseRules(text.str(), path);
}

RulesConfig DefaultRules() {
    RulesConfig config;
    Strategy s;
    s.name = "default";
    s.steps = {
        {"pre-due reminder", StepTrigger::kDueOffset, StepScope::kInvoice, -3,
         ActionKind::kReminder, "email", "pre_due"},
        {"first reminder", StepTrigger::kDueOffset, StepScope::kInvoice, 7, ActionKind::kReminder,
         "email", "overdue_1"},
        {"call", StepTrigger::kDueOffset, StepScope::kInvoice, 21, ActionKind::kCall, "phone", ""},
        {"escalate", StepTrigger::kDueOffset, StepScope::kCustomer, 45, ActionKind::kEscalation, "",
         ""},
        {"broken promise call", StepTrigger::kPromiseBroken, StepScope::kCustomer, 0,
         ActionKind::kCall, "phone", ""},
    };
    config.strategies.push_back(std::move(s));
    return config;
}

namespace {

bool Contains(const std::vector<std::string>& list, std::string_view v) {
    return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
}

template <typename T>
bool InRange(T v, const std::optional<T>& lo, const std::optional<T>& hi) {
    return (!lo || v >= *lo) && (!hi || v <= *hi);
}

}  // namespace

const Strategy* MatchStrategy(const RulesConfig& rules, const CustomerFacts& f) {
    for (const Strategy& s : rules.strategies) {
        if (!Contains(s.kinds, f.kind) || !Contains(s.risks, f.risk) ||
            !Contains(s.segments, f.segment)) {
            continue;
        }
        if (!InRange(f.open_major, s.min_open, s.max_open) ||
            !InRange(f.overdue_major, s.min_overdue, s.max_overdue) ||
            !InRange(f.days_past_due, s.min_days_past_due, s.max_days_past_due)) {
            continue;
        }
        if ((s.disputes == DisputeFilter::kNone && f.open_disputes > 0) ||
            (s.disputes == DisputeFilter::kSome && f.open_disputes == 0)) {
            continue;
        }
        bool promise_ok = true;
        switch (s.promises) {
            case PromiseFilter::kAny:
                break;
            case PromiseFilter::kNone:
                promise_ok = !f.has_open_promise && !f.last_promise_broken;
                break;
            case PromiseFilter::kOpen:
                promise_ok = f.has_open_promise;
                break;
            case PromiseFilter::kBroken:
                promise_ok = !f.has_open_promise && f.last_promise_broken;
                break;
        }
        if (promise_ok) {
            return &s;
        }
    }
    return nullptr;
}

ScoreBreakdown Score(const ScoreWeights& w, const CustomerFacts& f) {
    ScoreBreakdown b;
    b.overdue = w.overdue * std::log10(1.0 + std::max(0.0, f.overdue_exact_major));
    b.days = w.days * f.days_past_due;
    int risk = f.risk == "high" ? 2 : f.risk == "medium" ? 1 : 0;
    b.risk = w.risk * risk;
    b.broken_promises = w.broken_promise * f.broken_promises;
    b.disputes = w.dispute * f.open_disputes;
    if (f.credit_limit_major && *f.credit_limit_major > 0) {
        b.credit_limit = w.credit_limit *
                         std::max(0.0, f.open_exact_major - *f.credit_limit_major) /
                         *f.credit_limit_major;
    }
    return b;
}

SegmentDecision Classify(const SegmentRules& r, const BehaviourStats& s) {
    if (s.disputes_180d >= r.disputing_min_180d) {
        return {"disputing", std::to_string(s.disputes_180d) + " disputes in 180 days"};
    }
    if (s.promises_broken >= r.promise_breaker_min_broken && s.promises_broken > s.promises_kept) {
        return {"promise_breaker", std::to_string(s.promises_broken) + " promises broken, " +
                                       std::to_string(s.promises_kept) + " kept"};
    }
    if (s.paid_invoices < r.new_below_paid) {
        return {"new", std::to_string(s.paid_invoices) + " paid invoices"};
    }
    double avg_late = s.paid_weight > 0 ? static_cast<double>(s.paid_weight_days_late) /
                                              static_cast<double>(s.paid_weight)
                                        : 0.0;
    int on_time_percent = s.paid_invoices > 0 ? s.paid_on_time * 100 / s.paid_invoices : 100;
    char avg[32];
    std::snprintf(avg, sizeof(avg), "%.1f", avg_late);
    if (avg_late >= r.chronic_late_min_days) {
        return {"chronic_late", std::string("paid on average ") + avg + " days late"};
    }
    if (avg_late >= r.slow_min_days || on_time_percent < r.slow_max_on_time_percent) {
        return {"slow", std::string("paid on average ") + avg + " days late, " +
                            std::to_string(on_time_percent) + "% on time"};
    }
    return {"prompt", std::string("paid on average ") + avg + " days late, " +
                          std::to_string(on_time_percent) + "% on time"};
}

}  // namespace rms::rules
