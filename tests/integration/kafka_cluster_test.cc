// Scale-out over Kafka (issue #9): three rmsd instances share librdkafka's mock cluster (3
// brokers, one topic of 6 partitions) through one consumer group. A third of the IBM sample goes
// in through instance A's gateway, A is killed with SIGKILL, a third goes in through B while C
// joins, A comes back on its old data dir and the last third goes in through C. At the end:
//   - every partition has exactly one owner, serving, consumed to its last message;
//   - each partition's store applied each of its events once (events_applied equals the
//     partition's message count), and events sent again upstream answer duplicate;
//   - the merged figures equal, to the byte, those of one plain rmsd fed the same lines.
//
// A second test does the same with a generated stream of 100,000 customers, killing A while the
// stream is still being produced and consumed, and runs `rmsctl kpis --cluster` on the result.
//
// What the mock is not (said again in docs/scale-out.md): it keeps the log in memory, acks=all is
// the leader's word alone (no real replication), there is no compaction, it keeps at most 5 MiB
// (or 100,000 batches) of each partition's log and drops the oldest batches beyond that (limits
// fixed in librdkafka's rd_kafka_mock_partition_init, with no setting to raise them), and its
// group coordinator is a small implementation of the classic protocol. So this test shows the
// consumer's protocol handling (assignment, cooperative revocation, resuming from the stored
// positions, rebuilding moved partitions), not a real broker's durability or timing. The waits
// below wait for a condition read from the instances (with a deadline), never for a fixed time;
// the killed member is evicted after session.timeout.ms (6 s here), which bounds the run time.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/cluster_figures.h"
#include "engine/partitioner.h"
#include "tests/support/command.h"
#include "tests/support/kafka_mock.h"
#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"
#include "tools/cluster_kpis.h"
#include "tools/ibm_events.h"
#include "tools/loadgen_stream.h"

namespace rms {
namespace {

constexpr char kSamplePath[] = RMS_SOURCE_DIR "/data/ibm-accounts-receivable.csv";
constexpr int kPartitions = 6;
// Events up to this date, so that items are still open at the end; then a clock.advanced to it,
// written to every partition, so that every partition ends on the same business date.
constexpr std::string_view kLastDate = "2013-09-30";
constexpr size_t kResent = 30;
constexpr int kConvergeMs = 90000;
// The generated stream: how many customers, and invoices among them.
constexpr int kStreamCustomers = 100000;
constexpr int kStreamInvoices = 100000;
// The gateways' producer settings for it: zstd batches. Kafka's consumers (rmsd's too) read
// compressed batches as they are; the events in them are the same.
const std::vector<std::string> kStreamProducer = {"compression.type=zstd"};

std::string Member(std::string_view line, std::string_view key) {
    simdjson::dom::parser parser;
    std::string_view value;
    if (parser.parse(simdjson::padded_string(line))[key].get_string().get(value)) {
        return "";
    }
    return std::string(value);
}

// Polls `done` every 50 ms until it holds or `deadline_ms` passes: the state of other processes
// can only be read, not awaited. Returns whether it held.
bool WaitUntil(const std::function<bool()>& done, int deadline_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
}

Result<std::string> Get(uint16_t port, const std::string& target) {
    auto response = HttpGet("127.0.0.1", port, target);
    if (!response.ok()) {
        return response.status();
    }
    if (response->status != 200) {
        return Status::Error("bad_status",
                             target + " answered " + std::to_string(response->status));
    }
    return response->body;
}

// Sends `lines` on one connection; returns how many were answered ok.
size_t SendAll(uint16_t port, const std::vector<std::string>& lines, std::string* failure) {
    auto client = LineClient::Connect("127.0.0.1", port);
    if (!client.ok()) {
        *failure = client.status().message();
        return 0;
    }
    size_t ok = 0;
    Status sent = SendPipelined(*client, lines, 500, [&](size_t, std::string_view answer) {
        if (answer.find(R"("ok":true)") != std::string_view::npos) {
            ++ok;
        } else if (failure->empty()) {
            *failure = std::string(answer);
        }
    });
    if (!sent.ok()) {
        *failure = sent.message();
    }
    return ok;
}

// One partition as an instance reports it in /v1/cluster/parts.
struct Owned {
    bool serving = false;
    int64_t position = 0;
    int64_t events_applied = 0;
};

std::map<int64_t, Owned> OwnedPartitions(std::string_view parts_json) {
    std::map<int64_t, Owned> out;
    simdjson::dom::parser parser;
    simdjson::dom::array partitions;
    if (parser.parse(simdjson::padded_string(parts_json))["partitions"].get_array().get(
            partitions)) {
        return out;
    }
    for (simdjson::dom::element p : partitions) {
        int64_t id = p["partition"].get_int64().value_unsafe();
        out[id] =
            Owned{p["serving"].get_bool().value_unsafe(), p["position"].get_int64().value_unsafe(),
                  p["events_applied"].get_int64().value_unsafe()};
    }
    return out;
}

// The sum of the samples of `family` whose labels contain `label` in the /metrics of `port`; -1
// when it cannot be read.
double SampleSum(uint16_t port, const std::string& family, std::string_view label) {
    Result<std::string> text = Get(port, "/metrics");
    if (!text.ok()) {
        return -1;
    }
    const std::string& metrics = *text;
    double sum = 0;
    size_t at = 0;
    while ((at = metrics.find("\n" + family + "{", at)) != std::string::npos) {
        size_t end = metrics.find('\n', at + 1);
        std::string line = metrics.substr(at + 1, end - at - 1);
        if (line.find(label) != std::string::npos) {
            sum += std::stod(line.substr(line.rfind(' ') + 1));
        }
        at = end;
    }
    return sum;
}

double Duplicates(uint16_t port) {
    return SampleSum(port, "rms_events_total", R"(result="duplicate")");
}

// {"business_date", "currencies"} of a /v1/kpis answer, minified, to compare byte for byte.
std::string Figures(std::string_view kpis_json) {
    simdjson::dom::parser parser;
    simdjson::dom::element root = parser.parse(simdjson::padded_string(kpis_json)).value();
    return simdjson::minify(root["business_date"]) + " " + simdjson::minify(root["currencies"]);
}

class KafkaClusterTest : public ::testing::Test {
protected:
    void SetUp() override {
        Result<std::string> csv = ReadFile(kSamplePath);
        ASSERT_TRUE(csv.ok()) << csv.status().message();
        Result<std::vector<std::string>> events = IbmSampleToEvents(*csv);
        ASSERT_TRUE(events.ok()) << events.status().message();
        for (std::string& e : *events) {
            if (Member(e, "date") <= kLastDate) {
                lines_.push_back(std::move(e));
            }
        }
        lines_.push_back(R"({"id":"clock-end","type":"clock.advanced","date":")" +
                         std::string(kLastDate) + R"("})");
        messages_ = PartitionCounts(lines_, std::vector<int64_t>(kPartitions, 0));
    }

    // `base` plus the messages `lines` add to each partition: keyed events go to one, the
    // clock to all.
    static std::vector<int64_t> PartitionCounts(const std::vector<std::string>& lines,
                                                std::vector<int64_t> base) {
        for (const std::string& line : lines) {
            std::string customer = Member(line, "customer");
            if (customer.empty()) {
                for (int64_t& m : base) {
                    ++m;
                }
            } else {
                ++base[PartitionForKey(customer, kPartitions)];
            }
        }
        return base;
    }

    std::unique_ptr<RmsdProcess> StartInstance(const TempDir& dir, const std::string& name,
                                               const std::string& group = "rms") {
        std::vector<std::string> args = {"--kafka",     kafka_->bootstrap(),
                                         "--topic",     "events",
                                         "--group",     group,
                                         "--kafka-set", "session.timeout.ms=6000",
                                         "--kafka-set", "heartbeat.interval.ms=500"};
        for (const std::string& setting : producer_settings_) {
            args.insert(args.end(), {"--kafka-set", setting});
        }
        Result<std::unique_ptr<RmsdProcess>> r =
            RmsdProcess::Start({.data_dir = dir.Path(name), .extra_args = std::move(args)});
        EXPECT_TRUE(r.ok()) << r.status().message();
        return r.ok() ? std::move(r).value() : nullptr;
    }

    // True when the instances together own every partition exactly once, each serving and
    // consumed up to `expected` messages. `why` says what is not so yet.
    bool Converged(const std::vector<RmsdProcess*>& instances, const std::vector<int64_t>& expected,
                   std::string* why) {
        return Owned(instances, &expected, why);
    }

    // True when the instances together own every partition exactly once, wherever each is.
    bool OwnedOnce(const std::vector<RmsdProcess*>& instances, std::string* why) {
        return Owned(instances, nullptr, why);
    }

    // Converged() when `expected` is given, else OwnedOnce().
    bool Owned(const std::vector<RmsdProcess*>& instances, const std::vector<int64_t>* expected,
               std::string* why) {
        std::map<int64_t, int> owners;
        for (RmsdProcess* r : instances) {
            Result<std::string> parts = Get(r->http_port(), "/v1/cluster/parts");
            if (!parts.ok()) {
                *why = parts.status().message();
                return false;
            }
            for (const auto& [id, owned] : OwnedPartitions(*parts)) {
                ++owners[id];
                if (expected != nullptr && (!owned.serving || owned.position != (*expected)[id])) {
                    *why = "partition " + std::to_string(id) + " at " +
                           std::to_string(owned.position) + " of " +
                           std::to_string((*expected)[id]) + (owned.serving ? "" : ", rebuilding");
                    return false;
                }
            }
        }
        for (int p = 0; p < kPartitions; ++p) {
            if (owners[p] != 1) {
                *why = "partition " + std::to_string(p) + " has " + std::to_string(owners[p]) +
                       " owners";
                return false;
            }
        }
        return true;
    }

    // The baseline: one plain rmsd under `dir`, every line on one connection. Returns its
    // /v1/kpis, or fails the test and returns "".
    std::string SingleInstanceKpis(const TempDir& dir) {
        Result<std::unique_ptr<RmsdProcess>> single = RmsdProcess::Start(dir.Path("single"));
        EXPECT_TRUE(single.ok()) << single.status().message();
        if (!single.ok()) {
            return "";
        }
        std::string failure;
        EXPECT_EQ(SendAll((*single)->ingest_port(), lines_, &failure), lines_.size()) << failure;
        Result<std::string> kpis = Get((*single)->http_port(), "/v1/kpis");
        EXPECT_TRUE(kpis.ok()) << kpis.status().message();
        return kpis.ok() ? *kpis : "";
    }

    // Starts the mock cluster and instances A and B, and waits until they share the partitions.
    // False (with the test failed) when any of that does not happen.
    bool StartPair(const TempDir& dir, std::unique_ptr<RmsdProcess>* a,
                   std::unique_ptr<RmsdProcess>* b) {
        Result<std::unique_ptr<KafkaMock>> kafka = KafkaMock::Start({});
        EXPECT_TRUE(kafka.ok()) << kafka.status().message();
        if (!kafka.ok()) {
            return false;
        }
        kafka_ = std::move(kafka).value();
        *a = StartInstance(dir, "a");
        *b = StartInstance(dir, "b");
        if (!*a || !*b) {
            return false;
        }
        std::string why;
        std::vector<int64_t> empty(kPartitions, 0);
        bool shared = WaitUntil(
            [&] {
                return Converged({a->get(), b->get()}, empty, &why);
            },
            kConvergeMs);
        EXPECT_TRUE(shared) << why;
        return shared;
    }

    // Checks that each partition's store applied each of its messages once, and returns the
    // instances' parts merged as `rmsctl kpis --cluster` merges them ("" on failure).
    std::string CheckedClusterKpis(const std::vector<RmsdProcess*>& instances) {
        int64_t applied = 0;
        std::vector<std::string> answers;
        for (RmsdProcess* r : instances) {
            Result<std::string> parts = Get(r->http_port(), "/v1/cluster/parts");
            EXPECT_TRUE(parts.ok()) << parts.status().message();
            if (!parts.ok()) {
                return "";
            }
            for (const auto& [id, owned] : OwnedPartitions(*parts)) {
                EXPECT_EQ(owned.events_applied, messages_[id]) << "partition " << id;
                applied += owned.events_applied;
            }
            answers.push_back(std::move(parts).value());
        }
        // Every event once, the closing clock once per partition.
        EXPECT_EQ(applied, static_cast<int64_t>(lines_.size()) - 1 + kPartitions);
        Result<std::string> merged = MergeClusterKpis(answers, kPartitions);
        EXPECT_TRUE(merged.ok()) << merged.status().message();
        return merged.ok() ? *merged : "";
    }

    std::vector<std::string> lines_;
    std::vector<int64_t> messages_;
    std::unique_ptr<KafkaMock> kafka_;
    std::vector<std::string> producer_settings_;  // --kafka-set KEY=VALUE for the gateways
};

TEST_F(KafkaClusterTest, KilledAndJoiningInstancesEndWithTheFiguresOfOneInstance) {
    Result<TempDir> dir = TempDir::Create("kafka-cluster");
    ASSERT_TRUE(dir.ok()) << dir.status().message();

    const std::string single_kpis = SingleInstanceKpis(*dir);
    ASSERT_FALSE(single_kpis.empty());
    std::unique_ptr<RmsdProcess> a, b;
    ASSERT_TRUE(StartPair(*dir, &a, &b));
    std::string why, failure;
    std::vector<int64_t> none(kPartitions, 0);

    const size_t third = lines_.size() / 3;
    auto slice = [&](size_t from, size_t to) {
        return std::vector<std::string>(lines_.begin() + from, lines_.begin() + to);
    };
    std::vector<std::string> first = slice(0, third);
    ASSERT_EQ(SendAll(a->ingest_port(), first, &failure), first.size()) << failure;
    std::vector<int64_t> after_first = PartitionCounts(first, none);
    ASSERT_TRUE(WaitUntil(
        [&] {
            return Converged({a.get(), b.get()}, after_first, &why);
        },
        kConvergeMs))
        << why;
    a->Kill9();

    // While A's partitions wait for its session to time out, B takes more and C joins.
    std::vector<std::string> second = slice(third, 2 * third);
    ASSERT_EQ(SendAll(b->ingest_port(), second, &failure), second.size()) << failure;
    std::unique_ptr<RmsdProcess> c = StartInstance(*dir, "c");
    ASSERT_TRUE(c);
    // A comes back on its old store: the partitions it gets resume from its stored positions.
    Result<std::unique_ptr<RmsdProcess>> a2 = RmsdProcess::Start(a->options());
    ASSERT_TRUE(a2.ok()) << a2.status().message();
    std::vector<std::string> last = slice(2 * third, lines_.size());
    ASSERT_EQ(SendAll(c->ingest_port(), last, &failure), last.size()) << failure;

    std::vector<RmsdProcess*> cluster = {a2->get(), b.get(), c.get()};
    ASSERT_TRUE(WaitUntil([&] { return Converged(cluster, messages_, &why); }, kConvergeMs))
        << why << "\n"
        << (*a2)->LogTail() << b->LogTail() << c->LogTail();

    const std::string merged = CheckedClusterKpis(cluster);
    ASSERT_FALSE(merged.empty());
    EXPECT_EQ(Figures(merged), Figures(single_kpis));

    // An upstream system sends events again: the owners answer duplicate, nothing changes.
    double duplicates_before = 0;
    for (RmsdProcess* r : cluster) {
        duplicates_before += Duplicates(r->http_port());
    }
    // Positions are resumed, not replayed: no message reached the idempotence markers twice,
    // not even those A had consumed before it was killed.
    EXPECT_EQ(duplicates_before, 0.0);
    std::vector<std::string> again = slice(0, kResent);
    ASSERT_EQ(SendAll(b->ingest_port(), again, &failure), again.size()) << failure;
    std::vector<int64_t> with_resent = messages_;
    for (const std::string& line : again) {
        ++with_resent[PartitionForKey(Member(line, "customer"), kPartitions)];
    }
    ASSERT_TRUE(WaitUntil([&] { return Converged(cluster, with_resent, &why); }, kConvergeMs))
        << why;
    // The instances are read one after another, so a partition still moving between two reads
    // can be missed or seen twice: read them again (bounded) until a whole pass is consistent.
    double duplicates_after = 0;
    std::string after_figures;
    std::string inconsistent;
    WaitUntil(
        [&] {
            duplicates_after = 0;
            inconsistent.clear();
            ClusterParts after;
            for (RmsdProcess* r : cluster) {
                duplicates_after += Duplicates(r->http_port());
                Result<std::string> parts = Get(r->http_port(), "/v1/cluster/parts");
                if (!parts.ok()) {
                    inconsistent = parts.status().message();
                    return false;
                }
                for (const auto& [id, owned] : OwnedPartitions(*parts)) {
                    if (owned.events_applied != messages_[id]) {
                        inconsistent = "partition " + std::to_string(id) + " applied " +
                                       std::to_string(owned.events_applied) + " of " +
                                       std::to_string(messages_[id]);
                    }
                }
                after.Add(ReadParts(*parts).value());
            }
            after_figures = Figures(KpisJson(after));
            return inconsistent.empty() && after_figures == Figures(single_kpis);
        },
        kConvergeMs);
    EXPECT_EQ(inconsistent, "");
    EXPECT_EQ(duplicates_after - duplicates_before, static_cast<double>(kResent));
    EXPECT_EQ(after_figures, Figures(single_kpis));

    // The gateway cannot key an event that names an invoice but not its customer.
    {
        auto client = LineClient::Connect("127.0.0.1", b->ingest_port());
        ASSERT_TRUE(client.ok());
        std::string invoice;
        for (const std::string& line : lines_) {
            if (invoice.empty()) {
                invoice = Member(line, "invoice");
            }
        }
        ASSERT_FALSE(invoice.empty());
        std::string answer;
        Status sent = SendPipelined(
            *client,
            {R"({"id":"keyless","type":"dispute.opened","date":"2013-09-30","invoice":")" +
             invoice + R"("})"},
            1, [&](size_t, std::string_view a) { answer = a; });
        ASSERT_TRUE(sent.ok()) << sent.message();
        EXPECT_NE(answer.find(R"("error":"missing_field")"), std::string::npos) << answer;
    }

    // A group of one, D, rebuilds all six partitions from their start; killed and restarted, it
    // is assigned all six again and resumes each from its stored position, so that its second
    // life answers no duplicate at all.
    std::unique_ptr<RmsdProcess> d = StartInstance(*dir, "d", "solo");
    ASSERT_TRUE(d);
    ASSERT_TRUE(WaitUntil([&] { return Converged({d.get()}, with_resent, &why); }, kConvergeMs))
        << why << "\n"
        << d->LogTail();
    d->Kill9();
    Result<std::unique_ptr<RmsdProcess>> d2 = RmsdProcess::Start(d->options());
    ASSERT_TRUE(d2.ok()) << d2.status().message();
    ASSERT_TRUE(WaitUntil([&] { return Converged({d2->get()}, with_resent, &why); }, kConvergeMs))
        << why << "\n"
        << (*d2)->LogTail();
    EXPECT_EQ(Duplicates((*d2)->http_port()), 0.0);
    Result<std::string> solo = Get((*d2)->http_port(), "/v1/kpis");
    ASSERT_TRUE(solo.ok()) << solo.status().message();
    EXPECT_EQ(Figures(*solo), Figures(single_kpis));
}

// The `rmsctl kpis` table of `args`: fails the test unless it exits 0.
std::string RmsctlKpis(const std::string& args) {
    CommandResult run = RunCommand(std::string(RMS_RMSCTL_PATH) + " kpis " + args + " 2>&1");
    EXPECT_EQ(run.exit_code, 0) << args << ": " << run.output;
    return run.output;
}

// "127.0.0.1:P1,127.0.0.1:P2,...": the HTTP addresses of `instances`, as rmsctl takes them.
std::string Loopback(const std::vector<RmsdProcess*>& instances) {
    std::string out;
    for (RmsdProcess* r : instances) {
        out +=
            (out.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(r->http_port());
    }
    return out;
}

// A generated stream (tools/loadgen_stream.h) of kStreamCustomers customers in three currencies:
// A and B consume it live, C joins a third of the way in and rebuilds what it is given from the
// start of the log, and A is killed with SIGKILL two thirds of the way in, owning partitions it
// cannot have consumed to their end, as the last third is not yet produced; B and C take A's
// partitions over, rebuilding them from the start of the log too. The gateways produce zstd
// batches (kStreamProducer), as a deployment may: the mock keeps at most 5 MiB of batches per
// partition, counted as they were sent, and drops the oldest beyond that. Uncompressed, this
// stream is about 13 MiB a partition, and C's rebuilds fail with history_lost (tried).
TEST_F(KafkaClusterTest, GeneratedStreamMatchesOneInstanceAfterAJoinAndAKillMidStream) {
    Result<std::string> csv = ReadFile(kSamplePath);
    ASSERT_TRUE(csv.ok());
    Result<loadgen::IbmProfile> profile = loadgen::IbmProfileFromCsv(*csv);
    ASSERT_TRUE(profile.ok()) << profile.status().message();
    loadgen::StreamOptions options;
    options.customers = kStreamCustomers;
    options.invoices = kStreamInvoices;
    options.days = 365;
    loadgen::StreamGenerator generator(*profile, options);
    lines_.clear();
    for (std::string line; generator.Next(&line); line.clear()) {
        lines_.push_back(line);
    }
    lines_.push_back(R"({"id":"clock-end","type":"clock.advanced","date":")" +
                     generator.summary().last_date.ToString() + R"("})");
    messages_ = PartitionCounts(lines_, std::vector<int64_t>(kPartitions, 0));
    std::set<std::string> customers;
    for (const std::string& line : lines_) {
        if (line.find(R"("type":"customer.upserted")") != std::string::npos) {
            customers.insert(Member(line, "customer"));
        }
    }
    ASSERT_EQ(customers.size(), static_cast<size_t>(kStreamCustomers));

    Result<TempDir> dir = TempDir::Create("kafka-stream");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    const std::string single_kpis = SingleInstanceKpis(*dir);
    ASSERT_FALSE(single_kpis.empty());
    producer_settings_ = kStreamProducer;
    std::unique_ptr<RmsdProcess> a, b;
    ASSERT_TRUE(StartPair(*dir, &a, &b));
    std::string why, failure;

    const size_t third = lines_.size() / 3;
    auto slice = [&](size_t from, size_t to) {
        return std::vector<std::string>(lines_.begin() + from, lines_.begin() + to);
    };
    std::vector<std::string> first = slice(0, third);
    ASSERT_EQ(SendAll(a->ingest_port(), first, &failure), first.size()) << failure;
    std::unique_ptr<RmsdProcess> c = StartInstance(*dir, "c");
    ASSERT_TRUE(c);
    std::vector<std::string> second = slice(third, 2 * third);
    ASSERT_EQ(SendAll(b->ingest_port(), second, &failure), second.size()) << failure;
    // Mid-stream: once the group has settled on owners for C's join, A dies owning partitions
    // it cannot have consumed to their end, as the last third is not even produced yet.
    ASSERT_TRUE(WaitUntil(
        [&] {
            Result<std::string> parts = Get(a->http_port(), "/v1/cluster/parts");
            return OwnedOnce({a.get(), b.get(), c.get()}, &why) && parts.ok() &&
                   !OwnedPartitions(*parts).empty();
        },
        kConvergeMs))
        << why;
    a->Kill9();
    std::vector<std::string> last = slice(2 * third, lines_.size());
    ASSERT_EQ(SendAll(c->ingest_port(), last, &failure), last.size()) << failure;
    ASSERT_TRUE(WaitUntil(
        [&] {
            return Converged({b.get(), c.get()}, messages_, &why);
        },
        kConvergeMs))
        << why << "\n"
        << b->LogTail() << c->LogTail();

    const std::string merged = CheckedClusterKpis({b.get(), c.get()});
    ASSERT_FALSE(merged.empty());
    EXPECT_EQ(Figures(merged), Figures(single_kpis));
    EXPECT_NE(Figures(merged).find("EUR"), std::string::npos);
    double duplicates = Duplicates(b->http_port()) + Duplicates(c->http_port());
    EXPECT_EQ(duplicates, 0.0);

    // The operator's view: `rmsctl kpis --cluster` over B and C prints the table one instance
    // prints; over B alone it refuses, as C's partitions have no owner in what it was given.
    Result<std::unique_ptr<RmsdProcess>> single = RmsdProcess::Start(dir->Path("single"));
    ASSERT_TRUE(single.ok()) << single.status().message();
    const std::string single_table = RmsctlKpis("--http " + Loopback({single->get()}));
    EXPECT_NE(single_table.find("EUR"), std::string::npos) << single_table;
    EXPECT_EQ(RmsctlKpis("--cluster " + Loopback({b.get(), c.get()}) + " --partitions 6"),
              single_table);
    CommandResult half = RunCommand(std::string(RMS_RMSCTL_PATH) + " kpis --cluster " +
                                    Loopback({b.get()}) + " --partitions 6 2>&1");
    EXPECT_NE(half.exit_code, 0) << half.output;
    EXPECT_NE(half.output.find("rmsctl: incomplete: partition "), std::string::npos) << half.output;
    EXPECT_NE(half.output.find(" has 0 owners among the instances given"), std::string::npos)
        << half.output;

    // What Prometheus sums: each instance's amounts add up to the single instance's (in major
    // units as doubles, so to a rounding of the last digits).
    for (std::string_view currency : {"EUR", "GBP", "USD"}) {
        SCOPED_TRACE(std::string(currency));
        const std::string label = "currency=\"" + std::string(currency) + "\"";
        double expected = SampleSum((*single)->http_port(), "rms_receivables_open_amount", label);
        ASSERT_GT(expected, 0);
        // The gauges follow the commits within a poll loop or two: wait for them to.
        double cluster = 0;
        WaitUntil(
            [&] {
                cluster = SampleSum(b->http_port(), "rms_receivables_open_amount", label) +
                          SampleSum(c->http_port(), "rms_receivables_open_amount", label);
                return std::abs(cluster - expected) <= 1e-6 * expected;
            },
            10000);
        EXPECT_NEAR(cluster, expected, 1e-6 * expected);
    }
}

}  // namespace
}  // namespace rms
