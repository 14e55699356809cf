#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "engine/json_writer.h"

namespace rms {

std::string OkAnswer(std::string_view id, bool duplicate) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("ok");
    w.Bool(true);
    w.Key("id");
    w.String(id);
    if (duplicate) {
        w.Key("duplicate");
        w.Bool(true);
    }
    w.EndObject();
    return out;
}

std::string ErrorAnswer(const std::optional<std::string>& id, uint64_t line, const Status& s) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("ok");
    w.Bool(false);
    w.Key("id");
    if (id) {
        w.String(*id);
    } else {
        w.Null();
    }
    w.Key("line");
    w.Int(static_cast<int64_t>(line));
    w.Key("error");
    w.String(s.code());
    w.Key("message");
    w.String(s.message());
    w.EndObject();
    return out;
}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options,
                                             metrics::EngineMetrics* metrics) {
    storage::StoreOptions so;
    so.sync = options.fsync;
    so.min_free_bytes = options.min_free_bytes;
    Result<std::unique_ptr<storage::Store>> store = storage::Store::Open(options.data_dir, so);
    if (!store.ok()) {
        return store.status();
    }
    Result<LoadedState> state = LoadState(**store, options.ledger);
    if (!state.ok()) {
        return state.status();
    }
    spdlog::info("engine: loaded {} customers, {} invoices, {} events from {}",
                 state->ledger->customers().size(), state->ledger->invoices().size(),
                 state->next_seq - 1, options.data_dir);
    return std::unique_ptr<Engine>(
        new Engine(options, metrics, std::move(store).value(), std::move(state).value()));
}

Engine::Engine(const EngineOptions& options, metrics::EngineMetrics* metrics,
               std::unique_ptr<storage::Store> store, LoadedState state)
    : options_(options),
      metrics_(metrics),
      store_(std::move(store)),
      ledger_(std::move(state.ledger)),
      markers_(std::move(state.markers)),
      next_seq_(state.next_seq) {
    if (options_.rules) {
        ledger_->SetRules(options_.rules);
    }
    // Counters count what happens from start-up on (Prometheus handles the reset).
    actions_published_ = ledger_->actions().size();
    if (options_.publish_figures) {
        metrics_->SetPromiseBaseline(ledger_->promise_transitions());
    }
    PublishMetrics();
    thread_ = std::thread([this] { Run(); });
}

Engine::~Engine() {
    Stop();
}

void Engine::Stop() {
    {
        std::lock_guard<std::mutex> lock(queue_mu_);
        if (stopping_ && !thread_.joinable()) {
            return;
        }
        stopping_ = true;
    }
    queue_cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

bool Engine::ready() const {
    return last_commit_ok_.load() && !stopped_flag_.load() && !draining_.load() &&
           store_->DiskReserveOk();
}

void Engine::Submit(Submission submission) {
    {
        std::lock_guard<std::mutex> lock(queue_mu_);
        queue_.push_back(std::move(submission));
    }
    queue_cv_.notify_one();
}

void Engine::Run() {
    std::vector<Submission> group;
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(queue_mu_);
            queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty() && stopping_) {
                return;
            }
            size_t events = 0;
            while (!queue_.empty() && events < options_.max_group_events) {
                events += queue_.front().events.size();
                group.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }
        CommitGroup(&group);
        group.clear();
    }
}

Engine::Decision Engine::Decide(PendingEvent& pending, storage::Batch* batch,
                                std::unordered_map<uint64_t, const std::string*>* in_group) {
    Event& e = pending.event;
    auto reject = [&](const Status& s) {
        return Decision{ErrorAnswer(e.id, pending.line, s), s.code()};
    };
    Status date = ledger_->CheckDate(e);
    if (!date.ok()) {
        return reject(date);
    }
    std::string key = MarkerKey(e.source, e.id);
    auto marker = markers_.find(key.substr(1));
    if (marker != markers_.end()) {
        bool same = false;
        if (marker->second.hash == e.content_hash) {
            auto pending_it = in_group->find(marker->second.seq);
            if (pending_it != in_group->end()) {
                same = *pending_it->second == e.canonical;
            } else {
                Result<std::optional<std::string>> stored =
                    store_->Get(EventLogKey(marker->second.seq));
                if (!stored.ok()) {
                    return reject(stored.status());
                }
                same = stored->has_value() && **stored == e.canonical;
            }
        }
        if (same) {
            return Decision{OkAnswer(e.id, true), "duplicate"};
        }
        return reject(Status::Error("conflict", "event \"" + e.id + "\" from source \"" + e.source +
                                                    "\" was already applied with other content"));
    }
    uint64_t seq = next_seq_;
    Status applied = ledger_->Apply(e, seq);
    if (!applied.ok()) {
        return reject(Status::Error(applied.code(), "event \"" + e.id + "\" (" +
                                                        std::string(EventTypeName(e.type)) +
                                                        "): " + applied.message()));
    }
    ++next_seq_;
    Marker m{seq, e.content_hash};
    markers_.emplace(key.substr(1), m);
    batch->Put(std::move(key), EncodeMarker(m));
    batch->Put(EventLogKey(seq), e.canonical);
    in_group->emplace(seq, &e.canonical);
    return Decision{OkAnswer(e.id, false), "ok"};
}

void Engine::CommitGroup(std::vector<Submission>* group) {
    std::vector<std::vector<Decision>> decisions(group->size());
    {
        std::unique_lock<std::shared_mutex> lock(state_mu_);
        storage::Batch batch;
        std::unordered_map<uint64_t, const std::string*> in_group;
        Status committed;
        if (stopped_.ok()) {
            for (size_t i = 0; i < group->size(); ++i) {
                Submission& sub = (*group)[i];
                if (sub.consumed) {
                    Status in_order = TakeRange(*sub.consumed, &batch);
                    if (!in_order.ok()) {
                        for (const PendingEvent& p : sub.events) {
                            decisions[i].push_back(
                                Decision{ErrorAnswer(p.event.id, p.line, in_order), "unavailable"});
                        }
                        continue;
                    }
                }
                for (PendingEvent& pending : sub.events) {
                    decisions[i].push_back(Decide(pending, &batch, &in_group));
                }
            }
            if (!batch.empty()) {
                EncodeDirty(*ledger_, ledger_->TakeDirty(), next_seq_, &batch);
                auto start = std::chrono::steady_clock::now();
                committed = store_->Commit(batch);
                metrics_->ObserveCommit(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                        .count());
            }
        } else {
            committed = stopped_;
        }
        if (!committed.ok()) {
            if (last_commit_ok_ && stopped_.ok()) {
                spdlog::error("engine: commit of {} events failed: {}", in_group.size(),
                              committed.message());
            }
            last_commit_ok_ = false;
            consumed_.clear();
            for (size_t i = 0; i < group->size(); ++i) {
                decisions[i].resize((*group)[i].events.size());
                for (size_t k = 0; k < decisions[i].size(); ++k) {
                    const PendingEvent& p = (*group)[i].events[k];
                    decisions[i][k] =
                        Decision{ErrorAnswer(p.event.id, p.line, committed), "unavailable"};
                }
            }
            if (stopped_.ok() && !batch.empty()) {
                Status reloaded = Reload();
                if (!reloaded.ok()) {
                    // The memory now holds state the store does not: stop taking events rather
                    // than answer from it.
                    spdlog::error(
                        "engine: reload after a failed commit failed, refusing all "
                        "events until restart: {}",
                        reloaded.message());
                    stopped_flag_ = true;
                    stopped_ = Status::Error(
                        "unavailable", "the engine stopped after a storage failure; restart it");
                }
            }
        } else if (!last_commit_ok_ && !batch.empty()) {
            spdlog::info("engine: commits succeed again");
            last_commit_ok_ = true;
        }
    }
    PublishMetrics();
    for (size_t i = 0; i < group->size(); ++i) {
        std::vector<std::string> answers;
        answers.reserve(decisions[i].size());
        for (size_t k = 0; k < decisions[i].size(); ++k) {
            metrics_->CountEvents(EventTypeName((*group)[i].events[k].event.type),
                                  decisions[i][k].result);
            answers.push_back(std::move(decisions[i][k].answer));
        }
        (*group)[i].done(std::move(answers));
    }
}

Result<std::optional<int64_t>> Engine::ConsumedOffset(std::string_view topic,
                                                      int32_t partition) const {
    Result<std::optional<std::string>> stored = store_->Get(OffsetKey(topic, partition));
    if (!stored.ok()) {
        return stored.status();
    }
    if (!stored->has_value()) {
        return std::optional<int64_t>();
    }
    Result<int64_t> offset = DecodeOffset(**stored);
    if (!offset.ok()) {
        return offset.status();
    }
    return std::optional<int64_t>(*offset);
}

Status Engine::TakeRange(const ConsumedRange& range, storage::Batch* batch) {
    auto key = std::make_pair(range.topic, range.partition);
    auto it = consumed_.find(key);
    if (it == consumed_.end()) {
        Result<std::optional<int64_t>> stored = ConsumedOffset(range.topic, range.partition);
        if (!stored.ok()) {
            return stored.status();
        }
        // Nothing stored: the partition's first messages, wherever the log starts.
        int64_t start = stored->value_or(range.first_offset);
        it = consumed_.emplace(key, start).first;
    }
    if (it->second != range.first_offset) {
        return Status::Error("unavailable",
                             "partition " + range.topic + "/" + std::to_string(range.partition) +
                                 ": messages from offset " + std::to_string(range.first_offset) +
                                 ", but the stored position is " + std::to_string(it->second));
    }
    it->second = range.next_offset;
    batch->Put(OffsetKey(range.topic, range.partition), EncodeOffset(range.next_offset));
    return Status::Ok();
}

void Engine::SetRules(std::shared_ptr<const rules::RulesConfig> rules) {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    options_.rules = rules;
    ledger_->SetRules(std::move(rules));
}

Status Engine::Reload() {
    Result<LoadedState> state = LoadState(*store_, options_.ledger);
    if (!state.ok()) {
        return state.status();
    }
    LoadedState loaded = std::move(state).value();
    ledger_ = std::move(loaded.ledger);
    if (options_.rules) {
        ledger_->SetRules(options_.rules);
    }
    markers_ = std::move(loaded.markers);
    next_seq_ = loaded.next_seq;
    consumed_.clear();
    return Status::Ok();
}

void Engine::PublishActions() {
    const auto& actions = ledger_->actions();
    if (actions.size() < actions_published_) {
        actions_published_ = actions.size();  // after a reload: count from here
    }
    for (; actions_published_ < actions.size(); ++actions_published_) {
        metrics_->CountActions(rules::ActionKindName(actions[actions_published_].kind), 1);
    }
}

void Engine::PublishMetrics() {
    // Only the commit thread (and the constructor before it starts) publishes.
    std::shared_lock<std::shared_mutex> lock(state_mu_, std::defer_lock);
    if (!lock.try_lock()) {
        return;
    }
    if (!options_.publish_figures) {
        PublishActions();
        return;
    }
    std::optional<Date> bd = ledger_->business_date();
    metrics_->SetBusinessDate(bd ? std::optional<int64_t>(int64_t{bd->days()} * 86400)
                                 : std::nullopt);
    for (const auto& [currency, book] : ledger_->books()) {
        Figures f = ledger_->CurrencyFiguresNow(currency);
        double unit = 1.0;
        for (int i = 0; i < currency.exponent(); ++i) {
            unit *= 10.0;
        }
        metrics::CurrencyGauges g;
        for (int b = 0; b < kBucketCount; ++b) {
            g.buckets[b] = static_cast<double>(f.aging[b]) / unit;
        }
        g.overdue = static_cast<double>(f.overdue) / unit;
        g.disputed = static_cast<double>(f.disputed) / unit;
        g.unapplied = static_cast<double>(f.unapplied) / unit;
        g.dso_standard = f.kpis.dso_standard;
        g.dso_countback = f.kpis.dso_countback;
        g.dso_best_possible = f.kpis.dso_best_possible;
        g.add = f.kpis.add;
        g.cei = f.kpis.cei;
        metrics_->SetCurrency(currency.code(), g);
    }
    metrics_->SetPromiseTransitions(ledger_->promise_transitions());
    for (const auto& [segment, customers] : ledger_->segment_counts()) {
        metrics_->SetSegmentCustomers(segment, customers);
    }
    metrics_->SetWorklistCustomers(static_cast<int64_t>(ledger_->worklist_size()));
    PublishActions();
    if (std::optional<uint64_t> free = store_->FreeBytes()) {
        metrics_->SetDiskFreeBytes(*free);
    }
    metrics_->SetReady(last_commit_ok_ && store_->DiskReserveOk());
}

}  // namespace rms
