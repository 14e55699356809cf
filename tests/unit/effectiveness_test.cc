// Contact effectiveness: contacts per channel and step, and the payments and promises that came
// within 7 days after one, worked out by hand.
#include <gtest/gtest.h>

#include "engine/ledger.h"
#include "tests/support/ledger_driver.h"

namespace rms {
namespace {

using testing::LedgerDriver;

void Send(LedgerDriver& d, const std::string& line) {
    Status s = d.Send(line);
    ASSERT_TRUE(s.ok()) << line << ": " << s.message();
}

TEST(EffectivenessTest, PaymentsAndPromisesWithinSevenDaysCountForTheLatestContact) {
    LedgerDriver d;
    Send(d, R"({"id":"c","type":"customer.upserted","date":"2024-03-01","customer":"C"})");
    Send(d, R"({"id":"i","type":"invoice.issued","date":"2024-03-01","invoice":"I","customer":"C",)"
            R"("amount":"300.00","currency":"USD","due":"2024-03-31"})");
    Send(d, R"({"id":"x1","type":"contact.logged","date":"2024-03-02","customer":"C",)"
            R"("channel":"phone","direction":"outbound"})");
    // 7 days after the call: still counts; the promise made then too, and it is kept.
    Send(d, R"({"id":"p1","type":"payment.received","date":"2024-03-09","payment":"P1",)"
            R"("customer":"C","amount":"100.00","currency":"USD"})");
    Send(d, R"({"id":"m1","type":"promise.made","date":"2024-03-09","promise":"M1",)"
            R"("customer":"C","amount":"50.00","currency":"USD","due":"2024-03-20"})");
    Send(d, R"({"id":"p2","type":"payment.received","date":"2024-03-10","payment":"P2",)"
            R"("customer":"C","amount":"50.00","currency":"USD"})");
    // 8 days after the call: no longer its effect.
    Send(d, R"({"id":"x2","type":"contact.logged","date":"2024-03-10","customer":"C",)"
            R"("channel":"email","direction":"inbound"})");
    Send(d, R"({"id":"p3","type":"payment.received","date":"2024-03-18","payment":"P3",)"
            R"("customer":"C","amount":"10.00","currency":"USD"})");

    const auto& effects = d.ledger().effects();
    ASSERT_EQ(effects.size(), 2u);
    const EffectCounts& phone = effects.at({"phone", ""});
    EXPECT_EQ(phone.contacts, 1);
    EXPECT_EQ(phone.payments_7d, 1);  // P1; P2 came 8 days after the call
    EXPECT_EQ(phone.promises, 1);
    EXPECT_EQ(phone.promises_kept, 1);  // P2 kept M1 (made 03-09, 50.00)
    const EffectCounts& mail = effects.at({"email", ""});
    EXPECT_EQ(mail.contacts, 1);
    EXPECT_EQ(mail.payments_7d, 0);  // P3 came 8 days after it
    EXPECT_EQ(d.ledger().promises()[0].contact_channel, "phone");
}

TEST(EffectivenessTest, ADeliveredActionIsAContactOfItsChannelAndStep) {
    LedgerDriver d;
    Send(d, R"({"id":"c","type":"customer.upserted","date":"2024-03-01","customer":"C"})");
    Send(d, R"({"id":"i","type":"invoice.issued","date":"2024-03-01","invoice":"I","customer":"C",)"
            R"("amount":"300.00","currency":"USD","due":"2024-03-05"})");
    Send(d, R"({"id":"k","type":"clock.advanced","date":"2024-03-02"})");
    ASSERT_EQ(d.ledger().actions().size(), 1u);  // the default strategy's pre-due reminder
    const ActionRec& a = d.ledger().actions()[0];

    DeliveryOutcome retry{a.id, a.key, 1, "retry", "HTTP 503", 1000};
    ASSERT_TRUE(d.ledger().RecordDelivery(retry).ok());
    EXPECT_TRUE(d.ledger().effects().empty());
    EXPECT_EQ(d.ledger().actions()[0].status, "pending");
    EXPECT_EQ(d.ledger().actions()[0].attempts, 1u);

    DeliveryOutcome done{a.id, a.key, 2, "delivered", "", 0};
    ASSERT_TRUE(d.ledger().RecordDelivery(done).ok());
    EXPECT_EQ(d.ledger().actions()[0].status, "delivered");
    EXPECT_EQ(d.ledger().effects().at({"email", "default/pre-due reminder"}).contacts, 1);
    EXPECT_EQ(d.ledger().action_statuses().at("delivered"), 1);
    EXPECT_EQ(d.ledger().action_statuses().at("pending"), 0);
    // Recorded once: a second result for a finished action is refused.
    EXPECT_EQ(d.ledger().RecordDelivery(done).code(), "invalid_state");
    DeliveryOutcome other{a.id, "another/key", 3, "delivered", "", 0};
    EXPECT_EQ(d.ledger().RecordDelivery(other).code(), "invalid_state");
    EXPECT_EQ(d.ledger().RecordDelivery(DeliveryOutcome{}).code(), "unknown_action");

    std::vector<TimelineEntry> t = d.ledger().TakeDirty().timeline;
    ASSERT_GE(t.size(), 3u);
    EXPECT_EQ(t[t.size() - 3].kind, "delivery");
    EXPECT_EQ(t[t.size() - 2].kind, "delivery");
    EXPECT_EQ(t.back().kind, "contact");
    EXPECT_EQ(t.back().caused_by, "k");
}

}  // namespace
}  // namespace rms
