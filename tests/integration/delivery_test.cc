// The delivery outbox of a real rmsd against real receivers on loopback: an SMTP server
// (aiosmtpd) and a webhook receiver that refuses a share of requests and is slow at times.
// Every action arrives, each Idempotency-Key is processed once by its receiver, nothing is lost
// across a kill -9 of rmsd, and dead letters show in the API and the metrics.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/command.h"
#include "tests/support/receiver_process.h"
#include "tests/support/rmsd_calls.h"
#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"

namespace rms {
namespace {

constexpr char kRules[] = R"(
[[strategy]]
name = "s"
  [[strategy.step]]
  name = "mail"
  offset_days = 1
  action = "reminder"
  channel = "email"
  template = "late"
  [[strategy.step]]
  name = "wa"
  offset_days = 2
  action = "reminder"
  channel = "whatsapp"
  template = "wa"
  [[strategy.step]]
  name = "call"
  offset_days = 3
  action = "call"
  channel = "phone"
)";

// Customers C0..C9 get everything delivered; REJECT has no e-mail address and its webhooks are
// refused for good (422); DOWN's webhooks always answer 503, so they run out of attempts.
constexpr int kCustomers = 10;
constexpr int kDelivered = 3 * kCustomers + 1;  // and DOWN's e-mail
constexpr int kDeadLetters = 5;

void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
}

std::string DeliveryFile(uint16_t smtp_port, uint16_t http_port) {
    std::string http = "http://127.0.0.1:" + std::to_string(http_port);
    return R"(
[delivery]
max_attempts = 4
backoff_initial_ms = 10
backoff_max_ms = 80
threads = 2

[channels.email]
kind = "smtp"
url = "smtp://127.0.0.1:)" +
           std::to_string(smtp_port) + R"("
from = "ar@rms.test"
starttls = "off"

[channels.whatsapp]
kind = "webhook"
url = ")" + http +
           R"(/wa"
headers = { X-Api-Key = "test-key" }

[channels.phone]
kind = "webhook"
url = ")" + http +
           R"(/call"
template = "call"

[templates.late]
subject = "Invoice {invoice} is {days_past_due} days late"
body = "Dear {customer_name},\n{open} {currency} of invoice {invoice} was due on {due}.\n"

[templates.wa]
body = "{customer_name}: {open} {currency} open on {invoice}"

[templates.call]
body = "Call {customer_name} ({phone}) about {overdue}"
)";
}

std::vector<std::string> Events() {
    std::vector<std::string> lines;
    auto customer = [&](const std::string& id, const std::string& contact) {
        lines.push_back(R"({"id":"c-)" + id +
                        R"(","type":"customer.upserted","date":"2024-02-01","customer":")" + id +
                        R"(","name":"Name )" + id + "\"" + contact + "}");
        lines.push_back(R"({"id":"i-)" + id +
                        R"(","type":"invoice.issued","date":"2024-02-01","invoice":"I-)" + id +
                        R"(","customer":")" + id +
                        R"(","amount":"125.50","currency":"EUR","due":"2024-03-01"})");
    };
    for (int i = 0; i < kCustomers; ++i) {
        std::string id = "C" + std::to_string(i);
        customer(id, R"(,"email":")" + id + R"(@example.test","phone":"+100)" + std::to_string(i) +
                         "\"");
    }
    customer("REJECT", R"(,"phone":"+999")");
    customer("DOWN", R"(,"email":"down@example.test","phone":"+998")");
    lines.push_back(R"({"id":"k","type":"clock.advanced","date":"2024-03-05"})");
    return lines;
}

class DeliveryTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = TempDir::Create("delivery");
        ASSERT_TRUE(dir.ok());
        dir_ = std::make_unique<TempDir>(std::move(dir).value());
        auto smtp = ReceiverProcess::Start("smtp", dir_->Path(""));
        ASSERT_TRUE(smtp.ok()) << smtp.status().message();
        smtp_ = std::move(smtp).value();
        auto http = ReceiverProcess::Start("http", dir_->Path(""));
        ASSERT_TRUE(http.ok()) << http.status().message();
        http_ = std::move(http).value();
        Write(dir_->Path("rules.toml"), kRules);
        Write(dir_->Path("delivery.toml"), DeliveryFile(smtp_->port(), http_->port()));
        options_.data_dir = dir_->Path("data");
        options_.extra_args = {"--rules", dir_->Path("rules.toml"), "--delivery",
                               dir_->Path("delivery.toml")};
        auto rmsd = RmsdProcess::Start(options_);
        ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
        rmsd_ = std::move(rmsd).value();
    }

    void Send(const std::vector<std::string>& lines) {
        SendExpectingOk(rmsd_->ingest_port(), lines);
    }

    std::string Get(const std::string& target) { return GetBody(rmsd_->http_port(), target); }

    // Key -> status of every action.
    std::map<std::string, std::string> Actions() {
        std::map<std::string, std::string> out;
        std::string body = Get("/v1/actions?limit=1000");
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        if (parser.parse(body).get(root) != simdjson::SUCCESS) {
            ADD_FAILURE() << body;
            return out;
        }
        for (simdjson::dom::element a : root["actions"].get_array()) {
            out[std::string(a["key"].get_string().value())] =
                std::string(a["status"].get_string().value());
        }
        return out;
    }

    // Waits (bounded: the receivers' delays add up to well under a second) until no action is
    // pending; false when some still are after 60 s.
    bool AwaitNothingPending() {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline) {
            std::map<std::string, std::string> actions = Actions();
            bool pending = actions.empty();
            for (const auto& [key, status] : actions) {
                pending = pending || status == "pending";
            }
            if (!pending) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }

    void ExpectEveryActionDeliveredOnce() {
        ASSERT_TRUE(AwaitNothingPending()) << rmsd_->LogTail();
        std::map<std::string, std::string> actions = Actions();
        ASSERT_EQ(actions.size(), static_cast<size_t>(3 * (kCustomers + 2)));
        std::set<std::string> mail, hooks;
        int delivered = 0, dead = 0;
        for (const auto& [key, status] : actions) {
            bool bad_customer = key.ends_with("I-REJECT") || key.ends_with("I-DOWN");
            bool is_mail = key.starts_with("s/mail/");
            bool expect_dead = key.ends_with("I-REJECT") || (key.ends_with("I-DOWN") && !is_mail);
            EXPECT_EQ(status, expect_dead ? "dead_letter" : "delivered") << key;
            delivered += status == "delivered";
            dead += status == "dead_letter";
            if (!bad_customer || (is_mail && key.ends_with("I-DOWN"))) {
                (is_mail ? mail : hooks).insert(key);
            }
        }
        EXPECT_EQ(delivered, kDelivered);
        EXPECT_EQ(dead, kDeadLetters);

        int mail_repeats = 0, hook_repeats = 0;
        std::map<std::string, int> got_mail = smtp_->ProcessedKeys(&mail_repeats);
        std::map<std::string, int> got_hooks = http_->ProcessedKeys(&hook_repeats);
        std::set<std::string> mail_keys, hook_keys;
        for (const auto& [key, n] : got_mail) {
            EXPECT_EQ(n, 1) << key;
            mail_keys.insert(key);
        }
        for (const auto& [key, n] : got_hooks) {
            EXPECT_EQ(n, 1) << key;
            hook_keys.insert(key);
        }
        EXPECT_EQ(mail_keys, mail);
        EXPECT_EQ(hook_keys, hooks);
        std::printf("receiver repeats dropped: smtp %d, webhook %d\n", mail_repeats, hook_repeats);

        std::string metrics = Get("/metrics");
        EXPECT_NE(metrics.find("rms_outbox_actions{status=\"dead_letter\"} " +
                               std::to_string(kDeadLetters)),
                  std::string::npos)
            << metrics;
        EXPECT_NE(metrics.find("rms_outbox_actions{status=\"pending\"} 0"), std::string::npos);
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<ReceiverProcess> smtp_;
    std::unique_ptr<ReceiverProcess> http_;
    RmsdOptions options_;
    std::unique_ptr<RmsdProcess> rmsd_;
};

TEST_F(DeliveryTest, EveryActionArrivesOnceAndDeadLettersShow) {
    Send(Events());
    ExpectEveryActionDeliveredOnce();

    std::string metrics = Get("/metrics");
    for (std::string line : {
             R"(rms_deliveries_total{channel="whatsapp",result="dead_letter"} 2)",
             R"(rms_deliveries_total{channel="phone",result="dead_letter"} 2)",
             R"(rms_deliveries_total{channel="email",result="dead_letter"} 1)",
             R"(rms_deliveries_total{channel="email",result="delivered"} 11)",
             R"(rms_contacts_total{channel="whatsapp",direction="outbound"} 12)",
         }) {
        EXPECT_NE(metrics.find(line), std::string::npos) << line;
    }
    // DOWN's webhooks were tried max_attempts times, three retries each.
    EXPECT_NE(metrics.find(R"(rms_deliveries_total{channel="phone",result="retry"})"),
              std::string::npos);
    std::string dead = Get("/v1/actions?status=dead_letter");
    EXPECT_NE(dead.find(R"("key":"s/wa/invoice/I-DOWN","customer":"DOWN")"), std::string::npos)
        << dead;
    EXPECT_NE(dead.find(R"("attempts":4,"last_error":"HTTP 503")"), std::string::npos) << dead;
    EXPECT_NE(dead.find(R"("last_error":"the customer has no e-mail address")"), std::string::npos)
        << dead;

    // Delivered actions are contacts of their channel and step.
    std::string kpis = Get("/v1/kpis");
    EXPECT_NE(kpis.find(R"("email":{"contacts":11,"payments_7d":0,"promises":0,)"),
              std::string::npos)
        << kpis;
    EXPECT_NE(kpis.find(R"({"channel":"phone","step":"s/call","contacts":10,)"), std::string::npos)
        << kpis;
    EXPECT_NE(metrics.find(R"(rms_contact_effect{channel="whatsapp",figure="contacts"} 10)"),
              std::string::npos);

    // The e-mail went to the customer's address with the template filled in.
    bool found = false;
    for (const std::string& line : smtp_->LogLines()) {
        found = found || line ==
                             "new s/mail/invoice/I-C3 to=C3@example.test "
                             "subject=Invoice_I-C3_is_4_days_late";
    }
    EXPECT_TRUE(found) << "no reminder for C3";

    // The whatsapp channel's configured header came with each of its requests, and only with
    // those: the phone channel configures none.
    int whatsapp = 0, phone = 0;
    for (const std::string& line : http_->LogLines()) {
        if (!line.starts_with("new ")) {
            continue;
        }
        if (line.find(" path=/wa ") != std::string::npos) {
            ++whatsapp;
            EXPECT_TRUE(line.ends_with(" api_key=test-key")) << line;
        } else {
            ++phone;
            EXPECT_TRUE(line.ends_with(" path=/call api_key=-")) << line;
        }
    }
    EXPECT_EQ(whatsapp, kCustomers);
    EXPECT_EQ(phone, kCustomers);

    // The timeline shows each attempt and the contact, newest first.
    std::string timeline = Get("/v1/customers/DOWN/timeline?limit=100");
    EXPECT_NE(timeline.find(R"("kind":"contact","date":"2024-03-05","caused_by":"k",)"
                            R"("type":"delivery","channel":"phone","direction":"outbound",)"
                            R"("outcome":"failed")"),
              std::string::npos)
        << timeline;
    EXPECT_NE(timeline.find(R"("channel":"phone","attempt":"4","result":"dead_letter",)"
                            R"("error":"HTTP 503")"),
              std::string::npos)
        << timeline;
}

TEST_F(DeliveryTest, NothingIsLostAcrossAKill9) {
    Send(Events());
    // Kill rmsd while deliveries are under way: once the webhook receiver has seen a few.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (http_->LogLines().size() < 6 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    rmsd_->Kill9();
    std::printf("killed after %zu webhook requests\n", http_->LogLines().size());

    // What the kill left in the store, read by an rmsd without the outbox (so that nothing is
    // delivered meanwhile): some actions were still pending, so the restart has work to finish.
    RmsdOptions no_outbox = options_;
    no_outbox.extra_args = {"--rules", dir_->Path("rules.toml")};
    auto reader = RmsdProcess::Start(no_outbox);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    rmsd_ = std::move(reader).value();
    std::map<std::string, std::string> at_kill = Actions();
    ASSERT_EQ(at_kill.size(), static_cast<size_t>(3 * (kCustomers + 2)));
    size_t pending = 0;
    for (const auto& [key, status] : at_kill) {
        pending += status == "pending";
    }
    EXPECT_GT(pending, 0u);
    std::printf("pending at the kill: %zu of %zu\n", pending, at_kill.size());
    ASSERT_TRUE(rmsd_->Terminate().ok());

    auto rmsd = RmsdProcess::Start(options_);
    ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
    rmsd_ = std::move(rmsd).value();
    ExpectEveryActionDeliveredOnce();
}

// Kafka mode has no outbox yet (docs/scale-out.md): rmsd refuses a delivery file there rather
// than decide actions that nobody would deliver. It refuses before it reaches for the brokers.
TEST_F(DeliveryTest, KafkaModeRefusesTheOutbox) {
    CommandResult started = RunCommand(
        std::string(RMS_RMSD_PATH) + " --data-dir " + dir_->Path("kafka") +
        " --listen 127.0.0.1:0 --http 127.0.0.1:0 --kafka 127.0.0.1:9 --topic events --group rms" +
        " --rules " + dir_->Path("rules.toml") + " --delivery " + dir_->Path("delivery.toml") +
        " 2>&1");
    EXPECT_EQ(started.exit_code, 78) << started.output;
    EXPECT_NE(started.output.find("the delivery outbox is not supported in Kafka mode yet"),
              std::string::npos)
        << started.output;
}

TEST_F(DeliveryTest, CheckConfigRefusesAnUnknownTemplateField) {
    std::string bad = dir_->Path("bad.toml");
    Write(bad, "[templates.late]\nsubject = \"x\"\nbody = \"Dear {customer_nmae}\"\n");
    CommandResult checked = RunCommand(std::string(RMS_RMSD_PATH) + " --check-config " +
                                       dir_->Path("rules.toml") + " --delivery " + bad + " 2>&1");
    EXPECT_EQ(checked.exit_code, 78) << checked.output;
    EXPECT_NE(checked.output.find(bad + ": line 3: templates.late: body: unknown field "
                                        "{customer_nmae}"),
              std::string::npos)
        << checked.output;

    std::string good = dir_->Path("delivery.toml");
    checked = RunCommand(std::string(RMS_RMSD_PATH) + " --check-config " +
                         dir_->Path("rules.toml") + " --delivery " + good + " 2>&1");
    EXPECT_EQ(checked.exit_code, 0) << checked.output;
    EXPECT_NE(checked.output.find("3 channels, 3 templates"), std::string::npos) << checked.output;
}

}  // namespace
}  // namespace rms
