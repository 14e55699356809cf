// The engine without the network: group commits of parsed events to a real store, and the query
// API's JSON answers (/v1/kpis, /v1/worklist, /metrics) built from the committed ledger.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>

#include "bench/bench_fixtures.h"
#include "engine/engine.h"
#include "engine/query_api.h"

namespace rms::bench {
namespace {

// A fresh data directory under /tmp, removed with the object.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "rms-bench-XXXXXX").string();
        path_ = mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

struct OpenEngine {
    TempDir dir;
    metrics::EngineMetrics metrics;
    std::unique_ptr<Engine> engine;
};

std::unique_ptr<OpenEngine> Open() {
    spdlog::set_level(spdlog::level::warn);
    auto o = std::make_unique<OpenEngine>();
    EngineOptions options;
    options.data_dir = o->dir.path();
    Result<std::unique_ptr<Engine>> e = Engine::Open(options, &o->metrics);
    if (!e.ok()) {
        std::fprintf(stderr, "bench: %s\n", e.status().message().c_str());
        std::abort();
    }
    o->engine = std::move(e).value();
    return o;
}

// Submits `events` as one submission and waits for the answers; returns how many were ok.
size_t SubmitAndWait(Engine& engine, std::vector<PendingEvent> events) {
    std::promise<size_t> done;
    Submission sub;
    sub.events = std::move(events);
    sub.done = [&done](std::vector<std::string> answers) {
        size_t ok = 0;
        for (const std::string& a : answers) {
            ok += a.starts_with("{\"ok\":true") ? 1 : 0;
        }
        done.set_value(ok);
    };
    engine.Submit(std::move(sub));
    return done.get_future().get();
}

std::vector<PendingEvent> Parsed(const std::vector<std::string>& lines, size_t from, size_t n) {
    std::vector<PendingEvent> out;
    for (size_t i = from; i < from + n && i < lines.size(); ++i) {
        out.push_back(PendingEvent{ParseEvent(lines[i]).event, i + 1});
    }
    return out;
}

// One group commit of `group` parsed events: decide, apply, encode, write, answer.
void BM_EngineGroupCommit(benchmark::State& state) {
    size_t group = static_cast<size_t>(state.range(0));
    static const std::vector<std::string> lines = StreamLines(Options(20000, 200000, 45));
    std::unique_ptr<OpenEngine> o = Open();
    size_t next = 0;
    size_t ok = 0;
    for (auto _ : state) {
        state.PauseTiming();
        if (next + group > lines.size()) {
            o = Open();
            next = 0;
        }
        std::vector<PendingEvent> events = Parsed(lines, next, group);
        next += group;
        state.ResumeTiming();
        ok += SubmitAndWait(*o->engine, std::move(events));
    }
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(group));
    state.counters["ok_share"] =
        static_cast<double>(ok) / static_cast<double>(state.iterations() * group);
}
BENCHMARK(BM_EngineGroupCommit)
    ->ArgName("group")
    ->Arg(1000)
    ->Arg(8192)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

std::map<uint32_t, std::unique_ptr<OpenEngine>>& Engines() {
    static auto* engines = new std::map<uint32_t, std::unique_ptr<OpenEngine>>();
    return *engines;
}

// An engine holding a whole stream of `customers` customers (ten invoices each), kept for the
// following benchmarks. It is closed by an atexit handler registered after RocksDB's own
// statics exist, so that it runs before they are destroyed.
OpenEngine& Loaded(uint32_t customers) {
    auto& slot = Engines()[customers];
    if (!slot) {
        slot = Open();
        static bool registered = [] { return std::atexit([] { Engines().clear(); }) == 0; }();
        static_cast<void>(registered);
        std::vector<std::string> lines = StreamLines(Options(customers, customers * 10ull, 45));
        for (size_t i = 0; i < lines.size(); i += 8192) {
            SubmitAndWait(*slot->engine, Parsed(lines, i, 8192));
        }
    }
    return *slot;
}

void RunGet(benchmark::State& state, const char* target) {
    OpenEngine& o = Loaded(static_cast<uint32_t>(state.range(0)));
    QueryApi api(o.engine.get(), &o.metrics);
    size_t bytes = 0;
    for (auto _ : state) {
        ApiResponse r = api.Get(target);
        bytes = r.body.size();
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes"] = static_cast<double>(bytes);
}

void BM_KpisJson(benchmark::State& state) {
    RunGet(state, "/v1/kpis");
}
BENCHMARK(BM_KpisJson)->ArgName("customers")->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_WorklistJson(benchmark::State& state) {
    RunGet(state, "/v1/worklist?limit=50");
}
BENCHMARK(BM_WorklistJson)->ArgName("customers")->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_MetricsScrape(benchmark::State& state) {
    RunGet(state, "/metrics");
}
BENCHMARK(BM_MetricsScrape)->ArgName("customers")->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rms::bench
