// Parsing and validating one event line (ParseEvent: JSON, duplicate keys, fields, canonical form
// and its hash), by event type, on lines from the load generator's stream.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <array>

#include "bench/bench_fixtures.h"

namespace rms::bench {
namespace {

const std::vector<std::string>& Lines() {
    static const std::vector<std::string> lines = StreamLines(Options(20000, 200000, 45));
    return lines;
}

std::vector<std::string> LinesOfType(EventType type) {
    std::vector<std::string> out;
    for (const std::string& l : Lines()) {
        if (ParseEvent(l).event.type == type) {
            out.push_back(l);
        }
    }
    return out;
}

void RunParse(benchmark::State& state, const std::vector<std::string>& lines) {
    size_t i = 0;
    int64_t bytes = 0;
    for (auto _ : state) {
        const std::string& line = lines[i];
        ParsedLine p = ParseEvent(line);
        benchmark::DoNotOptimize(p);
        bytes += static_cast<int64_t>(line.size());
        if (++i == lines.size()) {
            i = 0;
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(bytes);
}

void BM_ParseEvent(benchmark::State& state) {
    static const std::array<std::vector<std::string>, 4> by_type = {
        LinesOfType(EventType::kCustomerUpserted), LinesOfType(EventType::kInvoiceIssued),
        LinesOfType(EventType::kPaymentReceived), LinesOfType(EventType::kDisputeOpened)};
    RunParse(state, by_type[static_cast<size_t>(state.range(0))]);
}
// type: 0 customer.upserted, 1 invoice.issued, 2 payment.received, 3 dispute.opened
BENCHMARK(BM_ParseEvent)->ArgName("type")->DenseRange(0, 3);

// The stream's own mix of types.
void BM_ParseEventStreamMix(benchmark::State& state) {
    RunParse(state, Lines());
}
BENCHMARK(BM_ParseEventStreamMix);

// Only the JSON parse of the same lines (simdjson DOM, padded copy), to split parse from the
// field checks and the canonical form.
void BM_SimdjsonDomOnly(benchmark::State& state) {
    const std::vector<std::string>& lines = Lines();
    simdjson::dom::parser parser;
    size_t i = 0;
    for (auto _ : state) {
        simdjson::dom::element doc;
        auto err = parser.parse(lines[i].data(), lines[i].size()).get(doc);
        benchmark::DoNotOptimize(err);
        if (++i == lines.size()) {
            i = 0;
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SimdjsonDomOnly);

}  // namespace
}  // namespace rms::bench
