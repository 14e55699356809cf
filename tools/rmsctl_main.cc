// rmsctl: the command-line client of rmsd.
//   rmsctl replay --format ibm FILE [--to HOST:PORT] [--window N] [--until D]
//                                                                   the IBM sample as events
//   rmsctl send FILE.ndjson [--to HOST:PORT] [--window N]           raw NDJSON lines
//   rmsctl kpis [--http HOST:PORT] [--history FROM TO]              KPI tables
//   rmsctl export-history --openmetrics --from D --to D [--http HOST:PORT] [-o FILE]
//                                                                   daily KPIs for promtool
// Exit codes: 0 success, 1 an answer was an error (other than duplicate) or the engine could not
// be reached or answered badly, 2 bad arguments or input.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/date.h"
#include "engine/event.h"
#include "tools/answer_tally.h"
#include "tools/client.h"
#include "tools/export_history.h"
#include "tools/ibm_events.h"
#include "tools/kpi_table.h"
#include "tools/progress_bar.h"

namespace rms {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr size_t kProgressWidth = 40;

int Fail(int exit_code, const Status& status) {
    std::fprintf(stderr, "rmsctl: %s: %s\n", status.code().c_str(), status.message().c_str());
    return exit_code;
}

// Redraws a progress bar on stderr when it is a terminal, at most once per percent.
class Progress {
public:
    explicit Progress(size_t total) : total_(total), enabled_(isatty(STDERR_FILENO) == 1) {}

    void Update(size_t done) {
        size_t percent = total_ == 0 ? 100 : done * 100 / total_;
        if (!enabled_ || (percent == last_percent_ && done != total_)) {
            return;
        }
        last_percent_ = percent;
        std::fprintf(stderr, "\r%s", RenderProgressBar(done, total_, kProgressWidth).c_str());
    }

    void Finish() {
        if (enabled_ && last_percent_ != kNone) {
            std::fputc('\n', stderr);
        }
    }

private:
    static constexpr size_t kNone = static_cast<size_t>(-1);

    size_t total_;
    bool enabled_;
    size_t last_percent_ = kNone;
};

// Sends `lines` to the ingest address `to`, pipelined, and prints the summary of the answers.
int SendAndSummarise(const std::vector<std::string>& lines, const std::string& to, size_t window) {
    auto address = ParseHostPort(to);
    if (!address.ok()) {
        return Fail(kExitUsage, address.status());
    }
    auto client = LineClient::Connect(address->first, address->second);
    if (!client.ok()) {
        return Fail(kExitFailed, client.status());
    }

    std::vector<std::string> types;
    types.reserve(lines.size());
    for (const std::string& line : lines) {
        types.push_back(EventTypeOf(line));
    }
    AnswerTally tally;
    Progress progress(lines.size());
    Status sent = SendPipelined(*client, lines, window, [&](size_t k, std::string_view answer) {
        tally.Add(types[k], answer);
        progress.Update(k + 1);
    });
    progress.Finish();
    for (size_t k = static_cast<size_t>(tally.answered()); k < lines.size(); ++k) {
        tally.AddUnanswered(types[k]);
    }

    std::fputs(tally.Summary().c_str(), stdout);
    if (!sent.ok()) {
        return Fail(kExitFailed, sent);
    }
    return tally.HasErrors() ? kExitFailed : kExitOk;
}

// Replays the sample; with `until`, only the events dated on or before that day (the sample as
// it stood then, with invoices still open).
int Replay(const std::string& file, const std::string& to, size_t window,
           const std::string& until) {
    std::optional<Date> last;
    if (!until.empty()) {
        Result<Date> parsed = ParseDate(until);
        if (!parsed.ok()) {
            return Fail(kExitUsage, parsed.status());
        }
        last = *parsed;
    }
    auto csv = ReadFile(file);
    if (!csv.ok()) {
        return Fail(kExitUsage, csv.status());
    }
    auto events = IbmSampleToEvents(*csv);
    if (!events.ok()) {
        return Fail(kExitUsage, events.status());
    }
    std::vector<std::string> lines = std::move(events).value();
    if (last) {
        // The events come in date order: keep the prefix up to `last`.
        auto past = std::find_if(lines.begin(), lines.end(), [&](const std::string& line) {
            ParsedLine parsed = ParseEvent(line);
            return parsed.status.ok() && *last < parsed.event.date;
        });
        lines.erase(past, lines.end());
    }
    return SendAndSummarise(lines, to, window);
}

// Sends the lines of an NDJSON file as they are; blank lines are left out, as they would get no
// answer.
int Send(const std::string& file, const std::string& to, size_t window) {
    auto text = ReadFile(file);
    if (!text.ok()) {
        return Fail(kExitUsage, text.status());
    }
    std::vector<std::string> lines;
    std::string_view rest = *text;
    while (!rest.empty()) {
        size_t end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
            lines.emplace_back(line);
        }
    }
    return SendAndSummarise(lines, to, window);
}

int Kpis(const std::string& http, const std::vector<std::string>& history) {
    auto address = ParseHostPort(http);
    if (!address.ok()) {
        return Fail(kExitUsage, address.status());
    }
    std::string target = "/v1/kpis";
    if (!history.empty()) {
        for (const std::string& date : history) {
            if (auto parsed = ParseDate(date); !parsed.ok()) {
                return Fail(kExitUsage, parsed.status());
            }
        }
        target = "/v1/kpis/history?from=" + history[0] + "&to=" + history[1];
    }

    auto response = HttpGet(address->first, address->second, target);
    if (!response.ok()) {
        return Fail(kExitFailed, response.status());
    }
    if (response->status != 200) {
        std::fprintf(stderr, "rmsctl: GET %s answered %d: %s\n", target.c_str(), response->status,
                     response->body.c_str());
        return kExitFailed;
    }
    auto table =
        history.empty() ? FormatKpiTable(response->body) : FormatKpiHistoryTable(response->body);
    if (!table.ok()) {
        return Fail(kExitFailed, table.status());
    }
    std::fputs(table->c_str(), stdout);
    return kExitOk;
}

// Writes the closed days FROM..TO as OpenMetrics with business-date timestamps, to `output` or
// stdout when it is "-". A long range is asked for in pages of at most the query API's limit.
int ExportHistory(const std::string& http, const std::string& from, const std::string& to,
                  const std::string& output) {
    auto address = ParseHostPort(http);
    if (!address.ok()) {
        return Fail(kExitUsage, address.status());
    }
    Result<Date> first = ParseDate(from);
    Result<Date> last = ParseDate(to);
    if (!first.ok() || !last.ok()) {
        return Fail(kExitUsage, first.ok() ? last.status() : first.status());
    }
    if (*last < *first) {
        return Fail(kExitUsage,
                    Status::Error("invalid_date", "--from " + from + " is after --to " + to));
    }

    HistoryExport history;
    for (Date page = *first; page <= *last;
         page = page.AddDays(HistoryExport::kMaxDaysPerRequest)) {
        Date page_end = std::min(*last, page.AddDays(HistoryExport::kMaxDaysPerRequest - 1));
        std::string target =
            "/v1/kpis/history?from=" + page.ToString() + "&to=" + page_end.ToString();
        auto response = HttpGet(address->first, address->second, target, 60000);
        if (!response.ok()) {
            return Fail(kExitFailed, response.status());
        }
        if (response->status != 200) {
            std::fprintf(stderr, "rmsctl: GET %s answered %d: %s\n", target.c_str(),
                         response->status, response->body.c_str());
            return kExitFailed;
        }
        if (Status s = history.AddPage(response->body); !s.ok()) {
            return Fail(kExitFailed, s);
        }
    }
    std::string text = history.OpenMetrics();

    if (output == "-") {
        std::fwrite(text.data(), 1, text.size(), stdout);
        return std::fflush(stdout) == 0 ? kExitOk : kExitFailed;
    }
    std::ofstream file(output, std::ios::binary | std::ios::trunc);
    file.write(text.data(), static_cast<std::streamsize>(text.size()));
    file.close();
    if (!file) {
        return Fail(kExitFailed, Status::Error("io_error", "cannot write " + output));
    }
    return kExitOk;
}

}  // namespace
}  // namespace rms

int main(int argc, char** argv) {
    CLI::App app{"rmsctl: send events to rmsd and read its KPIs"};
    app.require_subcommand(1);

    std::string to = "127.0.0.1:7400";
    size_t window = 1000;
    std::string format;
    std::string replay_file;
    CLI::App* replay = app.add_subcommand("replay", "Replay a data set as protocol events");
    replay->add_option("--format", format, "Data set format")
        ->required()
        ->check(CLI::IsMember({"ibm"}));
    replay->add_option("file", replay_file, "The data set (CSV)")->required();
    replay->add_option("--to", to, "rmsd ingest address")->capture_default_str();
    replay->add_option("--window", window, "Lines in flight")->capture_default_str();
    std::string replay_until;
    replay->add_option("--until", replay_until,
                       "Send only the events dated on or before this day (YYYY-MM-DD)");

    std::string send_file;
    CLI::App* send = app.add_subcommand("send", "Send the lines of an NDJSON file as they are");
    send->add_option("file", send_file, "The NDJSON file")->required();
    send->add_option("--to", to, "rmsd ingest address")->capture_default_str();
    send->add_option("--window", window, "Lines in flight")->capture_default_str();

    std::string http = "127.0.0.1:8080";
    std::vector<std::string> history;
    CLI::App* kpis = app.add_subcommand("kpis", "Print the KPIs, or their daily history");
    kpis->add_option("--http", http, "rmsd query API address")->capture_default_str();
    kpis->add_option("--history", history, "Closed days FROM TO (YYYY-MM-DD), inclusive")
        ->expected(2);

    std::string from, until, output = "-";
    bool openmetrics = false;
    CLI::App* export_history = app.add_subcommand(
        "export-history", "Write the daily KPI history with business-date timestamps");
    export_history->add_flag("--openmetrics", openmetrics, "OpenMetrics text (the only format)")
        ->required();
    export_history->add_option("--http", http, "rmsd query API address")->capture_default_str();
    export_history->add_option("--from", from, "First closed day (YYYY-MM-DD)")->required();
    export_history->add_option("--to", until, "Last closed day (YYYY-MM-DD), inclusive")
        ->required();
    export_history->add_option("-o,--output", output, "Output file, - for stdout")
        ->capture_default_str();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? rms::kExitOk : rms::kExitUsage;
    }

    if (replay->parsed()) {
        return rms::Replay(replay_file, to, window, replay_until);
    }
    if (send->parsed()) {
        return rms::Send(send_file, to, window);
    }
    if (export_history->parsed()) {
        return rms::ExportHistory(http, from, until, output);
    }
    return rms::Kpis(http, history);
}
