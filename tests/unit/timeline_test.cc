// The customer timeline: its key order, its encoding and cursors, and the entries the ledger
// records for events and what they cause.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/ledger.h"
#include "engine/ledger_codec.h"
#include "engine/timeline.h"
#include "tests/support/ledger_driver.h"

namespace rms {
namespace {

using testing::LedgerDriver;

std::string FieldOf(const TimelineEntry& e, std::string_view name) {
    for (const auto& [k, v] : e.fields) {
        if (k == name) {
            return v;
        }
    }
    return "<absent>";
}

TEST(TimelineKeyTest, NewerEntriesSortFirstWithinOneCustomer) {
    EXPECT_LT(TimelineKey(7, 2), TimelineKey(7, 1));
    EXPECT_LT(TimelineKey(7, 1000), TimelineKey(7, 999));
    EXPECT_TRUE(TimelineKey(7, 1).starts_with(TimelinePrefix(7)));
    EXPECT_FALSE(TimelineKey(8, 1).starts_with(TimelinePrefix(7)));
    // Every key of customer 7 sorts before every key of customer 8.
    EXPECT_LT(TimelineKey(7, 1), TimelineKey(8, UINT64_MAX - 1));
}

TEST(TimelineCodecTest, AnEntryComesBackAsItWasWritten) {
    TimelineEntry e;
    e.customer = 3;
    e.seq = 41;
    e.kind = "delivery";
    e.date = Date(-5);
    e.caused_by = "evt-9";
    e.fields = {{"channel", "email"}, {"note", std::string("a\0b", 3)}};
    std::optional<TimelineEntry> back =
        DecodeTimelineEntry(TimelineKey(3, 41), EncodeTimelineEntry(e));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->customer, 3u);
    EXPECT_EQ(back->seq, 41u);
    EXPECT_EQ(back->kind, "delivery");
    EXPECT_EQ(back->date, Date(-5));
    EXPECT_EQ(back->caused_by, "evt-9");
    EXPECT_EQ(back->fields, e.fields);
}

TEST(TimelineCodecTest, DamagedBytesAreRefused) {
    TimelineEntry e;
    e.kind = "event";
    std::string value = EncodeTimelineEntry(e);
    EXPECT_FALSE(DecodeTimelineEntry(TimelineKey(0, 1), value.substr(0, 1)).has_value());
    EXPECT_FALSE(DecodeTimelineEntry(TimelineKey(0, 1), value + "x").has_value());
    EXPECT_FALSE(DecodeTimelineEntry("t123", value).has_value());
}

TEST(TimelineCursorTest, RoundTripsAndRejectsWhatItDidNotMake) {
    EXPECT_EQ(EncodeTimelineCursor(255), "cff");
    EXPECT_EQ(DecodeTimelineCursor("cff"), std::optional<uint64_t>(255));
    EXPECT_EQ(DecodeTimelineCursor(EncodeTimelineCursor(UINT64_MAX)),
              std::optional<uint64_t>(UINT64_MAX));
    for (std::string_view bad : {"", "c", "ff", "c0", "cxyz", "c1 ", "c10000000000000000"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(DecodeTimelineCursor(bad).has_value());
    }
}

TEST(LedgerTimelineTest, EachEventAndWhatItCausedIsRecordedInOrder) {
    LedgerDriver d;
    ASSERT_TRUE(d.Send(R"({"id":"c1","type":"customer.upserted","date":"2024-01-01",)"
                       R"("customer":"C"})")
                    .ok());
    ASSERT_TRUE(d.Send(R"({"id":"i1","type":"invoice.issued","date":"2024-01-01","invoice":"I1",)"
                       R"("customer":"C","amount":"100.00","currency":"USD","due":"2024-01-10"})")
                    .ok());
    ASSERT_TRUE(d.Send(R"({"id":"p1","type":"promise.made","date":"2024-01-02","promise":"P1",)"
                       R"("customer":"C","amount":"100.00","currency":"USD","due":"2024-01-05"})")
                    .ok());
    ASSERT_TRUE(d.Send(R"({"id":"x1","type":"contact.logged","date":"2024-01-02","customer":"C",)"
                       R"("channel":"phone","direction":"inbound","outcome":"reached",)"
                       R"("agent":"ann"})")
                    .ok());
    // The promise breaks when the date passes the 5th: the default strategy's call on it, and
    // its reminder 3 days before the due date, which the open promise held, follow.
    ASSERT_TRUE(d.Send(R"({"id":"k1","type":"clock.advanced","date":"2024-01-07"})").ok());
    std::vector<TimelineEntry> t = d.ledger().TakeDirty().timeline;

    std::vector<std::string> seen;
    for (size_t i = 0; i < t.size(); ++i) {
        EXPECT_EQ(t[i].seq, i + 1);
        EXPECT_EQ(t[i].customer, 0u);
        seen.push_back(t[i].kind + ":" + t[i].caused_by);
    }
    // The segment is decided by the upsert; the clock event names no customer, so only what it
    // caused appears.
    std::vector<std::string> expected = {"event:c1",   "segment:c1", "event:i1",
                                         "event:p1",   "promise:p1", "contact:x1",
                                         "promise:k1", "action:k1",  "action:k1"};
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(FieldOf(t[2], "amount"), "100.00");
    EXPECT_EQ(FieldOf(t[2], "due"), "2024-01-10");
    EXPECT_EQ(FieldOf(t[5], "channel"), "phone");
    EXPECT_EQ(FieldOf(t[5], "agent"), "ann");
    EXPECT_EQ(FieldOf(t[5], "outcome"), "reached");
    EXPECT_EQ(FieldOf(t[6], "status"), "broken");
    EXPECT_EQ(t[6].date.ToString(), "2024-01-06");
    EXPECT_EQ(FieldOf(t[7], "action"), "call");
    EXPECT_EQ(FieldOf(t[8], "action"), "reminder");
    EXPECT_EQ(FieldOf(t[8], "invoice"), "I1");
    EXPECT_EQ(d.ledger().timeline_clock(), t.size());
}

}  // namespace
}  // namespace rms
