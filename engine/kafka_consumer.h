// Kafka input (issue #9): one instance of a cluster of rmsd that share a topic of events through
// a consumer group (cooperative-sticky assignor).
//
// Each assigned partition gets an engine of its own, with its own store under
// <data dir>/partitions/<topic>-<n>: its state is a function of that partition's messages alone,
// because events are keyed by customer (engine/partitioner.h) and the events without a customer
// (clock.advanced, fx.rate) are written to every partition. The offset of the next message to
// consume is written in the same RocksDB batch as the state the messages made, so on assignment
// (a restart, a rebalance) consumption resumes exactly where the store is: nothing is applied
// twice and nothing is skipped, without Kafka transactions or Kafka's committed offsets.
//
// A partition that moves to an instance that never had it is rebuilt by consuming it from its
// start; one that comes back is consumed from where its store stopped. Until it has caught up
// with the end of the partition as of its assignment it is "rebuilding": its figures are left
// out of this instance's and /readyz answers 503.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/cluster_figures.h"
#include "engine/engine.h"
#include "engine/query_api.h"
#include "engine/status.h"
#include "metrics/engine_metrics.h"
#include "metrics/kafka_metrics.h"

struct rd_kafka_s;
struct rd_kafka_topic_partition_list_s;
struct rd_kafka_message_s;

namespace rms {

struct KafkaOptions {
    std::string brokers;  // bootstrap servers, host:port[,host:port...]
    std::string topic;
    std::string group;
    // librdkafka settings, passed as they are (security.protocol, session.timeout.ms, ...).
    std::vector<std::pair<std::string, std::string>> settings;
};

class KafkaConsumer {
public:
    // Joins the group and starts consuming on a thread of its own. `engine` is the template of
    // every partition's engine (its data_dir is the parent of partitions/). Fails with
    // "invalid_config" for a setting librdkafka refuses.
    [[nodiscard]] static Result<std::unique_ptr<KafkaConsumer>> Start(
        KafkaOptions options, EngineOptions engine, metrics::EngineMetrics* metrics,
        metrics::KafkaMetrics* kafka_metrics);
    ~KafkaConsumer();

    // Leaves the group: commits what was consumed, closes every partition's engine.
    void Stop();

    // Not ok once the consumer stopped on its own (a partition's store would not open).
    Status status() const;
    // True once the group assigned this instance (even nothing) and no partition rebuilds.
    bool ready() const;

    // The parts of the partitions that serve.
    ClusterParts Parts() const;
    // GET /v1/cluster/parts: the parts, and per assigned partition whether it serves, its
    // stored position and how many events its store applied.
    std::string PartsJson() const;

    const KafkaOptions& options() const { return options_; }

private:
    struct Progress;
    struct Partition;

    KafkaConsumer(KafkaOptions options, EngineOptions engine, metrics::EngineMetrics* metrics,
                  metrics::KafkaMetrics* kafka_metrics);
    friend struct KafkaCallbacks;
    void Run();
    void Assign(rd_kafka_topic_partition_list_s* parts);
    void Revoke(rd_kafka_topic_partition_list_s* parts);
    void Dispatch(const rd_kafka_message_s& message);
    void Flush(Partition& p);
    void FlushAll();
    // Serving transitions, seeks after a failed commit, the gauges.
    void Tick();
    void Rewind(Partition& p);
    // Commits the stored positions to Kafka as the group's offsets, so that lag tools see them.
    // rmsd itself never reads them back.
    void ReportPositions();
    void PublishGauges();
    std::vector<std::shared_ptr<Partition>> Snapshot() const;

    KafkaOptions options_;
    EngineOptions engine_options_;
    metrics::EngineMetrics* metrics_;
    metrics::KafkaMetrics* kafka_metrics_;
    rd_kafka_s* rk_ = nullptr;

    mutable std::mutex mu_;
    std::map<int32_t, std::shared_ptr<Partition>> partitions_;  // written on the consumer thread
    Status status_;
    std::atomic<bool> assigned_once_{false};
    std::atomic<bool> stopping_{false};
    std::chrono::steady_clock::time_point last_gauges_;  // consumer thread only
    std::set<std::string> published_currencies_;         // consumer thread only
    std::thread thread_;
};

// The HTTP paths of an instance in Kafka mode: /readyz (the consumer's readiness), /metrics (the
// engine families, the amounts summed over the serving partitions, and the Kafka families),
// /v1/kpis (this instance's partitions merged) and /v1/cluster/parts (what `rmsctl kpis
// --cluster` merges).
QueryApi::Routes KafkaRoutes(const KafkaConsumer* consumer, const metrics::EngineMetrics* metrics,
                             const metrics::KafkaMetrics* kafka_metrics);

}  // namespace rms
