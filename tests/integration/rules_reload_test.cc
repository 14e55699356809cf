// The rules file of a real rmsd: --check-config reports errors with their lines, SIGHUP applies
// a valid file and refuses an invalid one while the rules in force keep running.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "tests/support/command.h"
#include "tests/support/rmsd_calls.h"
#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"

namespace rms {
namespace {

constexpr char kRulesA[] = R"(
[[strategy]]
name = "A"
  [[strategy.step]]
  name = "call"
  offset_days = 1
  action = "call"
)";
constexpr char kRulesB[] = R"(
[[strategy]]
name = "B"
  [[strategy.step]]
  name = "mail"
  offset_days = 2
  action = "reminder"
  channel = "email"
  template = "late"
)";
constexpr char kBroken[] = "[[strategy]]\nname = \"A\"\ncolour = \"red\"\n";

void Write(const std::string& path, const char* text) {
    std::ofstream(path, std::ios::trunc) << text;
}

class RulesReloadTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = TempDir::Create("rules");
        ASSERT_TRUE(dir.ok());
        dir_ = std::make_unique<TempDir>(std::move(dir).value());
        rules_path_ = dir_->Path("rules.toml");
        Write(rules_path_, kRulesA);
        auto rmsd = RmsdProcess::Start(dir_->Path("data"), {"--rules", rules_path_});
        ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
        rmsd_ = std::move(rmsd).value();
    }

    void Send(const std::vector<std::string>& lines) {
        SendExpectingOk(rmsd_->ingest_port(), lines);
    }

    std::string Get(const std::string& target) { return GetBody(rmsd_->http_port(), target); }

    // Waits (bounded) until rmsd has handled a SIGHUP with this outcome `count` times.
    bool AwaitReloads(const std::string& result, int count) {
        std::string line =
            "rms_rules_reloads_total{result=\"" + result + "\"} " + std::to_string(count);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (Get("/metrics").find(line) != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }

    std::unique_ptr<TempDir> dir_;
    std::string rules_path_;
    std::unique_ptr<RmsdProcess> rmsd_;
};

TEST_F(RulesReloadTest, SighupAppliesAValidFileAndRefusesABrokenOne) {
    Send({R"({"id":"c","type":"customer.upserted","date":"2024-01-01","customer":"C"})",
          R"({"id":"i1","type":"invoice.issued","date":"2024-01-01","invoice":"I1",)"
          R"("customer":"C","amount":"10.00","currency":"USD","due":"2024-01-01"})",
          R"({"id":"k1","type":"clock.advanced","date":"2024-01-03"})"});
    EXPECT_NE(Get("/v1/actions").find(R"("key":"A/call/invoice/I1")"), std::string::npos);

    Write(rules_path_, kBroken);
    ASSERT_EQ(kill(rmsd_->pid(), SIGHUP), 0);
    ASSERT_TRUE(AwaitReloads("refused", 1)) << rmsd_->LogTail();
    EXPECT_NE(Get("/v1/rules").find(R"("name":"A")"), std::string::npos);
    EXPECT_NE(rmsd_->LogTail().find("line 3"), std::string::npos) << rmsd_->LogTail();

    Write(rules_path_, kRulesB);
    ASSERT_EQ(kill(rmsd_->pid(), SIGHUP), 0);
    ASSERT_TRUE(AwaitReloads("applied", 1)) << rmsd_->LogTail();
    EXPECT_NE(Get("/v1/rules").find(R"("name":"B")"), std::string::npos);
    Send({R"({"id":"i2","type":"invoice.issued","date":"2024-01-03","invoice":"I2",)"
          R"("customer":"C","amount":"10.00","currency":"USD","due":"2024-01-04"})",
          R"({"id":"k2","type":"clock.advanced","date":"2024-01-07"})"});
    std::string actions = Get("/v1/actions");
    EXPECT_NE(actions.find(R"("key":"B/mail/invoice/I2")"), std::string::npos) << actions;
    // A's action stays what it was; nothing fires twice.
    EXPECT_EQ(actions.find(R"("key":"A/call/invoice/I2")"), std::string::npos) << actions;
}

TEST(CheckConfigTest, ReportsTheLineAndExitsWithTheConfigCode) {
    auto dir = TempDir::Create("check");
    ASSERT_TRUE(dir.ok());
    std::string bad = dir->Path("bad.toml");
    Write(bad, kBroken);
    CommandResult checked =
        RunCommand(std::string(RMS_RMSD_PATH) + " --check-config " + bad + " 2>&1");
    EXPECT_EQ(checked.exit_code, 78);
    EXPECT_NE(checked.output.find("line 3: strategy 1: unknown key \"colour\""), std::string::npos)
        << checked.output;
    std::string good = dir->Path("good.toml");
    Write(good, kRulesA);
    checked = RunCommand(std::string(RMS_RMSD_PATH) + " --check-config " + good);
    EXPECT_EQ(checked.exit_code, 0);
    EXPECT_NE(checked.output.find("ok, 1 strategies"), std::string::npos) << checked.output;
}

}  // namespace
}  // namespace rms
