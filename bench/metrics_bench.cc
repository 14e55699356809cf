// The engine's metrics on its hot paths: the per-event counter call as the commit thread makes
// it, a resolved counter for comparison, the commit histogram, the per-group currency gauges,
// and a /metrics scrape.
#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <array>
#include <string_view>

#include "engine/event.h"
#include "metrics/engine_metrics.h"

namespace rms::bench {
namespace {

metrics::EngineMetrics& Shared() {
    static metrics::EngineMetrics m;
    return m;
}

// EngineMetrics::CountEvents(type, result): what the engine calls once per answered event.
void BM_CountEvents(benchmark::State& state) {
    metrics::EngineMetrics& m = Shared();
    for (auto _ : state) {
        m.CountEvents("invoice.issued", "ok");
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CountEvents);
BENCHMARK(BM_CountEvents)->Threads(2);

// The same count made once per group of 1,000 events of one type.
void BM_CountEventsPerGroup(benchmark::State& state) {
    metrics::EngineMetrics& m = Shared();
    for (auto _ : state) {
        m.CountEvents("payment.received", "ok", 1000);
    }
    state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_CountEventsPerGroup);

// A prometheus counter resolved once and incremented: the floor for a per-event count.
void BM_ResolvedCounterIncrement(benchmark::State& state) {
    static prometheus::Registry registry;
    static prometheus::Counter& c = prometheus::BuildCounter()
                                        .Name("bench_events_total")
                                        .Help("bench")
                                        .Register(registry)
                                        .Add({{"type", "invoice.issued"}, {"result", "ok"}});
    for (auto _ : state) {
        c.Increment();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResolvedCounterIncrement);

void BM_ObserveCommit(benchmark::State& state) {
    metrics::EngineMetrics& m = Shared();
    double v = 0.0001;
    for (auto _ : state) {
        m.ObserveCommit(v);
        v = v < 0.5 ? v * 1.3 : 0.0001;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ObserveCommit);

// The gauges of one currency, set after every group commit.
void BM_SetCurrency(benchmark::State& state) {
    metrics::EngineMetrics& m = Shared();
    metrics::CurrencyGauges g;
    g.dso_standard = 41.5;
    g.dso_best_possible = 30.1;
    g.add = 11.4;
    for (auto _ : state) {
        g.overdue += 1;
        m.SetCurrency("USD", g);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SetCurrency);

// A /metrics scrape with a counter for every event type and a handful of results.
void BM_SerializeMetrics(benchmark::State& state) {
    metrics::EngineMetrics m;
    constexpr std::array<std::string_view, 5> kResults = {"ok", "duplicate", "unknown_customer",
                                                          "invalid_amount", "conflict"};
    for (int t = 0; t < kEventTypeCount; ++t) {
        for (std::string_view r : kResults) {
            m.CountEvents(EventTypeName(static_cast<EventType>(t)), r);
        }
    }
    for (std::string_view c : {"USD", "EUR", "GBP"}) {
        m.SetCurrency(c, metrics::CurrencyGauges{});
    }
    size_t bytes = 0;
    for (auto _ : state) {
        std::string text = m.Serialize();
        bytes = text.size();
        benchmark::DoNotOptimize(text);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SerializeMetrics)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rms::bench
