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
    if (writer_.joinable()) {
        writer_.join();
    }
    // A clean stop leaves no write-ahead log for the next start to replay.
    if (Status flushed = store_->Flush(); !flushed.ok()) {
        spdlog::warn("engine: {}; the next start replays the log instead", flushed.message());
    }
}

bool Engine::ready() const {
    return last_commit_ok_.load() && !stopped_flag_.load() && !draining_.load() &&
           store_->DiskReserveOk();
}

void Engine::Submit(Submission submission) {
    {
        std::lock_guard<std::mutex> lock(queue_mu_);
        if (!finished_) {
            queue_.push_back(std::move(submission));
            queue_cv_.notify_one();
            return;
        }
    }
    // The commit thread is gone (a late HTTP request during shutdown): answer at once.
    Status s = Status::Error("unavailable", "the engine is shutting down; send again later");
    std::vector<std::string> answers;
    for (const PendingEvent& p : submission.events) {
        answers.push_back(ErrorAnswer(p.event.id, p.line, s));
    }
    submission.done(std::move(answers));
}

void Engine::RecordDelivery(DeliveryOutcome outcome, std::function<void(Status)> done) {
    {
        std::lock_guard<std::mutex> lock(queue_mu_);
        deliveries_.push_back(PendingDelivery{std::move(outcome), std::move(done)});
    }
    queue_cv_.notify_one();
}

void Engine::Redeliver(Redelivery request, std::function<void(Status)> done) {
    {
        std::lock_guard<std::mutex> lock(queue_mu_);
        if (!finished_) {
            redeliveries_.push_back(PendingRedelivery{std::move(request), std::move(done)});
            queue_cv_.notify_one();
            return;
        }
    }
    done(Status::Error("unavailable", "the engine is shutting down; send again later"));
}

void Engine::SetRedeliveryListener(std::function<void(uint32_t index)> listener) {
    std::lock_guard<std::mutex> lock(queue_mu_);
    redelivery_listener_ = std::move(listener);
}

void Engine::SetActionListener(std::function<void()> listener) {
    std::lock_guard<std::mutex> lock(queue_mu_);
    action_listener_ = std::move(listener);
}

bool Engine::WorkQueued() const {
    return !queue_.empty() || !deliveries_.empty() || !redeliveries_.empty();
}

std::shared_lock<std::shared_mutex> Engine::ReaderLock() const {
    lock_waiters_.fetch_add(1);
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    lock_waiters_.fetch_sub(1);
    return lock;
}

void Engine::Run() {
    // Held from the first group applied until the pipeline is empty again.
    std::unique_lock<std::shared_mutex> state(state_mu_, std::defer_lock);
    std::unique_ptr<Group> in_flight;  // applied, its batch with the writer thread
    for (;;) {
        auto next = std::make_unique<Group>();
        bool stop = false;
        {
            std::unique_lock<std::mutex> lock(queue_mu_);
            if (!in_flight) {
                queue_cv_.wait(lock, [this] { return stopping_ || WorkQueued(); });
            }
            // With a group in flight, one more is applied meanwhile only when it is already
            // queued and nobody waits for the ledger.
            if (!in_flight || lock_waiters_.load() == 0) {
                while (!deliveries_.empty()) {
                    next->deliveries.push_back(std::move(deliveries_.front()));
                    deliveries_.pop_front();
                }
                while (!redeliveries_.empty()) {
                    next->redeliveries.push_back(std::move(redeliveries_.front()));
                    redeliveries_.pop_front();
                }
                size_t events = 0;
                while (!queue_.empty() && events < options_.max_group_events) {
                    events += queue_.front().events.size();
                    next->submissions.push_back(std::move(queue_.front()));
                    queue_.pop_front();
                }
            }
            stop = stopping_ && !in_flight && next->empty() && queue_.empty();
            if (stop) {
                finished_ = true;
            }
        }
        if (stop) {
            break;
        }
        if (!next->empty()) {
            Apply(next.get(), in_flight.get(), &state);
            if (in_flight) {
                pipelined_groups_.fetch_add(1);
            }
        }
        if (in_flight) {
            Status written = AwaitWrite();
            Finish(in_flight.get(), written, /*reload=*/next->empty() && !written.ok());
            in_flight.reset();
            if (!written.ok() && !next->empty()) {
                // Applied on top of a group that is not in the store: not in the store either.
                Finish(next.get(), written, /*reload=*/true);
                next = std::make_unique<Group>();
            }
        }
        if (!next->empty()) {
            bool queued;
            {
                std::lock_guard<std::mutex> lock(queue_mu_);
                queued = WorkQueued();
            }
            if (!next->write) {
                Finish(next.get(), next->not_written, /*reload=*/false);
            } else if (queued && lock_waiters_.load() == 0) {
                StartWrite(&next->batch);
                in_flight = std::move(next);
            } else {
                Finish(next.get(), Commit(next->batch), /*reload=*/true);
            }
        }
        if (!in_flight && state.owns_lock()) {
            state.unlock();
        }
    }
    std::lock_guard<std::mutex> lock(write_mu_);
    write_stop_ = true;
    write_cv_.notify_all();
}

Status Engine::Commit(const storage::Batch& batch) {
    auto start = std::chrono::steady_clock::now();
    Status s = store_->Commit(batch);
    metrics_->ObserveCommit(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return s;
}

void Engine::StartWrite(const storage::Batch* batch) {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (!writer_.joinable()) {
        writer_ = std::thread([this] { WriterLoop(); });
    }
    write_batch_ = batch;
    write_cv_.notify_all();
}

Status Engine::AwaitWrite() {
    std::unique_lock<std::mutex> lock(write_mu_);
    write_cv_.wait(lock, [this] { return write_result_.has_value(); });
    Status s = std::move(*write_result_);
    write_result_.reset();
    return s;
}

void Engine::WriterLoop() {
    std::unique_lock<std::mutex> lock(write_mu_);
    for (;;) {
        write_cv_.wait(lock, [this] { return write_stop_ || write_batch_ != nullptr; });
        if (write_batch_ == nullptr) {
            return;
        }
        const storage::Batch* batch = write_batch_;
        lock.unlock();
        Status s = Commit(*batch);
        lock.lock();
        write_batch_ = nullptr;
        write_result_ = std::move(s);
        write_cv_.notify_all();
    }
}

Engine::Decision Engine::Decide(PendingEvent& pending, std::string key,
                                const std::optional<std::string>& stored, const GroupLog* in_flight,
                                GroupLog* log, storage::Batch* batch) {
    Event& e = pending.event;
    auto reject = [&](const Status& s) {
        return Decision{ErrorAnswer(e.id, pending.line, s), s.code()};
    };
    Status date = ledger_->CheckDate(e);
    if (!date.ok()) {
        return reject(date);
    }
    std::optional<bool> same;
    const GroupLog::Applied* earlier = nullptr;  // in this group or the one being written
    if (auto it = log->applied.find(key); it != log->applied.end()) {
        earlier = &it->second;
    } else if (in_flight != nullptr) {
        if (auto it = in_flight->applied.find(key); it != in_flight->applied.end()) {
            earlier = &it->second;
        }
    }
    if (earlier != nullptr) {
        same = earlier->hash == e.content_hash && *earlier->canonical == e.canonical;
    } else if (stored) {
        std::optional<Marker> marker = DecodeMarker(*stored);
        if (!marker) {
            return reject(Status::Error("unavailable",
                                        "the marker of event \"" + e.id + "\" cannot be decoded"));
        }
        same = false;
        if (marker->hash == e.content_hash) {
            Result<std::optional<std::string>> logged = ReadLoggedEvent(*store_, marker->seq);
            if (!logged.ok()) {
                return reject(logged.status());
            }
            same = logged->has_value() && **logged == e.canonical;
        }
    }
    if (same) {
        if (*same) {
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
    if (log->block.empty()) {
        log->first_seq = seq;
    }
    AppendLogEntry(&log->block, e.canonical);
    batch->Put(key, EncodeMarker(Marker{seq, e.content_hash}));
    log->applied.emplace(std::move(key), GroupLog::Applied{e.content_hash, &e.canonical});
    return Decision{OkAnswer(e.id, false), "ok"};
}

void Engine::Apply(Group* g, const Group* in_flight, std::unique_lock<std::shared_mutex>* state) {
    g->decisions.resize(g->submissions.size());
    g->recorded.resize(g->deliveries.size());
    g->redriven.resize(g->redeliveries.size());
    // The markers of the whole group in one read: most are absent (new events), which the bloom
    // filters answer without touching the data. Only this thread and the writer write the
    // store, and the writer's markers are in `in_flight`'s log, so the read needs no lock and
    // queries do not wait for it.
    std::vector<std::string> keys;
    for (Submission& sub : g->submissions) {
        for (PendingEvent& pending : sub.events) {
            keys.push_back(MarkerKey(pending.event.source, pending.event.id));
        }
    }
    Result<std::vector<std::optional<std::string>>> stored = store_->MultiGet(keys);
    g->log.applied.reserve(keys.size());
    if (!state->owns_lock()) {
        state->lock();
    }
    if (!stopped_.ok()) {
        g->not_written = stopped_;
        return;
    }
    size_t actions_before = ledger_->actions().size();
    bool any_delivery = false;
    for (size_t i = 0; i < g->deliveries.size(); ++i) {
        g->recorded[i] = ledger_->RecordDelivery(g->deliveries[i].outcome);
        any_delivery = any_delivery || g->recorded[i].ok();
    }
    // After the delivery results: a dead letter recorded in this very group can be re-driven in
    // it too.
    for (size_t i = 0; i < g->redeliveries.size(); ++i) {
        g->redriven[i] = ledger_->Redeliver(g->redeliveries[i].request);
        any_delivery = any_delivery || g->redriven[i].ok();
    }
    size_t k = 0;
    for (size_t i = 0; i < g->submissions.size(); ++i) {
        Submission& sub = g->submissions[i];
        g->decisions[i].reserve(sub.events.size());
        if (sub.consumed) {
            Status in_order = TakeRange(*sub.consumed, &g->batch);
            if (!in_order.ok()) {
                for (const PendingEvent& p : sub.events) {
                    g->decisions[i].push_back(
                        Decision{ErrorAnswer(p.event.id, p.line, in_order), "unavailable"});
                }
                k += sub.events.size();
                continue;
            }
        }
        for (PendingEvent& pending : sub.events) {
            if (!stored.ok()) {
                g->decisions[i].push_back(
                    Decision{ErrorAnswer(pending.event.id, pending.line, stored.status()),
                             stored.status().code()});
                continue;
            }
            g->decisions[i].push_back(Decide(pending, std::move(keys[k]), (*stored)[k],
                                             in_flight ? &in_flight->log : nullptr, &g->log,
                                             &g->batch));
            ++k;
        }
    }
    if (!g->log.block.empty()) {
        g->batch.Put(EventLogKey(g->log.first_seq), g->log.block);
    }
    if (!g->batch.empty() || any_delivery) {
        DirtySet dirty = ledger_->TakeDirty();
        EncodeDirty(*ledger_, dirty, next_seq_, &g->batch);
        g->timeline = std::move(dirty.timeline);
        g->write = true;
    }
    g->new_actions = ledger_->actions().size() > actions_before;
    // Metrics first, then the views: whatever a query can see is already in /metrics.
    PublishMetrics();
    g->views = RenderViews();
}

void Engine::Finish(Group* g, const Status& committed, bool reload) {
    if (!committed.ok()) {
        if (last_commit_ok_ && stopped_.ok()) {
            spdlog::error("engine: commit of {} events failed: {}", g->log.applied.size(),
                          committed.message());
        }
        last_commit_ok_ = false;
        consumed_.clear();
        for (size_t i = 0; i < g->submissions.size(); ++i) {
            std::vector<Decision>& decisions = g->decisions[i];
            decisions.resize(g->submissions[i].events.size());
            for (size_t k = 0; k < decisions.size(); ++k) {
                const PendingEvent& p = g->submissions[i].events[k];
                decisions[k] = Decision{ErrorAnswer(p.event.id, p.line, committed), "unavailable"};
            }
        }
        for (Status& r : g->recorded) {
            r = r.ok() ? committed : r;
        }
        for (Status& r : g->redriven) {
            r = r.ok() ? committed : r;
        }
        g->new_actions = false;
        if (reload && stopped_.ok()) {
            Status reloaded = Reload();
            if (!reloaded.ok()) {
                // The memory now holds state the store does not: stop taking events rather than
                // answer from it.
                spdlog::error(
                    "engine: reload after a failed commit failed, refusing all events until "
                    "restart: {}",
                    reloaded.message());
                stopped_flag_ = true;
                stopped_ = Status::Error("unavailable",
                                         "the engine stopped after a storage failure; restart it");
            }
        }
        if (reload) {
            PublishMetrics();
            RefreshViews();
        }
    } else {
        if (!last_commit_ok_ && g->write) {
            spdlog::info("engine: commits succeed again");
            last_commit_ok_ = true;
        }
        CountTimeline(g->timeline);
        // An answered event is in every view a query can read next.
        for (auto& [view, rendering] : g->views) {
            view->Publish(std::move(rendering));
        }
    }
    for (size_t i = 0; i < g->deliveries.size(); ++i) {
        g->deliveries[i].done(g->recorded[i]);
    }
    NotifyRedelivered(g->redeliveries, g->redriven);
    if (g->new_actions) {
        std::function<void()> listener;
        {
            std::lock_guard<std::mutex> lock(queue_mu_);
            listener = action_listener_;
        }
        if (listener) {
            listener();
        }
    }
    for (size_t i = 0; i < g->submissions.size(); ++i) {
        std::vector<std::string> answers;
        answers.reserve(g->decisions[i].size());
        for (size_t k = 0; k < g->decisions[i].size(); ++k) {
            metrics_->CountEvents(EventTypeName(g->submissions[i].events[k].event.type),
                                  g->decisions[i][k].result);
            answers.push_back(std::move(g->decisions[i][k].answer));
        }
        g->submissions[i].done(std::move(answers));
    }
}

void Engine::NotifyRedelivered(std::vector<PendingRedelivery>& redeliveries,
                               const std::vector<Status>& redriven) {
    std::function<void(uint32_t)> listener;
    {
        std::lock_guard<std::mutex> lock(queue_mu_);
        listener = redelivery_listener_;
    }
    for (size_t i = 0; i < redeliveries.size(); ++i) {
        // The outbox first, so that the action is on its way when the operator hears "ok".
        if (redriven[i].ok() && listener) {
            listener(static_cast<uint32_t>(redeliveries[i].request.action_id - 1));
        }
        redeliveries[i].done(redriven[i]);
    }
}

Result<std::optional<Engine::TimelinePage>> Engine::Timeline(std::string_view customer,
                                                             uint64_t before, size_t limit) const {
    std::shared_lock<std::shared_mutex> lock = ReaderLock();
    const CustomerRec* c = ledger_->FindCustomer(customer);
    if (c == nullptr) {
        return std::optional<TimelinePage>();
    }
    uint32_t idx = static_cast<uint32_t>(c - ledger_->customers().data());
    TimelinePage page;
    Status damaged;
    std::string prefix = TimelinePrefix(idx);
    std::string from = before == 0 ? prefix : TimelineKey(idx, before - 1);
    Status scanned = store_->ScanFrom(prefix, from, [&](std::string_view k, std::string_view v) {
        if (page.entries.size() == limit) {
            page.more = true;
            return false;
        }
        std::optional<TimelineEntry> e = DecodeTimelineEntry(k, v);
        if (!e) {
            damaged = Status::Error("unavailable",
                                    "a timeline entry of customer \"" + std::string(customer) +
                                        "\" cannot be decoded: the store is damaged");
            return false;
        }
        page.entries.push_back(std::move(*e));
        return true;
    });
    if (!scanned.ok()) {
        return scanned;
    }
    if (!damaged.ok()) {
        return damaged;
    }
    return std::optional<TimelinePage>(std::move(page));
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
    lock_waiters_.fetch_add(1);
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    lock_waiters_.fetch_sub(1);
    options_.rules = rules;
    ledger_->SetRules(std::move(rules));
    PublishMetrics();
    RefreshViews();
}

void Engine::AddView(std::shared_ptr<CommittedView> view) const {
    std::lock_guard<std::mutex> lock(views_mu_);
    views_.push_back(std::move(view));
}

void Engine::RefreshViews() {
    for (auto& [view, rendering] : RenderViews()) {
        view->Publish(std::move(rendering));
    }
}

std::vector<std::pair<std::shared_ptr<CommittedView>, CommittedView::Rendering>>
Engine::RenderViews() {
    std::lock_guard<std::mutex> lock(views_mu_);
    std::vector<std::pair<std::shared_ptr<CommittedView>, CommittedView::Rendering>> out;
    out.reserve(views_.size());
    for (const std::shared_ptr<CommittedView>& view : views_) {
        out.emplace_back(view, view->Prepare(*ledger_));
    }
    return out;
}

void Engine::CountTimeline(const std::vector<TimelineEntry>& entries) {
    auto field = [](const TimelineEntry& e, std::string_view name) -> std::string_view {
        for (const auto& [k, v] : e.fields) {
            if (k == name) {
                return v;
            }
        }
        return "";
    };
    for (const TimelineEntry& e : entries) {
        if (e.kind == "contact") {
            metrics_->delivery().CountContact(field(e, "channel"), field(e, "direction"));
        } else if (e.kind == "delivery") {
            metrics_->delivery().CountDelivery(field(e, "channel"), field(e, "result"));
        } else if (e.kind == "redelivery") {
            metrics_->delivery().CountRedelivery(field(e, "channel"));
        }
    }
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
    for (const auto& [channel, n] : ledger_->EffectsByChannel()) {
        metrics_->delivery().SetEffectiveness(channel, n.contacts, n.payments_7d, n.promises,
                                              n.promises_kept);
    }
    for (std::string_view status : {"pending", "delivered", "dead_letter"}) {
        auto it = ledger_->action_statuses().find(status);
        metrics_->delivery().SetActions(status,
                                        it == ledger_->action_statuses().end() ? 0 : it->second);
    }
    PublishActions();
    if (std::optional<uint64_t> free = store_->FreeBytes()) {
        metrics_->SetDiskFreeBytes(*free);
    }
    metrics_->SetReady(last_commit_ok_ && store_->DiskReserveOk());
}

}  // namespace rms
