// The metrics of Kafka mode (issue #9): the consumer's partitions and rebuilds, the gateway's
// produce results, and the additive inputs of the ratios (sales of the window, CEI's start), so
// that Prometheus can sum every instance and compute the cluster's DSO and CEI by recording
// rules (deploy/prometheus/rules/rms_cluster.rules.yml).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace rms::metrics {

class KafkaMetrics {
public:
    KafkaMetrics();
    ~KafkaMetrics();
    KafkaMetrics(const KafkaMetrics&) = delete;
    KafkaMetrics& operator=(const KafkaMetrics&) = delete;

    // Thread-safe.
    void SetPartitions(int64_t owned, int64_t rebuilding);
    void CountRebuild(uint64_t messages, double seconds);
    // `result` is "ok" or "error".
    void CountProduced(std::string_view result, uint64_t n = 1);
    // In major units, like the engine's amount gauges.
    void SetSalesWindow(std::string_view currency, double amount);
    void SetCeiStart(std::string_view currency, double amount);

    std::string Serialize() const;

private:
    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Gauge* owned_;
    prometheus::Gauge* rebuilding_;
    prometheus::Counter* rebuilt_messages_;
    prometheus::Counter* rebuild_seconds_;
    prometheus::Family<prometheus::Counter>* produced_;
    prometheus::Family<prometheus::Gauge>* sales_;
    prometheus::Family<prometheus::Gauge>* start_;
    mutable std::mutex mu_;
};

}  // namespace rms::metrics
