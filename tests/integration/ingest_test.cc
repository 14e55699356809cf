// The ingest contract of protocol.md ("Answers"), over real TCP against a real rmsd in a temp dir:
// every answer kind, line numbering, framing across writes, oversized lines, ordering, that bad
// lines change nothing, and that applied events survive a restart.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"

namespace rms {
namespace {

constexpr int kAnswerTimeoutMs = 15000;
constexpr size_t kMaxLineBytes = 65536;

// One answer line, parsed. `raw` is kept for failure messages.
struct Answer {
    std::string raw;
    bool is_object = false;
    bool ok = false;
    bool has_id = false;
    bool id_is_null = false;
    std::string id;
    bool duplicate = false;
    std::string error;
    std::optional<int64_t> line;
    std::string message;
};

std::ostream& operator<<(std::ostream& os, const Answer& answer) {
    return os << answer.raw;
}

Answer ParseAnswer(std::string raw) {
    Answer answer;
    answer.raw = std::move(raw);
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    if (parser.parse(answer.raw).get(object) != simdjson::SUCCESS) {
        return answer;
    }
    answer.is_object = true;
    auto flag = [&](std::string_view name) {
        bool value = false;
        return object[name].get_bool().get(value) == simdjson::SUCCESS && value;
    };
    answer.ok = flag("ok");
    answer.duplicate = flag("duplicate");
    simdjson::dom::element id;
    if (object["id"].get(id) == simdjson::SUCCESS) {
        answer.has_id = true;
        answer.id_is_null = id.is_null();
        std::string_view text;
        if (id.get_string().get(text) == simdjson::SUCCESS) {
            answer.id = std::string(text);
        }
    }
    std::string_view text;
    if (object["error"].get_string().get(text) == simdjson::SUCCESS) {
        answer.error = std::string(text);
    }
    if (object["message"].get_string().get(text) == simdjson::SUCCESS) {
        answer.message = std::string(text);
    }
    int64_t line = 0;
    if (object["line"].get_int64().get(line) == simdjson::SUCCESS) {
        answer.line = line;
    }
    return answer;
}

// Re-serialises a JSON body compactly, so that two snapshots of the same state compare equal.
std::string Canonical(const std::string& body) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(body).get(root) != simdjson::SUCCESS) {
        return "(not JSON) " + body;
    }
    return simdjson::minify(root);
}

std::string Customer(std::string_view id, std::string_view customer,
                     std::string_view date = "2024-04-01") {
    return R"({"id":")" + std::string(id) + R"(","type":"customer.upserted","date":")" +
           std::string(date) + R"(","customer":")" + std::string(customer) + R"("})";
}

std::string Invoice(std::string_view id, std::string_view invoice, std::string_view amount,
                    std::string_view date = "2024-04-01", std::string_view customer = "C1") {
    return R"({"id":")" + std::string(id) + R"(","type":"invoice.issued","date":")" +
           std::string(date) + R"(","invoice":")" + std::string(invoice) + R"(","customer":")" +
           std::string(customer) + R"(","amount":")" + std::string(amount) +
           R"(","currency":"USD","due":"2024-05-01"})";
}

// A valid customer.upserted of exactly `size` bytes (before its newline), padded with a member
// the protocol does not define.
std::string PaddedLine(std::string_view id, size_t size) {
    std::string head = R"({"id":")" + std::string(id) +
                       R"(","type":"customer.upserted","date":"2024-04-01","customer":"C9",)"
                       R"("note":")";
    std::string line = head + std::string(size - head.size() - 2, 'x') + "\"}";
    return line;
}

class IngestTest : public testing::Test {
protected:
    void SetUp() override {
        Result<TempDir> dir = TempDir::Create("ingest");
        ASSERT_TRUE(dir.ok()) << dir.status().message();
        dir_ = std::make_unique<TempDir>(std::move(dir).value());
        Result<std::unique_ptr<RmsdProcess>> rmsd =
            RmsdProcess::Start({.data_dir = dir_->Path("data")});
        ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
        rmsd_ = std::move(rmsd).value();
        Reconnect();
    }

    void Reconnect() {
        Result<LineClient> client = LineClient::Connect("127.0.0.1", rmsd_->ingest_port());
        ASSERT_TRUE(client.ok()) << client.status().message();
        client_ = std::make_unique<LineClient>(std::move(client).value());
    }

    // Reads the next answer; a read failure comes back as an Answer whose raw says so.
    Answer Read(int timeout_ms = kAnswerTimeoutMs) {
        Result<std::string> line = client_->ReadLine(timeout_ms);
        if (!line.ok()) {
            return ParseAnswer("(no answer: " + line.status().message() + ")\n" +
                               rmsd_->LogTail(1500));
        }
        return ParseAnswer(std::move(line).value());
    }

    Answer Send(std::string_view line) {
        Status written = client_->WriteAll(std::string(line) + "\n");
        if (!written.ok()) {
            return ParseAnswer("(write failed: " + written.message() + ")");
        }
        return Read();
    }

    // Sends `line` and expects it applied (ok, not a duplicate).
    void Apply(std::string_view line) {
        Answer answer = Send(line);
        ASSERT_TRUE(answer.ok && !answer.duplicate) << "sent " << line << "\ngot " << answer;
    }

    std::vector<Answer> SendAll(const std::vector<std::string>& lines, size_t window) {
        std::vector<Answer> answers;
        Status sent = SendPipelined(*client_, lines, window, [&](size_t, std::string_view answer) {
            answers.push_back(ParseAnswer(std::string(answer)));
        });
        EXPECT_TRUE(sent.ok()) << sent.message() << "\n" << rmsd_->LogTail(1500);
        return answers;
    }

    HttpResponse Get(std::string_view target) {
        Result<HttpResponse> response = HttpGet("127.0.0.1", rmsd_->http_port(), target);
        EXPECT_TRUE(response.ok()) << "GET " << target << ": " << response.status().message();
        return response.ok() ? *response : HttpResponse{};
    }

    // The /v1/kpis body, compacted; compared before and after to show that state did not change.
    std::string Kpis() {
        HttpResponse response = Get("/v1/kpis");
        EXPECT_EQ(response.status, 200) << response.body;
        return Canonical(response.body);
    }

    std::string Field(std::string_view target, std::string_view pointer) {
        HttpResponse response = Get(target);
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        std::string_view text;
        if (response.status != 200 || parser.parse(response.body).get(root) != simdjson::SUCCESS ||
            root.at_pointer(pointer).get_string().get(text) != simdjson::SUCCESS) {
            return "(" + std::to_string(response.status) + " " + response.body + ")";
        }
        return std::string(text);
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<RmsdProcess> rmsd_;
    std::unique_ptr<LineClient> client_;
};

// Expects a rejection with `code` for line number `line`, and `id` (nullopt: id null; "*": any).
void ExpectRejected(const Answer& answer, std::string_view code, int64_t line,
                    std::optional<std::string_view> id) {
    ASSERT_TRUE(answer.is_object) << answer;
    EXPECT_FALSE(answer.ok) << answer;
    EXPECT_EQ(answer.error, code) << answer;
    EXPECT_EQ(answer.line, line) << answer;
    EXPECT_FALSE(answer.message.empty()) << "a rejection says what was wrong: " << answer;
    EXPECT_TRUE(answer.has_id) << "a rejection carries id, null when unreadable: " << answer;
    if (!id) {
        EXPECT_TRUE(answer.id_is_null) << answer;
    } else if (*id != "*") {
        EXPECT_EQ(answer.id, *id) << answer;
    }
}

TEST_F(IngestTest, HealthzAndReadyzAnswer200) {
    EXPECT_EQ(Get("/healthz").status, 200);
    EXPECT_EQ(Get("/readyz").status, 200);
}

TEST_F(IngestTest, AppliedEventAnswersOkWithItsIdAndShowsAtOnce) {
    Answer answer = Send(Customer("E1", "C1"));
    EXPECT_TRUE(answer.is_object) << answer;
    EXPECT_TRUE(answer.ok) << answer;
    EXPECT_EQ(answer.id, "E1") << answer;
    EXPECT_FALSE(answer.duplicate) << answer;
    EXPECT_EQ(answer.error, "") << answer;

    Apply(Invoice("E2", "I1", "100"));
    // The answer comes only once the query API shows the effect.
    EXPECT_EQ(Field("/v1/invoices/I1", "/open"), "100.00");
    EXPECT_EQ(Field("/v1/kpis", "/business_date"), "2024-04-01");
    EXPECT_EQ(Field("/v1/kpis", "/currencies/USD/open"), "100.00");
}

TEST_F(IngestTest, SameContentAgainAnswersDuplicateAndChangesNothing) {
    Apply(Customer("E1", "C1"));
    Apply(Invoice("E2", "I1", "100.00"));
    std::string before = Kpis();

    const std::vector<std::string> same = {
        Invoice("E2", "I1", "100.00"),
        // Member order and spacing do not count.
        R"({ "currency" : "USD", "due":"2024-05-01", "amount":"100.00", "customer":"C1",)"
        R"( "invoice":"I1", "date":"2024-04-01", "type":"invoice.issued", "id":"E2" })",
        // Equal once parsed: "\u0031" is "1".
        R"({"id":"E2","type":"invoice.issued","date":"2024-04-01","invoice":"I1",)"
        R"("customer":"C\u0031","amount":"100.00","currency":"USD","due":"2024-05-01"})",
        // An absent source equals "default".
        R"({"source":"default","id":"E2","type":"invoice.issued","date":"2024-04-01",)"
        R"("invoice":"I1","customer":"C1","amount":"100.00","currency":"USD","due":"2024-05-01"})",
    };
    for (const std::string& line : same) {
        SCOPED_TRACE(line);
        Answer answer = Send(line);
        EXPECT_TRUE(answer.ok) << answer;
        EXPECT_TRUE(answer.duplicate) << answer;
        EXPECT_EQ(answer.id, "E2") << answer;
    }
    EXPECT_EQ(Kpis(), before);
    EXPECT_EQ(Field("/v1/invoices/I1", "/open"), "100.00");
}

TEST_F(IngestTest, OtherContentUnderTheSameKeyIsConflict) {
    Apply(Customer("E1", "C1"));
    Apply(Invoice("E2", "I1", "100.00"));
    std::string before = Kpis();

    ExpectRejected(Send(Invoice("E2", "I1", "200.00")), "conflict", 3, "E2");
    // "100.0" is another JSON value, even if the same money.
    ExpectRejected(Send(Invoice("E2", "I1", "100.0")), "conflict", 4, "E2");
    // Members the protocol does not define count as content.
    ExpectRejected(
        Send(R"({"id":"E2","type":"invoice.issued","date":"2024-04-01","invoice":"I1",)"
             R"("customer":"C1","amount":"100.00","currency":"USD","due":"2024-05-01","po":"7"})"),
        "conflict", 5, "E2");
    // A conflict never moves the date, even when it is dated later.
    ExpectRejected(Send(Invoice("E2", "I1", "100.00", "2024-06-01")), "conflict", 6, "E2");
    EXPECT_EQ(Kpis(), before);
}

TEST_F(IngestTest, SameIdFromAnotherSourceIsAnotherEvent) {
    Apply(Customer("E1", "C1"));
    Answer answer =
        Send(R"({"id":"E1","source":"crm","type":"customer.upserted","date":"2024-04-01",)"
             R"("customer":"C2"})");
    EXPECT_TRUE(answer.ok) << answer;
    EXPECT_FALSE(answer.duplicate) << answer;
    Apply(Invoice("E2", "I2", "5.00", "2024-04-01", "C2"));
}

struct BadLine {
    std::string line;
    std::string code;
    // nullopt: the answer's id must be null; "*": not checked (the id is unreadable or invalid
    // in a way the protocol leaves open).
    std::optional<std::string> id;
};

// Lines that are wrong in one way each, in the order the protocol checks: the line, then fields
// and formats. C1 exists; none of them may be applied.
std::vector<BadLine> StatelessBadLines() {
    const std::string inv = R"("type":"invoice.issued","date":"2024-04-01","invoice":"I9",)"
                            R"("customer":"C1",)";
    auto invoice = [&](std::string id, std::string amount, std::string currency = R"("USD")",
                       std::string due = R"("due":"2024-05-01")") {
        return R"({"id":")" + id + R"(",)" + inv + R"("amount":)" + amount + R"(,"currency":)" +
               currency + "," + due + "}";
    };
    return {
        {R"({"id":"J1","type":"clock.advanced","date":"2024-04-01")", "invalid_json", "*"},
        {"not json", "invalid_json", std::nullopt},
        {R"([{"id":"J3","type":"clock.advanced","date":"2024-04-01"}])", "invalid_json",
         std::nullopt},
        {R"("J4")", "invalid_json", std::nullopt},
        {"42", "invalid_json", std::nullopt},
        {"null", "invalid_json", std::nullopt},
        {R"({"id":"J7","type":"clock.advanced","date":"2024-04-01","date":"2024-04-02"})",
         "invalid_json", "*"},
        {invoice("J8", R"("100.00")", R"("USD")",
                 R"("installments":[{"due":"2024-05-01","amount":"50.00","amount":"50.00"},)"
                 R"({"due":"2024-06-01","amount":"50.00"}])"),
         "invalid_json", "*"},
        {R"({"id":"J9","type":"clock.advanced","date":"2024-04-01"} x)", "invalid_json", "*"},
        {R"({"id":"J10","type":"clock.advanced","date":"2024-04-01"}{"id":"J11"})", "invalid_json",
         "*"},
        {"{\"id\":\"J12\",\"type\":\"customer.upserted\",\"date\":\"2024-04-01\","
         "\"customer\":\"C\xff\"}",
         "invalid_json", "*"},

        {R"({"type":"clock.advanced","date":"2024-04-01"})", "missing_field", std::nullopt},
        {R"({"id":"M2","date":"2024-04-01"})", "missing_field", "M2"},
        {R"({"id":"M3","type":"clock.advanced"})", "missing_field", "M3"},
        {R"({"id":"M4",)" + inv + R"("currency":"USD","due":"2024-05-01"})", "missing_field", "M4"},
        {invoice("M5", R"("10.00")", R"("USD")", R"("note":"no due")"), "missing_field", "M5"},
        {R"({"id":"M6","type":"customer.upserted","date":"2024-04-01"})", "missing_field", "M6"},
        {R"({"id":"M7","type":"payment.received","date":"2024-04-01","customer":"C1",)"
         R"("amount":"5.00","currency":"USD"})",
         "missing_field", "M7"},

        {R"({"id":"T1","type":"invoice.deleted","date":"2024-04-01","invoice":"I1"})",
         "unknown_type", "T1"},
        {R"({"id":"T2","type":"Invoice.Issued","date":"2024-04-01"})", "unknown_type", "T2"},

        {Customer(std::string(129, 'a'), "C1"), "invalid_field", "*"},
        {Customer("", "C1"), "invalid_field", "*"},
        {R"({"id":17,"type":"clock.advanced","date":"2024-04-01"})", "invalid_field", std::nullopt},
        {R"({"id":"F4","type":7,"date":"2024-04-01"})", "invalid_field", "F4"},
        {R"({"id":"F5","type":"customer.upserted","date":"2024-04-01","customer":5})",
         "invalid_field", "F5"},
        {R"({"id":"F6","type":"customer.upserted","date":"2024-04-01","customer":"C1",)"
         R"("risk":"extreme"})",
         "invalid_field", "F6"},
        {invoice("F7", R"("10.00")", R"("USD")", R"("installments":"2024-05-01")"), "invalid_field",
         "F7"},
        {R"({"id":"F8","source":5,"type":"clock.advanced","date":"2024-04-01"})", "invalid_field",
         "F8"},

        {R"({"id":"D1","type":"clock.advanced","date":"2024-02-30"})", "invalid_date", "D1"},
        {R"({"id":"D2","type":"clock.advanced","date":"2024/05/01"})", "invalid_date", "D2"},
        {R"({"id":"D3","type":"clock.advanced","date":"2024-4-1"})", "invalid_date", "D3"},
        {R"({"id":"D4","type":"clock.advanced","date":20240401})", "invalid_date", "D4"},
        {R"({"id":"D5","type":"clock.advanced","date":"2023-02-29"})", "invalid_date", "D5"},
        {R"({"id":"D6","type":"clock.advanced","date":""})", "invalid_date", "D6"},
        {invoice("D7", R"("10.00")", R"("USD")", R"("due":"2024-13-01")"), "invalid_date", "D7"},

        {invoice("A1", R"("12.345")"), "invalid_amount", "A1"},
        {invoice("A2", R"("1e3")"), "invalid_amount", "A2"},
        {invoice("A3", "1000"), "invalid_amount", "A3"},
        {invoice("A4", R"("-50.00")"), "invalid_amount", "A4"},
        {invoice("A5", R"("1,000.00")"), "invalid_amount", "A5"},
        {invoice("A6", R"("0.00")"), "invalid_amount", "A6"},
        {invoice("A7", R"("0")"), "invalid_amount", "A7"},
        {invoice("A8", R"("+5.00")"), "invalid_amount", "A8"},
        {invoice("A9", R"(" 5.00")"), "invalid_amount", "A9"},
        {invoice("A10", R"("")"), "invalid_amount", "A10"},
        {invoice("A11", "null"), "invalid_amount", "A11"},
        {invoice("A12", R"("10.5")", R"("JPY")"), "invalid_amount", "A12"},
        {invoice("A13", R"("1.2345")", R"("KWD")"), "invalid_amount", "A13"},
        {invoice("A14", R"("100.00")", R"("USD")",
                 R"("installments":[{"due":"2024-05-01","amount":"50.00"},)"
                 R"({"due":"2024-06-01","amount":"40.00"}])"),
         "invalid_amount", "A14"},
        {invoice("A15", R"("100.00")", R"("USD")",
                 R"("installments":[{"due":"2024-05-01","amount":"50.00"},)"
                 R"({"due":"2024-06-01","amount":50}])"),
         "invalid_amount", "A15"},

        {invoice("C1x", R"("10.00")", R"("ZZZ")"), "invalid_currency", "C1x"},
        {invoice("C2x", R"("10.00")", R"("usd")"), "invalid_currency", "C2x"},
        {invoice("C3x", R"("10.00")", R"("")"), "invalid_currency", "C3x"},
    };
}

// `depth` objects, each the only member of the one around it: {"a":{"a":...1...}}.
std::string NestedObjects(int depth) {
    std::string nested;
    for (int i = 0; i < depth; ++i) {
        nested += R"({"a":)";
    }
    return nested + "1" + std::string(depth, '}');
}

// Lines hostile to a JSON parser rather than wrong in one field: nesting far deeper than any event
// has, and numbers beyond every numeric type, as JSON numbers (in the amount and elsewhere, which
// the JSON parser refuses) and as decimal strings (which the money and decimal parsers refuse).
// C1 exists; none of them may be applied.
std::vector<BadLine> HostileValueLines() {
    const std::string customer =
        R"("type":"customer.upserted","date":"2024-04-01","customer":"C1")";
    auto invoice = [](std::string id, std::string amount) {
        return R"({"id":")" + id +
               R"(","type":"invoice.issued","date":"2024-04-01","invoice":"I9","customer":"C1",)"
               R"("amount":)" +
               amount + R"(,"currency":"USD","due":"2024-05-01"})";
    };
    const std::string huge = "99999999999999999999999";
    return {
        {std::string(10000, '['), "invalid_json", std::nullopt},
        {R"({"id":"N2",)" + customer + R"(,"note":)" + std::string(10000, '[') +
             std::string(10000, ']') + "}",
         "invalid_json", std::nullopt},
        {R"({"id":"N3",)" + customer + R"(,"note":)" + NestedObjects(5000) + "}", "invalid_json",
         std::nullopt},

        {invoice("H1", "1e400"), "invalid_json", std::nullopt},
        {invoice("H2", huge), "invalid_json", std::nullopt},
        {invoice("H3", R"("1e400")"), "invalid_amount", "H3"},
        {invoice("H4", "\"" + huge + "\""), "invalid_amount", "H4"},
        {invoice("H5", R"("92233720368547758.08")"), "invalid_amount", "H5"},
        {R"({"id":"H6",)" + customer + R"(,"terms_days":)" + huge + "}", "invalid_json",
         std::nullopt},
        {R"({"id":"H7",)" + customer + R"(,"terms_days":1e300})", "invalid_field", "H7"},
        {R"({"id":"H8",)" + customer + R"(,"note":1e400})", "invalid_json", std::nullopt},
        {R"({"id":1e400,)" + customer + "}", "invalid_json", std::nullopt},
        {R"({"id":"H10",)" + customer + R"(,"credit_limit":")" + huge + "\"}", "invalid_amount",
         "H10"},
        {R"({"id":"H11","type":"fx.rate","date":"2024-04-01","currency":"EUR","base":"USD",)"
         R"("rate":")" +
             huge + "\"}",
         "invalid_field", "H11"},
    };
}

// Sends each line of `bad` in turn, the first as line `first_line`, and expects its code and id.
template <typename SendFn>
void ExpectEachRejected(const std::vector<BadLine>& bad, int64_t first_line, SendFn send) {
    for (size_t i = 0; i < bad.size(); ++i) {
        const int64_t line = first_line + static_cast<int64_t>(i);
        SCOPED_TRACE("line " + std::to_string(line) + ": " + bad[i].line.substr(0, 200));
        ExpectRejected(send(bad[i].line), bad[i].code, line,
                       bad[i].id ? std::optional<std::string_view>(*bad[i].id) : std::nullopt);
    }
}

TEST_F(IngestTest, EachStatelessFaultAnswersItsCodeAndTheConnectionStaysOpen) {
    Apply(Customer("E1", "C1"));
    std::string before = Kpis();

    ExpectEachRejected(StatelessBadLines(), 2, [this](std::string_view l) { return Send(l); });

    EXPECT_EQ(Kpis(), before);
    Apply(Invoice("E2", "I1", "10.00"));
}

TEST_F(IngestTest, DeepNestingAndHugeNumbersAnswerTheirCodeAndTheConnectionGoesOn) {
    Apply(Customer("E1", "C1"));
    Apply(Invoice("E2", "I1", "100.00"));
    std::string before = Kpis();

    ExpectEachRejected(HostileValueLines(), 3, [this](std::string_view l) { return Send(l); });

    // Nothing changed, and the same connection applies the next line.
    EXPECT_EQ(Kpis(), before);
    EXPECT_EQ(Field("/v1/invoices/I1", "/open"), "100.00");
    EXPECT_EQ(Get("/v1/invoices/I9").status, 404);
    Apply(Invoice("E3", "I2", "5.00"));
    EXPECT_EQ(Field("/v1/invoices/I2", "/open"), "5.00");
}

TEST_F(IngestTest, LegalBoundaryValuesAreAccepted) {
    Apply(Customer(std::string(128, 'a'), "C1"));
    Apply(R"({"id":"E2","type":"clock.advanced","date":"2024-02-29"})");
    Apply(R"({"id":"E3","type":"invoice.issued","date":"2024-04-01","invoice":"I1",)"
          R"("customer":"C1","amount":"150000","currency":"JPY","due":"2024-05-01"})");
    Apply(R"({"id":"E4","type":"invoice.issued","date":"2024-04-01","invoice":"I2",)"
          R"("customer":"C1","amount":"1.234","currency":"KWD","due":"2024-05-01"})");
    Apply(Invoice("E5", "I3", "12.5"));
    EXPECT_EQ(Field("/v1/invoices/I1", "/open"), "150000");
    EXPECT_EQ(Field("/v1/invoices/I2", "/open"), "1.234");
    EXPECT_EQ(Field("/v1/invoices/I3", "/open"), "12.50");
}

TEST_F(IngestTest, FieldFaultsComeBeforeTheKeyAndTheState) {
    Apply(Customer("E1", "C1"));
    Apply(Invoice("E2", "I1", "100.00"));
    // A bad amount for an unknown customer is a format fault first.
    ExpectRejected(Send(Invoice("E3", "I2", "1e3", "2024-04-01", "C404")), "invalid_amount", 3,
                   "E3");
    // A known key resent with a format fault is that fault, not conflict.
    ExpectRejected(Send(Invoice("E2", "I1", "-1.00")), "invalid_amount", 4, "E2");
    // Other content under a known key is conflict, whatever the state would say of it.
    ExpectRejected(Send(Invoice("E2", "I1", "100.00", "2024-04-01", "C404")), "conflict", 5, "E2");
    // The same content again is duplicate, not already_exists.
    Answer again = Send(Invoice("E2", "I1", "100.00"));
    EXPECT_TRUE(again.ok && again.duplicate) << again;
}

TEST_F(IngestTest, EachStateFaultAnswersItsCodeAndChangesNothing) {
    const std::vector<std::string> setup = {
        Customer("E1", "C1"),
        Customer("E2", "C2"),
        Invoice("E3", "I1", "100.00"),
        R"({"id":"E4","type":"invoice.issued","date":"2024-04-01","invoice":"IE","customer":"C1",)"
        R"("amount":"100.00","currency":"EUR","due":"2024-05-01"})",
        R"({"id":"E5","type":"payment.received","date":"2024-04-01","payment":"P1",)"
        R"("customer":"C2","amount":"10.00","currency":"USD"})",
        R"({"id":"E6","type":"payment.reversed","date":"2024-04-01","payment":"P1"})",
        R"({"id":"E7","type":"dispute.opened","date":"2024-04-01","invoice":"I1"})",
    };
    for (const std::string& line : setup) {
        Apply(line);
    }
    std::string before = Kpis();

    const std::vector<std::pair<std::string, std::string>> bad = {
        {R"({"id":"S1","type":"dispute.opened","date":"2024-04-01","invoice":"I404"})",
         "unknown_invoice"},
        {R"({"id":"S2","type":"payment.reversed","date":"2024-04-01","payment":"P404"})",
         "unknown_payment"},
        {R"({"id":"S3","type":"promise.cancelled","date":"2024-04-01","promise":"PR404"})",
         "unknown_promise"},
        {Invoice("S4", "I4", "10.00", "2024-04-01", "C404"), "unknown_customer"},
        {Invoice("S5", "I1", "10.00"), "already_exists"},
        {R"({"id":"S6","type":"payment.received","date":"2024-04-01","payment":"P6",)"
         R"("customer":"C2","amount":"10.00","currency":"USD",)"
         R"("allocations":[{"invoice":"I1","amount":"10.00"}]})",
         "customer_mismatch"},
        {R"({"id":"S7","type":"dispute.resolved","date":"2024-04-01","invoice":"I1",)"
         R"("customer":"C2"})",
         "customer_mismatch"},
        {R"({"id":"S8","type":"payment.received","date":"2024-04-01","payment":"P8",)"
         R"("customer":"C1","amount":"10.00","currency":"USD",)"
         R"("allocations":[{"invoice":"IE","amount":"10.00"}]})",
         "currency_mismatch"},
        {R"({"id":"S9","type":"credit_note.issued","date":"2024-04-01","credit_note":"CN9",)"
         R"("customer":"C1","amount":"10.00","currency":"EUR","invoice":"I1"})",
         "currency_mismatch"},
        {R"({"id":"S10","type":"payment.reversed","date":"2024-04-01","payment":"P1"})",
         "already_reversed"},
        {R"({"id":"S11","type":"dispute.opened","date":"2024-04-01","invoice":"I1"})",
         "invalid_state"},
        {R"({"id":"S12","type":"dispute.resolved","date":"2024-04-01","invoice":"IE"})",
         "invalid_state"},
        {R"({"id":"S13","type":"invoice.written_off","date":"2024-04-01","invoice":"I1",)"
         R"("amount":"100.01"})",
         "invalid_amount"},
    };
    for (size_t i = 0; i < bad.size(); ++i) {
        SCOPED_TRACE(bad[i].first);
        ExpectRejected(Send(bad[i].first), bad[i].second,
                       static_cast<int64_t>(setup.size() + i + 1), "S" + std::to_string(i + 1));
    }
    EXPECT_EQ(Kpis(), before);
}

TEST_F(IngestTest, UnknownCustomerIsRejected) {
    ExpectRejected(Send(Invoice("E1", "I1", "10.00", "2024-04-01", "C404")), "unknown_customer", 1,
                   "E1");
    EXPECT_EQ(Get("/v1/invoices/I1").status, 404);
    EXPECT_EQ(Kpis(), R"({"business_date":null,"currencies":{}})")
        << "a rejected event moves no date and adds no currency";
}

TEST_F(IngestTest, ReusedItemNumberIsAlreadyExists) {
    Apply(Customer("E1", "C1"));
    Apply(Invoice("E2", "I1", "100.00"));
    ExpectRejected(Send(Invoice("E3", "I1", "100.00")), "already_exists", 3, "E3");
    // Numbers are unique across sources too.
    ExpectRejected(Send(R"({"id":"E2","source":"erp2","type":"invoice.issued","date":"2024-04-01",)"
                        R"("invoice":"I1","customer":"C1","amount":"100.00","currency":"USD",)"
                        R"("due":"2024-05-01"})"),
                   "already_exists", 4, "E2");
    Apply(R"({"id":"E5","type":"payment.received","date":"2024-04-01","payment":"P1",)"
          R"("customer":"C1","amount":"10.00","currency":"USD"})");
    ExpectRejected(
        Send(R"({"id":"E6","type":"payment.received","date":"2024-04-01","payment":"P1",)"
             R"("customer":"C1","amount":"20.00","currency":"USD"})"),
        "already_exists", 6, "E6");
    EXPECT_EQ(Field("/v1/invoices/I1", "/open"), "90.00");
}

TEST_F(IngestTest, RejectedIdMaySendAgainCorrected) {
    Apply(Customer("E1", "C1"));
    ExpectRejected(Send(Invoice("E2", "I1", "12.345")), "invalid_amount", 2, "E2");
    ExpectRejected(Send(Invoice("E3", "I2", "5.00", "2024-04-01", "C2")), "unknown_customer", 3,
                   "E3");
    Apply(Invoice("E2", "I1", "12.34"));
    Apply(Customer("E4", "C2"));
    Apply(Invoice("E3", "I2", "5.00", "2024-04-01", "C2"));
}

TEST_F(IngestTest, LineNumbersCountBlankAndOversizedLinesAndBlankLinesGetNoAnswer) {
    ASSERT_TRUE(client_->WriteAll("\n\n" + Customer("E1", "C1") + "\n\nnot json\n").ok());
    Answer first = Read();
    EXPECT_TRUE(first.ok) << "blank lines get no answer; got " << first;
    EXPECT_EQ(first.id, "E1");
    ExpectRejected(Read(), "invalid_json", 5, std::nullopt);

    ASSERT_TRUE(client_->WriteAll(std::string(kMaxLineBytes + 1, 'x') + "\n\nnot json\n").ok());
    ExpectRejected(Read(), "line_too_long", 6, std::nullopt);
    ExpectRejected(Read(), "invalid_json", 8, std::nullopt);
}

TEST_F(IngestTest, IdIsNullWhenNoneCanBeRead) {
    ExpectRejected(Send("{"), "invalid_json", 1, std::nullopt);
    ExpectRejected(Send("[1,2]"), "invalid_json", 2, std::nullopt);
    ExpectRejected(Send(R"({"type":"clock.advanced","date":"2024-04-01"})"), "missing_field", 3,
                   std::nullopt);
    ExpectRejected(Send(R"({"id":null,"type":"clock.advanced","date":"2024-04-01"})"),
                   "invalid_field", 4, std::nullopt);
    ExpectRejected(Send(R"({"id":["E1"],"type":"clock.advanced","date":"2024-04-01"})"),
                   "invalid_field", 5, std::nullopt);
}

TEST_F(IngestTest, LineSplitAcrossManyWritesIsOneEvent) {
    client_->SetNoDelay(true);
    std::string line = Customer("E1", "C1") + "\n";
    constexpr size_t kPiece = 7;
    for (size_t at = 0; at < line.size(); at += kPiece) {
        ASSERT_TRUE(client_->WriteAll(line.substr(at, kPiece)).ok());
        if (at + kPiece < line.size()) {
            // Nothing may be answered before the newline; the short wait also spreads the pieces.
            Result<std::string> early = client_->ReadLine(20);
            ASSERT_FALSE(early.ok()) << "answered a partial line: " << *early;
            ASSERT_EQ(early.status().code(), "timeout") << early.status().message();
        }
    }
    Answer answer = Read();
    EXPECT_TRUE(answer.ok) << answer;
    EXPECT_EQ(answer.id, "E1");
    EXPECT_EQ(Field("/v1/customers/C1", "/customer"), "C1");
}

TEST_F(IngestTest, HundredsOfLinesInOneWriteAnswerInOrder) {
    constexpr int kLines = 500;
    std::string bytes = Customer("E0", "C1") + "\n";
    for (int i = 1; i < kLines; ++i) {
        // Every seventh line is rejected, so that quick rejections sit between commits.
        std::string amount = i % 7 == 0 ? "1e3" : "1.00";
        bytes += Invoice("E" + std::to_string(i), "I" + std::to_string(i), amount) + "\n";
    }
    ASSERT_TRUE(client_->WriteAll(bytes).ok());

    int applied = 0;
    for (int i = 0; i < kLines; ++i) {
        SCOPED_TRACE("answer " + std::to_string(i + 1));
        Answer answer = Read();
        ASSERT_TRUE(answer.is_object) << answer;
        ASSERT_EQ(answer.id, "E" + std::to_string(i)) << "answers come in line order: " << answer;
        if (i > 0 && i % 7 == 0) {
            ExpectRejected(answer, "invalid_amount", i + 1, "E" + std::to_string(i));
        } else {
            EXPECT_TRUE(answer.ok && !answer.duplicate) << answer;
            applied += i > 0 ? 1 : 0;
        }
    }
    EXPECT_EQ(Field("/v1/kpis", "/currencies/USD/open"), std::to_string(applied) + ".00");
}

TEST_F(IngestTest, PipelinedLinesBeyondTheReadAheadLimitAreAllAnsweredInOrder) {
    // 3,000 lines with no window: more than the 1,000 the engine reads ahead, so it must pause
    // reading and go on once the answers are taken.
    constexpr size_t kLines = 3000;
    std::vector<std::string> lines = {Customer("E0", "C1")};
    size_t invoices = 0;
    for (size_t i = 1; i < kLines; ++i) {
        std::string id = "E" + std::to_string(i);
        if (i % 2 == 0) {
            lines.push_back(Invoice(id, "I" + std::to_string(i), "2"));
            ++invoices;
        } else {
            lines.push_back(R"({"id":")" + id + R"("})");  // missing_field
        }
    }
    std::vector<Answer> answers = SendAll(lines, kLines);
    ASSERT_EQ(answers.size(), kLines);
    for (size_t i = 0; i < kLines; ++i) {
        ASSERT_EQ(answers[i].id, "E" + std::to_string(i)) << answers[i];
        ASSERT_EQ(answers[i].ok, i % 2 == 0) << answers[i];
    }
    EXPECT_EQ(Field("/v1/kpis", "/currencies/USD/open"), std::to_string(invoices * 2) + ".00");
}

TEST_F(IngestTest, OversizedLineIsLineTooLongAndTheNextLineIsAnswered) {
    ASSERT_TRUE(client_
                    ->WriteAll(PaddedLine("E1", kMaxLineBytes + 1) + "\n" + Customer("E2", "C1") +
                               "\n" + "not json\n")
                    .ok());
    ExpectRejected(Read(), "line_too_long", 1, std::nullopt);
    Answer next = Read();
    EXPECT_TRUE(next.ok) << next;
    EXPECT_EQ(next.id, "E2");
    ExpectRejected(Read(), "invalid_json", 3, std::nullopt);
    EXPECT_EQ(Get("/v1/customers/C9").status, 404) << "the oversized line was applied";

    // A much longer line is one answer too.
    ASSERT_TRUE(
        client_->WriteAll(std::string(1 << 20, 'y') + "\n" + Customer("E3", "C3") + "\n").ok());
    ExpectRejected(Read(), "line_too_long", 4, std::nullopt);
    Answer last = Read();
    EXPECT_TRUE(last.ok) << last;
    EXPECT_EQ(last.id, "E3");
}

TEST_F(IngestTest, LineOfExactly65536BytesIsAccepted) {
    Answer answer = Send(PaddedLine("E1", kMaxLineBytes));
    EXPECT_TRUE(answer.ok) << answer.raw.substr(0, 300);
    EXPECT_EQ(answer.id, "E1");
}

TEST_F(IngestTest, LineTooLongIsAnsweredAsSoonAsTheLimitIsPassed) {
    ASSERT_TRUE(client_->WriteAll(std::string(kMaxLineBytes + 1, 'x')).ok());
    // No newline yet: the answer must not wait for it.
    ExpectRejected(Read(), "line_too_long", 1, std::nullopt);
    ASSERT_TRUE(
        client_->WriteAll(std::string(100000, 'x') + "\n" + Customer("E1", "C1") + "\n").ok());
    Answer next = Read();
    EXPECT_TRUE(next.ok) << "the rest of the oversized line gets no answer of its own: " << next;
    EXPECT_EQ(next.id, "E1");
}

TEST_F(IngestTest, BadLinesNeverChangeState) {
    Apply(Customer("E1", "C1"));
    Apply(Invoice("E2", "I1", "100.00"));
    std::string before = Kpis();

    const std::vector<std::string> bad = {
        Invoice("E3", "I2", "1e3", "2024-12-31"),
        R"({"id":"E4","type":"invoice.issued","date":"2024-12-31","invoice":"I3",)"
        R"("customer":"C1","amount":"10.00","currency":"EUR","due":"2030-13-01"})",
        Invoice("E5", "I4", "10.00", "2024-12-31", "C404"),
        Invoice("E2", "I1", "100.00", "2024-12-31"),
        Invoice("E6", "I1", "100.00", "2024-12-31"),
        R"({"id":"E7","type":"clock.advanced","date":"2024-12-31","date":"2025-01-01"})",
        R"({"id":"E8","type":"invoice.deleted","date":"2024-12-31","invoice":"I1"})",
        std::string(kMaxLineBytes + 10, 'x'),
    };
    for (const std::string& line : bad) {
        SCOPED_TRACE(line.substr(0, 200));
        Answer answer = Send(line);
        EXPECT_FALSE(answer.ok) << answer;
    }
    EXPECT_EQ(Kpis(), before);
    EXPECT_EQ(Field("/v1/kpis", "/business_date"), "2024-04-01");
    EXPECT_EQ(Field("/v1/invoices/I1", "/open"), "100.00");
    EXPECT_EQ(Get("/v1/invoices/I2").status, 404);
    EXPECT_EQ(Get("/v1/invoices/I4").status, 404);
}

TEST_F(IngestTest, DateMoreThan3660DaysAheadIsInvalidDate) {
    Apply(R"({"id":"E1","type":"clock.advanced","date":"2024-01-01"})");
    ExpectRejected(Send(R"({"id":"E2","type":"clock.advanced","date":"2034-01-09"})"),
                   "invalid_date", 2, "E2");
    EXPECT_EQ(Field("/v1/kpis", "/business_date"), "2024-01-01");
    Apply(R"({"id":"E3","type":"clock.advanced","date":"2034-01-08"})");
    EXPECT_EQ(Field("/v1/kpis", "/business_date"), "2034-01-08");
}

// The events every restart test applies, and their answers when sent again.
std::vector<std::string> RestartEvents() {
    return {
        Customer("E1", "C1"),
        Invoice("E2", "I1", "100.00"),
        Invoice("E3", "I2", "50.00", "2024-04-02"),
        R"({"id":"E4","type":"payment.received","date":"2024-04-03","payment":"P1",)"
        R"("customer":"C1","amount":"30.00","currency":"USD",)"
        R"("allocations":[{"invoice":"I1","amount":"30.00"}]})",
    };
}

TEST_F(IngestTest, EventsSurviveASigtermRestartAndAResendIsDuplicate) {
    for (const std::string& line : RestartEvents()) {
        Apply(line);
    }
    std::string before = Kpis();
    client_.reset();

    Result<int> code = rmsd_->Terminate();
    ASSERT_TRUE(code.ok()) << code.status().message();
    EXPECT_EQ(*code, 0) << rmsd_->LogTail();
    Status restarted = rmsd_->Restart();
    ASSERT_TRUE(restarted.ok()) << restarted.message();
    Reconnect();

    EXPECT_EQ(Kpis(), before);
    EXPECT_EQ(Field("/v1/invoices/I1", "/open"), "70.00");
    for (const std::string& line : RestartEvents()) {
        SCOPED_TRACE(line);
        Answer answer = Send(line);
        EXPECT_TRUE(answer.ok && answer.duplicate) << answer;
    }
    ExpectRejected(Send(Invoice("E2", "I1", "99.00")), "conflict", 5, "E2");
    EXPECT_EQ(Kpis(), before);
}

TEST_F(IngestTest, AnsweredEventsSurviveASigkill) {
    for (const std::string& line : RestartEvents()) {
        Apply(line);
    }
    std::string before = Kpis();
    client_.reset();

    rmsd_->Kill9();
    Status restarted = rmsd_->Restart();
    ASSERT_TRUE(restarted.ok()) << restarted.message();
    Reconnect();

    EXPECT_EQ(Kpis(), before);
    for (const std::string& line : RestartEvents()) {
        SCOPED_TRACE(line);
        Answer answer = Send(line);
        EXPECT_TRUE(answer.ok && answer.duplicate) << answer;
    }
}

}  // namespace
}  // namespace rms
