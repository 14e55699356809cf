#include "metrics/engine_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>

namespace rms::metrics {

namespace {

constexpr std::array<const char*, 6> kBuckets = {"current", "1-30",   "31-60",
                                                 "61-90",   "91-120", "120+"};

}  // namespace

// The children of one currency, resolved once so that updates cost a pointer store.
struct EngineMetrics::CurrencySeries {
    std::array<prometheus::Gauge*, 6> buckets{};
    prometheus::Gauge* overdue = nullptr;
    prometheus::Gauge* disputed = nullptr;
    prometheus::Gauge* unapplied = nullptr;
    // Optional KPIs: present only while defined (Prometheus shows an undefined KPI as absent).
    prometheus::Gauge* dso_standard = nullptr;
    prometheus::Gauge* dso_countback = nullptr;
    prometheus::Gauge* dso_best_possible = nullptr;
    prometheus::Gauge* add = nullptr;
    prometheus::Gauge* cei = nullptr;
};

EngineMetrics::EngineMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
    using prometheus::BuildCounter;
    using prometheus::BuildGauge;
    using prometheus::BuildHistogram;
    events_ = &BuildCounter()
                   .Name("rms_events_total")
                   .Help("Events answered, by event type and result (ok, duplicate or error code)")
                   .Register(*registry_);
    open_ = &BuildGauge()
                 .Name("rms_receivables_open_amount")
                 .Help("Open receivables by currency and aging bucket, in major units")
                 .Register(*registry_);
    overdue_ = &BuildGauge()
                    .Name("rms_receivables_overdue_amount")
                    .Help("Open receivables one day or more past due, in major units")
                    .Register(*registry_);
    disputed_ = &BuildGauge()
                     .Name("rms_receivables_disputed_amount")
                     .Help("Open receivables under an open dispute, in major units")
                     .Register(*registry_);
    unapplied_ = &BuildGauge()
                      .Name("rms_receivables_unapplied_amount")
                      .Help("Customer credit not applied to any invoice, in major units")
                      .Register(*registry_);
    dso_ = &BuildGauge()
                .Name("rms_dso_days")
                .Help("Days sales outstanding by method (standard, countback, best_possible)")
                .Register(*registry_);
    add_ = &BuildGauge()
                .Name("rms_add_days")
                .Help("Average days delinquent: standard DSO minus best possible DSO")
                .Register(*registry_);
    cei_ = &BuildGauge()
                .Name("rms_cei_percent")
                .Help("Collection effectiveness index over the 90-day window, in percent")
                .Register(*registry_);
    commit_seconds_ = &BuildHistogram()
                           .Name("rms_event_commit_seconds")
                           .Help("Duration of one group commit to the store")
                           .Register(*registry_)
                           .Add({}, prometheus::Histogram::BucketBoundaries{
                                        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05, 0.1, 0.25, 1.0});
    connections_ = &BuildGauge()
                        .Name("rms_ingest_connections")
                        .Help("Open ingest connections")
                        .Register(*registry_)
                        .Add({});
    business_date_ = &BuildGauge()
                          .Name("rms_business_date_timestamp_seconds")
                          .Help("The engine's business date, as the Unix time of its midnight UTC")
                          .Register(*registry_)
                          .Add({});
    disk_free_ = &BuildGauge()
                      .Name("rms_store_disk_free_bytes")
                      .Help("Free bytes on the file system of the data directory")
                      .Register(*registry_)
                      .Add({});
    promises_ = &BuildCounter()
                     .Name("rms_promises_total")
                     .Help(
                         "Promises to pay that entered each status (open, kept, broken, "
                         "cancelled)")
                     .Register(*registry_);
    for (const char* status : {"open", "kept", "broken", "cancelled"}) {
        promises_->Add({{"status", status}});
    }
    promises_broken_ = &BuildCounter()
                            .Name("rms_promises_broken_total")
                            .Help("Promises to pay broken: not kept by their due date plus grace")
                            .Register(*registry_)
                            .Add({});
    actions_ = &BuildCounter()
                    .Name("rms_actions_total")
                    .Help("Collection actions decided by the rules, by kind")
                    .Register(*registry_);
    for (const char* action : {"reminder", "call", "escalation", "credit_hold"}) {
        actions_->Add({{"action", action}});
    }
    segments_ = &BuildGauge()
                     .Name("rms_segment_customers")
                     .Help("Customers in each behaviour segment")
                     .Register(*registry_);
    worklist_ = &BuildGauge()
                     .Name("rms_worklist_customers")
                     .Help("Customers on the collections worklist (something overdue)")
                     .Register(*registry_)
                     .Add({});
    auto& reloads = BuildCounter()
                        .Name("rms_rules_reloads_total")
                        .Help("Rules reloads on SIGHUP, applied or refused (a file with errors)")
                        .Register(*registry_);
    reloads_applied_ = &reloads.Add({{"result", "applied"}});
    reloads_refused_ = &reloads.Add({{"result", "refused"}});
    auto& auth = BuildCounter()
                     .Name("rms_auth_failures_total")
                     .Help(
                         "Lines, events, handshakes and HTTP requests refused by the security "
                         "checks, by reason")
                     .Register(*registry_);
    for (size_t i = 0; i < kAuthFailureReasons.size(); ++i) {
        auth_failures_[i] = &auth.Add({{"reason", std::string(kAuthFailureReasons[i])}});
    }
    ready_ = &BuildGauge()
                  .Name("rms_ready")
                  .Help("1 while the engine takes events, 0 while it refuses them")
                  .Register(*registry_)
                  .Add({});
    delivery_ = std::make_unique<DeliveryMetrics>(*registry_);
}

EngineMetrics::~EngineMetrics() = default;

void EngineMetrics::SetPromiseTransitions(const std::array<uint64_t, 4>& entered) {
    static constexpr std::array<const char*, 4> kStatus = {"open", "kept", "broken", "cancelled"};
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < kStatus.size(); ++i) {
        if (entered[i] > promise_seen_[i]) {
            double delta = static_cast<double>(entered[i] - promise_seen_[i]);
            promises_->Add({{"status", kStatus[i]}}).Increment(delta);
            if (i == 2) {
                promises_broken_->Increment(delta);
            }
        }
        // A reload after a failed commit can count fewer: keep the high-water mark.
        promise_seen_[i] = std::max(promise_seen_[i], entered[i]);
    }
}

void EngineMetrics::SetPromiseBaseline(const std::array<uint64_t, 4>& entered) {
    std::lock_guard<std::mutex> lock(mu_);
    promise_seen_ = entered;
}

void EngineMetrics::CountActions(std::string_view action, uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    actions_->Add({{"action", std::string(action)}}).Increment(static_cast<double>(n));
}

void EngineMetrics::SetSegmentCustomers(std::string_view segment, int64_t customers) {
    std::lock_guard<std::mutex> lock(mu_);
    segments_->Add({{"segment", std::string(segment)}}).Set(static_cast<double>(customers));
}

void EngineMetrics::CountRulesReload(bool applied) {
    (applied ? reloads_applied_ : reloads_refused_)->Increment();
}

void EngineMetrics::CountAuthFailure(std::string_view reason) {
    for (size_t i = 0; i < kAuthFailureReasons.size(); ++i) {
        if (kAuthFailureReasons[i] == reason) {
            auth_failures_[i]->Increment();
        }
    }
}

void EngineMetrics::SetWorklistCustomers(int64_t customers) {
    worklist_->Set(static_cast<double>(customers));
}

void EngineMetrics::CountEvents(std::string_view type, std::string_view result, uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_pair(std::string(type), std::string(result));
    auto it = counters_.find(key);
    if (it == counters_.end()) {
        prometheus::Counter* c = &events_->Add({{"type", key.first}, {"result", key.second}});
        it = counters_.emplace(std::move(key), c).first;
    }
    it->second->Increment(static_cast<double>(n));
}

void EngineMetrics::ObserveCommit(double seconds) {
    commit_seconds_->Observe(seconds);
}

void EngineMetrics::AddConnections(int64_t delta) {
    connections_->Increment(static_cast<double>(delta));
}

void EngineMetrics::SetBusinessDate(std::optional<int64_t> unix_seconds) {
    business_date_->Set(unix_seconds ? static_cast<double>(*unix_seconds) : 0.0);
}

void EngineMetrics::SetDiskFreeBytes(uint64_t bytes) {
    disk_free_->Set(static_cast<double>(bytes));
}

void EngineMetrics::SetReady(bool ready) {
    ready_->Set(ready ? 1.0 : 0.0);
}

namespace {

// Sets an optional gauge: adds the child when the value is defined, removes it when not.
void SetOptional(prometheus::Family<prometheus::Gauge>* family, prometheus::Gauge** child,
                 const std::map<std::string, std::string>& labels, std::optional<double> value) {
    if (value.has_value()) {
        if (*child == nullptr) {
            *child = &family->Add(labels);
        }
        (*child)->Set(*value);
    } else if (*child != nullptr) {
        family->Remove(*child);
        *child = nullptr;
    }
}

}  // namespace

void EngineMetrics::SetCurrency(std::string_view currency, const CurrencyGauges& figures) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = currencies_.find(currency);
    if (it == currencies_.end()) {
        auto series = std::make_unique<CurrencySeries>();
        std::string cur(currency);
        for (size_t i = 0; i < kBuckets.size(); ++i) {
            series->buckets[i] = &open_->Add({{"currency", cur}, {"bucket", kBuckets[i]}});
        }
        series->overdue = &overdue_->Add({{"currency", cur}});
        series->disputed = &disputed_->Add({{"currency", cur}});
        series->unapplied = &unapplied_->Add({{"currency", cur}});
        it = currencies_.emplace(cur, std::move(series)).first;
    }
    CurrencySeries& s = *it->second;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
        s.buckets[i]->Set(figures.buckets[i]);
    }
    s.overdue->Set(figures.overdue);
    s.disputed->Set(figures.disputed);
    s.unapplied->Set(figures.unapplied);
    std::string cur(currency);
    SetOptional(dso_, &s.dso_standard, {{"currency", cur}, {"method", "standard"}},
                figures.dso_standard);
    SetOptional(dso_, &s.dso_countback, {{"currency", cur}, {"method", "countback"}},
                figures.dso_countback);
    SetOptional(dso_, &s.dso_best_possible, {{"currency", cur}, {"method", "best_possible"}},
                figures.dso_best_possible);
    SetOptional(add_, &s.add, {{"currency", cur}}, figures.add);
    SetOptional(cei_, &s.cei, {{"currency", cur}}, figures.cei);
}

std::string EngineMetrics::Serialize() const {
    std::lock_guard<std::mutex> lock(mu_);
    prometheus::TextSerializer serializer;
    return serializer.Serialize(registry_->Collect());
}

}  // namespace rms::metrics
