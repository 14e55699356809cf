// The delivery file, templates and the retry schedule, with expectations worked out by hand.
#include <gtest/gtest.h>

#include "engine/channels.h"
#include "rules/rules_config.h"

namespace rms {
namespace {

constexpr char kFile[] = R"(
[delivery]
max_attempts = 3
backoff_initial_ms = 100
backoff_max_ms = 1000

[channels.email]
kind = "smtp"
url = "smtp://127.0.0.1:2525"
from = "ar@example.test"

[channels.whatsapp]
kind = "webhook"
url = "http://127.0.0.1:9000/wa"
headers = { Authorization = "Bearer abc" }
template = "short"

[templates.short]
body = "Hi {customer_name}, {open} {currency} is open on {invoice}."

[templates.late]
subject = "Invoice {invoice}: {{overdue}}"
body = """
Dear {customer_name},
invoice {invoice} of {amount} {currency} was due on {due} ({days_past_due} days ago).
"""
)";

TEST(BackoffTest, DoublesEachAttemptUpToTheCapAndJittersWithinTheUpperHalf) {
    struct Case {
        int attempt;
        int64_t step;
    };
    for (Case c : {Case{1, 100}, Case{2, 200}, Case{3, 400}, Case{4, 800}, Case{5, 1000},
                   Case{30, 1000}, Case{1000, 1000}}) {
        SCOPED_TRACE("attempt " + std::to_string(c.attempt));
        // The jitter is random % (step/2 + 1) added to step - step/2: its extremes are the
        // random values 0 and step/2.
        EXPECT_EQ(BackoffMs(c.attempt, 100, 1000, 0), c.step - c.step / 2);
        EXPECT_EQ(BackoffMs(c.attempt, 100, 1000, static_cast<uint64_t>(c.step / 2)), c.step);
        for (uint64_t r : {1ull, 77ull, 12345ull, ~0ull}) {
            int64_t d = BackoffMs(c.attempt, 100, 1000, r);
            EXPECT_GE(d, c.step / 2);
            EXPECT_LE(d, c.step);
        }
    }
    EXPECT_EQ(BackoffMs(1, 1, 1, 5), 1);
}

TEST(TemplateTest, RendersNamedFieldsAndLiteralBraces) {
    std::map<std::string, std::string> v = {{"customer_name", "Acme Ltd"}, {"invoice", "I-7"},
                                            {"amount", "1200.50"},         {"currency", "EUR"},
                                            {"due", "2024-03-01"},         {"days_past_due", "9"}};
    EXPECT_EQ(RenderTemplate("Invoice {invoice}: {{overdue}}", v), "Invoice I-7: {overdue}");
    EXPECT_EQ(RenderTemplate("Dear {customer_name},\ninvoice {invoice} of {amount} {currency} "
                             "was due on {due} ({days_past_due} days ago).\n",
                             v),
              "Dear Acme Ltd,\ninvoice I-7 of 1200.50 EUR was due on 2024-03-01 (9 days ago).\n");
    EXPECT_EQ(RenderTemplate("{open}|{{}}|}}", v), "|{}|}");
}

TEST(TemplateTest, UnknownFieldsAndOpenBracesAreErrors) {
    Result<std::vector<std::string>> ok = TemplateFieldsOf("{customer} owes {open} {{x}}");
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(*ok, (std::vector<std::string>{"customer", "open"}));
    for (std::string_view bad : {"{colour}", "Dear {customer", "a } b", "{}"}) {
        SCOPED_TRACE(bad);
        Result<std::vector<std::string>> r = TemplateFieldsOf(bad);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.status().code(), "invalid_config");
    }
    EXPECT_NE(TemplateFieldsOf("{colour}").status().message().find("unknown field {colour}"),
              std::string::npos);
}

TEST(DeliveryFileTest, ParsesChannelsTemplatesAndRetries) {
    Result<DeliveryConfig> c = ParseDelivery(kFile, "delivery.toml");
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->max_attempts, 3);
    EXPECT_EQ(c->backoff_initial_ms, 100);
    EXPECT_EQ(c->backoff_max_ms, 1000);
    ASSERT_EQ(c->channels.size(), 2u);
    EXPECT_EQ(c->channels.at("email").kind, ChannelKind::kSmtp);
    EXPECT_EQ(c->channels.at("email").from, "ar@example.test");
    const ChannelConfig& wa = c->channels.at("whatsapp");
    EXPECT_EQ(wa.kind, ChannelKind::kWebhook);
    EXPECT_EQ(wa.template_name, "short");
    ASSERT_EQ(wa.headers.size(), 1u);
    EXPECT_EQ(wa.headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer abc"}));
    EXPECT_EQ(c->templates.at("late").subject, "Invoice {invoice}: {{overdue}}");
}

// smtp:// requires the STARTTLS upgrade unless told otherwise, and never sends a password in
// clear.
TEST(DeliveryFileTest, StarttlsIsRequiredByDefaultAndNeverOffWithAUsername) {
    constexpr char kDefault[] = R"([channels.email]
kind = "smtp"
url = "smtp://127.0.0.1:2525"
from = "ar@example.test"
)";
    Result<DeliveryConfig> c = ParseDelivery(kDefault, "d.toml");
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_TRUE(c->channels.at("email").starttls);

    constexpr char kOff[] = R"([channels.email]
kind = "smtp"
url = "smtp://127.0.0.1:2525"
from = "ar@example.test"
starttls = "off"
)";
    c = ParseDelivery(kOff, "d.toml");
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_FALSE(c->channels.at("email").starttls);

    constexpr char kClear[] = R"([channels.email]
kind = "smtp"
url = "smtp://127.0.0.1:2525"
from = "ar@example.test"
username = "ar"
password = "secret"
starttls = "off"
)";
    c = ParseDelivery(kClear, "d.toml");
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find("would send the password in clear"), std::string::npos)
        << c.status().message();
    EXPECT_EQ(c.status().message().find("secret"), std::string::npos);

    constexpr char kBadValue[] = R"([channels.email]
kind = "smtp"
url = "smtp://127.0.0.1:2525"
from = "ar@example.test"
starttls = "maybe"
)";
    c = ParseDelivery(kBadValue, "d.toml");
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find("starttls must be"), std::string::npos)
        << c.status().message();
}

TEST(DeliveryFileTest, ReportsEveryErrorWithItsLine) {
    constexpr char kBad[] = R"([channels.email]
kind = "smtp"
url = "http://127.0.0.1"
[channels.fax]
kind = "webhook"
url = "http://127.0.0.1:1/"
[templates.t]
body = "Hello {customer_nam}"
colour = "red"
)";
    Result<DeliveryConfig> c = ParseDelivery(kBad, "d.toml");
    ASSERT_FALSE(c.ok());
    const std::string& m = c.status().message();
    EXPECT_NE(m.find("channels.email: an smtp channel's url must start with smtp://"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("channels.email: an smtp channel needs from"), std::string::npos) << m;
    EXPECT_NE(m.find("\"fax\" is neither a channel nor an action kind"), std::string::npos) << m;
    EXPECT_NE(m.find("d.toml: line 8: templates.t: body: unknown field {customer_nam}"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("d.toml: line 9: templates.t: unknown key \"colour\""), std::string::npos)
        << m;
}

TEST(DeliveryFileTest, RulesMustNameDefinedTemplates) {
    Result<DeliveryConfig> c = ParseDelivery(kFile, "delivery.toml");
    ASSERT_TRUE(c.ok());
    Status s = CheckTemplateNames(*c, rules::DefaultRules(), "built-in rules");
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("names template \"pre_due\""), std::string::npos) << s.message();
    DeliveryConfig all = *c;
    all.templates["pre_due"] = Template{"pre_due", "", "x"};
    all.templates["overdue_1"] = Template{"overdue_1", "", "x"};
    EXPECT_TRUE(CheckTemplateNames(all, rules::DefaultRules(), "built-in rules").ok());
}

}  // namespace
}  // namespace rms
