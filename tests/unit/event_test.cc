#include "engine/event.h"

#include <gtest/gtest.h>

#include <string>

namespace rms {
namespace {

TEST(EventTest, CanonicalContentIgnoresMemberOrderSpacingAndADefaultSource) {
    ParsedLine a = ParseEvent(R"({"id":"E1","type":"clock.advanced","date":"2024-01-01"})");
    ParsedLine b = ParseEvent(R"({ "date" : "2024-01-01", "source":"default",)"
                              R"( "type":"clock.advanced", "id":"E\u0031" })");
    ASSERT_TRUE(a.status.ok());
    ASSERT_TRUE(b.status.ok());
    EXPECT_EQ(a.event.canonical, b.event.canonical);
    EXPECT_EQ(a.event.content_hash, b.event.content_hash);
    EXPECT_EQ(a.event.canonical,
              R"({"date":"2024-01-01","id":"E1","source":"default","type":"clock.advanced"})");
    ParsedLine c = ParseEvent(
        R"({"id":"E1","type":"clock.advanced","date":"2024-01-01","note":{"b":1,"a":[2]}})");
    EXPECT_EQ(c.event.canonical, R"({"date":"2024-01-01","id":"E1","note":{"a":[2],"b":1},)"
                                 R"("source":"default","type":"clock.advanced"})");
}

TEST(EventTest, NegativeZeroInAFreeFieldHasTheCanonicalFormOfZero) {
    // Found by fuzz_event: -0.0 was written "-0", which reads back as the integer 0, so the
    // canonical form of a canonical form differed from it.
    const char* base = R"({"id":"E1","type":"clock.advanced","date":"2024-01-01","x":)";
    ParsedLine zero = ParseEvent(std::string(base) + "0}");
    ASSERT_TRUE(zero.status.ok());
    for (const char* text : {"-0.0", "-0e0", "0.0", "-0"}) {
        ParsedLine a = ParseEvent(std::string(base) + text + "}");
        ASSERT_TRUE(a.status.ok()) << text;
        EXPECT_EQ(a.event.canonical, zero.event.canonical) << text;
        ParsedLine again = ParseEvent(a.event.canonical);
        ASSERT_TRUE(again.status.ok()) << text;
        EXPECT_EQ(again.event.canonical, a.event.canonical) << text;
    }
}

TEST(EventTest, EachFaultHasItsCode) {
    struct Case {
        const char* line;
        const char* code;
        bool has_id;
    };
    for (Case c : {
             Case{R"(not json)", "invalid_json", false},
             Case{R"([1,2])", "invalid_json", false},
             Case{R"({"id":"E1","type":"a","type":"b"})", "invalid_json", true},
             Case{R"({"id":"E1","id":"E2","type":"a"})", "invalid_json", false},
             Case{R"({"type":"clock.advanced","date":"2024-01-01"})", "missing_field", false},
             Case{R"({"id":"E1","type":"ledger.exploded","date":"2024-01-01"})", "unknown_type",
                  true},
             Case{R"({"id":"E1","type":"clock.advanced","date":"2024-02-30"})", "invalid_date",
                  true},
             Case{R"({"id":"E1","type":"clock.advanced","date":20240101})", "invalid_date", true},
             Case{R"({"id":"E1","type":"invoice.issued","date":"2024-01-01","invoice":"I",)"
                  R"("customer":"C","amount":100,"currency":"USD","due":"2024-02-01"})",
                  "invalid_amount", true},
             Case{R"({"id":"E1","type":"invoice.issued","date":"2024-01-01","invoice":"I",)"
                  R"("customer":"C","amount":"1.005","currency":"USD","due":"2024-02-01"})",
                  "invalid_amount", true},
             Case{R"({"id":"E1","type":"invoice.issued","date":"2024-01-01","invoice":"I",)"
                  R"("customer":"C","amount":"10","currency":"ZZZ","due":"2024-02-01"})",
                  "invalid_currency", true},
             Case{R"({"id":"E1","type":"invoice.issued","date":"2024-01-01","invoice":"I",)"
                  R"("customer":"C","amount":"10","currency":"USD"})",
                  "missing_field", true},
             Case{R"({"id":"E1","type":"invoice.issued","date":"2024-01-01","invoice":"I",)"
                  R"("customer":"C","amount":"10","currency":"USD","due":"2024-02-01",)"
                  R"("installments":[{"due":"2024-02-01","amount":"10"}]})",
                  "invalid_field", true},
             Case{R"({"id":"E1","type":"invoice.issued","date":"2024-01-01","invoice":"I",)"
                  R"("customer":"C","amount":"10","currency":"USD",)"
                  R"("installments":[{"due":"2024-02-01","amount":"9.99"}]})",
                  "invalid_amount", true},
             Case{R"({"id":"E1","type":"contact.logged","date":"2024-01-01","customer":"C",)"
                  R"("channel":"pigeon","direction":"outbound"})",
                  "invalid_field", true},
             Case{R"({"id":"E1","type":"promise.made","date":"2024-01-10","promise":"P",)"
                  R"("customer":"C","amount":"1","currency":"USD","due":"2024-01-09"})",
                  "invalid_date", true},
         }) {
        SCOPED_TRACE(c.line);
        ParsedLine p = ParseEvent(c.line);
        EXPECT_EQ(p.status.code(), c.code) << p.status.message();
        EXPECT_EQ(p.id.has_value(), c.has_id);
        EXPECT_FALSE(p.status.message().empty());
    }
}

TEST(EventTest, IdsAreLimitedTo128Characters) {
    std::string ok_id(128, 'x');
    std::string long_id(129, 'x');
    auto line = [](const std::string& id) {
        return R"({"id":")" + id + R"(","type":"clock.advanced","date":"2024-01-01"})";
    };
    EXPECT_TRUE(ParseEvent(line(ok_id)).status.ok());
    EXPECT_EQ(ParseEvent(line(long_id)).status.code(), "invalid_field");
}

TEST(EventTest, InstallmentsAndAllocationsAreRead) {
    ParsedLine p =
        ParseEvent(R"({"id":"E1","type":"payment.received","date":"2024-01-01","payment":"P",)"
                   R"("customer":"C","amount":"10","currency":"JPY","allocations":[{"invoice":"A",)"
                   R"("amount":"4"},{"invoice":"B","amount":"6"}]})");
    ASSERT_TRUE(p.status.ok()) << p.status.message();
    ASSERT_EQ(p.event.allocations.size(), 2u);
    EXPECT_EQ(p.event.allocations[1].invoice, "B");
    EXPECT_EQ(p.event.allocations[1].amount, 6);
    EXPECT_EQ(p.event.amount, 10);
    EXPECT_EQ(p.event.source, "default");
}

}  // namespace
}  // namespace rms
