// rms-loadgen: writes a seeded event stream shaped by the IBM sample, and drives rmsd with it.
//
//   rms-loadgen generate --customers N --invoices M --days D --seed S --out stream.ndjson
//   rms-loadgen drive --stream stream.ndjson --to 127.0.0.1:7400 [--http 127.0.0.1:8080]
//                     [--connections 4] [--window 8192] [--rate 500000] [--rmsd-pid PID]
//
// Both print "key value" lines (and append them to --report FILE), which bench/run-all reads.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "bench/bench_util.h"
#include "engine/event.h"
#include "tools/client.h"
#include "tools/ibm_events.h"
#include "tools/loadgen_driver.h"
#include "tools/loadgen_stream.h"

namespace {

using rms::Status;
using rms::bench::Report;

int Fail(const Status& s) {
    std::fprintf(stderr, "rms-loadgen: %s: %s\n", s.code().c_str(), s.message().c_str());
    return 1;
}

struct GenerateArgs {
    std::string ibm = "data/ibm-accounts-receivable.csv";
    std::string out;
    std::string report;
    rms::loadgen::StreamOptions stream;
};

int Generate(GenerateArgs& args) {
    rms::Result<std::string> csv = rms::ReadFile(args.ibm);
    if (!csv.ok()) {
        return Fail(csv.status());
    }
    rms::Result<rms::loadgen::IbmProfile> profile = rms::loadgen::IbmProfileFromCsv(*csv);
    if (!profile.ok()) {
        return Fail(profile.status());
    }
    std::FILE* f = std::fopen(args.out.c_str(), "wb");
    if (f == nullptr) {
        return Fail(Status::Error("io_error", "cannot create " + args.out));
    }
    auto start = std::chrono::steady_clock::now();
    rms::loadgen::StreamGenerator gen(*profile, args.stream);
    std::string buf;
    while (gen.Next(&buf)) {
        buf.push_back('\n');
        if (buf.size() >= (1 << 20)) {
            std::fwrite(buf.data(), 1, buf.size(), f);
            buf.clear();
        }
    }
    std::fwrite(buf.data(), 1, buf.size(), f);
    if (std::fclose(f) != 0) {
        return Fail(Status::Error("io_error", "cannot write " + args.out));
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const rms::loadgen::StreamSummary& s = gen.summary();
    Report r;
    r.AddInt("stream.customers", args.stream.customers);
    r.AddInt("stream.events", s.events);
    r.AddInt("stream.bytes", s.bytes);
    r.AddInt("stream.invoices", s.invoices);
    r.AddInt("stream.open_invoices", s.open_invoices);
    r.AddInt("stream.days", static_cast<uint64_t>(args.stream.days));
    r.AddInt("stream.seed", args.stream.seed);
    r.AddText("stream.last_date", s.last_date.ToString());
    for (int t = 0; t < rms::kEventTypeCount; ++t) {
        if (s.by_type[t] != 0) {
            r.AddInt(
                "stream.type." + std::string(rms::EventTypeName(static_cast<rms::EventType>(t))),
                s.by_type[t]);
        }
    }
    r.Add("stream.generate_seconds", secs);
    Status w = r.Write(args.report);
    return w.ok() ? 0 : Fail(w);
}

struct DriveArgs {
    std::string stream;
    std::string to;
    std::string http;
    std::string report;
    std::string timeline;
    std::string label = "e2e";
    int rmsd_pid = 0;
    bool rollover = false;
    rms::loadgen::DriveOptions options;
};

void AddPercentiles(Report* r, const std::string& key, rms::loadgen::Percentiles p) {
    r->Add(key + ".p50_us", p.p50);
    r->Add(key + ".p99_us", p.p99);
    r->Add(key + ".p999_us", p.p999);
    r->Add(key + ".max_us", p.max);
    r->AddInt(key + ".count", p.count);
}

rms::loadgen::Percentiles PercentilesOf(const std::vector<double>& us) {
    std::vector<uint32_t> v;
    for (double x : us) {
        v.push_back(static_cast<uint32_t>(std::min(x, 4e9)));
    }
    return rms::loadgen::ComputePercentiles(&v);
}

// The business date of the stream's last line: the date the stream ends on.
std::optional<rms::Date> LastDate(std::string_view stream) {
    while (!stream.empty() && stream.back() == '\n') {
        stream.remove_suffix(1);
    }
    std::string_view last = stream.substr(stream.rfind('\n') + 1);
    size_t at = last.find("\"date\":\"");
    if (at == std::string_view::npos) {
        return std::nullopt;
    }
    rms::Result<rms::Date> d = rms::ParseDate(last.substr(at + 8, 10));
    return d.ok() ? std::optional<rms::Date>(*d) : std::nullopt;
}

// GETs /v1/kpis and /v1/worklist every 10 ms and /metrics every 100 ms while the load runs: a
// quick run lasts about a second, and a p99 needs about a hundred samples to mean anything.
class Prober {
public:
    Prober(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {
        thread_ = std::thread([this] { Run(); });
    }
    ~Prober() { Stop(); }
    void Stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    std::vector<double> kpis, worklist, metrics;

private:
    void Run() {
        for (int tick = 0; !stop_; ++tick) {
            auto k = rms::loadgen::TimeGets(host_, port_, "/v1/kpis", 1);
            if (k.ok()) {
                kpis.push_back((*k)[0]);
            }
            auto w = rms::loadgen::TimeGets(host_, port_, "/v1/worklist?limit=50", 1);
            if (w.ok()) {
                worklist.push_back((*w)[0]);
            }
            if (tick % 10 == 0) {
                auto m = rms::loadgen::TimeGets(host_, port_, "/metrics", 1);
                if (m.ok()) {
                    metrics.push_back((*m)[0]);
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    std::string host_;
    uint16_t port_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

int DriveCommand(DriveArgs& args) {
    auto to = rms::ParseHostPort(args.to);
    if (!to.ok()) {
        return Fail(to.status());
    }
    args.options.host = to->first;
    args.options.port = to->second;
    rms::bench::MappedFile file;
    Status opened = file.Open(args.stream);
    if (!opened.ok()) {
        return Fail(opened);
    }
    std::optional<std::pair<std::string, uint16_t>> http;
    if (!args.http.empty()) {
        auto h = rms::ParseHostPort(args.http);
        if (!h.ok()) {
            return Fail(h.status());
        }
        http = *h;
    }
    const std::string& p = args.label;
    Report r;
    rms::loadgen::ProcessMemory before;
    if (args.rmsd_pid > 0) {
        before = rms::loadgen::ReadProcessMemory(args.rmsd_pid);
    }
    std::unique_ptr<Prober> prober;
    if (http) {
        prober = std::make_unique<Prober>(http->first, http->second);
    }
    rms::Result<rms::loadgen::DriveReport> driven = rms::loadgen::Drive(file.view(), args.options);
    if (prober) {
        prober->Stop();
    }
    if (!driven.ok()) {
        return Fail(driven.status());
    }
    const rms::loadgen::DriveReport& d = *driven;
    if (!args.timeline.empty()) {
        std::ofstream t(args.timeline);
        for (size_t i = 0; i < d.per_second.size(); ++i) {
            t << i + 1 << ' ' << d.per_second[i] << '\n';
        }
    }
    r.AddInt(p + ".connections", static_cast<uint64_t>(args.options.connections));
    r.AddInt(p + ".window", args.options.window);
    r.Add(p + ".target_rate", args.options.rate);
    r.AddInt(p + ".events", d.lines);
    r.AddInt(p + ".ok", d.ok);
    r.AddInt(p + ".duplicate", d.duplicate);
    r.AddInt(p + ".errors", d.errors);
    for (const auto& [code, n] : d.error_codes) {
        r.AddInt(p + ".error." + code, n);
    }
    if (!d.first_error.empty()) {
        r.AddText(p + ".first_error", d.first_error.substr(0, 300));
    }
    r.Add(p + ".seconds", d.seconds);
    r.Add(p + ".events_per_second", d.events_per_second);
    r.Add(p + ".median_second_events", d.median_second);
    if (!d.per_second.empty()) {
        r.Add(p + ".min_second_events",
              static_cast<double>(*std::min_element(d.per_second.begin(), d.per_second.end())));
    }
    AddPercentiles(&r, p + ".latency", d.latency);
    r.Add(p + ".client_cpu_seconds", d.client_cpu_seconds);
    if (args.rmsd_pid > 0) {
        rms::loadgen::ProcessMemory after = rms::loadgen::ReadProcessMemory(args.rmsd_pid);
        r.AddInt(p + ".rmsd_rss_before_bytes", before.rss);
        r.AddInt(p + ".rmsd_rss_bytes", after.rss);
        r.AddInt(p + ".rmsd_peak_rss_bytes", after.peak_rss);
    }
    if (prober) {
        AddPercentiles(&r, p + ".kpis_under_load", PercentilesOf(prober->kpis));
        AddPercentiles(&r, p + ".worklist_under_load", PercentilesOf(prober->worklist));
        AddPercentiles(&r, p + ".metrics_under_load", PercentilesOf(prober->metrics));
    }
    if (args.rollover) {
        std::optional<rms::Date> last = LastDate(file.view());
        if (!last) {
            return Fail(Status::Error("invalid_argument", "the stream's last line has no date"));
        }
        std::vector<std::string> lines;
        for (int i = 1; i <= 3; ++i) {
            std::string date = last->AddDays(i).ToString();
            lines.push_back("{\"id\":\"rollover-" + date +
                            "\",\"type\":\"clock.advanced\",\"source\":\"loadgen\",\"date\":\"" +
                            date + "\"}");
        }
        auto rolled = rms::loadgen::TimeSingleEvents(args.options.host, args.options.port, lines);
        if (!rolled.ok()) {
            return Fail(rolled.status());
        }
        r.Add(p + ".rollover_us", *std::max_element(rolled->begin(), rolled->end()));
    }
    if (http) {
        auto kpis = rms::loadgen::TimeGets(http->first, http->second, "/v1/kpis", 200);
        auto metrics = rms::loadgen::TimeGets(http->first, http->second, "/metrics", 20);
        auto customer =
            rms::loadgen::TimeGets(http->first, http->second, "/v1/customers/C0000001", 50);
        if (!kpis.ok() || !metrics.ok()) {
            return Fail(kpis.ok() ? metrics.status() : kpis.status());
        }
        AddPercentiles(&r, p + ".kpis_idle", PercentilesOf(*kpis));
        AddPercentiles(&r, p + ".metrics_idle", PercentilesOf(*metrics));
        if (customer.ok()) {
            AddPercentiles(&r, p + ".customer_idle", PercentilesOf(*customer));
        }
        auto worklist =
            rms::loadgen::TimeGets(http->first, http->second, "/v1/worklist?limit=50", 100);
        if (worklist.ok()) {
            AddPercentiles(&r, p + ".worklist_idle", PercentilesOf(*worklist));
        } else {
            r.AddText(p + ".worklist_error", worklist.status().message());
        }
    }
    Status w = r.Write(args.report);
    if (!w.ok()) {
        return Fail(w);
    }
    return d.errors == 0 ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"rms-loadgen: a seeded receivables event stream, and a driver for rmsd"};
    app.require_subcommand(1);

    GenerateArgs gen;
    CLI::App* g = app.add_subcommand("generate", "Write the event stream to a file");
    g->add_option("--ibm", gen.ibm, "the IBM sample CSV")->check(CLI::ExistingFile);
    g->add_option("--out", gen.out, "the NDJSON file to write")->required();
    g->add_option("--report", gen.report, "append the summary to this file");
    g->add_option("--seed", gen.stream.seed, "random seed");
    g->add_option("--customers", gen.stream.customers, "customers upserted");
    g->add_option("--invoices", gen.stream.invoices, "invoices issued");
    g->add_option("--days", gen.stream.days, "days over which invoices are issued");

    DriveArgs drive;
    CLI::App* d = app.add_subcommand("drive", "Send a stream to rmsd and measure the answers");
    d->add_option("--stream", drive.stream, "the NDJSON stream")->required();
    d->add_option("--to", drive.to, "rmsd's ingest address host:port")->required();
    d->add_option("--http", drive.http, "rmsd's query API host:port, for the query probes");
    d->add_option("--connections", drive.options.connections, "TCP connections");
    d->add_option("--window", drive.options.window, "unanswered lines per connection");
    d->add_option("--rate", drive.options.rate, "events per second in all (0: flat out)");
    d->add_option("--duration", drive.options.duration,
                  "stop sending after this many seconds (0: the whole stream)");
    d->add_option("--rmsd-pid", drive.rmsd_pid, "rmsd's pid, for its RSS");
    d->add_option("--label", drive.label, "prefix of the report keys");
    d->add_option("--report", drive.report, "append the figures to this file");
    d->add_option("--timeline", drive.timeline, "write answers per second to this file");
    d->add_flag("--rollover", drive.rollover, "then time three one-day clock advances");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (g->parsed()) {
        return Generate(gen);
    }
    return DriveCommand(drive);
}
