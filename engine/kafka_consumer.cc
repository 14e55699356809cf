#include "engine/kafka_consumer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "engine/json_writer.h"
#include "engine/kafka_settings.h"

namespace rms {

namespace {

// Events handed to a partition's engine at once, at most; a poll loop flushes what it has.
constexpr size_t kMaxSubmission = 2048;
constexpr int kPollMs = 100;
constexpr int kWatermarkTimeoutMs = 10000;
constexpr auto kGaugeInterval = std::chrono::milliseconds(250);

double SecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool AnyUnavailable(const std::vector<std::string>& answers) {
    for (const std::string& a : answers) {
        if (a.find("\"error\":\"unavailable\"") != std::string::npos) {
            return true;
        }
    }
    return false;
}

}  // namespace

// What the commit thread of a partition's engine reports back to the consumer thread.
struct KafkaConsumer::Progress {
    std::atomic<int64_t> committed{-1};  // the stored position after the last good commit
    std::atomic<bool> failed{false};     // a commit failed or a range was refused: rewind
};

struct KafkaConsumer::Partition {
    int32_t id = 0;
    std::unique_ptr<Engine> engine;
    std::shared_ptr<Progress> progress = std::make_shared<Progress>();
    // Consumer thread only: the offset the next submission starts at (-1: none stored yet).
    int64_t next = -1;
    std::vector<PendingEvent> pending;
    bool has_pending = false;
    int64_t pending_first = 0;
    int64_t pending_next = 0;
    // Rebuilding until the stored position reaches the partition's end as of assignment.
    int64_t rebuild_from = 0;
    int64_t rebuild_until = 0;
    std::chrono::steady_clock::time_point assigned_at;
    std::atomic<bool> serving{false};
    // The messages between the stored position (or 0) and the partition's first offset are gone
    // from Kafka (retention): the state cannot be rebuilt, so the partition is never served.
    bool history_lost = false;
    // The position last committed to Kafka, for lag monitoring only.
    int64_t reported = -1;
};

// librdkafka's callbacks: C functions that find the consumer through their opaque pointer.
struct KafkaCallbacks {
    static void Rebalance(rd_kafka_t*, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* parts, void* opaque) {
        auto* self = static_cast<KafkaConsumer*>(opaque);
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            self->Assign(parts);
        } else {
            self->Revoke(parts);
        }
    }

    static void Log(const rd_kafka_t*, int level, const char* facility, const char* message) {
        // syslog levels: 0-3 errors, 4 warnings, 5-6 notices and info, 7 debug.
        if (level <= 4) {
            spdlog::warn("kafka: {}: {}", facility, message);
        } else {
            spdlog::debug("kafka: {}: {}", facility, message);
        }
    }

    static void Error(rd_kafka_t*, int err, const char* reason, void*) {
        spdlog::warn("kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)),
                     reason);
    }
};

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Start(KafkaOptions options,
                                                            EngineOptions engine,
                                                            metrics::EngineMetrics* metrics,
                                                            metrics::KafkaMetrics* kafka_metrics) {
    std::unique_ptr<KafkaConsumer> c(
        new KafkaConsumer(std::move(options), std::move(engine), metrics, kafka_metrics));
    const KafkaOptions& o = c->options_;
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::vector<std::pair<std::string, std::string>> settings = {
        {"bootstrap.servers", o.brokers},
        {"group.id", o.group},
        {"partition.assignment.strategy", "cooperative-sticky"},
        // The store holds the positions; what is committed to Kafka is for lag tools only.
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
    };
    settings.insert(settings.end(), o.settings.begin(), o.settings.end());
    char err[512];
    if (Status applied = ApplyKafkaSettings(conf, settings); !applied.ok()) {
        return applied;
    }
    rd_kafka_conf_set_opaque(conf, c.get());
    rd_kafka_conf_set_rebalance_cb(conf, &KafkaCallbacks::Rebalance);
    rd_kafka_conf_set_log_cb(conf, &KafkaCallbacks::Log);
    rd_kafka_conf_set_error_cb(conf, &KafkaCallbacks::Error);
    c->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (c->rk_ == nullptr) {
        return Status::Error("invalid_config", std::string("kafka consumer: ") + err);
    }
    rd_kafka_poll_set_consumer(c->rk_);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t subscribed = rd_kafka_subscribe(c->rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (subscribed != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::Error("unavailable", "kafka: cannot subscribe to " + o.topic + ": " +
                                                rd_kafka_err2str(subscribed));
    }
    spdlog::info("kafka: joining group {} on topic {} at {}", o.group, o.topic, o.brokers);
    c->thread_ = std::thread([self = c.get()] { self->Run(); });
    return c;
}

KafkaConsumer::KafkaConsumer(KafkaOptions options, EngineOptions engine,
                             metrics::EngineMetrics* metrics, metrics::KafkaMetrics* kafka_metrics)
    : options_(std::move(options)),
      engine_options_(std::move(engine)),
      metrics_(metrics),
      kafka_metrics_(kafka_metrics) {
    engine_options_.publish_figures = false;
}

KafkaConsumer::~KafkaConsumer() {
    Stop();
    if (rk_ != nullptr) {
        rd_kafka_destroy(rk_);
    }
}

void KafkaConsumer::Stop() {
    stopping_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

Status KafkaConsumer::status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
}

bool KafkaConsumer::ready() const {
    if (!assigned_once_ || !status().ok()) {
        return false;
    }
    for (const auto& p : Snapshot()) {
        if (!p->serving || !p->engine->ready()) {
            return false;
        }
    }
    return true;
}

std::vector<std::shared_ptr<KafkaConsumer::Partition>> KafkaConsumer::Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<Partition>> out;
    for (const auto& [id, p] : partitions_) {
        out.push_back(p);
    }
    return out;
}

void KafkaConsumer::Run() {
    while (!stopping_ && status().ok()) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, kPollMs);
        // Take what is already fetched without waiting, then hand it over in one go.
        for (size_t n = 0; m != nullptr; ++n) {
            Dispatch(*m);
            rd_kafka_message_destroy(m);
            m = n < kMaxSubmission ? rd_kafka_consumer_poll(rk_, 0) : nullptr;
        }
        FlushAll();
        Tick();
    }
    FlushAll();
    // Revokes every partition through the rebalance callback, which closes their engines.
    rd_kafka_consumer_close(rk_);
    std::lock_guard<std::mutex> lock(mu_);
    partitions_.clear();
}

void KafkaConsumer::Assign(rd_kafka_topic_partition_list_t* parts) {
    for (int i = 0; i < parts->cnt; ++i) {
        rd_kafka_topic_partition_t& tp = parts->elems[i];
        auto p = std::make_shared<Partition>();
        p->id = tp.partition;
        EngineOptions eo = engine_options_;
        eo.data_dir = (std::filesystem::path(engine_options_.data_dir) / "partitions" /
                       (options_.topic + "-" + std::to_string(tp.partition)))
                          .string();
        std::error_code mk;
        std::filesystem::create_directories(eo.data_dir, mk);
        Result<std::unique_ptr<Engine>> opened = Engine::Open(eo, metrics_);
        Result<std::optional<int64_t>> stored =
            opened.ok() ? (*opened)->ConsumedOffset(options_.topic, tp.partition)
                        : Result<std::optional<int64_t>>(opened.status());
        if (!stored.ok()) {
            spdlog::error("kafka: partition {}: {}", tp.partition, stored.status().message());
            std::lock_guard<std::mutex> lock(mu_);
            status_ = stored.status();
            // Consume nothing of it; the instance stops and leaves the group.
            tp.offset = RD_KAFKA_OFFSET_END;
            continue;
        }
        p->engine = std::move(opened).value();
        p->next = stored->value_or(-1);
        tp.offset = *stored ? **stored : RD_KAFKA_OFFSET_BEGINNING;

        int64_t low = 0, high = 0;
        rd_kafka_resp_err_t w = rd_kafka_query_watermark_offsets(
            rk_, options_.topic.c_str(), tp.partition, &low, &high, kWatermarkTimeoutMs);
        if (w != RD_KAFKA_RESP_ERR_NO_ERROR) {
            spdlog::warn("kafka: partition {}: no watermarks ({}): served without a rebuild wait",
                         tp.partition, rd_kafka_err2str(w));
            high = 0;
        }
        p->rebuild_from = stored->value_or(0);
        p->progress->committed = p->rebuild_from;
        p->rebuild_until = high;
        p->assigned_at = std::chrono::steady_clock::now();
        p->history_lost = p->rebuild_from < low;
        p->serving = !p->history_lost && p->rebuild_from >= high;
        if (p->history_lost) {
            // Consuming what is left would make a state that misses the deleted events.
            spdlog::error(
                "kafka: partition {}: messages {} to {} are no longer in Kafka (retention), so "
                "its state cannot be rebuilt; it is not served. Keep the topic's whole log "
                "(docs/scale-out.md)",
                tp.partition, p->rebuild_from, low - 1);
            tp.offset = RD_KAFKA_OFFSET_END;
        } else {
            spdlog::info("kafka: assigned partition {}: stored position {}, end {}{}", tp.partition,
                         p->rebuild_from, high, p->serving ? "" : ", rebuilding");
        }
        std::lock_guard<std::mutex> lock(mu_);
        partitions_[tp.partition] = std::move(p);
    }
    if (std::string_view(rd_kafka_rebalance_protocol(rk_)) == "COOPERATIVE") {
        if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_, parts)) {
            spdlog::error("kafka: incremental assign failed: {}", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_assign(rk_, parts);
    }
    assigned_once_ = true;
    PublishGauges();
}

void KafkaConsumer::Revoke(rd_kafka_topic_partition_list_t* parts) {
    bool lost = rd_kafka_assignment_lost(rk_) != 0;
    for (int i = 0; i < parts->cnt; ++i) {
        int32_t id = parts->elems[i].partition;
        std::shared_ptr<Partition> p;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = partitions_.find(id);
            if (it == partitions_.end()) {
                continue;
            }
            p = it->second;
            partitions_.erase(it);
        }
        // What was consumed is committed before the partition goes: its next owner (or this
        // instance, later) resumes from the stored position whatever it is.
        Flush(*p);
        p->engine->Stop();
        spdlog::info("kafka: {} partition {} at position {}", lost ? "lost" : "revoked", id,
                     p->progress->committed.load());
    }
    if (std::string_view(rd_kafka_rebalance_protocol(rk_)) == "COOPERATIVE") {
        if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_, parts)) {
            spdlog::error("kafka: incremental unassign failed: {}", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    } else {
        rd_kafka_assign(rk_, nullptr);
    }
    PublishGauges();
}

void KafkaConsumer::Dispatch(const rd_kafka_message_t& m) {
    if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            spdlog::warn("kafka: consume: {}", rd_kafka_message_errstr(&m));
        }
        return;
    }
    auto it = partitions_.find(m.partition);
    if (it == partitions_.end()) {
        return;  // fetched before a revoke
    }
    Partition& p = *it->second;
    if (p.history_lost || p.progress->failed || (p.next >= 0 && m.offset < p.next) ||
        (p.has_pending && m.offset < p.pending_next)) {
        return;  // a rewind is due, or the message is already consumed
    }
    if (!p.has_pending) {
        p.has_pending = true;
        p.pending_first = p.next >= 0 ? p.next : m.offset;
    }
    p.pending_next = m.offset + 1;

    std::string_view line(static_cast<const char*>(m.payload), m.len);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    ParsedLine parsed = ParseEvent(line);
    if (!parsed.status.ok()) {
        // Consumed all the same: a bad message must not stop its partition.
        metrics_->CountEvents("invalid", parsed.status.code());
        spdlog::debug("kafka: partition {} offset {}: {}", m.partition, m.offset,
                      parsed.status.message());
    } else {
        p.pending.push_back(PendingEvent{std::move(parsed.event), static_cast<uint64_t>(m.offset)});
    }
    if (p.pending.size() >= kMaxSubmission) {
        Flush(p);
    }
}

void KafkaConsumer::Flush(Partition& p) {
    if (!p.has_pending) {
        return;
    }
    Submission sub;
    sub.events = std::move(p.pending);
    p.pending.clear();
    sub.consumed = ConsumedRange{options_.topic, p.id, p.pending_first, p.pending_next};
    p.next = p.pending_next;
    p.has_pending = false;
    sub.done = [progress = p.progress, next = p.next](std::vector<std::string> answers) {
        if (AnyUnavailable(answers)) {
            progress->failed = true;
        } else {
            progress->committed = next;
        }
    };
    p.engine->Submit(std::move(sub));
}

void KafkaConsumer::FlushAll() {
    for (auto& [id, p] : partitions_) {
        Flush(*p);
    }
}

void KafkaConsumer::Rewind(Partition& p) {
    Result<std::optional<int64_t>> stored = p.engine->ConsumedOffset(options_.topic, p.id);
    if (!stored.ok()) {
        spdlog::error("kafka: partition {}: {}", p.id, stored.status().message());
        return;  // try again at the next tick
    }
    p.progress->failed = false;
    p.pending.clear();
    p.has_pending = false;
    p.next = stored->value_or(-1);
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), p.id)->offset =
        *stored ? **stored : RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_, list, kWatermarkTimeoutMs)) {
        spdlog::error("kafka: partition {}: seek failed: {}", p.id, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        p.progress->failed = true;
    } else {
        spdlog::warn("kafka: partition {}: a commit failed; consuming again from {}", p.id, p.next);
    }
    rd_kafka_topic_partition_list_destroy(list);
}

void KafkaConsumer::Tick() {
    for (auto& [id, p] : partitions_) {
        if (p->progress->failed) {
            Rewind(*p);
        }
        if (!p->serving && !p->history_lost && p->progress->committed >= p->rebuild_until) {
            p->serving = true;
            double seconds = SecondsSince(p->assigned_at);
            uint64_t messages = static_cast<uint64_t>(p->rebuild_until - p->rebuild_from);
            kafka_metrics_->CountRebuild(messages, seconds);
            spdlog::info("kafka: partition {} rebuilt: offsets {} to {} in {:.3f} s, serving", id,
                         p->rebuild_from, p->rebuild_until, seconds);
        }
    }
    if (std::chrono::steady_clock::now() - last_gauges_ >= kGaugeInterval) {
        last_gauges_ = std::chrono::steady_clock::now();
        PublishGauges();
        ReportPositions();
    }
}

void KafkaConsumer::ReportPositions() {
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size()));
    for (auto& [id, p] : partitions_) {
        int64_t committed = p->progress->committed;
        if (committed > p->reported) {
            rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), id)->offset = committed;
            p->reported = committed;
        }
    }
    if (list->cnt > 0) {
        // Asynchronous, and never read back: a failure only delays what lag tools show.
        rd_kafka_commit(rk_, list, 1);
    }
    rd_kafka_topic_partition_list_destroy(list);
}

ClusterParts KafkaConsumer::Parts() const {
    ClusterParts out;
    for (const auto& p : Snapshot()) {
        if (p->serving) {
            out.Add(p->engine->Read([](const Ledger& l) { return PartsOf(l); }));
        }
    }
    return out;
}

void KafkaConsumer::PublishGauges() {
    std::vector<std::shared_ptr<Partition>> parts = Snapshot();
    int64_t rebuilding = 0;
    for (const auto& p : parts) {
        rebuilding += p->serving ? 0 : 1;
    }
    kafka_metrics_->SetPartitions(static_cast<int64_t>(parts.size()), rebuilding);
    ClusterParts sum = Parts();
    // A currency whose partitions all moved away reads 0 here, not its last amounts: another
    // instance now reports them, and Prometheus sums the two.
    for (const std::string& code : published_currencies_) {
        sum.currencies.try_emplace(code);
    }
    metrics_->SetBusinessDate(
        sum.business_date ? std::optional<int64_t>(int64_t{sum.business_date->days()} * 86400)
                          : std::nullopt);
    for (const auto& [code, fp] : sum.currencies) {
        std::optional<Currency> currency = Currency::FromCode(code);
        if (!currency) {
            continue;
        }
        double unit = 1.0;
        for (int i = 0; i < currency->exponent(); ++i) {
            unit *= 10.0;
        }
        // Amounts only: the ratios of an instance mean nothing for the cluster, so they are
        // left absent and computed by Prometheus from the sums (recording rules).
        metrics::CurrencyGauges g;
        int64_t open = 0;
        for (int b = 0; b < kBucketCount; ++b) {
            g.buckets[b] = static_cast<double>(fp.aging[b]) / unit;
            open += fp.aging[b];
        }
        g.overdue = static_cast<double>(open - fp.aging[0]) / unit;
        g.disputed = static_cast<double>(fp.disputed) / unit;
        g.unapplied = static_cast<double>(fp.unapplied) / unit;
        metrics_->SetCurrency(code, g);
        published_currencies_.insert(code);
        kafka_metrics_->SetSalesWindow(code, static_cast<double>(fp.sales_window) / unit);
        kafka_metrics_->SetCeiStart(code, static_cast<double>(fp.start) / unit);
    }
    metrics_->SetReady(ready());
}

std::string KafkaConsumer::PartsJson() const {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("topic");
    w.String(options_.topic);
    w.Key("group");
    w.String(options_.group);
    w.Key("ready");
    w.Bool(ready());
    w.Key("partitions");
    w.BeginArray();
    ClusterParts sum;
    for (const auto& p : Snapshot()) {
        w.BeginObject();
        w.Key("partition");
        w.Int(p->id);
        w.Key("serving");
        bool serving = p->serving;
        w.Bool(serving);
        w.Key("position");
        w.Int(p->progress->committed);
        if (p->history_lost) {
            w.Key("history_lost");
            w.Bool(true);
        }
        w.Key("events_applied");
        w.Int(static_cast<int64_t>(p->engine->EventsApplied()));
        w.EndObject();
        if (serving) {
            sum.Add(p->engine->Read([](const Ledger& l) { return PartsOf(l); }));
        }
    }
    w.EndArray();
    WriteParts(w, sum);
    w.EndObject();
    return out;
}

QueryApi::Routes KafkaRoutes(const KafkaConsumer* consumer, const metrics::EngineMetrics* metrics,
                             const metrics::KafkaMetrics* kafka_metrics) {
    return [=](std::string_view target) -> std::optional<ApiResponse> {
        std::string_view path = target.substr(0, target.find('?'));
        if (path == "/readyz") {
            bool ready = consumer->ready();
            return ApiResponse{ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n"};
        }
        if (path == "/metrics") {
            return ApiResponse{200, "text/plain; version=0.0.4",
                               metrics->Serialize() + kafka_metrics->Serialize()};
        }
        if (path == "/v1/kpis") {
            return ApiResponse{200, "application/json", KpisJson(consumer->Parts())};
        }
        if (path == "/v1/cluster/parts") {
            return ApiResponse{200, "application/json", consumer->PartsJson()};
        }
        return std::nullopt;
    };
}

}  // namespace rms
