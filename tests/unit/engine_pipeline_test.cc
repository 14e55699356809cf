// The commit pipeline (engine/engine.h): a group queued behind another is applied while the
// other is written, on a real RocksDB store on disk. Its duplicate checks see the markers of the
// group in flight, its answers come after that group's, and what both committed loads back.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tests/support/engine_calls.h"
#include "tests/support/temp_dir.h"

namespace rms {
namespace {

using testing::CommitEvents;

constexpr char kUpsert[] =
    R"({"id":"c1","type":"customer.upserted","date":"2024-03-01","customer":"C1"})";
constexpr char kOtherContent[] =
    R"({"id":"c1","type":"customer.upserted","date":"2024-03-01","customer":"C2"})";
constexpr char kSecond[] =
    R"({"id":"c2","type":"customer.upserted","date":"2024-03-01","customer":"C2"})";

TEST(EnginePipelineTest, AGroupAppliedWhileTheOneBeforeIsWrittenSeesItsMarkers) {
    Result<TempDir> dir = TempDir::Create("engine-pipeline");
    ASSERT_TRUE(dir.ok());
    metrics::EngineMetrics metrics;
    EngineOptions options;
    options.data_dir = dir->Path("data");
    options.max_group_events = 1;  // each submission a group of its own
    auto opened = Engine::Open(options, &metrics);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    std::unique_ptr<Engine> engine = std::move(opened).value();

    // Submitted while this thread holds the ledger, so that all are queued when the commit
    // thread gets it. c1 is written while its resend is applied (found among the markers in
    // flight, not yet in the store); c2 likewise; the last, c1 with other content, is checked
    // against the stored marker.
    std::vector<std::string> lines = {kUpsert, kUpsert, kSecond, kSecond, kOtherContent};
    std::vector<std::promise<std::string>> answers(lines.size());
    engine->Read([&](const Ledger&) {
        for (size_t i = 0; i < lines.size(); ++i) {
            ParsedLine parsed = ParseEvent(lines[i]);
            EXPECT_TRUE(parsed.status.ok()) << lines[i];
            Submission sub;
            sub.events.push_back(PendingEvent{std::move(parsed.event), i + 1});
            sub.done = [&answers, i](std::vector<std::string> a) {
                answers[i].set_value(a.empty() ? "" : a[0]);
            };
            engine->Submit(std::move(sub));
        }
        return 0;
    });
    EXPECT_EQ(answers[0].get_future().get(), R"({"ok":true,"id":"c1"})");
    EXPECT_EQ(answers[1].get_future().get(), R"({"ok":true,"id":"c1","duplicate":true})");
    EXPECT_EQ(answers[2].get_future().get(), R"({"ok":true,"id":"c2"})");
    EXPECT_EQ(answers[3].get_future().get(), R"({"ok":true,"id":"c2","duplicate":true})");
    std::string conflict = answers[4].get_future().get();
    EXPECT_NE(conflict.find(R"("error":"conflict")"), std::string::npos) << conflict;
    EXPECT_EQ(engine->pipelined_groups(), 2u) << "each resend applied while its first was written";
    EXPECT_EQ(engine->EventsApplied(), 2u);

    engine.reset();
    auto reopened = Engine::Open(options, &metrics);
    ASSERT_TRUE(reopened.ok()) << reopened.status().message();
    EXPECT_EQ((*reopened)->EventsApplied(), 2u);
    EXPECT_EQ((*reopened)->Read([](const Ledger& l) { return l.customers().size(); }), 2u);
}

// A clean stop flushes the store: the next start has no write-ahead log to replay (at the goal's
// scale that replay is seconds of start-up), and what was answered is in table files.
TEST(EnginePipelineTest, ACleanStopLeavesNoLogToReplay) {
    Result<TempDir> dir = TempDir::Create("engine-flush");
    ASSERT_TRUE(dir.ok());
    metrics::EngineMetrics metrics;
    EngineOptions options;
    options.data_dir = dir->Path("data");
    auto opened = Engine::Open(options, &metrics);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    std::unique_ptr<Engine> engine = std::move(opened).value();
    ASSERT_TRUE(CommitEvents(*engine, {kUpsert, kSecond}));
    ASSERT_EQ(engine->EventsApplied(), 2u);

    auto files = [&](const std::string& ext) {
        std::vector<std::filesystem::path> out;
        for (const auto& f : std::filesystem::directory_iterator(options.data_dir)) {
            if (f.path().extension() == ext) {
                out.push_back(f.path());
            }
        }
        return out;
    };
    uintmax_t logged = 0;
    for (const auto& f : files(".log")) {
        logged += std::filesystem::file_size(f);
    }
    EXPECT_GT(logged, 0u) << "answered events are in the write-ahead log while running";
    EXPECT_TRUE(files(".sst").empty()) << "and not yet in a table file";

    engine->Stop();
    for (const auto& f : files(".log")) {
        EXPECT_EQ(std::filesystem::file_size(f), 0u) << f;
    }
    EXPECT_FALSE(files(".sst").empty());
    engine.reset();
    auto reopened = Engine::Open(options, &metrics);
    ASSERT_TRUE(reopened.ok()) << reopened.status().message();
    EXPECT_EQ((*reopened)->EventsApplied(), 2u);
}

}  // namespace
}  // namespace rms
