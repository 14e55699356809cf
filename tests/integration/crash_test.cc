// Crash recovery (issue #8): trials of SIGKILL at random points of a mixed load. The load is the
// IBM sample replay with blocks of events of every other type woven in (credit notes, credit
// applied, reversals, write-offs, promises made, cancelled and broken, contacts, fx rates, clock
// moves), so the default rules decide actions throughout. rmsd runs with the delivery outbox on,
// sending every action as a webhook to a receiver on loopback that refuses a share of first tries
// (503) and is slow at times, so deliveries and retries are pending at every kill. Each trial
// kills rmsd several times, restarts it on the same data dir and sends every event again. After
// each trial:
// - every event acknowledged before a kill answers duplicate afterwards (none lost, none applied
//   twice), and what survived a kill is a prefix of what was sent;
// - the history, KPIs and actions equal those of a run that was never interrupted (no action
//   lost or made twice), leaving out what deliveries add (statuses, contacts);
// - every action was delivered, and the receiver processed each Idempotency-Key exactly once
//   (at least once delivery: it drops the repeats a kill causes, and none is missing);
// - with rmsd stopped, the event log holds every event exactly once, and the state rebuilt from
//   the event log alone equals the stored one, apart from what deliveries recorded.
//
// RMS_CRASH_TRIALS=N sets the number of trials (default 20); trial t uses seed S + t, and its
// seed is printed: RMS_CRASH_SEED=S RMS_CRASH_TRIALS=1 repeats it. tools/crash.sh --trials N runs
// a long series.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/event.h"
#include "engine/ledger_codec.h"
#include "storage/store.h"
#include "tests/support/receiver_process.h"
#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"
#include "tools/ibm_events.h"

namespace rms {
namespace {

constexpr char kSamplePath[] = RMS_SOURCE_DIR "/data/ibm-accounts-receivable.csv";
constexpr char kWholeHistory[] = "/v1/kpis/history?from=2012-01-03&to=2014-01-08";
constexpr char kAllActions[] = "/v1/actions?limit=10000";
constexpr char kFirstPending[] = "/v1/actions?status=pending&limit=1";
constexpr int kKills = 4;
constexpr size_t kWindow = 1000;
constexpr int kDefaultTrials = 20;
// A block of mixed events goes in after every this many sample events.
constexpr size_t kMixEvery = 120;

enum class Answer { kApplied, kDuplicate, kRejected };

Answer Classify(std::string_view answer) {
    if (answer.find(R"("ok":true)") == std::string_view::npos) {
        return Answer::kRejected;
    }
    return answer.find(R"("duplicate":true)") == std::string_view::npos ? Answer::kApplied
                                                                        : Answer::kDuplicate;
}

uint64_t EnvNumber(const char* name, uint64_t fallback) {
    if (const char* text = std::getenv(name); text != nullptr && *text != '\0') {
        return std::strtoull(text, nullptr, 10);
    }
    return fallback;
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

// One customer's life on business date `d` through every event type the sample lacks, from
// another source. Every event applies (the promise cancelled comes before any payment could keep
// it); the promise due in 20 days later breaks.
std::vector<std::string> MixedBlock(int j, Date d) {
    const std::string c = fmt::format("mix-c{}", j);
    const std::string i1 = fmt::format("mix-i{}a", j), i2 = fmt::format("mix-i{}b", j);
    auto day = [&](int n) { return d.AddDays(n).ToString(); };
    const std::vector<std::string> bodies = {
        fmt::format(R"("type":"customer.upserted","customer":"{}","name":"Mixed {}",)"
                    R"("kind":"company","risk":"{}","currency":"USD","terms_days":30,)"
                    R"("credit_limit":"500.00")",
                    c, j, j % 2 == 0 ? "high" : "low"),
        fmt::format(R"("type":"invoice.issued","invoice":"{}","customer":"{}","currency":"USD",)"
                    R"("amount":"500.00","due":"{}")",
                    i1, c, day(10)),
        fmt::format(R"("type":"invoice.issued","invoice":"{}","customer":"{}","currency":"USD",)"
                    R"("amount":"300.00","installments":[{{"due":"{}","amount":"100.00"}},)"
                    R"({{"due":"{}","amount":"200.00"}}])",
                    i2, c, day(5), day(35)),
        fmt::format(R"("type":"promise.made","promise":"mix-r{}b","customer":"{}",)"
                    R"("currency":"USD","amount":"50.00","due":"{}")",
                    j, c, day(3)),
        fmt::format(R"("type":"promise.cancelled","promise":"mix-r{}b","customer":"{}")", j, c),
        fmt::format(R"("type":"credit_note.issued","credit_note":"mix-n{}a","customer":"{}",)"
                    R"("currency":"USD","amount":"50.00","invoice":"{}")",
                    j, c, i1),
        fmt::format(R"("type":"credit_note.issued","credit_note":"mix-n{}b","customer":"{}",)"
                    R"("currency":"USD","amount":"40.00")",
                    j, c),
        fmt::format(R"("type":"credit.applied","invoice":"{}","customer":"{}","currency":"USD",)"
                    R"("amount":"40.00")",
                    i2, c),
        fmt::format(R"("type":"payment.received","payment":"mix-p{}a","customer":"{}",)"
                    R"("currency":"USD","amount":"120.00",)"
                    R"("allocations":[{{"invoice":"{}","amount":"100.00"}}])",
                    j, c, i1),
        fmt::format(R"("type":"payment.reversed","payment":"mix-p{}a","customer":"{}")", j, c),
        fmt::format(R"("type":"payment.received","payment":"mix-p{}b","customer":"{}",)"
                    R"("currency":"USD","amount":"100.00",)"
                    R"("allocations":[{{"invoice":"{}","amount":"100.00"}}])",
                    j, c, i1),
        fmt::format(R"("type":"invoice.written_off","invoice":"{}","customer":"{}",)"
                    R"("amount":"10.00")",
                    i1, c),
        fmt::format(R"("type":"dispute.opened","invoice":"{}","reason":"price")", i2),
        fmt::format(R"("type":"dispute.resolved","invoice":"{}","outcome":"upheld")", i2),
        fmt::format(R"("type":"promise.made","promise":"mix-r{}a","customer":"{}",)"
                    R"("currency":"USD","amount":"200.00","due":"{}","invoices":["{}"])",
                    j, c, day(20), i2),
        fmt::format(R"("type":"contact.logged","customer":"{}","channel":"phone",)"
                    R"("direction":"outbound","note":"promised to pay")",
                    c),
        fmt::format(R"("type":"fx.rate","currency":"EUR","base":"USD","rate":"1.{:02}25")",
                    j % 100),
        R"("type":"clock.advanced")",
    };
    std::vector<std::string> events;
    for (size_t k = 0; k < bodies.size(); ++k) {
        events.push_back(fmt::format(R"({{"id":"mix-{}-{}","source":"erp-2","date":"{}",{}}})", j,
                                     k, d.ToString(), bodies[k]));
    }
    return events;
}

// The sample's events with a mixed block after every kMixEvery of them, dated like the event
// before it (the business date then), so nothing in a block is back-dated.
Result<std::vector<std::string>> MixedLoad() {
    Result<std::string> csv = ReadFile(kSamplePath);
    if (!csv.ok()) {
        return csv.status();
    }
    Result<std::vector<std::string>> sample = IbmSampleToEvents(*csv);
    if (!sample.ok()) {
        return sample.status();
    }
    std::vector<std::string> events;
    int blocks = 0;
    for (size_t k = 0; k < sample->size(); ++k) {
        events.push_back((*sample)[k]);
        if ((k + 1) % kMixEvery == 0) {
            ParsedLine parsed = ParseEvent((*sample)[k]);
            if (!parsed.status.ok()) {
                return parsed.status;
            }
            std::vector<std::string> block = MixedBlock(blocks++, parsed.event.date);
            events.insert(events.end(), block.begin(), block.end());
        }
    }
    return events;
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

// The default rules' routes, each a webhook to the receiver on `port`, retried soon.
std::string DeliveryFile(uint16_t port) {
    std::string file = R"([delivery]
max_attempts = 10
backoff_initial_ms = 5
backoff_max_ms = 40
threads = 16

[templates.pre_due]
body = "{invoice} falls due on {due}"

[templates.overdue_1]
subject = "Invoice {invoice}"
body = "{open} {currency} open on {invoice}, due on {due}"
)";
    for (const char* route : {"email", "phone", "escalation"}) {
        file +=
            fmt::format("\n[channels.{}]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{}/{}\"\n",
                        route, port, route);
    }
    return file;
}

// `object` minified without the members named in `drop`.
std::string MinifiedWithout(simdjson::dom::object object,
                            std::initializer_list<std::string_view> drop) {
    std::string out = "{";
    for (simdjson::dom::key_value_pair field : object) {
        if (std::find(drop.begin(), drop.end(), field.key) != drop.end()) {
            continue;
        }
        out += out.size() > 1 ? ",\"" : "\"";
        out += std::string(field.key) + "\":" + simdjson::minify(field.value);
    }
    return out + "}";
}

// What the query API shows at the end of a run. What deliveries add depends on when they went
// out, so it is kept apart: the delivery status of each action, and the KPIs' effectiveness
// (delivered actions are contacts).
struct Outcome {
    std::string history;
    std::string kpis;     // without "effectiveness"
    std::string actions;  // as decided: without "status", "attempts" and "last_error"
    std::map<std::string, std::string> statuses;  // action key -> delivery status
};

Result<Outcome> Observe(const RmsdProcess& rmsd) {
    Outcome o;
    std::string kpis, actions;
    for (auto [target, out] : {std::pair{kWholeHistory, &o.history}, std::pair{"/v1/kpis", &kpis},
                               std::pair{kAllActions, &actions}}) {
        Result<std::string> body = Get(rmsd, target);
        if (!body.ok()) {
            return body.status();
        }
        *out = std::move(body).value();
    }
    simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (parser.parse(kpis).get(root) != simdjson::SUCCESS) {
        return Status::Error("bad_body", "/v1/kpis is no JSON object: " + kpis);
    }
    o.kpis = MinifiedWithout(root, {"effectiveness"});
    simdjson::dom::array list;
    if (parser.parse(actions).get(root) != simdjson::SUCCESS ||
        root["actions"].get(list) != simdjson::SUCCESS) {
        return Status::Error("bad_body", "/v1/actions has no action list: " + actions);
    }
    for (simdjson::dom::element a : list) {
        std::string_view key, status;
        if (a["key"].get(key) != simdjson::SUCCESS ||
            a["status"].get(status) != simdjson::SUCCESS) {
            return Status::Error("bad_body", "an action without key or status: " + actions);
        }
        o.statuses[std::string(key)] = std::string(status);
        o.actions += MinifiedWithout(a.get_object(), {"status", "attempts", "last_error"}) + "\n";
    }
    return o;
}

// Waits (bounded) until rmsd has no pending action; false when some still are after 120 s.
bool AwaitNothingPending(const RmsdProcess& rmsd) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
        Result<std::string> body = Get(rmsd, kFirstPending);
        if (body.ok() && body->find(R"("actions":[])") != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

class CrashTest : public ::testing::Test {
protected:
    // The load and its uninterrupted outcome, computed once for every trial.
    static void SetUpTestSuite() {
        Result<std::vector<std::string>> events = MixedLoad();
        if (!events.ok()) {
            setup_error_ = new std::string(events.status().message());
            return;
        }
        events_ = new std::vector<std::string>(std::move(events).value());
    }

    static void TearDownTestSuite() {
        delete events_;
        delete base_;
        delete setup_error_;
        events_ = nullptr;
        base_ = nullptr;
        setup_error_ = nullptr;
    }

    void SetUp() override {
        ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
        if (base_ == nullptr) {
            RunUninterrupted();
        }
    }

    static std::unique_ptr<RmsdProcess> StartRmsd(const TempDir& dir,
                                                  std::vector<std::string> extra_args = {}) {
        auto rmsd = RmsdProcess::Start(dir.Path("data"), std::move(extra_args));
        EXPECT_TRUE(rmsd.ok()) << rmsd.status().message();
        return rmsd.ok() ? std::move(rmsd).value() : nullptr;
    }

    void RunUninterrupted();
    // One trial: kKills kills at points chosen by `seed`, then the checks of the file comment.
    void RunTrial(uint64_t seed);
    // Every action delivered, and each key processed once by the receiver.
    void CheckDeliveries(const Outcome& outcome, const ReceiverProcess& receiver);
    // With rmsd stopped: the event log and a rebuild from it, against the stored state.
    void CheckStore(const std::string& data_dir);

    // Repeats the receivers dropped, over all trials (at least once delivery at work).
    int repeats_ = 0;
    static std::vector<std::string>* events_;
    static Outcome* base_;
    static std::string* setup_error_;
};

std::vector<std::string>* CrashTest::events_ = nullptr;
Outcome* CrashTest::base_ = nullptr;
std::string* CrashTest::setup_error_ = nullptr;

void CrashTest::RunUninterrupted() {
    const std::vector<std::string>& events = *events_;
    Result<TempDir> dir = TempDir::Create("crash-base");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    std::unique_ptr<RmsdProcess> rmsd = StartRmsd(*dir);
    ASSERT_NE(rmsd, nullptr);
    auto client = LineClient::Connect("127.0.0.1", rmsd->ingest_port());
    ASSERT_TRUE(client.ok()) << client.status().message();
    size_t applied = 0;
    int refused = 0;
    Status sent = SendPipelined(*client, events, kWindow, [&](size_t k, std::string_view a) {
        if (Classify(a) == Answer::kApplied) {
            ++applied;
        } else if (++refused <= 5) {
            ADD_FAILURE() << "the uninterrupted run did not apply " << events[k] << "\n" << a;
        }
    });
    ASSERT_TRUE(sent.ok()) << sent.message() << "\n" << rmsd->LogTail();
    ASSERT_EQ(applied, events.size()) << "the uninterrupted run did not apply every event";
    Result<Outcome> outcome = Observe(*rmsd);
    ASSERT_TRUE(outcome.ok()) << outcome.status().message();
    ASSERT_NE(outcome->actions.find(R"("id":1,)"), std::string::npos)
        << "the load decided no action";
    base_ = new Outcome(std::move(outcome).value());
}

void CrashTest::RunTrial(uint64_t seed) {
    const std::vector<std::string>& events = *events_;
    const size_t n = events.size();
    Result<TempDir> dir = TempDir::Create("crash");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    // A receiver per trial: the action keys repeat from trial to trial.
    auto receiver = ReceiverProcess::Start("brisk", dir->Path(""));
    ASSERT_TRUE(receiver.ok()) << receiver.status().message();
    const std::string delivery = dir->Path("delivery.toml");
    std::ofstream(delivery, std::ios::trunc) << DeliveryFile((*receiver)->port());
    std::unique_ptr<RmsdProcess> rmsd = StartRmsd(*dir, {"--delivery", delivery});
    ASSERT_NE(rmsd, nullptr);

    // Round r is killed after kill_points[r] answers; the last round runs to the end.
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
                ADD_FAILURE() << what << "\nevent " << events[k] << "\nanswered " << answer;
            }
        };
        Status sent = SendPipelined(*client, events, kWindow, [&](size_t k, std::string_view a) {
            answered = k + 1;
            Answer answer = Classify(a);
            if (answer == Answer::kRejected) {
                report(k, a, "an event of the load was rejected");
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
        Status restarted = rmsd->Restart();
        ASSERT_TRUE(restarted.ok()) << restarted.message();
    }

    ASSERT_TRUE(AwaitNothingPending(*rmsd)) << "actions still pending\n" << rmsd->LogTail();
    Result<Outcome> outcome = Observe(*rmsd);
    ASSERT_TRUE(outcome.ok()) << outcome.status().message();
    EXPECT_TRUE(outcome->history == base_->history)
        << FirstDifference(base_->history, outcome->history);
    EXPECT_EQ(outcome->kpis, base_->kpis);
    // The rules decided exactly the same actions: none lost with a crash, none made twice.
    EXPECT_TRUE(outcome->actions == base_->actions)
        << FirstDifference(base_->actions, outcome->actions);
    CheckDeliveries(*outcome, **receiver);

    Result<int> stopped = rmsd->Terminate();
    ASSERT_TRUE(stopped.ok()) << stopped.status().message();
    ASSERT_EQ(*stopped, 0) << rmsd->LogTail();
    CheckStore(dir->Path("data"));
}

void CrashTest::CheckDeliveries(const Outcome& outcome, const ReceiverProcess& receiver) {
    int undelivered = 0;
    for (const auto& [key, status] : outcome.statuses) {
        if (status != "delivered" && ++undelivered <= 5) {
            ADD_FAILURE() << "action " << key << " is " << status;
        }
    }
    std::map<std::string, int> processed = receiver.ProcessedKeys(&repeats_);
    for (const auto& [key, times] : processed) {
        EXPECT_EQ(times, 1) << "the receiver processed " << key << " " << times << " times";
        EXPECT_EQ(outcome.statuses.count(key), 1u) << "the receiver got an unknown key " << key;
    }
    // Every action reached the receiver: none lost across the kills.
    EXPECT_EQ(processed.size(), outcome.statuses.size());
}

void CrashTest::CheckStore(const std::string& data_dir) {
    storage::StoreOptions options;
    options.min_free_bytes = 0;  // reads only
    Result<std::unique_ptr<storage::Store>> store = storage::Store::Open(data_dir, options);
    ASSERT_TRUE(store.ok()) << store.status().message();

    // Every event of the load is in the log exactly once.
    std::map<std::pair<std::string, std::string>, int> logged;
    Status scanned = ForEachLoggedEvent(**store, [&](uint64_t, std::string_view canonical) {
        ParsedLine parsed = ParseEvent(canonical);
        EXPECT_TRUE(parsed.status.ok()) << canonical;
        ++logged[{parsed.event.source, parsed.event.id}];
        return true;
    });
    ASSERT_TRUE(scanned.ok()) << scanned.message();
    EXPECT_EQ(logged.size(), events_->size()) << "the event log lacks events of the load";
    for (const auto& [key, count] : logged) {
        EXPECT_EQ(count, 1) << "event " << key.second << " of source " << key.first
                            << " is in the log " << count << " times";
    }

    // The stored records equal a rebuild from the event log alone, apart from what the outbox
    // recorded beside the events.
    Result<LoadedState> loaded = LoadState(**store, LedgerOptions{});
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    Result<std::unique_ptr<Ledger>> rebuilt = RebuildFromEventLog(**store, LedgerOptions{});
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().message();
    EXPECT_TRUE(DumpState(**rebuilt, DumpScope::kWithoutDeliveries) ==
                DumpState(*loaded->ledger, DumpScope::kWithoutDeliveries))
        << "the stored state differs from a rebuild from the event log";
    // One idempotence marker per event (markers live in the store only).
    size_t markers = 0;
    Status counted = (*store)->Scan("k", [&](std::string_view, std::string_view) {
        ++markers;
        return true;
    });
    ASSERT_TRUE(counted.ok()) << counted.message();
    EXPECT_EQ(markers, events_->size());
}

TEST_F(CrashTest, KilledAndRestartedMixedLoadEndsLikeAnUninterruptedOne) {
    const uint64_t first_seed = EnvNumber("RMS_CRASH_SEED", std::random_device()());
    const uint64_t trials = EnvNumber("RMS_CRASH_TRIALS", kDefaultTrials);
    std::cout << events_->size() << " events, " << trials << " trials of " << kKills
              << " kills, seeds from " << first_seed << "\n";
    RecordProperty("first_seed", std::to_string(first_seed));
    for (uint64_t t = 0; t < trials && !HasFailure(); ++t) {
        const uint64_t seed = first_seed + t;
        SCOPED_TRACE("trial " + std::to_string(t) + ", seed " + std::to_string(seed) +
                     " (RMS_CRASH_SEED=" + std::to_string(seed) +
                     " RMS_CRASH_TRIALS=1 repeats it)");
        RunTrial(seed);
    }
    std::cout << "the receivers dropped " << repeats_ << " repeated deliveries\n";
}

}  // namespace
}  // namespace rms
