// Crash recovery: rmsd is killed with SIGKILL at random points of a replay of the IBM sample,
// restarted on the same data dir and sent every event again, several times. What it acknowledged
// must survive (it answers duplicate afterwards), and the end state must be that of a run that
// was never interrupted. The seed is printed; RMS_CRASH_SEED=N repeats a run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"
#include "tools/ibm_events.h"

namespace rms {
namespace {

constexpr char kSamplePath[] = RMS_SOURCE_DIR "/data/ibm-accounts-receivable.csv";
constexpr char kWholeHistory[] = "/v1/kpis/history?from=2012-01-03&to=2014-01-08";
constexpr char kAllActions[] = "/v1/actions?limit=10000";
constexpr int kKills = 4;
constexpr size_t kWindow = 1000;

enum class Answer { kApplied, kDuplicate, kRejected };

Answer Classify(std::string_view answer) {
    if (answer.find(R"("ok":true)") == std::string_view::npos) {
        return Answer::kRejected;
    }
    return answer.find(R"("duplicate":true)") == std::string_view::npos ? Answer::kApplied
                                                                        : Answer::kDuplicate;
}

uint64_t Seed() {
    if (const char* text = std::getenv("RMS_CRASH_SEED"); text != nullptr && *text != '\0') {
        return std::strtoull(text, nullptr, 10);
    }
    return std::random_device()();
}

// `count` distinct answer counts in [1, n - 1], ascending: after that many answers of a round,
// rmsd is killed.
std::vector<size_t> KillPoints(uint64_t seed, size_t n, int count) {
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<size_t> point(1, n - 1);
    std::set<size_t> points;
    while (points.size() < static_cast<size_t>(count)) {
        points.insert(point(random));
    }
    return {points.begin(), points.end()};
}

Result<std::string> Get(const RmsdProcess& rmsd, const std::string& target) {
    auto response = HttpGet("127.0.0.1", rmsd.http_port(), target);
    if (!response.ok()) {
        return response.status();
    }
    if (response->status != 200) {
        return Status::Error("bad_status", "GET " + target + " answered " +
                                               std::to_string(response->status) + ": " +
                                               response->body);
    }
    return response->body;
}

// Where two answers first differ, with some context, for a failure message.
std::string FirstDifference(const std::string& expected, const std::string& actual) {
    size_t at =
        std::mismatch(expected.begin(), expected.end(), actual.begin(), actual.end()).first -
        expected.begin();
    size_t from = at > 300 ? at - 300 : 0;
    return "first difference at byte " + std::to_string(at) + "\nuninterrupted: ..." +
           expected.substr(from, 600) + "\nafter crashes: ..." + actual.substr(from, 600);
}

class CrashTest : public ::testing::Test {
protected:
    void SetUp() override {
        Result<std::string> csv = ReadFile(kSamplePath);
        ASSERT_TRUE(csv.ok()) << csv.status().message();
        Result<std::vector<std::string>> events = IbmSampleToEvents(*csv);
        ASSERT_TRUE(events.ok()) << events.status().message();
        events_ = std::move(events).value();
    }

    // Starts rmsd on a fresh data dir under `dir`.
    std::unique_ptr<RmsdProcess> StartRmsd(const TempDir& dir) {
        auto rmsd = RmsdProcess::Start(dir.Path("data"));
        EXPECT_TRUE(rmsd.ok()) << rmsd.status().message();
        return rmsd.ok() ? std::move(rmsd).value() : nullptr;
    }

    std::vector<std::string> events_;
};

TEST_F(CrashTest, KilledAndRestartedReplayEndsLikeAnUninterruptedOne) {
    const uint64_t seed = Seed();
    std::cout << "crash test seed " << seed << " (RMS_CRASH_SEED=" << seed << " repeats it)\n";
    RecordProperty("seed", std::to_string(seed));
    SCOPED_TRACE("seed " + std::to_string(seed));
    const size_t n = events_.size();

    // The uninterrupted run.
    Result<TempDir> base_dir = TempDir::Create("crash-base");
    ASSERT_TRUE(base_dir.ok()) << base_dir.status().message();
    std::unique_ptr<RmsdProcess> base = StartRmsd(*base_dir);
    ASSERT_NE(base, nullptr);
    {
        auto client = LineClient::Connect("127.0.0.1", base->ingest_port());
        ASSERT_TRUE(client.ok()) << client.status().message();
        size_t applied = 0;
        Status sent = SendPipelined(*client, events_, kWindow, [&](size_t, std::string_view a) {
            applied += Classify(a) == Answer::kApplied ? 1 : 0;
        });
        ASSERT_TRUE(sent.ok()) << sent.message() << "\n" << base->LogTail();
        ASSERT_EQ(applied, n) << "the uninterrupted run did not apply every event";
    }
    Result<std::string> base_history = Get(*base, kWholeHistory);
    ASSERT_TRUE(base_history.ok()) << base_history.status().message();
    Result<std::string> base_kpis = Get(*base, "/v1/kpis");
    ASSERT_TRUE(base_kpis.ok()) << base_kpis.status().message();
    Result<std::string> base_actions = Get(*base, kAllActions);
    ASSERT_TRUE(base_actions.ok()) << base_actions.status().message();
    ASSERT_NE(base_actions->find(R"("id":1,)"), std::string::npos)
        << "the replay decided no action";
    base.reset();

    // The same events with kKills crashes: round r is killed after kill_points[r] answers, and
    // the last round runs to the end.
    Result<TempDir> dir = TempDir::Create("crash");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    std::unique_ptr<RmsdProcess> rmsd = StartRmsd(*dir);
    ASSERT_NE(rmsd, nullptr);
    const std::vector<size_t> kill_points = KillPoints(seed, n, kKills);
    std::vector<bool> acknowledged(n, false);  // answered applied in an earlier round
    for (int round = 0; round <= kKills; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        const bool last = round == kKills;
        auto client = LineClient::Connect("127.0.0.1", rmsd->ingest_port());
        ASSERT_TRUE(client.ok()) << client.status().message();

        size_t answered = 0;
        size_t first_applied = n;  // index of the round's first applied event
        int reported = 0;
        auto report = [&](size_t k, std::string_view answer, std::string_view what) {
            if (++reported <= 10) {
                ADD_FAILURE() << what << "\nevent " << events_[k] << "\nanswered " << answer;
            }
        };
        Status sent = SendPipelined(*client, events_, kWindow, [&](size_t k, std::string_view a) {
            answered = k + 1;
            Answer answer = Classify(a);
            if (answer == Answer::kRejected) {
                report(k, a, "an event of the sample was rejected");
            } else if (acknowledged[k] && answer != Answer::kDuplicate) {
                report(k, a, "an event acknowledged before a kill was applied again");
            } else if (answer == Answer::kDuplicate && first_applied < k) {
                report(k, a, "a duplicate after an applied event: what survived is no prefix");
            }
            if (answer == Answer::kApplied) {
                acknowledged[k] = true;
                first_applied = std::min(first_applied, k);
            }
            if (!last && answered == kill_points[round]) {
                rmsd->Kill9();
            }
        });

        if (last) {
            ASSERT_TRUE(sent.ok()) << sent.message() << "\n" << rmsd->LogTail();
            ASSERT_EQ(answered, n);
            break;
        }
        // The kill may come after every answer was already read; the round then ran to the end.
        ASSERT_TRUE(!sent.ok() || answered == n) << "the connection outlived rmsd";
        ASSERT_GE(answered, kill_points[round]) << sent.message() << "\n" << rmsd->LogTail();
        std::cout << "round " << round << ": killed after " << kill_points[round] << " answers ("
                  << answered << " read)\n";
        Status restarted = rmsd->Restart();
        ASSERT_TRUE(restarted.ok()) << restarted.message();
    }

    Result<std::string> history = Get(*rmsd, kWholeHistory);
    ASSERT_TRUE(history.ok()) << history.status().message();
    EXPECT_TRUE(*history == *base_history) << FirstDifference(*base_history, *history);
    Result<std::string> kpis = Get(*rmsd, "/v1/kpis");
    ASSERT_TRUE(kpis.ok()) << kpis.status().message();
    EXPECT_EQ(*kpis, *base_kpis);
    // The rules decided exactly the same actions: none lost with a crash, none made twice.
    Result<std::string> actions = Get(*rmsd, kAllActions);
    ASSERT_TRUE(actions.ok()) << actions.status().message();
    EXPECT_TRUE(*actions == *base_actions) << FirstDifference(*base_actions, *actions);
}

}  // namespace
}  // namespace rms
