// Inputs for the micro-benchmarks: event lines from the load generator's stream (so they have
// the shape and mix of the end-to-end runs) and ledgers built from them.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/event.h"
#include "engine/ledger.h"
#include "tools/ibm_events.h"
#include "tools/loadgen_stream.h"

namespace rms::bench {

// The IBM sample's distributions, read once from the source tree.
inline const loadgen::IbmProfile& Profile() {
    static const loadgen::IbmProfile profile = [] {
        Result<std::string> csv = ReadFile(RMS_SOURCE_DIR "/data/ibm-accounts-receivable.csv");
        Result<loadgen::IbmProfile> p =
            csv.ok() ? loadgen::IbmProfileFromCsv(*csv) : Result<loadgen::IbmProfile>(csv.status());
        if (!p.ok()) {
            std::fprintf(stderr, "bench: %s\n", p.status().message().c_str());
            std::abort();
        }
        return *p;
    }();
    return profile;
}

inline loadgen::StreamOptions Options(uint32_t customers, uint64_t invoices, int32_t days) {
    loadgen::StreamOptions o;
    o.customers = customers;
    o.invoices = invoices;
    o.days = days;
    return o;
}

inline std::vector<std::string> StreamLines(const loadgen::StreamOptions& options) {
    loadgen::StreamGenerator gen(Profile(), options);
    std::vector<std::string> lines;
    std::string line;
    while (gen.Next(&line)) {
        lines.push_back(std::move(line));
        line.clear();
    }
    return lines;
}

// The lines of one event type, parsed.
inline std::vector<Event> ParsedOfType(const std::vector<std::string>& lines, EventType type) {
    std::vector<Event> out;
    for (const std::string& l : lines) {
        ParsedLine p = ParseEvent(l);
        if (p.status.ok() && p.event.type == type) {
            out.push_back(std::move(p.event));
        }
    }
    return out;
}

// A ledger holding every event of `lines` except those of type `skip`; aborts on a rejection,
// which would mean the stream and the ledger disagree.
inline std::unique_ptr<Ledger> BuildLedger(const std::vector<std::string>& lines, uint64_t* seq,
                                           std::optional<EventType> skip = std::nullopt) {
    auto ledger = std::make_unique<Ledger>();
    for (const std::string& l : lines) {
        ParsedLine p = ParseEvent(l);
        if (skip && p.event.type == *skip) {
            continue;
        }
        Status s = p.status.ok() ? ledger->Apply(p.event, (*seq)++) : p.status;
        if (!s.ok()) {
            std::fprintf(stderr, "bench: %s rejected: %s\n", p.event.id.c_str(),
                         s.message().c_str());
            std::abort();
        }
        if (*seq % 1000 == 0) {
            static_cast<void>(ledger->TakeDirty());
        }
    }
    static_cast<void>(ledger->TakeDirty());
    return ledger;
}

// A parsed clock.advanced event on `date`.
inline Event ClockEvent(Date date) {
    std::string d = date.ToString();
    ParsedLine p =
        ParseEvent("{\"id\":\"clock-" + d +
                   "\",\"type\":\"clock.advanced\",\"source\":\"bench\",\"date\":\"" + d + "\"}");
    return std::move(p.event);
}

}  // namespace rms::bench
