// The disk-full sequence of guarantees.md ("unavailable"), on a real small file system: rmsd's
// data dir on an 48 MiB tmpfs that the test fills with a file of its own. While the free space is
// under the reserve, events are answered unavailable and /readyz is 503, and rmsd does not abort;
// once the file is gone the same events apply, and nothing acknowledged before is lost.
//
// Mounting needs root (CI runs as root); elsewhere the test is skipped with a message, except
// under CI=true, where it fails, so that a CI job cannot pass without running it.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/rmsd_process.h"
#include "tests/support/shared_data.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"

namespace rms {
namespace {

constexpr int kAnswerTimeoutMs = 15000;
constexpr uint64_t kReserveMib = 8;

uint64_t FreeBytes(const std::string& dir) {
    struct statvfs st {};
    return statvfs(dir.c_str(), &st) == 0 ? static_cast<uint64_t>(st.f_bavail) * st.f_frsize : 0;
}

std::string Event(int n) {
    return R"({"id":"D)" + std::to_string(n) +
           R"(","type":"invoice.issued","date":"2024-01-10","invoice":"DI)" + std::to_string(n) +
           R"(","customer":"C1","amount":"10.00","currency":"USD","due":"2024-02-09"})";
}

class DiskFullTest : public ::testing::Test {
protected:
    void SetUp() override {
        Result<TempDir> dir = TempDir::Create("disk-full");
        ASSERT_TRUE(dir.ok()) << dir.status().message();
        dir_ = std::make_unique<TempDir>(std::move(dir).value());
        mount_ = dir_->Path("fs");
        ASSERT_EQ(::mkdir(mount_.c_str(), 0700), 0) << std::strerror(errno);
        if (::geteuid() != 0 || ::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=48m") != 0) {
            std::string why = ::geteuid() != 0 ? "not running as root" : std::strerror(errno);
            if (RunningInCi()) {
                FAIL() << "cannot mount a tmpfs, which CI=true requires: " << why;
            }
            GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << why;
        }
        mounted_ = true;
        config_ = dir_->Path("rms.toml");
        std::ofstream(config_) << "min_free_mib = " << kReserveMib << "\n";
    }

    void TearDown() override {
        rmsd_.reset();
        if (mounted_) {
            ::umount2(mount_.c_str(), MNT_DETACH);
        }
    }

    std::string Send(LineClient& client, const std::string& line) {
        Status written = client.WriteAll(line + "\n");
        EXPECT_TRUE(written.ok()) << written.message();
        Result<std::string> answer = client.ReadLine(kAnswerTimeoutMs);
        EXPECT_TRUE(answer.ok()) << answer.status().message() << "\n" << rmsd_->LogTail();
        return answer.ok() ? *answer : "";
    }

    int Readyz() {
        auto response = HttpGet("127.0.0.1", rmsd_->http_port(), "/readyz");
        EXPECT_TRUE(response.ok()) << response.status().message();
        return response.ok() ? response->status : 0;
    }

    std::unique_ptr<TempDir> dir_;
    std::string mount_;
    std::string config_;
    bool mounted_ = false;
    std::unique_ptr<RmsdProcess> rmsd_;
};

TEST_F(DiskFullTest, UnderTheReserveAnswersUnavailableAndCarriesOnWhenSpaceReturns) {
    auto started = RmsdProcess::Start(mount_ + "/data", {"--config", config_});
    ASSERT_TRUE(started.ok()) << started.status().message();
    rmsd_ = std::move(started).value();
    auto client = LineClient::Connect("127.0.0.1", rmsd_->ingest_port());
    ASSERT_TRUE(client.ok()) << client.status().message();
    ASSERT_NE(Send(*client, R"({"id":"D0","type":"customer.upserted","date":"2024-01-10",)"
                            R"("customer":"C1"})")
                  .find(R"("ok":true)"),
              std::string::npos);
    ASSERT_NE(Send(*client, Event(1)).find(R"("ok":true)"), std::string::npos);
    EXPECT_EQ(Readyz(), 200);

    // Fill the file system to 2 MiB above nothing: under the 8 MiB reserve.
    const std::string filler = mount_ + "/filler";
    {
        std::ofstream out(filler, std::ios::binary);
        const std::vector<char> chunk(1 << 20, 'x');
        while (FreeBytes(mount_) > (2u << 20) && out) {
            out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
            out.flush();
        }
    }
    ASSERT_LT(FreeBytes(mount_), kReserveMib << 20);
    for (int n = 2; n <= 4; ++n) {
        std::string answer = Send(*client, Event(n));
        EXPECT_NE(answer.find(R"("error":"unavailable")"), std::string::npos) << answer;
    }
    EXPECT_EQ(Readyz(), 503);
    EXPECT_TRUE(rmsd_->running());

    // Space returns: the same events apply without a restart, and readiness comes back.
    ASSERT_EQ(std::remove(filler.c_str()), 0);
    for (int n = 2; n <= 4; ++n) {
        std::string answer = Send(*client, Event(n));
        EXPECT_NE(answer.find(R"("ok":true)"), std::string::npos) << answer;
        EXPECT_EQ(answer.find("duplicate"), std::string::npos) << answer;
    }
    EXPECT_EQ(Readyz(), 200);

    // Nothing acknowledged was lost, before or after the full disk.
    Status restarted = rmsd_->Restart();
    ASSERT_TRUE(restarted.ok()) << restarted.message();
    auto again = LineClient::Connect("127.0.0.1", rmsd_->ingest_port());
    ASSERT_TRUE(again.ok()) << again.status().message();
    for (int n = 1; n <= 4; ++n) {
        std::string answer = Send(*again, Event(n));
        EXPECT_NE(answer.find(R"("duplicate":true)"), std::string::npos) << answer;
    }
}

}  // namespace
}  // namespace rms
