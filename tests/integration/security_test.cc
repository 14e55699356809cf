// The security guarantees of guarantees.md ("Security"), against a real rmsd over real TCP on
// 127.0.0.1: producer tokens bound to a source, allowed types and currencies, the rate limit,
// TLS and mutual TLS on both ports, HTTP basic auth, and no secret in the log. Certificates are
// made at run time in the test's temp dir.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/auth.h"
#include "tests/support/rmsd_calls.h"
#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"
#include "tools/client.h"

namespace rms {
namespace {

constexpr int kAnswerTimeoutMs = 15000;
constexpr char kErpToken[] = "erp-token-7f3a9c";
constexpr char kBankToken[] = "bank-token-21d8e0";
constexpr char kOpsPassword[] = "ops-password-5b1c";

// "ok", "duplicate", or the error code of an answer line; "<not json>" for anything else.
std::string Outcome(const std::string& answer) {
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    if (parser.parse(answer).get(object) != simdjson::SUCCESS) {
        return "<not json>";
    }
    bool flag = false;
    if (object["ok"].get_bool().get(flag) == simdjson::SUCCESS && flag) {
        bool duplicate = false;
        return object["duplicate"].get_bool().get(duplicate) == simdjson::SUCCESS && duplicate
                   ? "duplicate"
                   : "ok";
    }
    std::string_view code;
    return object["error"].get_string().get(code) == simdjson::SUCCESS ? std::string(code)
                                                                       : "<no error code>";
}

std::string AuthLine(std::string_view token) {
    return R"({"auth":{"token":")" + std::string(token) + R"("}})";
}

std::string Customer(std::string_view id, std::string_view customer, std::string_view extra = "") {
    return R"({"id":")" + std::string(id) +
           R"(","type":"customer.upserted","date":"2024-03-01","customer":")" +
           std::string(customer) + "\"" + std::string(extra) + "}";
}

// Two producers: "erp" may send customers and invoices in USD at 1 event per 1,000 s with a
// burst of 3; "bank" may send anything, unlimited. One HTTP user, "ops".
std::string ProducersToml() {
    return "[[producers]]\nname = \"erp\"\ntoken_sha256 = \"" + Sha256Hex(kErpToken) +
           "\"\nevent_types = [\"customer.upserted\", \"invoice.issued\"]\n"
           "currencies = [\"USD\"]\nrate_per_second = 0.001\nburst = 3\n\n"
           "[[producers]]\nname = \"bank\"\ntoken_sha256 = \"" +
           Sha256Hex(kBankToken) + "\"\n\n[[http_users]]\nname = \"ops\"\npassword_sha256 = \"" +
           Sha256Hex(kOpsPassword) + "\"\n";
}

class SecurityTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = TempDir::Create("security");
        ASSERT_TRUE(dir.ok()) << dir.status().message();
        dir_ = std::make_unique<TempDir>(std::move(dir).value());
    }

    // Starts rmsd with `toml` as its config file.
    void StartRmsd(const std::string& toml) {
        std::string config = dir_->Path("rms.toml");
        std::ofstream(config) << toml;
        auto started = RmsdProcess::Start(dir_->Path("data"), {"--config", config});
        ASSERT_TRUE(started.ok()) << started.status().message();
        rmsd_ = std::move(started).value();
    }

    void MakeCerts() {
        auto certs = MakeTestCerts(dir_->path());
        ASSERT_TRUE(certs.ok()) << certs.status().message();
        certs_ = std::move(certs).value();
    }

    std::string TlsToml(bool mutual) const {
        std::string toml = "tls_cert_file = \"" + certs_.server_cert + "\"\ntls_key_file = \"" +
                           certs_.server_key + "\"\n";
        if (mutual) {
            toml += "tls_client_ca_file = \"" + certs_.ca + "\"\n";
        }
        return toml;
    }

    TlsClientOptions ClientTls(bool with_cert = false) const {
        TlsClientOptions tls{.enabled = true, .ca_file = certs_.ca};
        if (with_cert) {
            tls.cert_file = certs_.client_cert;
            tls.key_file = certs_.client_key;
        }
        return tls;
    }

    LineClient Connect(const TlsClientOptions& tls = {}) {
        auto client = LineClient::Connect("127.0.0.1", rmsd_->ingest_port(), tls);
        EXPECT_TRUE(client.ok()) << client.status().message();
        return std::move(client).value();
    }

    // Writes each line and returns the outcome of each answer.
    std::vector<std::string> Exchange(LineClient& client, const std::vector<std::string>& lines) {
        std::string bytes;
        for (const std::string& line : lines) {
            bytes += line + "\n";
        }
        EXPECT_TRUE(client.WriteAll(bytes).ok());
        std::vector<std::string> outcomes;
        for (size_t i = 0; i < lines.size(); ++i) {
            auto answer = client.ReadLine(kAnswerTimeoutMs);
            if (!answer.ok()) {
                outcomes.push_back("<" + answer.status().code() + ">");
                break;
            }
            outcomes.push_back(Outcome(*answer));
        }
        return outcomes;
    }

    // The HTTP status of GET `target`.
    int Get(const std::string& target, const HttpOptions& options = {}) {
        auto response = HttpRequest("127.0.0.1", rmsd_->http_port(), "GET", target, options);
        EXPECT_TRUE(response.ok()) << response.status().message();
        return response.ok() ? response->status : -1;
    }

    HttpOptions Ops() const { return HttpOptions{.user = "ops", .password = kOpsPassword}; }

    // POST /v1/events of one event with `authorization` (if any) and the credentials of
    // `options`: "<status> <outcome>", e.g. "403 forbidden". The whole body goes to `body`.
    std::string PostEvent(const std::string& event, const std::string& authorization,
                          const HttpOptions& options = {}, std::string* body = nullptr) {
        auto r = Post(rmsd_->http_port(), "/v1/events", event, "application/json", authorization,
                      options);
        if (!r) {
            return "<failed>";
        }
        if (body != nullptr) {
            *body = r->body;
        }
        return std::to_string(r->status) + " " + Outcome(r->body);
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<RmsdProcess> rmsd_;
    TestCerts certs_;
};

TEST_F(SecurityTest, EventsBeforeAuthAreUnauthorizedAndNotMarkedSeen) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd(ProducersToml()));
    LineClient client = Connect();
    std::vector<std::string> outcomes =
        Exchange(client, {Customer("E1", "C-1", R"(,"source":"erp")"), AuthLine("not-a-token"),
                          Customer("E1", "C-1", R"(,"source":"erp")"), AuthLine(kErpToken),
                          Customer("E1", "C-1", R"(,"source":"erp")")});
    // Refused twice (no auth, then a wrong token), then applied as new: the refusals left no
    // idempotence marker, so the third send is not a duplicate.
    EXPECT_EQ(outcomes, (std::vector<std::string>{"unauthorized", "unauthorized", "unauthorized",
                                                  "ok", "ok"}));
}

TEST_F(SecurityTest, EventOfAnotherSourceIsForbiddenAndCanBeSentByItsProducer) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd(ProducersToml()));
    LineClient erp = Connect();
    EXPECT_EQ(Exchange(erp, {AuthLine(kErpToken), Customer("E1", "C-1", R"(,"source":"bank")"),
                             Customer("E2", "C-2")}),
              (std::vector<std::string>{"ok", "forbidden", "forbidden"}));
    EXPECT_EQ(Get("/v1/customers/C-1", Ops()), 404);

    LineClient bank = Connect();
    EXPECT_EQ(Exchange(bank, {AuthLine(kBankToken), Customer("E1", "C-1", R"(,"source":"bank")")}),
              (std::vector<std::string>{"ok", "ok"}));
    EXPECT_EQ(Get("/v1/customers/C-1", Ops()), 200);
}

TEST_F(SecurityTest, DisallowedTypeAndCurrencyAreForbidden) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd(ProducersToml()));
    LineClient erp = Connect();
    std::string eur_customer = Customer("E2", "C-2", R"(,"source":"erp","currency":"EUR")");
    std::string eur_invoice =
        R"({"id":"E3","type":"invoice.issued","source":"erp","date":"2024-03-01","invoice":"I-1",)"
        R"("customer":"C-1","amount":"10.00","currency":"EUR","due":"2024-03-31"})";
    std::string clock = R"({"id":"E4","type":"clock.advanced","source":"erp","date":"2024-03-02"})";
    EXPECT_EQ(Exchange(erp, {AuthLine(kErpToken), Customer("E1", "C-1", R"(,"source":"erp")"),
                             eur_customer, eur_invoice, clock}),
              (std::vector<std::string>{"ok", "ok", "forbidden", "forbidden", "forbidden"}));
    EXPECT_EQ(Get("/v1/customers/C-2", Ops()), 404);
    EXPECT_EQ(Get("/v1/invoices/I-1", Ops()), 404);
}

TEST_F(SecurityTest, OverRateEventsAreRateLimitedAndTheConnectionSurvives) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd(ProducersToml()));
    LineClient erp = Connect();
    // Burst 3 at one event per 1,000 s: the fourth and fifth find the bucket empty.
    EXPECT_EQ(
        Exchange(erp, {AuthLine(kErpToken), Customer("E1", "C-1", R"(,"source":"erp")"),
                       Customer("E2", "C-2", R"(,"source":"erp")"),
                       Customer("E3", "C-3", R"(,"source":"erp")"),
                       Customer("E4", "C-4", R"(,"source":"erp")"),
                       Customer("E5", "C-5", R"(,"source":"erp")"), AuthLine(kErpToken)}),
        (std::vector<std::string>{"ok", "ok", "ok", "ok", "rate_limited", "rate_limited", "ok"}));
    EXPECT_EQ(Get("/v1/customers/C-3", Ops()), 200);
    EXPECT_EQ(Get("/v1/customers/C-4", Ops()), 404);
    // The limit is the producer's, not the connection's.
    LineClient again = Connect();
    EXPECT_EQ(Exchange(again, {AuthLine(kErpToken), Customer("E4", "C-4", R"(,"source":"erp")")}),
              (std::vector<std::string>{"ok", "rate_limited"}));
    // Other producers are not held back.
    LineClient bank = Connect();
    EXPECT_EQ(Exchange(bank, {AuthLine(kBankToken), Customer("E9", "C-9", R"(,"source":"bank")")}),
              (std::vector<std::string>{"ok", "ok"}));
}

// POST /v1/events is a write path: with producers configured it takes a producer's bearer
// token (an HTTP user who only reads is forbidden) and holds each event to that producer's rules.
TEST_F(SecurityTest, EventsOverHttpNeedAProducerTokenAndKeepItsRules) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd(ProducersToml()));
    std::string erp = std::string("Bearer ") + kErpToken;
    std::string event = Customer("H1", "C-H1", R"(,"source":"erp")");
    EXPECT_EQ(PostEvent(event, ""), "401 unauthorized");
    EXPECT_EQ(PostEvent(event, "", Ops()), "403 forbidden");
    EXPECT_EQ(PostEvent(event, "Bearer not-a-token"), "401 unauthorized");
    EXPECT_EQ(PostEvent(Customer("H1", "C-H1", R"(,"source":"bank")"), erp), "403 forbidden");
    EXPECT_EQ(PostEvent(Customer("H1", "C-H1"), erp), "403 forbidden");  // source "default"
    EXPECT_EQ(Get("/v1/customers/C-H1", Ops()), 404);
    EXPECT_EQ(PostEvent(event, erp), "200 ok");
    EXPECT_EQ(PostEvent(event, erp), "200 duplicate");
    EXPECT_EQ(Get("/v1/customers/C-H1", Ops()), 200);
}

// An HTTP user with `producer` (the console's users) writes as that producer, under its source,
// types, currencies and rate limit; a user without one only reads, and is told so.
TEST_F(SecurityTest, AUserThatWritesAsAProducerIsHeldToItsRules) {
    constexpr char kAnnaPassword[] = "anna-password-9e4f";
    ASSERT_NO_FATAL_FAILURE(StartRmsd(ProducersToml() +
                                      "\n[[http_users]]\nname = \"anna\"\npassword_sha256 = \"" +
                                      Sha256Hex(kAnnaPassword) + "\"\nproducer = \"erp\"\n"));
    HttpOptions anna{.user = "anna", .password = kAnnaPassword};
    std::string event = Customer("U1", "C-U1", R"(,"source":"erp")");

    EXPECT_EQ(PostEvent(event, "", HttpOptions{.user = "anna", .password = "wrong"}),
              "401 unauthorized");
    std::string refusal;
    EXPECT_EQ(PostEvent(event, "", Ops(), &refusal), "403 forbidden");
    EXPECT_NE(refusal.find(R"(user \"ops\" may read but not write)"), std::string::npos) << refusal;
    EXPECT_EQ(PostEvent(Customer("U1", "C-U1", R"(,"source":"bank")"), "", anna), "403 forbidden");
    EXPECT_EQ(PostEvent(Customer("U1", "C-U1", R"(,"source":"erp","currency":"EUR")"), "", anna),
              "403 forbidden");
    EXPECT_EQ(Get("/v1/customers/C-U1", Ops()), 404);

    EXPECT_EQ(PostEvent(event, "", anna), "200 ok");
    EXPECT_EQ(Get("/v1/customers/C-U1", anna), 200);
    // Taken as erp's own event: the idempotence key is (erp, U1) whoever sends it.
    EXPECT_EQ(PostEvent(event, std::string("Bearer ") + kErpToken), "200 duplicate");
    // erp's burst of 3 is spent (two sends above); the user shares erp's bucket on this path.
    EXPECT_EQ(PostEvent(Customer("U2", "C-U2", R"(,"source":"erp")"), "", anna), "200 ok");
    EXPECT_EQ(PostEvent(Customer("U3", "C-U3", R"(,"source":"erp")"), "", anna),
              "429 rate_limited");
    EXPECT_EQ(Get("/v1/customers/C-U3", Ops()), 404);

    auto scraped = HttpRequest("127.0.0.1", rmsd_->http_port(), "GET", "/metrics", Ops());
    ASSERT_TRUE(scraped.ok()) << scraped.status().message();
    // ops, then anna's events of another source and of another currency.
    EXPECT_NE(scraped->body.find(R"(rms_auth_failures_total{reason="forbidden"} 3)"),
              std::string::npos)
        << scraped->body;
}

TEST_F(SecurityTest, BasicAuthGuardsTheApiAndMetricsButNotHealth) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd(ProducersToml()));
    EXPECT_EQ(Get("/v1/kpis"), 401);
    EXPECT_EQ(Get("/metrics"), 401);
    EXPECT_EQ(Get("/v1/kpis", HttpOptions{.user = "ops", .password = "wrong"}), 401);
    EXPECT_EQ(Get("/v1/kpis", HttpOptions{.user = "nobody", .password = kOpsPassword}), 401);
    EXPECT_EQ(Get("/v1/kpis", Ops()), 200);
    EXPECT_EQ(Get("/healthz"), 200);
    EXPECT_EQ(Get("/readyz"), 200);

    auto metrics = HttpRequest("127.0.0.1", rmsd_->http_port(), "GET", "/metrics", Ops());
    ASSERT_TRUE(metrics.ok()) << metrics.status().message();
    EXPECT_NE(metrics->body.find("rms_auth_failures_total{reason=\"http_unauthorized\"} 4"),
              std::string::npos)
        << metrics->body;

    // The 401 names the scheme, as RFC 7235 requires.
    auto connected = LineClient::Connect("127.0.0.1", rmsd_->http_port());
    ASSERT_TRUE(connected.ok());
    LineClient* http = &*connected;
    ASSERT_TRUE(http->WriteAll("GET /v1/kpis HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    std::string head;
    for (auto line = http->ReadLine(kAnswerTimeoutMs); line.ok() && !line->empty();
         line = http->ReadLine(kAnswerTimeoutMs)) {
        head += *line + "\n";
    }
    EXPECT_NE(head.find("HTTP/1.1 401"), std::string::npos) << head;
    EXPECT_NE(head.find("WWW-Authenticate: Basic realm=\"rms\""), std::string::npos) << head;
}

TEST_F(SecurityTest, TlsWorksEndToEndAndPlaintextIsRefused) {
    ASSERT_NO_FATAL_FAILURE(MakeCerts());
    ASSERT_NO_FATAL_FAILURE(StartRmsd(TlsToml(false)));

    // A plaintext producer: its line is read as a broken handshake, never as an event.
    LineClient plain = Connect();
    ASSERT_TRUE(plain.WriteAll(Customer("E1", "C-1") + "\n").ok());
    auto answer = plain.ReadLine(kAnswerTimeoutMs);
    EXPECT_FALSE(answer.ok()) << "a plaintext client got an answer line: " << *answer;
    auto plain_http = HttpRequest("127.0.0.1", rmsd_->http_port(), "GET", "/healthz", 5000);
    EXPECT_FALSE(plain_http.ok() && plain_http->status == 200);

    HttpOptions https{.tls = ClientTls()};
    EXPECT_EQ(Get("/v1/customers/C-1", https), 404);
    LineClient tls = Connect(ClientTls());
    EXPECT_EQ(Exchange(tls, {Customer("E2", "C-2")}), (std::vector<std::string>{"ok"}));
    EXPECT_EQ(Get("/v1/customers/C-2", https), 200);
    EXPECT_EQ(Get("/healthz", https), 200);
}

TEST_F(SecurityTest, MutualTlsRequiresAClientCertificateFromTheCa) {
    ASSERT_NO_FATAL_FAILURE(MakeCerts());
    ASSERT_NO_FATAL_FAILURE(StartRmsd(TlsToml(true)));

    // Without a certificate, and with one from another CA, the server ends the handshake. With
    // TLS 1.3 the client learns it on its first read, so both ways of failing are accepted.
    TlsClientOptions stranger = ClientTls();
    stranger.cert_file = certs_.stranger_cert;
    stranger.key_file = certs_.stranger_key;
    for (const TlsClientOptions& tls : {ClientTls(), stranger}) {
        SCOPED_TRACE(tls.cert_file.empty() ? "no client certificate" : "stranger's certificate");
        auto connected = LineClient::Connect("127.0.0.1", rmsd_->ingest_port(), tls);
        if (connected.ok()) {
            LineClient* client = &*connected;
            Status written = client->WriteAll(Customer("E1", "C-1") + "\n");
            auto answer = client->ReadLine(kAnswerTimeoutMs);
            EXPECT_FALSE(written.ok() && answer.ok()) << "answered: " << *answer;
        }
    }

    HttpOptions https{.tls = ClientTls(/*with_cert=*/true)};
    EXPECT_EQ(Get("/v1/customers/C-1", https), 404);
    LineClient good = Connect(ClientTls(/*with_cert=*/true));
    EXPECT_EQ(Exchange(good, {Customer("E2", "C-2")}), (std::vector<std::string>{"ok"}));
    EXPECT_EQ(Get("/v1/customers/C-2", https), 200);
}

TEST_F(SecurityTest, NoTokenPasswordOrNoteReachesTheLog) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd("log_level = \"info\"\n" + ProducersToml()));
    const std::string wrong_token = "wrong-token-4e2d91";
    const std::string note = "note-text-c0ffee";
    LineClient client = Connect();
    std::string contact =
        R"({"id":"E2","type":"contact.logged","source":"bank","date":"2024-03-01",)"
        R"("customer":"C-1","channel":"phone","direction":"outbound","note":")" +
        note + "\"}";
    std::string broken = R"({"id":"E3","type":"contact.logged","note":")" + note + R"(", )";
    EXPECT_EQ(Exchange(client, {AuthLine(wrong_token), Customer("E0", "C-0", "," + note),
                                AuthLine(kBankToken), Customer("E1", "C-1", R"(,"source":"bank")"),
                                contact, broken, contact}),
              (std::vector<std::string>{"unauthorized", "invalid_json", "ok", "ok", "ok",
                                        "invalid_json", "duplicate"}));
    EXPECT_EQ(Get("/v1/kpis", HttpOptions{.user = "ops", .password = wrong_token}), 401);
    EXPECT_EQ(Get("/v1/kpis", Ops()), 200);
    auto stopped = rmsd_->Terminate();
    ASSERT_TRUE(stopped.ok()) << stopped.status().message();

    std::ifstream in(rmsd_->options().data_dir + ".log");
    std::stringstream log;
    log << in.rdbuf();
    // The log is there and has lines, so that the checks below could fail.
    ASSERT_NE(log.str().find("rmsd: ready"), std::string::npos) << log.str();
    for (const std::string& secret : {std::string(kErpToken), std::string(kBankToken), wrong_token,
                                      std::string(kOpsPassword), note, Sha256Hex(kBankToken)}) {
        EXPECT_EQ(log.str().find(secret), std::string::npos) << secret << " is in:\n" << log.str();
    }
}

}  // namespace
}  // namespace rms
