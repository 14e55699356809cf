// TCP gateway mode (issue #9): the ingest port of a cluster instance produces the events it
// accepted to the Kafka topic, keyed by customer, and answers `ok` once every in-sync replica has
// them (idempotent producer, acks=all). Whichever instance owns the partition applies the event
// later; its duplicate or state errors show in that instance's rms_events_total, not in the
// answer. Events without a customer (clock.advanced, fx.rate) are written to every partition, so
// that each partition's log alone makes its state.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/kafka_consumer.h"
#include "engine/status.h"
#include "metrics/kafka_metrics.h"

struct rd_kafka_s;

namespace rms {

class KafkaGateway {
public:
    // Connects the producer and reads the topic's partition count. Fails with "invalid_config"
    // for a setting librdkafka refuses, "unavailable" when the topic's metadata cannot be read.
    [[nodiscard]] static Result<std::unique_ptr<KafkaGateway>> Start(
        const KafkaOptions& options, metrics::KafkaMetrics* kafka_metrics);
    ~KafkaGateway();

    // Produces every event of `submission`; `done` runs on the gateway's thread with one answer
    // per event, in order: ok once Kafka has all its messages, "unavailable" when any was refused
    // or timed out, "missing_field" for an event that names no customer but needs one to be
    // keyed (it is not produced).
    void Submit(Submission submission);

    // Waits (up to 10 s) for what is in flight, then stops.
    void Stop();

    int32_t partitions() const { return partitions_; }

    // A submission in flight (the delivery callback's bookkeeping).
    struct Pending;

private:
    friend struct GatewayCallbacks;

    explicit KafkaGateway(metrics::KafkaMetrics* kafka_metrics) : kafka_metrics_(kafka_metrics) {}
    void Run();

    metrics::KafkaMetrics* kafka_metrics_;
    std::string topic_;
    rd_kafka_s* rk_ = nullptr;
    int32_t partitions_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace rms
