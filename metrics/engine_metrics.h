// The engine's Prometheus metrics: every family is registered here, with its help text, and
// served as text exposition by the engine's own HTTP server (prometheus-cpp's exposer is not
// used). Labels come only from small fixed sets: currency, bucket, method, event type, result.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "metrics/delivery_metrics.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace rms::metrics {

// Figures of one currency, in major units (display only: the ledger keeps integer minor units).
struct CurrencyGauges {
    std::array<double, 6> buckets{};  // current, 1-30, 31-60, 61-90, 91-120, 120+
    double overdue = 0;
    double disputed = 0;
    double unapplied = 0;
    std::optional<double> dso_standard;
    std::optional<double> dso_countback;
    std::optional<double> dso_best_possible;
    std::optional<double> add;
    std::optional<double> cei;
};

class EngineMetrics {
public:
    EngineMetrics();
    ~EngineMetrics();
    EngineMetrics(const EngineMetrics&) = delete;
    EngineMetrics& operator=(const EngineMetrics&) = delete;

    // Thread-safe. `result` is "ok", "duplicate" or an error code.
    void CountEvents(std::string_view type, std::string_view result, uint64_t n = 1);
    void ObserveCommit(double seconds);
    void AddConnections(int64_t delta);
    void SetBusinessDate(std::optional<int64_t> unix_seconds);
    void SetCurrency(std::string_view currency, const CurrencyGauges& figures);
    void SetDiskFreeBytes(uint64_t bytes);
    void SetReady(bool ready);

    // Collections. Promise counts are the number of promises that entered each status
    // (open, kept, broken, cancelled); the counters advance by what is new since the last call.
    void SetPromiseTransitions(const std::array<uint64_t, 4>& entered);
    // What the stored promises had entered at start-up: not counted again.
    void SetPromiseBaseline(const std::array<uint64_t, 4>& entered);
    void CountActions(std::string_view action, uint64_t n);
    void SetSegmentCustomers(std::string_view segment, int64_t customers);
    void SetWorklistCustomers(int64_t customers);
    // A rules reload on SIGHUP: applied, or refused because the file had errors.
    void CountRulesReload(bool applied);
    // A refusal by the security checks. `reason` is one of kAuthFailureReasons; others are
    // ignored, so that the label set stays fixed.
    void CountAuthFailure(std::string_view reason);
    static constexpr std::array<std::string_view, 5> kAuthFailureReasons = {
        "unauthorized", "forbidden", "rate_limited", "tls_handshake", "http_unauthorized"};

    // The delivery outbox's and contact log's families, in the same registry.
    DeliveryMetrics& delivery() { return *delivery_; }

    // The text exposition of every family.
    std::string Serialize() const;

private:
    struct CurrencySeries;

    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>* events_;
    prometheus::Family<prometheus::Gauge>* open_;
    prometheus::Family<prometheus::Gauge>* overdue_;
    prometheus::Family<prometheus::Gauge>* disputed_;
    prometheus::Family<prometheus::Gauge>* unapplied_;
    prometheus::Family<prometheus::Gauge>* dso_;
    prometheus::Family<prometheus::Gauge>* add_;
    prometheus::Family<prometheus::Gauge>* cei_;
    prometheus::Histogram* commit_seconds_;
    prometheus::Gauge* connections_;
    prometheus::Gauge* business_date_;
    prometheus::Gauge* disk_free_;
    prometheus::Gauge* ready_;
    prometheus::Family<prometheus::Counter>* promises_;
    prometheus::Counter* promises_broken_;
    prometheus::Family<prometheus::Counter>* actions_;
    prometheus::Family<prometheus::Gauge>* segments_;
    prometheus::Gauge* worklist_;
    prometheus::Counter* reloads_applied_;
    prometheus::Counter* reloads_refused_;
    std::array<prometheus::Counter*, kAuthFailureReasons.size()> auth_failures_{};
    std::array<uint64_t, 4> promise_seen_{};
    std::unique_ptr<DeliveryMetrics> delivery_;

    mutable std::mutex mu_;
    std::map<std::pair<std::string, std::string>, prometheus::Counter*, std::less<>> counters_;
    std::map<std::string, std::unique_ptr<CurrencySeries>, std::less<>> currencies_;
};

}  // namespace rms::metrics
