#include "metrics/kafka_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace rms::metrics {

KafkaMetrics::KafkaMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
    using prometheus::BuildCounter;
    using prometheus::BuildGauge;
    owned_ = &BuildGauge()
                  .Name("rms_kafka_partitions_owned")
                  .Help("Partitions of the event topic this instance is assigned")
                  .Register(*registry_)
                  .Add({});
    rebuilding_ = &BuildGauge()
                       .Name("rms_kafka_partitions_rebuilding")
                       .Help(
                           "Assigned partitions still re-consumed up to where they were at "
                           "assignment: their figures are not served yet")
                       .Register(*registry_)
                       .Add({});
    rebuilt_messages_ = &BuildCounter()
                             .Name("rms_kafka_rebuild_messages_total")
                             .Help("Messages consumed to rebuild the state of assigned partitions")
                             .Register(*registry_)
                             .Add({});
    rebuild_seconds_ = &BuildCounter()
                            .Name("rms_kafka_rebuild_seconds_total")
                            .Help("Time from assignment to serving, summed over the partitions")
                            .Register(*registry_)
                            .Add({});
    produced_ = &BuildCounter()
                     .Name("rms_kafka_produced_total")
                     .Help("Gateway messages the cluster acknowledged (ok) or refused (error)")
                     .Register(*registry_);
    sales_ = &BuildGauge()
                  .Name("rms_sales_90d_amount")
                  .Help("Gross sales of the 90-day window, in major units (additive)")
                  .Register(*registry_);
    start_ = &BuildGauge()
                  .Name("rms_cei_start_amount")
                  .Help(
                      "Open receivables at the end of the day before the window, in major "
                      "units: the start of CEI (additive)")
                  .Register(*registry_);
}

KafkaMetrics::~KafkaMetrics() = default;

void KafkaMetrics::SetPartitions(int64_t owned, int64_t rebuilding) {
    owned_->Set(static_cast<double>(owned));
    rebuilding_->Set(static_cast<double>(rebuilding));
}

void KafkaMetrics::CountRebuild(uint64_t messages, double seconds) {
    rebuilt_messages_->Increment(static_cast<double>(messages));
    rebuild_seconds_->Increment(seconds);
}

void KafkaMetrics::CountProduced(std::string_view result, uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    produced_->Add({{"result", std::string(result)}}).Increment(static_cast<double>(n));
}

void KafkaMetrics::SetSalesWindow(std::string_view currency, double amount) {
    std::lock_guard<std::mutex> lock(mu_);
    sales_->Add({{"currency", std::string(currency)}}).Set(amount);
}

void KafkaMetrics::SetCeiStart(std::string_view currency, double amount) {
    std::lock_guard<std::mutex> lock(mu_);
    start_->Add({{"currency", std::string(currency)}}).Set(amount);
}

std::string KafkaMetrics::Serialize() const {
    prometheus::TextSerializer serializer;
    return serializer.Serialize(registry_->Collect());
}

}  // namespace rms::metrics
