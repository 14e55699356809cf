#include "engine/cluster_figures.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/json_writer.h"
#include "engine/partitioner.h"
#include "engine/query_api.h"
#include "tests/support/ledger_driver.h"
#include "tests/support/temp_dir.h"
#include "tools/cluster_kpis.h"

namespace rms {
namespace {

using testing::LedgerDriver;

// Two customers' worth of events over five months, with a dispute, a part payment, a
// back-dated invoice and a clock at the end that every partition sees.
std::vector<std::string> Events() {
    std::vector<std::string> out;
    for (int c = 0; c < 6; ++c) {
        std::string id = "C" + std::to_string(c);
        out.push_back(R"({"id":"u-)" + id + R"(","type":"customer.upserted","date":"2024-01-0)" +
                      std::to_string(c + 1) + R"(","customer":")" + id + R"("})");
    }
    for (int i = 0; i < 60; ++i) {
        std::string customer = "C" + std::to_string(i % 6);
        std::string month = "0" + std::to_string(1 + i / 15);
        std::string day = std::to_string(10 + i % 15);
        std::string inv = "I" + std::to_string(i);
        out.push_back(R"({"id":")" + inv + R"(","type":"invoice.issued","date":"2024-)" + month +
                      "-" + day + R"(","invoice":")" + inv + R"(","customer":")" + customer +
                      R"(","amount":")" + std::to_string(100 + 37 * i) +
                      R"(.25","currency":"USD","due":"2024-)" + month + "-" + day + R"("})");
        if (i % 4 == 0) {
            out.push_back(R"({"id":"P)" + inv + R"(","type":"payment.received","date":"2024-)" +
                          month + "-" + day + R"(","payment":"P)" + inv + R"(","customer":")" +
                          customer + R"(","amount":"50","currency":"USD"})");
        }
        if (i % 7 == 0) {
            out.push_back(R"({"id":"D)" + inv + R"(","type":"dispute.opened","date":"2024-)" +
                          month + "-" + day + R"(","invoice":")" + inv + R"(","customer":")" +
                          customer + R"("})");
        }
    }
    out.push_back(R"({"id":"clock","type":"clock.advanced","date":"2024-06-30"})");
    return out;
}

std::string CustomerOf(const std::string& line) {
    size_t at = line.find(R"("customer":")");
    if (at == std::string::npos) {
        return "";
    }
    at += 12;
    return line.substr(at, line.find('"', at) - at);
}

std::string FiguresJson(Date date, Currency c, const Figures& f) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("business_date");
    w.String(date.ToString());
    w.Key("currencies");
    w.BeginObject();
    w.Key(c.code());
    WriteFigures(w, c, f);
    w.EndObject();
    w.EndObject();
    return out;
}

TEST(ClusterFiguresTest, PartitionedLedgersMergeIntoTheFiguresOfOne) {
    constexpr int kParts = 3;
    LedgerDriver one;
    std::vector<LedgerDriver> parts(kParts);
    for (const std::string& line : Events()) {
        ASSERT_TRUE(one.Send(line).ok()) << line;
        std::string customer = CustomerOf(line);
        for (int p = 0; p < kParts; ++p) {
            if (customer.empty() || PartitionForKey(customer, kParts) == p) {
                ASSERT_TRUE(parts[p].Send(line).ok()) << line;
            }
        }
    }
    ClusterParts merged;
    for (LedgerDriver& d : parts) {
        merged.Add(PartsOf(d.ledger()));
    }
    Currency usd = *Currency::FromCode("USD");
    Date date = *one.ledger().business_date();
    Figures expected = one.ledger().CurrencyFiguresNow(usd);
    ASSERT_GT(expected.open, 0);
    ASSERT_GT(expected.disputed, 0);
    ASSERT_TRUE(expected.kpis.cei.has_value());
    EXPECT_EQ(KpisJson(merged), FiguresJson(date, usd, expected));
}

TEST(ClusterFiguresTest, PartsSurviveTheirJson) {
    LedgerDriver d;
    for (const std::string& line : Events()) {
        ASSERT_TRUE(d.Send(line).ok());
    }
    ClusterParts parts = PartsOf(d.ledger());
    std::string json;
    JsonWriter w(&json);
    w.BeginObject();
    WriteParts(w, parts);
    w.EndObject();
    Result<ClusterParts> read = ReadParts(json);
    ASSERT_TRUE(read.ok()) << read.status().message();
    EXPECT_EQ(KpisJson(*read), KpisJson(parts));
    EXPECT_EQ(ReadParts(R"({"business_date":null})").status().code(), "invalid_json");
}

std::string PartsAnswer(std::vector<std::pair<int, bool>> owned) {
    std::string out = R"({"partitions":[)";
    for (size_t i = 0; i < owned.size(); ++i) {
        out += (i ? "," : "") + std::string(R"({"partition":)") + std::to_string(owned[i].first) +
               R"(,"serving":)" + (owned[i].second ? "true" : "false") + "}";
    }
    return out + R"(],"business_date":null,"currencies":{}})";
}

TEST(ClusterKpisTest, EveryPartitionNeedsExactlyOneServingOwner) {
    EXPECT_TRUE(
        MergeClusterKpis({PartsAnswer({{0, true}, {2, true}}), PartsAnswer({{1, true}})}, 3).ok());
    struct Case {
        std::string name;
        std::vector<std::string> answers;
    };
    const Case cases[] = {
        {"missing", {PartsAnswer({{0, true}}), PartsAnswer({{2, true}})}},
        {"twice", {PartsAnswer({{0, true}, {1, true}}), PartsAnswer({{1, true}, {2, true}})}},
        {"rebuilding", {PartsAnswer({{0, true}, {1, false}, {2, true}})}},
        {"highest missing", {PartsAnswer({{0, true}, {1, true}})}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(MergeClusterKpis(c.answers, 3).status().code(), "incomplete");
    }
    EXPECT_EQ(MergeClusterKpis({"[]"}, 3).status().code(), "invalid_json");
}

// Runs one submission through the engine and returns its answers.
std::vector<std::string> Commit(Engine& engine, std::vector<std::string> lines,
                                std::optional<ConsumedRange> range) {
    Submission sub;
    for (size_t i = 0; i < lines.size(); ++i) {
        ParsedLine parsed = ParseEvent(lines[i]);
        EXPECT_TRUE(parsed.status.ok()) << lines[i];
        sub.events.push_back(PendingEvent{std::move(parsed.event), i + 1});
    }
    sub.consumed = std::move(range);
    std::mutex mu;
    std::condition_variable cv;
    std::optional<std::vector<std::string>> answers;
    sub.done = [&](std::vector<std::string> a) {
        std::lock_guard<std::mutex> lock(mu);
        answers = std::move(a);
        cv.notify_one();
    };
    engine.Submit(std::move(sub));
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return answers.has_value(); });
    return *answers;
}

TEST(EngineOffsetsTest, PositionIsStoredWithTheStateAndRangesMustFollowIt) {
    Result<TempDir> dir = TempDir::Create("offsets");
    ASSERT_TRUE(dir.ok());
    metrics::EngineMetrics metrics;
    EngineOptions options;
    options.data_dir = dir->Path("data");
    std::vector<std::string> events = Events();
    {
        auto engine = Engine::Open(options, &metrics);
        ASSERT_TRUE(engine.ok()) << engine.status().message();
        EXPECT_FALSE((*engine)->ConsumedOffset("events", 4)->has_value());
        auto ok = Commit(**engine, {events[0], events[1]}, ConsumedRange{"events", 4, 10, 12});
        EXPECT_EQ(ok[1], R"({"ok":true,"id":"u-C1"})");
        // A gap: offsets 12 .. 14 never came. Refused whole, nothing applied.
        auto gap = Commit(**engine, {events[2]}, ConsumedRange{"events", 4, 15, 16});
        EXPECT_NE(gap[0].find(R"("error":"unavailable")"), std::string::npos) << gap[0];
        EXPECT_EQ((*engine)->EventsApplied(), 2u);
        // Offsets 12 .. 13 hold a message that is not an event: the position moves all the same.
        auto next = Commit(**engine, {events[2]}, ConsumedRange{"events", 4, 12, 14});
        EXPECT_EQ(next[0], R"({"ok":true,"id":"u-C2"})");
        EXPECT_EQ(**(*engine)->ConsumedOffset("events", 4), 14);
        EXPECT_FALSE((*engine)->ConsumedOffset("events", 5)->has_value());
    }
    auto reopened = Engine::Open(options, &metrics);
    ASSERT_TRUE(reopened.ok());
    EXPECT_EQ(**(*reopened)->ConsumedOffset("events", 4), 14);
    EXPECT_EQ((*reopened)->EventsApplied(), 3u);
    // A redelivery of what is stored is refused by position, before any marker is looked at.
    auto again = Commit(**reopened, {events[0]}, ConsumedRange{"events", 4, 10, 11});
    EXPECT_NE(again[0].find(R"("error":"unavailable")"), std::string::npos);
}

}  // namespace
}  // namespace rms
