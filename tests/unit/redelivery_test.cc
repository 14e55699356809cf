// Ledger::Redeliver: only a dead letter goes back to pending, with its key and no attempts, and
// the re-drive is a timeline entry that names who asked and when. DumpState without deliveries:
// what the outbox recorded is left out, and nothing else.
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/ledger.h"
#include "engine/ledger_codec.h"
#include "tests/support/engine_calls.h"
#include "tests/support/ledger_driver.h"
#include "tests/support/temp_dir.h"

namespace rms {
namespace {

using testing::CommitEvents;
using testing::LedgerDriver;

void Send(LedgerDriver& d, const std::string& line) {
    Status s = d.Send(line);
    ASSERT_TRUE(s.ok()) << line << ": " << s.message();
}

// One action: the default strategy's pre-due reminder, by e-mail.
void DecideOneAction(LedgerDriver& d) {
    Send(d, R"({"id":"c","type":"customer.upserted","date":"2024-03-01","customer":"C"})");
    Send(d, R"({"id":"i","type":"invoice.issued","date":"2024-03-01","invoice":"I","customer":"C",)"
            R"("amount":"300.00","currency":"USD","due":"2024-03-05"})");
    Send(d, R"({"id":"k","type":"clock.advanced","date":"2024-03-02"})");
    ASSERT_EQ(d.ledger().actions().size(), 1u);
}

// One action, dead-lettered after `n` attempts.
void DeadLetter(LedgerDriver& d, uint32_t n) {
    ASSERT_NO_FATAL_FAILURE(DecideOneAction(d));
    const ActionRec& a = d.ledger().actions()[0];
    for (uint32_t i = 1; i <= n; ++i) {
        DeliveryOutcome o{a.id, a.key, i, i == n ? "dead_letter" : "retry", "HTTP 503", 0};
        ASSERT_TRUE(d.ledger().RecordDelivery(o).ok());
    }
    ASSERT_EQ(a.status, "dead_letter");
    d.ledger().TakeDirty();
}

TEST(LedgerRedeliveryTest, ADeadLetterBecomesPendingWithItsKeyAndNoAttempts) {
    LedgerDriver d;
    ASSERT_NO_FATAL_FAILURE(DeadLetter(d, 3));
    const ActionRec& a = d.ledger().actions()[0];
    std::string key = a.key;

    ASSERT_TRUE(d.ledger().Redeliver({a.id, "ops", "2026-12-04T10:00:00Z"}).ok());
    EXPECT_EQ(a.status, "pending");
    EXPECT_EQ(a.key, key);
    EXPECT_EQ(a.attempts, 0u);
    EXPECT_EQ(a.next_attempt_ms, 0);
    EXPECT_EQ(a.last_error, "HTTP 503");  // why it was dead, until a new attempt says otherwise
    EXPECT_EQ(d.ledger().action_statuses().at("pending"), 1);
    EXPECT_EQ(d.ledger().action_statuses().at("dead_letter"), 0);

    DirtySet dirty = d.ledger().TakeDirty();
    EXPECT_EQ(dirty.actions, std::vector<uint32_t>{0});
    ASSERT_EQ(dirty.timeline.size(), 1u);
    const TimelineEntry& e = dirty.timeline[0];
    EXPECT_EQ(e.kind, "redelivery");
    EXPECT_EQ(e.caused_by, "k");
    EXPECT_EQ(e.date.ToString(), "2024-03-02");
    using Fields = std::vector<std::pair<std::string, std::string>>;
    EXPECT_EQ(e.fields, (Fields{{"action_id", "1"},
                                {"key", key},
                                {"channel", "email"},
                                {"attempts", "3"},
                                {"by", "ops"},
                                {"at", "2026-12-04T10:00:00Z"},
                                {"reason", "redeliver requested by an operator"}}));
    // Numbered by the one timeline clock: the customer's record is not rewritten for it.
    EXPECT_EQ(e.seq, d.ledger().timeline_clock());
    EXPECT_FALSE(dirty.customers.count(0));

    // The outbox can record attempts again, counted from 1.
    DeliveryOutcome again{a.id, key, 1, "delivered", "", 0};
    EXPECT_TRUE(d.ledger().RecordDelivery(again).ok());
    EXPECT_EQ(a.status, "delivered");
}

TEST(LedgerRedeliveryTest, AnythingButADeadLetterIsRefusedAndLeftAlone) {
    LedgerDriver d;
    ASSERT_NO_FATAL_FAILURE(DeadLetter(d, 1));
    const ActionRec& a = d.ledger().actions()[0];
    ASSERT_TRUE(d.ledger().Redeliver({a.id, "ops", "t"}).ok());
    d.ledger().TakeDirty();

    Status pending = d.ledger().Redeliver({a.id, "ops", "t"});
    EXPECT_EQ(pending.code(), "invalid_state");
    EXPECT_EQ(pending.message(),
              "action 1 (" + a.key + ") is pending; only a dead letter can be redelivered");
    ASSERT_TRUE(d.ledger().RecordDelivery({a.id, a.key, 1, "delivered", "", 0}).ok());
    d.ledger().TakeDirty();
    EXPECT_EQ(d.ledger().Redeliver({a.id, "ops", "t"}).code(), "invalid_state");
    EXPECT_EQ(d.ledger().Redeliver({2, "ops", "t"}).code(), "unknown_action");
    EXPECT_EQ(d.ledger().Redeliver({0, "ops", "t"}).code(), "unknown_action");

    EXPECT_EQ(a.status, "delivered");
    EXPECT_EQ(a.attempts, 1u);
    DirtySet dirty = d.ledger().TakeDirty();
    EXPECT_TRUE(dirty.actions.empty());
    EXPECT_TRUE(dirty.timeline.empty());
}

Status Recorded(Engine& engine, const DeliveryOutcome& o) {
    std::promise<Status> done;
    engine.RecordDelivery(o, [&](Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
}

Status Redriven(Engine& engine, const Redelivery& r) {
    std::promise<Status> done;
    engine.Redeliver(r, [&](Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
}

// The engine writes the re-drive in the batch of its commit, and the listener hears of it
// before the answer: a reopened store has the action pending, with the timeline entry.
TEST(EngineRedeliveryTest, IsDurableWhenAnsweredAndTellsTheOutbox) {
    Result<TempDir> dir = TempDir::Create("redelivery-engine");
    ASSERT_TRUE(dir.ok());
    metrics::EngineMetrics metrics;
    EngineOptions options;
    options.data_dir = dir->Path("data");
    std::string key;
    {
        auto engine = Engine::Open(options, &metrics);
        ASSERT_TRUE(engine.ok()) << engine.status().message();
        std::vector<uint32_t> told;
        (*engine)->SetRedeliveryListener([&](uint32_t index) { told.push_back(index); });
        ASSERT_TRUE(CommitEvents(
            **engine,
            {R"({"id":"c","type":"customer.upserted","date":"2024-03-01","customer":"C"})",
             R"({"id":"i","type":"invoice.issued","date":"2024-03-01","invoice":"I",)"
             R"("customer":"C","amount":"300.00","currency":"USD","due":"2024-03-05"})",
             R"({"id":"k","type":"clock.advanced","date":"2024-03-02"})"}));
        key = (*engine)->Read([](const Ledger& l) { return l.actions().at(0).key; });
        EXPECT_EQ(Redriven(**engine, {1, "ops", "t0"}).code(), "invalid_state");
        ASSERT_TRUE(Recorded(**engine, {1, key, 1, "dead_letter", "HTTP 400", 0}).ok());
        EXPECT_EQ(Redriven(**engine, {9, "ops", "t0"}).code(), "unknown_action");
        EXPECT_TRUE(told.empty());
        ASSERT_TRUE(Redriven(**engine, {1, "ops", "t1"}).ok());
        EXPECT_EQ(told, std::vector<uint32_t>{0});
    }
    auto reopened = Engine::Open(options, &metrics);
    ASSERT_TRUE(reopened.ok()) << reopened.status().message();
    (*reopened)->Read([&](const Ledger& l) {
        EXPECT_EQ(l.actions().at(0).status, "pending");
        EXPECT_EQ(l.actions().at(0).attempts, 0u);
        EXPECT_EQ(l.actions().at(0).key, key);
        return 0;
    });
    auto page = (*reopened)->Timeline("C", 0, 1);
    ASSERT_TRUE(page.ok() && page->has_value());
    ASSERT_EQ((*page)->entries.size(), 1u);
    EXPECT_EQ((*page)->entries[0].kind, "redelivery");
    EXPECT_EQ((*page)->entries[0].fields.at(4), (std::pair<std::string, std::string>{"by", "ops"}));
    EXPECT_NE(metrics.Serialize().find(R"(rms_redeliveries_total{channel="email"} 1)"),
              std::string::npos);
}

TEST(DumpStateTest, WithoutDeliveriesLeavesOutWhatTheOutboxRecordedAndNothingElse) {
    LedgerDriver delivered, plain;
    ASSERT_NO_FATAL_FAILURE(DecideOneAction(delivered));
    ASSERT_NO_FATAL_FAILURE(DecideOneAction(plain));
    const ActionRec& a = delivered.ledger().actions()[0];
    ASSERT_TRUE(delivered.ledger().RecordDelivery({a.id, a.key, 1, "retry", "HTTP 503", 99}).ok());
    ASSERT_TRUE(delivered.ledger().RecordDelivery({a.id, a.key, 2, "delivered", "", 0}).ok());

    EXPECT_NE(DumpState(delivered.ledger()), DumpState(plain.ledger()));
    EXPECT_EQ(DumpState(delivered.ledger(), DumpScope::kWithoutDeliveries),
              DumpState(plain.ledger(), DumpScope::kWithoutDeliveries));

    // What an event changed still shows.
    Send(plain, R"({"id":"p","type":"payment.received","date":"2024-03-02","payment":"P",)"
                R"("customer":"C","amount":"10.00","currency":"USD"})");
    EXPECT_NE(DumpState(delivered.ledger(), DumpScope::kWithoutDeliveries),
              DumpState(plain.ledger(), DumpScope::kWithoutDeliveries));
}

}  // namespace
}  // namespace rms
