#include "engine/kafka_gateway.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "engine/kafka_settings.h"
#include "engine/partitioner.h"

namespace rms {

namespace {

constexpr int kMetadataTimeoutMs = 10000;
constexpr int kFlushTimeoutMs = 10000;
constexpr int kPollMs = 100;

bool Broadcast(EventType type) {
    return type == EventType::kClockAdvanced || type == EventType::kFxRate;
}

}  // namespace

// One submission in flight: answered when its last message is acknowledged or refused.
struct KafkaGateway::Pending {
    Submission submission;
    std::vector<std::optional<Status>> failures;  // per event: a refusal, if any
    std::atomic<size_t> outstanding{0};
    std::mutex mu;

    void Fail(size_t event, Status s) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failures[event]) {
            failures[event] = std::move(s);
        }
    }

    // Called once per message; the last one answers.
    void Done(metrics::KafkaMetrics* kafka_metrics) {
        if (outstanding.fetch_sub(1) != 1) {
            return;
        }
        std::vector<std::string> answers;
        uint64_t ok = 0;
        for (size_t i = 0; i < submission.events.size(); ++i) {
            const PendingEvent& p = submission.events[i];
            if (failures[i]) {
                answers.push_back(ErrorAnswer(p.event.id, p.line, *failures[i]));
            } else {
                answers.push_back(OkAnswer(p.event.id, false));
                ++ok;
            }
        }
        kafka_metrics->CountProduced("ok", ok);
        kafka_metrics->CountProduced("error", submission.events.size() - ok);
        submission.done(std::move(answers));
    }
};

struct MessageRef {
    std::shared_ptr<KafkaGateway::Pending> pending;
    size_t event = 0;
};

struct GatewayCallbacks {
    static void Delivered(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
        auto* gateway = static_cast<KafkaGateway*>(opaque);
        std::unique_ptr<MessageRef> ref(static_cast<MessageRef*>(m->_private));
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            ref->pending->Fail(
                ref->event, Status::Error("unavailable", std::string("kafka refused the event: ") +
                                                             rd_kafka_err2str(m->err)));
        }
        ref->pending->Done(gateway->kafka_metrics_);
    }
};

Result<std::unique_ptr<KafkaGateway>> KafkaGateway::Start(const KafkaOptions& options,
                                                          metrics::KafkaMetrics* kafka_metrics) {
    std::unique_ptr<KafkaGateway> g(new KafkaGateway(kafka_metrics));
    g->topic_ = options.topic;
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::vector<std::pair<std::string, std::string>> settings = {
        {"bootstrap.servers", options.brokers},
        // No loss and no reordering on retries: what an answered ok needs.
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "2"},
        // An answer within 30 s, not librdkafka's 5 minutes, when Kafka cannot be reached. A
        // message that timed out may still have been written: the producer's resend then
        // answers duplicate at the owner.
        {"message.timeout.ms", "30000"},
        // The Java client's partitioner, should anything be produced without a partition.
        {"partitioner", "murmur2_random"},
    };
    for (const auto& [key, value] : options.settings) {
        // Consumer settings of the same list are not producer settings.
        if (key.rfind("session.", 0) == 0 || key.rfind("heartbeat.", 0) == 0 ||
            key.rfind("max.poll.", 0) == 0 || key.rfind("group.", 0) == 0) {
            continue;
        }
        settings.emplace_back(key, value);
    }
    char err[512];
    if (Status applied = ApplyKafkaSettings(conf, settings); !applied.ok()) {
        return applied;
    }
    rd_kafka_conf_set_opaque(conf, g.get());
    rd_kafka_conf_set_dr_msg_cb(conf, &GatewayCallbacks::Delivered);
    g->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (g->rk_ == nullptr) {
        return Status::Error("invalid_config", std::string("kafka producer: ") + err);
    }
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(g->rk_, g->topic_.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t got = rd_kafka_metadata(g->rk_, 0, rkt, &md, kMetadataTimeoutMs);
    rd_kafka_topic_destroy(rkt);
    if (got != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 || md->topics[0].err ||
        md->topics[0].partition_cnt <= 0) {
        if (md != nullptr) {
            rd_kafka_metadata_destroy(md);
        }
        return Status::Error("unavailable", "kafka: no partitions for topic " + g->topic_ + " at " +
                                                options.brokers);
    }
    g->partitions_ = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    spdlog::info("kafka: gateway producing to {} ({} partitions)", g->topic_, g->partitions_);
    g->thread_ = std::thread([self = g.get()] { self->Run(); });
    return g;
}

KafkaGateway::~KafkaGateway() {
    Stop();
    if (rk_ != nullptr) {
        rd_kafka_destroy(rk_);
    }
}

void KafkaGateway::Stop() {
    if (stopping_.exchange(true)) {
        return;
    }
    if (thread_.joinable()) {
        thread_.join();
    }
    if (rk_ != nullptr && rd_kafka_flush(rk_, kFlushTimeoutMs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::error("kafka: gateway stopped with {} messages unacknowledged",
                      rd_kafka_outq_len(rk_));
    }
}

void KafkaGateway::Run() {
    while (!stopping_) {
        rd_kafka_poll(rk_, kPollMs);
    }
}

void KafkaGateway::Submit(Submission submission) {
    auto pending = std::make_shared<Pending>();
    pending->submission = std::move(submission);
    std::vector<PendingEvent>& events = pending->submission.events;
    pending->failures.resize(events.size());

    // Which partitions each event goes to; counted first, so that no early acknowledgement can
    // answer the submission while it is still being produced.
    std::vector<std::vector<int32_t>> targets(events.size());
    size_t messages = 0;
    for (size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i].event;
        if (Broadcast(e.type)) {
            for (int32_t p = 0; p < partitions_; ++p) {
                targets[i].push_back(p);
            }
        } else if (!e.customer.empty()) {
            targets[i].push_back(PartitionForKey(e.customer, partitions_));
        } else {
            pending->failures[i] = Status::Error(
                "missing_field", "event \"" + e.id + "\" (" + std::string(EventTypeName(e.type)) +
                                     "): customer is required in a Kafka cluster, where events "
                                     "are keyed by customer");
        }
        messages += targets[i].size();
    }
    pending->outstanding = messages + 1;  // +1: this function's own reference, dropped last

    for (size_t i = 0; i < events.size(); ++i) {
        const Event& e = events[i].event;
        for (int32_t p : targets[i]) {
            auto ref = std::make_unique<MessageRef>(MessageRef{pending, i});
            rd_kafka_resp_err_t err = rd_kafka_producev(
                rk_, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_PARTITION(p),
                RD_KAFKA_V_KEY(e.customer.data(), e.customer.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(e.canonical.data()), e.canonical.size()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(ref.get()),
                RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                pending->Fail(i, Status::Error("unavailable",
                                               std::string("kafka: ") + rd_kafka_err2str(err)));
                pending->Done(kafka_metrics_);
                continue;
            }
            ref.release();  // the delivery callback owns it now
        }
    }
    pending->Done(kafka_metrics_);
}

}  // namespace rms
