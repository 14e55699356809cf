// Re-driving dead letters (POST /v1/actions/{id}/redeliver, rmsctl redeliver) on a real rmsd
// against a real webhook receiver on loopback that refuses for good (400) until the test
// switches it to accept: the action dead-letters, the re-drive makes it pending, and the
// receiver then gets it once, under the key it was refused with. The re-drive is durable before
// its answer (a kill -9 right after it loses nothing), shows in the timeline and the metrics,
// needs the same credentials as other writes, and is refused for anything but a dead letter.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/auth.h"
#include "tests/support/command.h"
#include "tests/support/receiver_process.h"
#include "tests/support/rmsd_calls.h"
#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"

namespace rms {
namespace {

// One webhook step, and one on a channel the delivery file does not have (it stays pending).
constexpr char kRules[] = R"(
[[strategy]]
name = "s"
  [[strategy.step]]
  name = "wa"
  offset_days = 1
  action = "reminder"
  channel = "whatsapp"
  template = "note"
  [[strategy.step]]
  name = "sms"
  offset_days = 2
  action = "reminder"
  channel = "sms"
  template = "note"
)";

constexpr char kKey[] = "s/wa/invoice/I-1";
constexpr char kOpsPassword[] = "ops-password-0123456789";
constexpr char kErpToken[] = "erp-token-0123456789abcdef";

void Write(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
}

std::string DeliveryFile(uint16_t port) {
    return "[delivery]\nmax_attempts = 3\nbackoff_initial_ms = 10\nbackoff_max_ms = 40\n\n"
           "[channels.whatsapp]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:" +
           std::to_string(port) + "/wa\"\n\n[templates.note]\nbody = \"{open} {currency} open\"\n";
}

std::vector<std::string> Events(std::string_view extra = "") {
    std::string x(extra);
    return {
        R"({"id":"c1","type":"customer.upserted","date":"2024-02-01","customer":"C1",)"
        R"("name":"Acme","phone":"+1555")" +
            x + "}",
        R"({"id":"i1","type":"invoice.issued","date":"2024-02-01","invoice":"I-1",)"
        R"("customer":"C1","amount":"10.00","currency":"EUR","due":"2024-03-01")" +
            x + "}",
        R"({"id":"k","type":"clock.advanced","date":"2024-03-05")" + x + "}",
    };
}

class RedeliveryTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = TempDir::Create("redelivery");
        ASSERT_TRUE(dir.ok());
        dir_ = std::make_unique<TempDir>(std::move(dir).value());
        auto hook = ReceiverProcess::Start("switch", dir_->Path(""));
        ASSERT_TRUE(hook.ok()) << hook.status().message();
        hook_ = std::move(hook).value();
        Write(dir_->Path("rules.toml"), kRules);
        Write(dir_->Path("delivery.toml"), DeliveryFile(hook_->port()));
        options_.data_dir = dir_->Path("data");
        options_.extra_args = {"--rules", dir_->Path("rules.toml"), "--delivery",
                               dir_->Path("delivery.toml")};
    }

    void StartRmsd(const std::string& config_toml = "") {
        RmsdOptions options = options_;
        if (!config_toml.empty()) {
            Write(dir_->Path("rms.toml"), config_toml);
            options.extra_args.push_back("--config");
            options.extra_args.push_back(dir_->Path("rms.toml"));
        }
        auto rmsd = RmsdProcess::Start(options);
        ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
        rmsd_ = std::move(rmsd).value();
    }

    // POST /v1/actions/{id}/redeliver: "STATUS error-code" ("200 ok" when it was re-driven).
    std::string Redeliver(const std::string& id, const HttpOptions& options = {},
                          const std::string& authorization = "",
                          const std::string& content_type = "application/json") {
        auto r = Post(rmsd_->http_port(), "/v1/actions/" + id + "/redeliver", "", content_type,
                      authorization, options);
        if (!r) {
            return "<failed>";
        }
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        std::string_view code = "ok";
        if (parser.parse(r->body).get(root) != simdjson::SUCCESS ||
            (root["error"].get_string().get(code) != simdjson::SUCCESS &&
             r->body != R"({"ok":true,"action_id":)" + id + R"(,"status":"pending"})")) {
            ADD_FAILURE() << r->body;
        }
        return std::to_string(r->status) + " " + std::string(code);
    }

    std::string Get(const std::string& target, const HttpOptions& options = {}) {
        auto r = HttpRequest("127.0.0.1", rmsd_->http_port(), "GET", target, options);
        EXPECT_TRUE(r.ok()) << target << ": " << r.status().message();
        EXPECT_TRUE(!r.ok() || r->status == 200) << target << ": " << r->body;
        return r.ok() ? r->body : "";
    }

    // The status, attempts and key of action `id`.
    struct ActionState {
        std::string status;
        int64_t attempts = -1;
        std::string key;
    };
    ActionState Action(int id, const HttpOptions& options = {}) {
        std::string body = Get("/v1/actions?limit=1&since=" + std::to_string(id - 1), options);
        simdjson::dom::parser parser;
        simdjson::dom::element a;
        ActionState out;
        if (parser.parse(body).get(a) != simdjson::SUCCESS ||
            a["actions"].at(0).get(a) != simdjson::SUCCESS) {
            return out;
        }
        out.status = std::string(a["status"].get_string().value());
        out.attempts = a["attempts"].get_int64().value();
        out.key = std::string(a["key"].get_string().value());
        return out;
    }

    // Waits (bounded) until action `id` has `status`; false after 30 s.
    bool AwaitStatus(int id, const std::string& status, const HttpOptions& options = {}) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (std::chrono::steady_clock::now() < deadline) {
            if (Action(id, options).status == status) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    // How often the receiver logged each kind of line ("new", "dup", "fail", "held") for kKey,
    // and whether every line it logged was about kKey.
    std::map<std::string, int> Received(bool* only_the_key) {
        std::map<std::string, int> out;
        *only_the_key = true;
        for (const std::string& line : hook_->LogLines()) {
            size_t space = line.find(' ');
            std::string key = line.substr(space + 1, line.find(' ', space + 1) - space - 1);
            *only_the_key = *only_the_key && key == kKey;
            ++out[line.substr(0, space)];
        }
        return out;
    }

    std::string Metric(const std::string& metrics, const std::string& name) {
        size_t at = metrics.find("\n" + name + " ");
        if (at == std::string::npos) {
            return "<absent>";
        }
        size_t start = at + name.size() + 2;
        return metrics.substr(start, metrics.find('\n', start) - start);
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<ReceiverProcess> hook_;
    RmsdOptions options_;
    std::unique_ptr<RmsdProcess> rmsd_;
};

TEST_F(RedeliveryTest, DeadLetterIsSentAgainOnceUnderItsKey) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd());
    SendExpectingOk(rmsd_->ingest_port(), Events());
    ASSERT_TRUE(AwaitStatus(1, "dead_letter")) << rmsd_->LogTail();
    EXPECT_EQ(Action(1).attempts, 1);  // a 400 is permanent: no retries
    std::string dead = Get("/v1/actions?status=dead_letter");
    EXPECT_NE(dead.find(R"("key":"s/wa/invoice/I-1")"), std::string::npos) << dead;
    EXPECT_NE(dead.find(R"("last_error":"HTTP 400")"), std::string::npos) << dead;
    std::string metrics = Get("/metrics");
    EXPECT_EQ(Metric(metrics, R"(rms_outbox_actions{status="dead_letter"})"), "1");

    hook_->SetMode("accept");
    EXPECT_EQ(Redeliver("1"), "200 ok");
    ASSERT_TRUE(AwaitStatus(1, "delivered")) << rmsd_->LogTail();
    EXPECT_EQ(Action(1).attempts, 1);  // counted from the re-drive on

    bool only_the_key = false;
    std::map<std::string, int> received = Received(&only_the_key);
    EXPECT_TRUE(only_the_key);  // the refused attempt and the delivery carried the same key
    EXPECT_EQ(received["fail"], 1);
    EXPECT_EQ(received["new"], 1);
    EXPECT_EQ(received["dup"], 0);
    bool first_attempt = false;
    for (const std::string& line : hook_->LogLines()) {
        first_attempt = first_attempt || line == std::string("new ") + kKey + " attempt=1";
    }
    EXPECT_TRUE(first_attempt);

    metrics = Get("/metrics");
    EXPECT_EQ(Metric(metrics, R"(rms_redeliveries_total{channel="whatsapp"})"), "1");
    EXPECT_EQ(Metric(metrics, R"(rms_outbox_actions{status="dead_letter"})"), "0");
    EXPECT_EQ(Metric(metrics, R"(rms_outbox_actions{status="delivered"})"), "1");
    EXPECT_EQ(Metric(metrics, R"(rms_deliveries_total{channel="whatsapp",result="delivered"})"),
              "1");
    EXPECT_EQ(Get("/v1/actions?status=dead_letter"), R"({"actions":[],"next":0})");

    // The timeline has the re-drive between the dead letter and the delivery.
    std::string timeline = Get("/v1/customers/C1/timeline?limit=100");
    size_t redrive = timeline.find(
        R"("kind":"redelivery","date":"2024-03-05","caused_by":"k","action_id":"1",)"
        R"("key":"s/wa/invoice/I-1","channel":"whatsapp","attempts":"1","by":"anonymous","at":")");
    ASSERT_NE(redrive, std::string::npos) << timeline;
    EXPECT_NE(timeline.find(R"("reason":"redeliver requested by an operator"})", redrive),
              std::string::npos)
        << timeline;
    size_t delivered = timeline.find(R"("attempt":"1","result":"delivered")");
    size_t dead_lettered = timeline.find(R"("attempt":"1","result":"dead_letter")");
    EXPECT_LT(delivered, redrive);  // newest first
    EXPECT_LT(redrive, dead_lettered);
}

TEST_F(RedeliveryTest, OnlyADeadLetterCanBeRedelivered) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd());
    hook_->SetMode("accept");
    SendExpectingOk(rmsd_->ingest_port(), Events());
    ASSERT_TRUE(AwaitStatus(1, "delivered")) << rmsd_->LogTail();
    ASSERT_EQ(Action(2).status, "pending");  // its channel "sms" is not in the delivery file

    EXPECT_EQ(Redeliver("1"), "409 invalid_state");
    EXPECT_EQ(Redeliver("2"), "409 invalid_state");
    EXPECT_EQ(Redeliver("3"), "404 not_found");
    EXPECT_EQ(Redeliver("0"), "404 not_found");
    EXPECT_EQ(Redeliver("x"), "404 not_found");
    // Without the JSON media type (what a form of another site would send): not re-driven.
    EXPECT_EQ(Redeliver("1", {}, "", ""), "415 unsupported_media_type");
    EXPECT_EQ(Redeliver("1", {}, "", "application/x-www-form-urlencoded"),
              "415 unsupported_media_type");
    auto get = HttpRequest("127.0.0.1", rmsd_->http_port(), "GET", "/v1/actions/1/redeliver");
    ASSERT_TRUE(get.ok());
    EXPECT_EQ(get->status, 405);
    EXPECT_EQ(get->Header("Allow"), "POST");

    // Nothing changed: the receiver got the delivery once and nothing was counted.
    EXPECT_EQ(Action(1).status, "delivered");
    EXPECT_EQ(Action(2).status, "pending");
    bool only_the_key = false;
    EXPECT_EQ(Received(&only_the_key)["new"], 1);
    EXPECT_EQ(Metric(Get("/metrics"), R"(rms_redeliveries_total{channel="whatsapp"})"), "<absent>");
}

TEST_F(RedeliveryTest, RedeliveryAnsweredOkSurvivesAKill9) {
    ASSERT_NO_FATAL_FAILURE(StartRmsd());
    SendExpectingOk(rmsd_->ingest_port(), Events());
    ASSERT_TRUE(AwaitStatus(1, "dead_letter")) << rmsd_->LogTail();

    // The receiver holds the next request, so the kill lands before any result is recorded:
    // after the restart only the stored pending status can send the action again.
    hook_->SetMode("hold");
    EXPECT_EQ(Redeliver("1"), "200 ok");
    rmsd_->Kill9();
    hook_->SetMode("accept");
    ASSERT_NO_FATAL_FAILURE(StartRmsd());
    ASSERT_TRUE(AwaitStatus(1, "delivered")) << rmsd_->LogTail();

    // Processed once however the held request and the resend interleave. The delivery after
    // the restart was not held; a held request is processed 3 s after it arrived.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    bool only_the_key = false;
    std::map<std::string, int> received = Received(&only_the_key);
    while (received["new"] + received["dup"] < received["held"] + 1 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        received = Received(&only_the_key);
    }
    EXPECT_TRUE(only_the_key);
    EXPECT_EQ(received["new"], 1);
    EXPECT_EQ(Metric(Get("/metrics"), R"(rms_outbox_actions{status="pending"})"), "1");  // sms
    std::string timeline = Get("/v1/customers/C1/timeline?limit=100");
    EXPECT_NE(timeline.find(R"("kind":"redelivery")"), std::string::npos) << timeline;
}

// A re-drive is a write: with HTTP users it needs one of them and names that user; with
// producers it needs a producer, as POST /v1/events does, and a user who only reads (no
// `producer`) is forbidden. rmsctl redeliver takes the same options as the other commands.
TEST_F(RedeliveryTest, NeedsTheCredentialsOfAWriteAndNamesWhoAsked) {
    std::string users =
        "[[http_users]]\nname = \"ops\"\npassword_sha256 = \"" + Sha256Hex(kOpsPassword) + "\"\n";
    HttpOptions ops{.user = "ops", .password = kOpsPassword};
    ASSERT_NO_FATAL_FAILURE(StartRmsd(users));
    SendExpectingOk(rmsd_->ingest_port(), Events());
    ASSERT_TRUE(AwaitStatus(1, "dead_letter", ops)) << rmsd_->LogTail();
    EXPECT_EQ(Redeliver("1"), "401 unauthorized");
    EXPECT_EQ(Redeliver("1", HttpOptions{.user = "ops", .password = "wrong"}), "401 unauthorized");

    // rmsctl, signed in as ops; the receiver still refuses, so it dead-letters again.
    std::string password_file = dir_->Path("password");
    Write(password_file, std::string(kOpsPassword) + "\n");
    CommandResult redriven =
        RunCommand(std::string(RMS_RMSCTL_PATH) +
                   " redeliver 1 --http 127.0.0.1:" + std::to_string(rmsd_->http_port()) +
                   " --user ops --password-file " + password_file + " 2>&1");
    EXPECT_EQ(redriven.exit_code, 0) << redriven.output;
    EXPECT_EQ(redriven.output, "action 1 is pending again\n");
    ASSERT_TRUE(AwaitStatus(1, "dead_letter", ops)) << rmsd_->LogTail();
    std::string timeline = Get("/v1/customers/C1/timeline?limit=100", ops);
    EXPECT_NE(timeline.find(R"("channel":"whatsapp","attempts":"1","by":"ops","at":")"),
              std::string::npos)
        << timeline;

    // With producers as well: ops, who only reads, no longer may; a producer's token does, and
    // so does a user who writes as that producer, named as the user.
    rmsd_->Kill9();
    ASSERT_NO_FATAL_FAILURE(StartRmsd("[[producers]]\nname = \"erp\"\ntoken_sha256 = \"" +
                                      Sha256Hex(kErpToken) + "\"\n\n" + users +
                                      "[[http_users]]\nname = \"anna\"\npassword_sha256 = \"" +
                                      Sha256Hex(kOpsPassword) + "\"\nproducer = \"erp\"\n"));
    EXPECT_EQ(Redeliver("1", ops), "403 forbidden");  // ops only reads
    EXPECT_EQ(Redeliver("1", {}, "Bearer not-a-token"), "401 unauthorized");
    EXPECT_EQ(Redeliver("1", {}, std::string("Bearer ") + kErpToken), "200 ok");
    ASSERT_TRUE(AwaitStatus(1, "dead_letter", ops)) << rmsd_->LogTail();
    hook_->SetMode("accept");
    EXPECT_EQ(Redeliver("1", HttpOptions{.user = "anna", .password = kOpsPassword}), "200 ok");
    ASSERT_TRUE(AwaitStatus(1, "delivered", ops)) << rmsd_->LogTail();
    timeline = Get("/v1/customers/C1/timeline?limit=100", ops);
    EXPECT_NE(timeline.find(R"("attempts":"1","by":"producer erp","at":")"), std::string::npos)
        << timeline;
    EXPECT_NE(timeline.find(R"("attempts":"1","by":"anna","at":")"), std::string::npos) << timeline;
    std::string metrics = Get("/metrics", ops);
    EXPECT_NE(metrics.find(R"(rms_auth_failures_total{reason="unauthorized"} 1)"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find(R"(rms_auth_failures_total{reason="forbidden"} 1)"), std::string::npos)
        << metrics;
}

}  // namespace
}  // namespace rms
