// rmsctl: the command-line client of rmsd.
//   rmsctl replay --format ibm FILE [--to HOST:PORT] [--window N] [--until D]
//                                                                   the IBM sample as events
//   rmsctl send FILE.ndjson [--to HOST:PORT] [--window N]           raw NDJSON lines
//     (send and replay take --token-file FILE or $RMS_TOKEN, --tls, --tls-ca, --tls-cert,
//     --tls-key)
//     (kpis, export-history and redeliver take --user, --password-file FILE or
//     $RMS_PASSWORD, and the same TLS options; redeliver also --token-file FILE or $RMS_TOKEN,
//     for an rmsd whose writes need a producer's token)
//   rmsctl redeliver ACTION_ID [--http HOST:PORT]                   send a dead letter again
//   rmsctl hash-token < SECRET                                      SHA-256 hex for the config
//   rmsctl kpis [--http HOST:PORT] [--history FROM TO]              KPI tables
//   rmsctl kpis --cluster HOST:PORT,HOST:PORT,... [--partitions N]  a Kafka cluster's KPIs
//   rmsctl export-history --openmetrics --from D --to D [--http HOST:PORT] [-o FILE]
//                                                                   daily KPIs for promtool
// Exit codes: 0 success, 1 an answer was an error (other than duplicate) or the engine could not
// be reached or answered badly, 2 bad arguments or input.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/auth.h"
#include "engine/date.h"
#include "engine/event.h"
#include "engine/json_writer.h"
#include "tools/answer_tally.h"
#include "tools/client.h"
#include "tools/cluster_kpis.h"
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

// How to reach the ingest port: TLS, and the producer's token (empty: no auth line).
struct IngestAccess {
    TlsClientOptions tls;
    std::string token;
};

// The first line of `path` (without its newline), else the variable `env_name`, else empty.
Result<std::string> ReadSecret(const std::string& path, const char* env_name) {
    if (path.empty()) {
        const char* env = std::getenv(env_name);
        return std::string(env != nullptr ? env : "");
    }
    std::ifstream in(path);
    std::string token;
    if (!in || !std::getline(in, token)) {
        return Status::Error("invalid_argument", "cannot read a secret from " + path);
    }
    if (!token.empty() && token.back() == '\r') {
        token.pop_back();
    }
    return token;
}

// Sends the auth line and checks its answer; the token itself is never printed.
Status Authenticate(LineClient& client, const std::string& token) {
    std::string line;
    JsonWriter w(&line);
    w.BeginObject();
    w.Key("auth");
    w.BeginObject();
    w.Key("token");
    w.String(token);
    w.EndObject();
    w.EndObject();
    line.push_back('\n');
    if (Status s = client.WriteAll(line); !s.ok()) {
        return s;
    }
    Result<std::string> answer = client.ReadLine(30000);
    if (!answer.ok()) {
        return answer.status();
    }
    if (answer->find("\"ok\":true") == std::string::npos) {
        return Status::Error("unauthorized", "rmsd refused the token: " + *answer);
    }
    return Status::Ok();
}

// Sends `lines` to the ingest address `to`, pipelined, and prints the summary of the answers.
int SendAndSummarise(const std::vector<std::string>& lines, const std::string& to, size_t window,
                     const IngestAccess& access) {
    auto address = ParseHostPort(to);
    if (!address.ok()) {
        return Fail(kExitUsage, address.status());
    }
    auto client = LineClient::Connect(address->first, address->second, access.tls);
    if (!client.ok()) {
        return Fail(kExitFailed, client.status());
    }
    if (!access.token.empty()) {
        if (Status s = Authenticate(*client, access.token); !s.ok()) {
            return Fail(kExitFailed, s);
        }
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
int Replay(const std::string& file, const std::string& to, size_t window, const std::string& until,
           const IngestAccess& access) {
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
    return SendAndSummarise(lines, to, window, access);
}

// Sends the lines of an NDJSON file as they are; blank lines are left out, as they would get no
// answer.
int Send(const std::string& file, const std::string& to, size_t window,
         const IngestAccess& access) {
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
    return SendAndSummarise(lines, to, window, access);
}

// Asks every instance of a Kafka cluster for its parts and prints the merged KPI table.
int ClusterKpis(const std::string& instances, int partitions, const HttpOptions& options) {
    std::vector<std::string> answers;
    for (std::string_view rest = instances; !rest.empty();) {
        size_t comma = rest.find(',');
        std::string item(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        auto address = ParseHostPort(item);
        if (!address.ok()) {
            return Fail(kExitUsage, address.status());
        }
        auto response =
            HttpRequest(address->first, address->second, "GET", "/v1/cluster/parts", options);
        if (!response.ok()) {
            return Fail(kExitFailed, response.status());
        }
        if (response->status != 200) {
            std::fprintf(stderr, "rmsctl: %s: GET /v1/cluster/parts answered %d: %s\n",
                         item.c_str(), response->status, response->body.c_str());
            return kExitFailed;
        }
        answers.push_back(std::move(response->body));
    }
    Result<std::string> merged = MergeClusterKpis(answers, partitions);
    if (!merged.ok()) {
        return Fail(kExitFailed, merged.status());
    }
    auto table = FormatKpiTable(*merged);
    if (!table.ok()) {
        return Fail(kExitFailed, table.status());
    }
    std::fputs(table->c_str(), stdout);
    return kExitOk;
}

int Kpis(const std::string& http, const std::vector<std::string>& history,
         const HttpOptions& options) {
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

    auto response = HttpRequest(address->first, address->second, "GET", target, options);
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
                  const std::string& output, HttpOptions options) {
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
        options.timeout_ms = 60000;
        auto response = HttpRequest(address->first, address->second, "GET", target, options);
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

// Asks rmsd to send dead-lettered action `id` again. With a user in `options`, the request
// signs in as that user (rmsd with [[http_users]]); else a token, if any, goes as a bearer
// token (rmsd with [[producers]], whose writes need one).
int Redeliver(const std::string& http, const std::string& id, const std::string& token,
              const HttpOptions& options) {
    auto address = ParseHostPort(http);
    if (!address.ok()) {
        return Fail(kExitUsage, address.status());
    }
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
        return Fail(kExitUsage,
                    Status::Error("invalid_argument", "action id \"" + id + "\" is not a number"));
    }
    HttpCall call;
    call.method = "POST";
    call.target = "/v1/actions/" + id + "/redeliver";
    call.headers = {{"Content-Type", "application/json"}};
    call.body = "{}";
    call.timeout_ms = options.timeout_ms;
    if (options.user.empty() && !token.empty()) {
        call.headers.emplace_back("Authorization", "Bearer " + token);
    }
    auto response = HttpSend(address->first, address->second, call, options);
    if (!response.ok()) {
        return Fail(kExitFailed, response.status());
    }
    if (response->status != 200) {
        std::fprintf(stderr, "rmsctl: POST %s answered %d: %s\n", call.target.c_str(),
                     response->status, response->body.c_str());
        return kExitFailed;
    }
    std::printf("action %s is pending again\n", id.c_str());
    return kExitOk;
}

// Reads one line from stdin and prints its SHA-256 in hex: what the config stores.
int HashToken() {
    std::string secret;
    if (!std::getline(std::cin, secret) || secret.empty()) {
        return Fail(kExitUsage, Status::Error("invalid_argument", "no token on stdin"));
    }
    if (secret.back() == '\r') {
        secret.pop_back();
    }
    std::printf("%s\n", Sha256Hex(secret).c_str());
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

    std::string token_file;
    rms::IngestAccess access;
    for (CLI::App* sub : {replay, send}) {
        sub->add_option("--token-file", token_file,
                        "File whose first line is the producer token (else $RMS_TOKEN)");
        sub->add_flag("--tls", access.tls.enabled, "Connect with TLS (implied by --tls-ca)");
        sub->add_option("--tls-ca", access.tls.ca_file, "PEM CAs to verify rmsd against");
        sub->add_option("--tls-cert", access.tls.cert_file, "PEM client certificate (mutual TLS)");
        sub->add_option("--tls-key", access.tls.key_file, "PEM key of --tls-cert");
    }

    CLI::App* hash_token = app.add_subcommand(
        "hash-token", "Print the SHA-256 (hex) of the token or password on stdin's first line");

    std::string http = "127.0.0.1:8080";
    std::vector<std::string> history;
    CLI::App* kpis = app.add_subcommand("kpis", "Print the KPIs, or their daily history");
    kpis->add_option("--http", http, "rmsd query API address")->capture_default_str();
    kpis->add_option("--history", history, "Closed days FROM TO (YYYY-MM-DD), inclusive")
        ->expected(2);
    std::string cluster;
    int partitions = 0;
    kpis->add_option("--cluster", cluster,
                     "Kafka mode: every instance's HOST:PORT, comma-separated; merges them");
    kpis->add_option("--partitions", partitions,
                     "With --cluster: the topic's partition count, all of which must be owned");

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

    std::string action_id;
    CLI::App* redeliver = app.add_subcommand(
        "redeliver", "Send a dead-lettered action again (after fixing its channel)");
    redeliver->add_option("action_id", action_id, "The action's id (GET /v1/actions)")->required();
    redeliver->add_option("--http", http, "rmsd query API address")->capture_default_str();
    redeliver->add_option("--token-file", token_file,
                          "File whose first line is a producer token (else $RMS_TOKEN), for "
                          "an rmsd whose writes need one");

    std::string password_file;
    rms::HttpOptions http_options;
    for (CLI::App* sub : {kpis, export_history, redeliver}) {
        sub->add_option("--user", http_options.user, "HTTP basic auth user");
        sub->add_option("--password-file", password_file,
                        "File whose first line is the user's password (else $RMS_PASSWORD)");
        sub->add_flag("--tls", http_options.tls.enabled, "Connect with TLS (implied by --tls-ca)");
        sub->add_option("--tls-ca", http_options.tls.ca_file, "PEM CAs to verify rmsd against");
        sub->add_option("--tls-cert", http_options.tls.cert_file,
                        "PEM client certificate (mutual TLS)");
        sub->add_option("--tls-key", http_options.tls.key_file, "PEM key of --tls-cert");
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? rms::kExitOk : rms::kExitUsage;
    }

    if (hash_token->parsed()) {
        return rms::HashToken();
    }
    if (replay->parsed() || send->parsed()) {
        auto token = rms::ReadSecret(token_file, "RMS_TOKEN");
        if (!token.ok()) {
            return rms::Fail(rms::kExitUsage, token.status());
        }
        access.token = std::move(token).value();
        access.tls.enabled = access.tls.enabled || !access.tls.ca_file.empty();
        return replay->parsed() ? rms::Replay(replay_file, to, window, replay_until, access)
                                : rms::Send(send_file, to, window, access);
    }
    auto password = rms::ReadSecret(password_file, "RMS_PASSWORD");
    if (!password.ok()) {
        return rms::Fail(rms::kExitUsage, password.status());
    }
    http_options.password = std::move(password).value();
    http_options.tls.enabled = http_options.tls.enabled || !http_options.tls.ca_file.empty();
    if (redeliver->parsed()) {
        auto token = rms::ReadSecret(token_file, "RMS_TOKEN");
        if (!token.ok()) {
            return rms::Fail(rms::kExitUsage, token.status());
        }
        return rms::Redeliver(http, action_id, *token, http_options);
    }
    if (export_history->parsed()) {
        return rms::ExportHistory(http, from, until, output, http_options);
    }
    if (!cluster.empty()) {
        return rms::ClusterKpis(cluster, partitions, http_options);
    }
    return rms::Kpis(http, history, http_options);
}
