// rms-baselines: the figures rmsd is compared with, measured on the same stream file.
//
//   rms-baselines inproc --stream S    parse only, then parse + Ledger::Apply: no network, no disk
//   rms-baselines rocks --stream S --db DIR [--group 1000] [--fsync] [--markers-in-memory]
//                                      the engine's own per-event work (markers, apply, encode,
//                                      answers, metrics) in groups, each group's marker read and
//                                      commit done with storage::Store as the engine does them;
//                                      the storage time alone is "RocksDB alone"
//   rms-baselines pg --stream S --conninfo "host=127.0.0.1 port=P dbname=rms user=postgres"
//                                      PostgreSQL with a plain schema, transactions of 1000
//
// Each prints "key value" lines and appends them to --report FILE.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include "bench/bench_util.h"
#include "bench/pg_baseline.h"
#include "engine/engine.h"
#include "engine/event.h"
#include "engine/ledger.h"
#include "engine/ledger_codec.h"
#include "metrics/engine_metrics.h"
#include "storage/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using rms::Status;
using rms::bench::Report;

int Fail(const Status& s) {
    std::fprintf(stderr, "rms-baselines: %s: %s\n", s.code().c_str(), s.message().c_str());
    return 1;
}

double Since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

uint64_t OpenInvoices(const rms::Ledger& ledger) {
    uint64_t open = 0;
    for (const rms::InvoiceRec& inv : ledger.invoices()) {
        open += inv.open() > 0 ? 1 : 0;
    }
    return open;
}

struct Args {
    std::string stream;
    std::string report;
    std::string db;
    std::string conninfo;
    size_t group = 1000;
    bool fsync = false;
    bool pipeline = false;
    bool markers_in_memory = false;
    std::string label;
};

// (b) The in-process ceiling: the stream parsed and applied to a Ledger, nothing else.
int InProcess(const Args& args) {
    rms::bench::MappedFile file;
    Status opened = file.Open(args.stream);
    if (!opened.ok()) {
        return Fail(opened);
    }
    std::string_view text = file.view();
    uint64_t lines = 0;
    uint64_t bad = 0;
    auto start = Clock::now();
    rms::bench::ForEachLine(text, [&](std::string_view line) {
        rms::ParsedLine p = rms::ParseEvent(line);
        ++lines;
        bad += p.status.ok() ? 0 : 1;
    });
    double parse_secs = Since(start);

    uint64_t rss_before = rms::bench::SelfMemory().second;
    auto ledger = std::make_unique<rms::Ledger>();
    uint64_t seq = 1;
    uint64_t rejected = 0;
    std::string first_rejection;
    start = Clock::now();
    rms::bench::ForEachLine(text, [&](std::string_view line) {
        rms::ParsedLine p = rms::ParseEvent(line);
        if (!p.status.ok()) {
            return;
        }
        Status applied = ledger->Apply(p.event, seq);
        if (!applied.ok()) {
            ++rejected;
            if (first_rejection.empty()) {
                first_rejection = p.event.id + ": " + applied.code() + " " + applied.message();
            }
            return;
        }
        // The engine takes the dirty set once per group; keep it as small here.
        if (++seq % args.group == 0) {
            static_cast<void>(ledger->TakeDirty());
        }
    });
    double apply_secs = Since(start);
    static_cast<void>(ledger->TakeDirty());
    auto [hwm, rss] = rms::bench::SelfMemory();
    uint64_t open = OpenInvoices(*ledger);

    Report r;
    r.AddInt("inproc.events", lines);
    r.AddInt("inproc.parse_errors", bad);
    r.AddInt("inproc.rejected", rejected);
    if (!first_rejection.empty()) {
        r.AddText("inproc.first_rejection", first_rejection.substr(0, 300));
    }
    r.Add("inproc.parse_seconds", parse_secs);
    r.Add("inproc.parse_events_per_second", static_cast<double>(lines) / parse_secs);
    r.Add("inproc.seconds", apply_secs);
    r.Add("inproc.events_per_second", static_cast<double>(lines) / apply_secs);
    r.Add("inproc.apply_only_events_per_second",
          static_cast<double>(lines) / std::max(1e-9, apply_secs - parse_secs));
    r.AddInt("inproc.open_invoices", open);
    r.AddInt("inproc.invoices", ledger->invoices().size());
    r.AddInt("inproc.ledger_rss_bytes", rss - rss_before);
    r.Add("inproc.ledger_bytes_per_open_invoice",
          open == 0 ? 0 : static_cast<double>(rss - rss_before) / static_cast<double>(open));
    r.AddInt("inproc.peak_rss_bytes", hwm);
    Status w = r.Write(args.report);
    return w.ok() ? 0 : Fail(w);
}

// (c) The engine's per-event work in groups, each group committed to the store: what rmsd does
// minus the network, the threads and the answer round trip. The commit time alone is RocksDB
// writing the same state changes in the same batches.
int Rocks(const Args& args) {
    rms::bench::MappedFile file;
    Status opened = file.Open(args.stream);
    if (!opened.ok()) {
        return Fail(opened);
    }
    rms::storage::StoreOptions so;
    so.sync = args.fsync;
    auto store = rms::storage::Store::Open(args.db, so);
    if (!store.ok()) {
        return Fail(store.status());
    }
    rms::metrics::EngineMetrics metrics;
    rms::Ledger ledger;
    // Only with --markers-in-memory: the markers are held here and never written.
    std::unordered_set<std::string> markers;
    std::vector<rms::ParsedLine> group;
    std::vector<std::string> answers;
    uint64_t next_seq = 1;
    uint64_t events = 0;
    uint64_t rejected = 0;
    uint64_t batches = 0;
    uint64_t ops = 0;
    uint64_t bytes = 0;
    double commit_secs = 0;
    double read_secs = 0;  // the marker reads alone, part of commit_secs
    Status failed = Status::Ok();

    auto commit = [&] {
        rms::storage::Batch batch;
        answers.clear();
        // As the engine: the group's markers in one read, timed with the write.
        std::vector<std::string> keys;
        for (rms::ParsedLine& p : group) {
            keys.push_back(p.status.ok() ? rms::MarkerKey(p.event.source, p.event.id) : "");
        }
        std::vector<std::optional<std::string>> stored(keys.size());
        if (!args.markers_in_memory) {
            auto t = Clock::now();
            auto got = (*store)->MultiGet(keys);
            read_secs += Since(t);
            commit_secs += Since(t);
            if (!got.ok()) {
                failed = got.status();
                return;
            }
            stored = std::move(got).value();
        }
        std::string block;
        uint64_t first_seq = next_seq;
        for (size_t i = 0; i < group.size(); ++i) {
            rms::ParsedLine& p = group[i];
            if (!p.status.ok()) {
                ++rejected;
                continue;
            }
            rms::Event& e = p.event;
            bool known =
                args.markers_in_memory ? markers.count(keys[i]) != 0 : stored[i].has_value();
            if (!ledger.CheckDate(e).ok() || known) {
                ++rejected;
                continue;
            }
            Status applied = ledger.Apply(e, next_seq);
            if (!applied.ok()) {
                ++rejected;
                metrics.CountEvents(rms::EventTypeName(e.type), applied.code());
                continue;
            }
            if (args.markers_in_memory) {
                // The log block then has to carry the marker keys for a restart to rebuild them.
                rms::AppendLogEntry(&block, keys[i]);
                markers.insert(std::move(keys[i]));
            } else {
                batch.Put(keys[i], rms::EncodeMarker(rms::Marker{next_seq, e.content_hash}));
            }
            rms::AppendLogEntry(&block, e.canonical);
            ++next_seq;
            metrics.CountEvents(rms::EventTypeName(e.type), "ok");
            answers.push_back(rms::OkAnswer(e.id, false));
        }
        if (!block.empty()) {
            batch.Put(rms::EventLogKey(first_seq), block);
        }
        rms::EncodeDirty(ledger, ledger.TakeDirty(), next_seq, &batch);
        ++batches;
        ops += batch.size();
        bytes += batch.bytes();
        auto t = Clock::now();
        Status s = (*store)->Commit(batch);
        commit_secs += Since(t);
        if (!s.ok() && failed.ok()) {
            failed = s;
        }
        group.clear();
    };

    auto start = Clock::now();
    rms::bench::ForEachLine(file.view(), [&](std::string_view line) {
        ++events;
        group.push_back(rms::ParseEvent(line));
        if (group.size() == args.group) {
            commit();
        }
    });
    if (!group.empty()) {
        commit();
    }
    double total = Since(start);
    if (!failed.ok()) {
        return Fail(failed);
    }
    std::string p = args.label.empty() ? "rocks" : args.label;
    Report r;
    r.AddInt(p + ".events", events);
    r.AddInt(p + ".rejected", rejected);
    r.AddInt(p + ".group", args.group);
    r.AddInt(p + ".fsync", args.fsync ? 1 : 0);
    r.AddInt(p + ".markers_in_memory", args.markers_in_memory ? 1 : 0);
    r.AddInt(p + ".batches", batches);
    r.Add(p + ".ops_per_batch", static_cast<double>(ops) / static_cast<double>(batches));
    r.Add(p + ".bytes_per_batch", static_cast<double>(bytes) / static_cast<double>(batches));
    r.Add(p + ".ops_per_event", static_cast<double>(ops) / static_cast<double>(events));
    r.Add(p + ".seconds", total);
    r.Add(p + ".commit_seconds", commit_secs);
    r.Add(p + ".marker_read_seconds", read_secs);
    r.Add(p + ".events_per_second", static_cast<double>(events) / commit_secs);
    r.Add(p + ".puts_per_second", static_cast<double>(ops) / commit_secs);
    r.Add(p + ".engine_cpu_events_per_second",
          static_cast<double>(events) / std::max(1e-9, total - commit_secs));
    r.Add(p + ".with_commit_events_per_second", static_cast<double>(events) / total);
    Status w = r.Write(args.report);
    return w.ok() ? 0 : Fail(w);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"rms-baselines: the figures rmsd is compared with, on the same stream"};
    app.require_subcommand(1);
    Args args;
    auto common = [&](CLI::App* c) {
        c->add_option("--stream", args.stream, "the NDJSON stream")->required();
        c->add_option("--report", args.report, "append the figures to this file");
        c->add_option("--group", args.group, "events per group, batch or transaction");
        c->add_option("--label", args.label, "prefix of the report keys");
    };
    CLI::App* inproc = app.add_subcommand("inproc", "Parse, then parse and apply, in memory");
    common(inproc);
    CLI::App* rocks = app.add_subcommand("rocks", "The engine's work with RocksDB commits");
    common(rocks);
    rocks->add_option("--db", args.db, "a fresh store directory")->required();
    rocks->add_flag("--fsync", args.fsync, "fdatasync every batch");
    rocks->add_flag("--markers-in-memory", args.markers_in_memory,
                    "keep the markers in memory instead of reading and writing them");
    CLI::App* pg = app.add_subcommand("pg", "PostgreSQL with a plain schema");
    common(pg);
    pg->add_option("--conninfo", args.conninfo, "libpq connection string")->required();
    pg->add_flag("--pipeline", args.pipeline, "send each transaction in libpq pipeline mode");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (args.group == 0) {
        args.group = 1;
    }
    if (inproc->parsed()) {
        return InProcess(args);
    }
    if (rocks->parsed()) {
        return Rocks(args);
    }
    rms::Result<rms::bench::Report> r =
        rms::bench::RunPostgres(args.stream, args.conninfo, args.group, args.pipeline,
                                args.label.empty() ? "pg" : args.label);
    if (!r.ok()) {
        return Fail(r.status());
    }
    Status w = r->Write(args.report);
    return w.ok() ? 0 : Fail(w);
}
