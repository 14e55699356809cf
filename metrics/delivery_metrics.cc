#include "metrics/delivery_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace rms::metrics {

DeliveryMetrics::DeliveryMetrics(prometheus::Registry& registry) {
    contacts_ = &prometheus::BuildCounter()
                     .Name("rms_contacts_total")
                     .Help(
                         "Contacts recorded (logged events and finished deliveries), by "
                         "channel and direction")
                     .Register(registry);
    deliveries_ = &prometheus::BuildCounter()
                       .Name("rms_deliveries_total")
                       .Help(
                           "Delivery attempts recorded, by channel and result (delivered, "
                           "retry, dead_letter)")
                       .Register(registry);
    redeliveries_ = &prometheus::BuildCounter()
                         .Name("rms_redeliveries_total")
                         .Help("Dead letters an operator sent again, by channel")
                         .Register(registry);
    actions_ = &prometheus::BuildGauge()
                    .Name("rms_outbox_actions")
                    .Help("Actions by delivery status (pending, delivered, dead_letter)")
                    .Register(registry);
    effect_ = &prometheus::BuildGauge()
                   .Name("rms_contact_effect")
                   .Help(
                       "Contact effectiveness per channel: contacts, payments within 7 days of "
                       "a contact, promises obtained after one, and kept")
                   .Register(registry);
}

void DeliveryMetrics::CountContact(std::string_view channel, std::string_view direction) {
    contacts_->Add({{"channel", std::string(channel)}, {"direction", std::string(direction)}})
        .Increment();
}

void DeliveryMetrics::CountDelivery(std::string_view channel, std::string_view result) {
    deliveries_->Add({{"channel", std::string(channel)}, {"result", std::string(result)}})
        .Increment();
}

void DeliveryMetrics::CountRedelivery(std::string_view channel) {
    redeliveries_->Add({{"channel", std::string(channel)}}).Increment();
}

void DeliveryMetrics::SetActions(std::string_view status, int64_t actions) {
    actions_->Add({{"status", std::string(status)}}).Set(static_cast<double>(actions));
}

void DeliveryMetrics::SetEffectiveness(std::string_view channel, int64_t contacts,
                                       int64_t payments_7d, int64_t promises,
                                       int64_t promises_kept) {
    std::string c(channel);
    effect_->Add({{"channel", c}, {"figure", "contacts"}}).Set(static_cast<double>(contacts));
    effect_->Add({{"channel", c}, {"figure", "payments_7d"}}).Set(static_cast<double>(payments_7d));
    effect_->Add({{"channel", c}, {"figure", "promises"}}).Set(static_cast<double>(promises));
    effect_->Add({{"channel", c}, {"figure", "promises_kept"}})
        .Set(static_cast<double>(promises_kept));
}

}  // namespace rms::metrics
