// POST /v1/events (docs/protocol.md, "Events over HTTP") and the console's static files, over
// real HTTP against a real rmsd with its RocksDB in a temp dir: the same answers as the TCP
// ingest, answered only once committed, exactly once across a restart, and the limits.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"

namespace rms {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kNdjson[] = "application/x-ndjson";
constexpr char kCustomer[] =
    R"({"id":"E1","type":"customer.upserted","date":"2024-03-01","customer":"C-100",)"
    R"("owner":"ana"})";
constexpr char kInvoice[] =
    R"({"id":"E2","type":"invoice.issued","date":"2024-03-01","invoice":"I-1",)"
    R"("customer":"C-100","amount":"1000","currency":"USD","due":"2024-03-31"})";

// The members of one answer object that the tests look at.
struct Answer {
    std::string raw;
    bool ok = false;
    bool duplicate = false;
    std::string id;
    std::string error;
    std::string message;
    int64_t line = 0;
};

Answer ParseAnswer(std::string_view raw) {
    Answer a;
    a.raw = std::string(raw);
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    if (parser.parse(a.raw).get(object) != simdjson::SUCCESS) {
        return a;
    }
    bool flag = false;
    a.ok = object["ok"].get_bool().get(flag) == simdjson::SUCCESS && flag;
    a.duplicate = object["duplicate"].get_bool().get(flag) == simdjson::SUCCESS && flag;
    std::string_view text;
    if (object["id"].get_string().get(text) == simdjson::SUCCESS) {
        a.id = std::string(text);
    }
    if (object["error"].get_string().get(text) == simdjson::SUCCESS) {
        a.error = std::string(text);
    }
    if (object["message"].get_string().get(text) == simdjson::SUCCESS) {
        a.message = std::string(text);
    }
    if (object["line"].get_int64().get(a.line) != simdjson::SUCCESS) {
        a.line = 0;
    }
    return a;
}

std::vector<Answer> ParseLines(std::string_view body) {
    std::vector<Answer> answers;
    while (!body.empty()) {
        size_t nl = body.find('\n');
        answers.push_back(ParseAnswer(body.substr(0, nl)));
        body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    }
    return answers;
}

class HttpEventsTest : public testing::Test {
protected:
    void SetUp() override {
        Result<TempDir> dir = TempDir::Create("http-events");
        ASSERT_TRUE(dir.ok()) << dir.status().message();
        dir_ = std::make_unique<TempDir>(std::move(dir).value());
        Result<std::unique_ptr<RmsdProcess>> rmsd =
            RmsdProcess::Start({.data_dir = dir_->Path("data")});
        ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
        rmsd_ = std::move(rmsd).value();
    }

    HttpResponse Call(HttpCall call) {
        Result<HttpResponse> response = HttpSend("127.0.0.1", rmsd_->http_port(), call);
        EXPECT_TRUE(response.ok())
            << call.method << " " << call.target << ": " << response.status().message() << "\n"
            << rmsd_->LogTail(1500);
        return response.ok() ? *response : HttpResponse{};
    }

    HttpResponse Post(std::string_view content_type, std::string body) {
        return Call({.method = "POST",
                     .target = "/v1/events",
                     .headers = {{"Content-Type", std::string(content_type)}},
                     .body = std::move(body)});
    }

    HttpResponse Get(std::string target, std::vector<std::pair<std::string, std::string>> h = {}) {
        return Call({.method = "GET", .target = std::move(target), .headers = std::move(h)});
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<RmsdProcess> rmsd_;
};

TEST_F(HttpEventsTest, OneEventIsAppliedAndVisibleWhenAnswered) {
    HttpResponse r = Post(kJson, kCustomer);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("Content-Type"), kJson);
    EXPECT_EQ(r.body, "{\"ok\":true,\"id\":\"E1\"}\n");

    r = Post("application/json; charset=utf-8", kInvoice);
    EXPECT_EQ(r.status, 200) << r.body;
    // The ok comes after the commit, so the query API already shows the invoice.
    HttpResponse invoice = Get("/v1/invoices/I-1");
    EXPECT_EQ(invoice.status, 200) << invoice.body;
    EXPECT_NE(invoice.body.find("\"open\":\"1000.00\""), std::string::npos) << invoice.body;
}

TEST_F(HttpEventsTest, ResendIsDuplicateAndOtherContentIsConflict) {
    ASSERT_EQ(Post(kJson, kCustomer).status, 200);
    // Same content, other member order and spacing: a duplicate.
    HttpResponse r =
        Post(kJson,
             "{ \"owner\": \"ana\", \"customer\": \"C-100\", \"date\": \"2024-03-01\",\n"
             "  \"type\": \"customer.upserted\", \"id\": \"E1\" }");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "{\"ok\":true,\"id\":\"E1\",\"duplicate\":true}\n");

    std::string other(kCustomer);
    other.replace(other.find("ana"), 3, "bob");
    r = Post(kJson, other);
    EXPECT_EQ(r.status, 409) << r.body;
    Answer a = ParseAnswer(r.body);
    EXPECT_FALSE(a.ok);
    EXPECT_EQ(a.error, "conflict");
    EXPECT_EQ(a.id, "E1");
    EXPECT_EQ(a.line, 1);
}

TEST_F(HttpEventsTest, InvalidEventsAreAnsweredWithTheirCodeAndMessage) {
    struct Case {
        std::string body;
        int status;
        std::string error;
        std::string in_message;
    };
    const std::vector<Case> cases = {
        {"{\"id\":\"X1\",", 400, "invalid_json", "not valid JSON"},
        {"   \n", 400, "invalid_json", "no event"},
        {R"({"id":"X2","type":"customer.upserted","date":"2024-03-01"})", 422, "missing_field",
         "customer"},
        {R"({"id":"X3","type":"invoice.issued","date":"2024-03-01","invoice":"I-9",)"
         R"("customer":"C-100","amount":"12.345","currency":"USD","due":"2024-03-31"})",
         422, "invalid_amount", "12.345"},
        {R"({"id":"X4","type":"contact.logged","date":"2024-03-01","customer":"nobody",)"
         R"("channel":"phone","direction":"outbound"})",
         422, "unknown_customer", "nobody"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.body);
        HttpResponse r = Post(kJson, c.body);
        EXPECT_EQ(r.status, c.status) << r.body;
        Answer a = ParseAnswer(r.body);
        EXPECT_FALSE(a.ok) << r.body;
        EXPECT_EQ(a.error, c.error) << r.body;
        EXPECT_NE(a.message.find(c.in_message), std::string::npos) << r.body;
    }
    // Nothing of it left a trace: no business date yet.
    EXPECT_NE(Get("/v1/kpis").body.find("\"business_date\":null"), std::string::npos);
}

TEST_F(HttpEventsTest, NdjsonLinesAreAnsweredInOrderWithTheirLineNumbers) {
    std::string body = std::string(kCustomer) + "\n\n{not json\r\n" + kInvoice + "\n" + kCustomer;
    HttpResponse r = Post(kNdjson, body);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("Content-Type"), kNdjson);
    std::vector<Answer> answers = ParseLines(r.body);
    ASSERT_EQ(answers.size(), 4u) << r.body;
    EXPECT_TRUE(answers[0].ok && !answers[0].duplicate) << answers[0].raw;
    EXPECT_EQ(answers[1].error, "invalid_json") << answers[1].raw;
    EXPECT_EQ(answers[1].line, 3);
    EXPECT_TRUE(answers[2].ok) << answers[2].raw;
    EXPECT_TRUE(answers[3].ok && answers[3].duplicate) << answers[3].raw;
}

TEST_F(HttpEventsTest, BodyAndEventSizesAreLimited) {
    // Over 1 MiB: refused before it is read, with the query API's error shape.
    HttpResponse r = Post(kNdjson, std::string((1 << 20) + 1, '\n'));
    EXPECT_EQ(r.status, 413) << r.body;
    EXPECT_NE(r.body.find("\"error\":\"body_too_large\""), std::string::npos) << r.body;

    // One event over the line limit: the TCP ingest's line_too_long.
    std::string big = R"({"id":"B1","type":"clock.advanced","date":"2024-03-01","pad":")" +
                      std::string(70000, 'x') + "\"}";
    r = Post(kJson, big);
    EXPECT_EQ(r.status, 400) << r.body.substr(0, 300);
    EXPECT_EQ(ParseAnswer(r.body).error, "line_too_long") << r.body.substr(0, 300);
    r = Post(kNdjson, std::string(kCustomer) + "\n" + big + "\n");
    std::vector<Answer> answers = ParseLines(r.body);
    ASSERT_EQ(answers.size(), 2u) << r.body.substr(0, 300);
    EXPECT_TRUE(answers[0].ok);
    EXPECT_EQ(answers[1].error, "line_too_long");
    EXPECT_EQ(answers[1].line, 2);
}

TEST_F(HttpEventsTest, OtherMediaTypesAndMethodsAreRefused) {
    HttpResponse r = Post("text/plain", kCustomer);
    EXPECT_EQ(r.status, 415) << r.body;
    EXPECT_NE(r.body.find("unsupported_media_type"), std::string::npos) << r.body;

    r = Get("/v1/events");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.Header("Allow"), "POST");
    r = Call({.method = "POST", .target = "/v1/kpis", .body = "{}"});
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.Header("Allow"), "GET, HEAD");
}

TEST_F(HttpEventsTest, AnAppliedEventStaysAppliedOnceAcrossARestart) {
    ASSERT_EQ(Post(kJson, kCustomer).status, 200);
    ASSERT_EQ(Post(kJson, kInvoice).status, 200);
    Status restarted = rmsd_->Restart();
    ASSERT_TRUE(restarted.ok()) << restarted.message();
    HttpResponse r = Post(kNdjson, std::string(kCustomer) + "\n" + kInvoice + "\n");
    std::vector<Answer> answers = ParseLines(r.body);
    ASSERT_EQ(answers.size(), 2u) << r.body;
    EXPECT_TRUE(answers[0].duplicate) << answers[0].raw;
    EXPECT_TRUE(answers[1].duplicate) << answers[1].raw;
    EXPECT_NE(Get("/v1/customers/C-100").body.find("\"open\":\"1000.00\""), std::string::npos);
}

TEST_F(HttpEventsTest, ConsoleFilesAreServedWithTypesAndValidators) {
    HttpResponse r = Get("/console");
    EXPECT_EQ(r.status, 308);
    EXPECT_EQ(r.Header("Location"), "/console/");

    r = Get("/console/");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(r.Header("Cache-Control"), "no-cache");
    EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
    EXPECT_NE(r.body.find("<html"), std::string::npos);
    std::string etag = r.Header("ETag");
    ASSERT_FALSE(etag.empty());

    HttpResponse again = Get("/console/index.html", {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());

    EXPECT_EQ(Get("/console/app.js").Header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(Get("/console/app.css").Header("Content-Type"), "text/css; charset=utf-8");
    HttpResponse config = Get("/console/config.json");
    EXPECT_EQ(config.status, 200);
    EXPECT_EQ(config.body, "{\"grafana_url\":\"\"}");
}

TEST_F(HttpEventsTest, ConsolePathsNeverLeaveTheEmbeddedFiles) {
    for (std::string target :
         {"/console/../engine/engine.cc", "/console/%2e%2e/CMakeLists.txt", "/console/js/",
          "/console//etc/passwd", "/console/index.html/", "/console/nothing.js"}) {
        SCOPED_TRACE(target);
        HttpResponse r = Get(target);
        EXPECT_EQ(r.status, 404) << r.body;
        EXPECT_NE(r.body.find("not_found"), std::string::npos) << r.body;
    }
}

}  // namespace
}  // namespace rms
