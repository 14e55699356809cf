// End to end with a real Prometheus (Debian's /usr/bin/prometheus, on 127.0.0.1 with its own
// config, port and temp TSDB) scraping a real rmsd every second while the IBM sample is replayed
// in three parts, then a few collections events (promises kept and broken). After each part
// Prometheus's open amount and DSO must equal /v1/kpis; at the end every query of every
// dashboard in deploy/grafana/dashboards must return data, and the alert rules of
// deploy/prometheus/rules must evaluate without error on the real series.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/date.h"
#include "tests/support/rmsd_process.h"
#include "tests/support/shared_data.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"
#include "tools/ibm_events.h"

namespace rms {
namespace {

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kSamplePath[] = RMS_SOURCE_DIR "/data/ibm-accounts-receivable.csv";
constexpr char kDashboardDir[] = RMS_SOURCE_DIR "/deploy/grafana/dashboards";
constexpr char kRulesPath[] = RMS_SOURCE_DIR "/deploy/prometheus/rules/rms_alerts.yml";
constexpr auto kPollInterval = std::chrono::milliseconds(50);
constexpr auto kPrometheusTimeout = std::chrono::seconds(30);

struct Sample {
    std::map<std::string, std::string> labels;
    double value = 0;
};

// A port that is free on 127.0.0.1 now: Prometheus cannot be told to pick one and report it.
uint16_t FreeLoopbackPort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    uint16_t port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    if (fd >= 0) {
        ::close(fd);
    }
    return port;
}

std::string UrlEncode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
        }
    }
    return out;
}

// A Prometheus server child process; SIGTERM and a wait when it goes away.
class PrometheusServer {
public:
    // Writes `config` to dir/prometheus.yml and starts the server with its TSDB in dir/tsdb;
    // waits until /-/ready answers 200. Fails with the log's tail.
    static Result<std::unique_ptr<PrometheusServer>> Start(const std::string& dir,
                                                           const std::string& config) {
        std::ofstream(dir + "/prometheus.yml") << config;
        auto server = std::unique_ptr<PrometheusServer>(new PrometheusServer(dir));
        server->port_ = FreeLoopbackPort();
        std::vector<std::string> args = {
            kPrometheus,
            "--config.file=" + dir + "/prometheus.yml",
            "--storage.tsdb.path=" + dir + "/tsdb",
            "--web.listen-address=127.0.0.1:" + std::to_string(server->port_),
            "--log.level=warn",
        };
        if (Status s = server->Spawn(args); !s.ok()) {
            return s;
        }
        auto deadline = std::chrono::steady_clock::now() + kPrometheusTimeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
                server->pid_ = -1;
                return Status::Error("start_failed", "prometheus exited: " + server->LogTail());
            }
            auto ready = HttpGet("127.0.0.1", server->port_, "/-/ready", 2000);
            if (ready.ok() && ready->status == 200) {
                return server;
            }
            std::this_thread::sleep_for(kPollInterval);
        }
        return Status::Error("start_failed", "prometheus not ready: " + server->LogTail());
    }

    ~PrometheusServer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
    }

    // GET /api/v1/<path>?<query> and the "data" member of a successful answer, as JSON text.
    Result<std::string> Api(const std::string& path_and_query) const {
        auto r = HttpGet("127.0.0.1", port_, "/api/v1/" + path_and_query, 10000);
        if (!r.ok()) {
            return r.status();
        }
        if (r->status != 200) {
            return Status::Error("bad_response",
                                 path_and_query + ": " + std::to_string(r->status) + " " + r->body);
        }
        return r->body;
    }

    // An instant query at the server's now; the samples of its vector result.
    Result<std::vector<Sample>> Query(const std::string& promql) const {
        auto body = Api("query?query=" + UrlEncode(promql));
        if (!body.ok()) {
            return body.status();
        }
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        simdjson::dom::array result;
        std::string_view type;
        if (parser.parse(simdjson::padded_string(*body)).get(root) ||
            root["data"]["resultType"].get_string().get(type) ||
            root["data"]["result"].get_array().get(result)) {
            return Status::Error("bad_response", promql + ": " + *body);
        }
        std::vector<Sample> samples;
        if (type == "scalar") {
            std::string_view v;
            if (root["data"]["result"].at(1).get_string().get(v) == simdjson::SUCCESS) {
                samples.push_back({{}, std::strtod(std::string(v).c_str(), nullptr)});
            }
            return samples;
        }
        for (simdjson::dom::element item : result) {
            Sample s;
            simdjson::dom::object metric;
            if (item["metric"].get_object().get(metric) == simdjson::SUCCESS) {
                for (auto [key, value] : metric) {
                    std::string_view text;
                    if (value.get_string().get(text) == simdjson::SUCCESS) {
                        s.labels[std::string(key)] = std::string(text);
                    }
                }
            }
            std::string_view v;
            if (item["value"].at(1).get_string().get(v)) {
                return Status::Error("bad_response", promql + ": a sample without a value");
            }
            s.value = std::strtod(std::string(v).c_str(), nullptr);
            samples.push_back(std::move(s));
        }
        return samples;
    }

    std::string LogTail() const {
        std::ifstream in(dir_ + "/prometheus.log");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return text.size() > 3000 ? text.substr(text.size() - 3000) : text;
    }

private:
    explicit PrometheusServer(std::string dir) : dir_(std::move(dir)) {}

    Status Spawn(const std::vector<std::string>& args) {
        std::vector<char*> argv;
        for (const std::string& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        std::string log = dir_ + "/prometheus.log";
        pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ < 0) {
            return Status::Error("start_failed", "fork failed");
        }
        if (pid_ == 0) {
            // The server dies with the test, whatever ends it.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) {
                ::_exit(126);
            }
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                ::dup2(fd, STDOUT_FILENO);
                ::dup2(fd, STDERR_FILENO);
            }
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        return Status::Ok();
    }

    std::string dir_;
    pid_t pid_ = -1;
    uint16_t port_ = 0;
};

// The string member `key` of `e`, or "" when it is missing or not a string.
std::string_view StringMember(simdjson::dom::element e, std::string_view key) {
    std::string_view text;
    if (e[key].get_string().get(text)) {
        return "";
    }
    return text;
}

// Every "expr" of every panel target (rows' nested panels included) of every dashboard.
struct PanelQuery {
    std::string where;  // file: panel title / refId
    std::string expr;
};

void CollectQueries(simdjson::dom::array panels, const std::string& file,
                    std::vector<PanelQuery>* out) {
    for (simdjson::dom::element panel : panels) {
        std::string_view title = StringMember(panel, "title");
        simdjson::dom::array targets;
        if (panel["targets"].get_array().get(targets) == simdjson::SUCCESS) {
            for (simdjson::dom::element target : targets) {
                std::string_view expr = StringMember(target, "expr");
                std::string_view ref = StringMember(target, "refId");
                if (!expr.empty()) {
                    out->push_back({file + ": " + std::string(title) + " / " + std::string(ref),
                                    std::string(expr)});
                }
            }
        }
        simdjson::dom::array nested;
        if (panel["panels"].get_array().get(nested) == simdjson::SUCCESS) {
            CollectQueries(nested, file, out);
        }
    }
}

// Grafana's variables as this test sets them: the built-in intervals fixed, every other
// variable ($currency, $instance) matching everything.
std::string Substitute(std::string expr) {
    auto replace_all = [&](std::string_view from, std::string_view to) {
        for (size_t at = expr.find(from); at != std::string::npos; at = expr.find(from, at)) {
            expr.replace(at, from.size(), to);
            at += to.size();
        }
    };
    replace_all("$__rate_interval", "1m");
    replace_all("$__interval", "1s");
    replace_all("$__range", "1m");
    for (size_t at = expr.find('$'); at != std::string::npos; at = expr.find('$', at)) {
        size_t end = at + 1;
        bool braced = end < expr.size() && expr[end] == '{';
        end += braced ? 1 : 0;
        while (end < expr.size() &&
               (std::isalnum(static_cast<unsigned char>(expr[end])) || expr[end] == '_')) {
            ++end;
        }
        end += braced ? 1 : 0;
        expr.replace(at, end - at, ".*");
        at += 2;
    }
    return expr;
}

std::vector<PanelQuery> DashboardQueries() {
    std::vector<PanelQuery> queries;
    for (const auto& entry : std::filesystem::directory_iterator(kDashboardDir)) {
        if (entry.path().extension() != ".json") {
            continue;
        }
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        simdjson::dom::array panels;
        std::string file = entry.path().filename().string();
        if (parser.load(entry.path().string()).get(root) ||
            root["panels"].get_array().get(panels)) {
            ADD_FAILURE() << file << ": not a dashboard";
            continue;
        }
        CollectQueries(panels, file, &queries);
    }
    return queries;
}

// After the replay, at business date `e`: a customer with an invoice open (current) and one
// overdue, a promise kept by a payment and a promise broken by the clock, so that the overdue,
// promise and worklist panels have something to show.
std::vector<std::string> CollectionsTail(Date e) {
    auto day = [&](int n) { return "\"" + e.AddDays(n).ToString() + "\""; };
    return {
        "{\"id\":\"ops-e1\",\"type\":\"customer.upserted\",\"date\":" + day(0) +
            ",\"customer\":\"ops-c1\"}",
        "{\"id\":\"ops-e2\",\"type\":\"invoice.issued\",\"date\":" + day(0) +
            ",\"invoice\":\"ops-i1\",\"customer\":\"ops-c1\",\"amount\":\"500.00\","
            "\"currency\":\"USD\",\"due\":" +
            day(30) + "}",
        "{\"id\":\"ops-e3\",\"type\":\"invoice.issued\",\"date\":" + day(0) +
            ",\"invoice\":\"ops-i2\",\"customer\":\"ops-c1\",\"amount\":\"200.00\","
            "\"currency\":\"USD\",\"due\":" +
            day(0) + "}",
        "{\"id\":\"ops-e4\",\"type\":\"promise.made\",\"date\":" + day(0) +
            ",\"promise\":\"ops-p1\",\"customer\":\"ops-c1\",\"amount\":\"100.00\","
            "\"currency\":\"USD\",\"due\":" +
            day(2) + "}",
        "{\"id\":\"ops-e5\",\"type\":\"payment.received\",\"date\":" + day(1) +
            ",\"payment\":\"ops-pay1\",\"customer\":\"ops-c1\",\"amount\":\"100.00\","
            "\"currency\":\"USD\"}",
        "{\"id\":\"ops-e6\",\"type\":\"promise.made\",\"date\":" + day(2) +
            ",\"promise\":\"ops-p2\",\"customer\":\"ops-c1\",\"amount\":\"50.00\","
            "\"currency\":\"USD\",\"due\":" +
            day(2) + "}",
        "{\"id\":\"ops-e7\",\"type\":\"clock.advanced\",\"date\":" + day(4) + "}",
    };
}

class PrometheusTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (::access(kPrometheus, X_OK) != 0) {
            if (RunningInCi()) {
                FAIL() << kPrometheus << " is missing: tools/install-deps.sh installs prometheus";
            }
            GTEST_SKIP() << kPrometheus << " is missing: tools/install-deps.sh installs it";
        }
        auto dir = TempDir::Create("prometheus");
        ASSERT_TRUE(dir.ok()) << dir.status().message();
        dir_.emplace(std::move(dir).value());
        std::filesystem::create_directories(dir_->Path("prometheus"));

        auto rmsd = RmsdProcess::Start(dir_->Path("data"));
        ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
        rmsd_ = std::move(rmsd).value();

        std::string config =
            "global:\n"
            "  scrape_interval: 1s\n"
            "  scrape_timeout: 1s\n"
            "  evaluation_interval: 1s\n"
            "rule_files:\n"
            "  - " +
            std::string(kRulesPath) +
            "\n"
            "scrape_configs:\n"
            "  - job_name: rms\n"
            "    static_configs:\n"
            "      - targets: ['127.0.0.1:" +
            std::to_string(rmsd_->http_port()) + "']\n";
        // The port was free a moment ago; another process may take it first, so try again.
        for (int attempt = 0; attempt < 3 && prometheus_ == nullptr; ++attempt) {
            auto prom = PrometheusServer::Start(dir_->Path("prometheus"), config);
            if (prom.ok()) {
                prometheus_ = std::move(prom).value();
            } else if (attempt == 2) {
                FAIL() << prom.status().message();
            }
        }
    }

    // Sends `lines` on one connection and returns how many were answered; `oks` counts the
    // answers that are "ok":true.
    size_t Send(const std::vector<std::string>& lines, size_t* oks = nullptr) {
        auto client = LineClient::Connect("127.0.0.1", rmsd_->ingest_port());
        EXPECT_TRUE(client.ok()) << client.status().message();
        if (!client.ok()) {
            return 0;
        }
        size_t answered = 0;
        Status s = SendPipelined(*client, lines, 1000, [&](size_t, std::string_view answer) {
            ++answered;
            if (oks != nullptr && answer.find("\"ok\":true") != std::string_view::npos) {
                ++*oks;
            }
        });
        EXPECT_TRUE(s.ok()) << s.message();
        return answered;
    }

    // Waits until Prometheus holds a scrape that began after every answer so far was received,
    // so that it shows the state /v1/kpis shows now.
    void AwaitScrapeAfterNow() {
        double now =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        auto deadline = std::chrono::steady_clock::now() + kPrometheusTimeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto stamp = prometheus_->Query("timestamp(rms_ready{job=\"rms\"})");
            if (stamp.ok() && !stamp->empty() && stamp->front().value > now) {
                return;
            }
            std::this_thread::sleep_for(kPollInterval);
        }
        FAIL() << "no scrape after " << now << " within 30 s\n" << prometheus_->LogTail();
    }

    Result<std::optional<double>> KpiValue(simdjson::dom::element figures, const char* key) {
        simdjson::dom::element v;
        if (figures[key].get(v)) {
            return Status::Error("bad_response", std::string("no ") + key + " in /v1/kpis");
        }
        if (v.is_null()) {
            return std::optional<double>();
        }
        std::string_view text;
        if (v.get_string().get(text) == simdjson::SUCCESS) {
            return std::optional<double>(std::strtod(std::string(text).c_str(), nullptr));
        }
        double number = 0;
        if (v.get_double().get(number)) {
            return Status::Error("bad_response", std::string(key) + " is not a number");
        }
        return std::optional<double>(number);
    }

    // Prometheus's latest open amount and DSOs of each currency equal /v1/kpis.
    void ExpectPrometheusEqualsKpis(const std::string& when) {
        SCOPED_TRACE(when);
        auto kpis = HttpGet("127.0.0.1", rmsd_->http_port(), "/v1/kpis");
        ASSERT_TRUE(kpis.ok()) << kpis.status().message();
        AwaitScrapeAfterNow();

        simdjson::dom::parser parser;
        simdjson::dom::element root;
        simdjson::dom::object currencies;
        ASSERT_FALSE(parser.parse(simdjson::padded_string(kpis->body)).get(root));
        ASSERT_FALSE(root["currencies"].get_object().get(currencies));
        ASSERT_GT(currencies.size(), 0u) << kpis->body;
        for (auto [code, figures] : currencies) {
            std::string currency(code);
            SCOPED_TRACE(currency);
            auto open = KpiValue(figures, "open");
            ASSERT_TRUE(open.ok() && open->has_value()) << kpis->body;
            auto prom_open = prometheus_->Query(
                "sum by (currency) (rms_receivables_open_amount{job=\"rms\", currency=\"" +
                currency + "\"})");
            ASSERT_TRUE(prom_open.ok()) << prom_open.status().message();
            ASSERT_EQ(prom_open->size(), 1u);
            // Major units as float64 are display figures: equal to the cent.
            EXPECT_NEAR(prom_open->front().value, **open, 0.005);

            for (const char* method : {"standard", "countback", "best_possible"}) {
                SCOPED_TRACE(method);
                auto dso = KpiValue(figures, (std::string("dso_") + method).c_str());
                ASSERT_TRUE(dso.ok()) << dso.status().message();
                auto prom_dso = prometheus_->Query("rms_dso_days{job=\"rms\", currency=\"" +
                                                   currency + "\", method=\"" + method + "\"}");
                ASSERT_TRUE(prom_dso.ok()) << prom_dso.status().message();
                if (!dso->has_value()) {
                    EXPECT_TRUE(prom_dso->empty()) << "an undefined DSO must not be exported";
                    continue;
                }
                ASSERT_EQ(prom_dso->size(), 1u);
                // /v1/kpis prints 6 decimals.
                EXPECT_NEAR(prom_dso->front().value, **dso, 5e-7);
            }
        }
    }

    std::optional<TempDir> dir_;
    std::unique_ptr<RmsdProcess> rmsd_;
    std::unique_ptr<PrometheusServer> prometheus_;
};

TEST_F(PrometheusTest, ScrapesAReplayAndAnswersEveryDashboardQuery) {
    auto csv = ReadFile(kSamplePath);
    ASSERT_TRUE(csv.ok()) << csv.status().message();
    auto events = IbmSampleToEvents(*csv);
    ASSERT_TRUE(events.ok()) << events.status().message();
    const std::vector<std::string>& all = *events;
    size_t third = all.size() / 3;
    std::vector<std::string> part1(all.begin(), all.begin() + third);
    std::vector<std::string> part2(all.begin() + third, all.begin() + 2 * third);
    std::vector<std::string> part3(all.begin() + 2 * third, all.end());
    // Rejected and repeated lines, so that the error panels have series to show.
    part1.push_back("{\"not\": json");
    part1.push_back(all.front());

    ASSERT_EQ(Send(part1), part1.size());
    ExpectPrometheusEqualsKpis("after the first third");
    ASSERT_EQ(Send(part2), part2.size());
    ExpectPrometheusEqualsKpis("after two thirds");
    ASSERT_EQ(Send(part3), part3.size());
    ExpectPrometheusEqualsKpis("after the whole replay");

    auto kpis = HttpGet("127.0.0.1", rmsd_->http_port(), "/v1/kpis");
    ASSERT_TRUE(kpis.ok()) << kpis.status().message();
    size_t marker = kpis->body.find("\"business_date\":\"");
    ASSERT_NE(marker, std::string::npos) << kpis->body;
    auto business_date = ParseDate(kpis->body.substr(marker + 17, 10));
    ASSERT_TRUE(business_date.ok()) << kpis->body;
    std::vector<std::string> tail = CollectionsTail(*business_date);
    size_t oks = 0;
    ASSERT_EQ(Send(tail, &oks), tail.size());
    ASSERT_EQ(oks, tail.size()) << "every collections event must apply";
    ExpectPrometheusEqualsKpis("after the collections events");
    auto broken = prometheus_->Query("sum(rms_promises_broken_total{job=\"rms\"})");
    ASSERT_TRUE(broken.ok() && broken->size() == 1u);
    EXPECT_EQ(broken->front().value, 1.0);

    // With a few scrapes of history, invoices open and promises decided: every panel has data.
    std::vector<PanelQuery> queries = DashboardQueries();
    ASSERT_GE(queries.size(), 40u);
    for (const PanelQuery& q : queries) {
        std::string expr = Substitute(q.expr);
        auto result = prometheus_->Query(expr);
        ASSERT_TRUE(result.ok()) << q.where << ": " << result.status().message();
        bool finite = false;
        std::string values;
        for (const Sample& s : *result) {
            finite = finite || std::isfinite(s.value);
            values += " " + std::to_string(s.value);
        }
        EXPECT_TRUE(finite) << q.where << ": no finite value in [" << values << " ] for " << expr;
    }

    // The alert rules ran on these series without an evaluation error; none fires yet (the
    // broken promise and the rejected line are pending at most).
    auto rules = prometheus_->Api("rules?type=alert");
    ASSERT_TRUE(rules.ok()) << rules.status().message();
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::dom::array groups;
    ASSERT_FALSE(parser.parse(simdjson::padded_string(*rules)).get(root));
    ASSERT_FALSE(root["data"]["groups"].get_array().get(groups));
    size_t alert_rules = 0;
    for (simdjson::dom::element group : groups) {
        simdjson::dom::array group_rules;
        ASSERT_FALSE(group["rules"].get_array().get(group_rules));
        for (simdjson::dom::element rule : group_rules) {
            ++alert_rules;
            std::string_view name = StringMember(rule, "name");
            EXPECT_NE(StringMember(rule, "health"), "err")
                << name << ": " << StringMember(rule, "lastError");
        }
    }
    EXPECT_EQ(alert_rules, 8u);
}

}  // namespace
}  // namespace rms
