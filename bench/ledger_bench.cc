// Ledger::Apply per event type, a day rollover over many open invoices, and the worklist query,
// on ledgers built from the load generator's stream. Parsing is done before the timed loop.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>

#include "bench/bench_fixtures.h"

namespace rms::bench {
namespace {

constexpr uint32_t kCustomers = 20000;
constexpr uint64_t kInvoices = 200000;
constexpr int32_t kDays = 45;

const std::vector<std::string>& Lines() {
    static const std::vector<std::string> lines =
        StreamLines(Options(kCustomers, kInvoices, kDays));
    return lines;
}

// Applies `events` in order, one per iteration, to a ledger that `make` builds; the dirty set is
// taken every 1,000 events, as the engine's group commit does.
template <typename Make>
void RunApply(benchmark::State& state, const std::vector<Event>& events, Make make) {
    uint64_t seq = 0;
    std::unique_ptr<Ledger> ledger = make(&seq);
    size_t i = 0;
    uint64_t rejected = 0;
    for (auto _ : state) {
        if (i == events.size()) {
            state.PauseTiming();
            ledger = make(&seq);
            i = 0;
            state.ResumeTiming();
        }
        Status s = ledger->Apply(events[i++], seq++);
        rejected += s.ok() ? 0 : 1;
        if (seq % 1000 == 0) {
            benchmark::DoNotOptimize(ledger->TakeDirty());
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["rejected"] = static_cast<double>(rejected);
}

void BM_ApplyInvoiceIssued(benchmark::State& state) {
    static const std::vector<Event> invoices = ParsedOfType(Lines(), EventType::kInvoiceIssued);
    static const std::vector<std::string> customers = [] {
        std::vector<std::string> out(Lines().begin(), Lines().begin() + kCustomers);
        return out;
    }();
    RunApply(state, invoices, [](uint64_t* seq) { return BuildLedger(customers, seq); });
}
BENCHMARK(BM_ApplyInvoiceIssued)->Iterations(150000);

// Payments (with one allocation each) onto a ledger that holds everything else of the stream.
void BM_ApplyPaymentReceived(benchmark::State& state) {
    static const std::vector<Event> payments = ParsedOfType(Lines(), EventType::kPaymentReceived);
    RunApply(state, payments,
             [](uint64_t* seq) { return BuildLedger(Lines(), seq, EventType::kPaymentReceived); });
}
BENCHMARK(BM_ApplyPaymentReceived)->Iterations(60000);

// The whole stream in order: its mix of customers, invoices, payments, credit notes, disputes,
// calls and promises, with the business date moving day by day.
void BM_ApplyStreamMix(benchmark::State& state) {
    static const std::vector<Event> events = [] {
        std::vector<Event> out;
        for (const std::string& l : Lines()) {
            out.push_back(ParseEvent(l).event);
        }
        return out;
    }();
    RunApply(state, events, [](uint64_t*) { return std::make_unique<Ledger>(); });
}
BENCHMARK(BM_ApplyStreamMix)->Iterations(300000);

// One day rollover (a clock.advanced event one day on) with `open_invoices` open invoices of
// open_invoices / 10 customers, issued over 30 days; 60 rollovers in a row, so that every
// invoice falls due on one of them and the collections steps after due come too.
void BM_DayRollover(benchmark::State& state) {
    uint64_t n = static_cast<uint64_t>(state.range(0));
    loadgen::StreamOptions o = Options(static_cast<uint32_t>(n / 10), n, 30);
    o.partial_percent = 0;
    uint64_t seq = 0;
    std::unique_ptr<Ledger> ledger;
    {
        std::vector<std::string> lines = StreamLines(o);
        ledger = BuildLedger(lines, &seq);
    }
    uint64_t open = 0;
    for (const InvoiceRec& inv : ledger->invoices()) {
        open += inv.open() > 0 ? 1 : 0;
    }
    Date day = *ledger->business_date();
    double max_ms = 0;
    size_t actions_before = ledger->actions().size();
    for (auto _ : state) {
        day = day.AddDays(1);
        Event e = ClockEvent(day);
        auto start = std::chrono::steady_clock::now();
        Status s = ledger->Apply(e, seq++);
        benchmark::DoNotOptimize(ledger->TakeDirty());
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
        max_ms = std::max(max_ms, ms);
        if (!s.ok()) {
            state.SkipWithError(s.message().c_str());
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["open_invoices"] = static_cast<double>(open);
    state.counters["max_ms"] = max_ms;
    state.counters["actions_per_day"] =
        static_cast<double>(ledger->actions().size() - actions_before) /
        static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}
BENCHMARK(BM_DayRollover)
    ->ArgName("open_invoices")
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Iterations(60)
    ->Unit(benchmark::kMillisecond);

// The worklist's top 50 over `customers` customers (ten invoices each, issued over 30 days, then
// 40 days rolled so that most are overdue).
void BM_WorklistTop50(benchmark::State& state) {
    uint64_t customers = static_cast<uint64_t>(state.range(0));
    uint64_t seq = 0;
    std::unique_ptr<Ledger> ledger;
    {
        std::vector<std::string> lines =
            StreamLines(Options(static_cast<uint32_t>(customers), customers * 10, 30));
        ledger = BuildLedger(lines, &seq);
    }
    Date day = *ledger->business_date();
    for (int i = 0; i < 40; ++i) {
        day = day.AddDays(1);
        static_cast<void>(ledger->Apply(ClockEvent(day), seq++));
        static_cast<void>(ledger->TakeDirty());
    }
    for (auto _ : state) {
        auto top = ledger->Worklist(50, "", "");
        benchmark::DoNotOptimize(top);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["on_worklist"] = static_cast<double>(ledger->worklist_size());
}
BENCHMARK(BM_WorklistTop50)
    ->ArgName("customers")
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rms::bench
