// Metrics of the delivery outbox and the contact log: contacts and delivery attempts as they are
// committed, the actions per delivery status, and the effectiveness figures per channel. Labels
// come from small fixed sets: channels and action kinds, directions, results, statuses.
#pragma once

#include <cstdint>
#include <string_view>

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
class Gauge;
}  // namespace prometheus

namespace rms::metrics {

class DeliveryMetrics {
public:
    explicit DeliveryMetrics(prometheus::Registry& registry);

    // Thread-safe (prometheus-cpp families lock themselves).
    void CountContact(std::string_view channel, std::string_view direction);
    // `result`: delivered, retry or dead_letter.
    void CountDelivery(std::string_view channel, std::string_view result);
    // A dead letter made pending again by an operator.
    void CountRedelivery(std::string_view channel);
    void SetActions(std::string_view status, int64_t actions);
    // Per channel: contacts made, payments within 7 days of one, promises obtained after one
    // and kept of those (running totals since the store was created).
    void SetEffectiveness(std::string_view channel, int64_t contacts, int64_t payments_7d,
                          int64_t promises, int64_t promises_kept);

private:
    prometheus::Family<prometheus::Counter>* contacts_;
    prometheus::Family<prometheus::Counter>* deliveries_;
    prometheus::Family<prometheus::Counter>* redeliveries_;
    prometheus::Family<prometheus::Gauge>* actions_;
    prometheus::Family<prometheus::Gauge>* effect_;
};

}  // namespace rms::metrics
