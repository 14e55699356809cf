// rmsd as a systemd service: READY=1 and STOPPING=1 on $NOTIFY_SOCKET, and with
// --log-format=json every stderr line is one valid JSON object, however odd the text it quotes.
#include <gtest/gtest.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"

namespace rms {
namespace {

constexpr int kNotifyTimeoutMs = 30000;

class NotifySocket {
public:
    explicit NotifySocket(const std::string& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
        bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
    }
    ~NotifySocket() { ::close(fd_); }

    bool bound() const { return bound_; }
    const std::string& path() const { return path_; }

    // The next datagram, or "<timeout>".
    std::string Receive() {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, kNotifyTimeoutMs) != 1) {
            return "<timeout>";
        }
        char buf[512];
        ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
        return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
    }

private:
    std::string path_;
    int fd_ = -1;
    bool bound_ = false;
};

TEST(ServiceTest, NotifiesReadyAfterListenersAndStoppingOnSigterm) {
    auto dir = TempDir::Create("service");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    NotifySocket notify(dir->Path("notify"));
    ASSERT_TRUE(notify.bound());

    ::setenv("NOTIFY_SOCKET", notify.path().c_str(), 1);
    auto rmsd = RmsdProcess::Start(dir->Path("data"));
    ::unsetenv("NOTIFY_SOCKET");
    ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
    EXPECT_EQ(notify.Receive(), "READY=1\nSTATUS=ready");

    auto rc = (*rmsd)->Terminate();
    ASSERT_TRUE(rc.ok()) << rc.status().message();
    EXPECT_EQ(*rc, 0);
    EXPECT_EQ(notify.Receive(), "STOPPING=1\nSTATUS=draining");
}

// The messages of every JSON line of an rmsd log (the harness's own lines left out); a line that
// is not one JSON object with ts, level and msg fails the test.
std::vector<std::string> JsonLogMessages(const std::string& path) {
    std::ifstream log(path);
    std::string line;
    std::vector<std::string> messages;
    simdjson::dom::parser parser;
    while (std::getline(log, line)) {
        if (line.starts_with("=== test harness")) {
            continue;
        }
        simdjson::dom::element root;
        std::string_view ts, level, msg;
        if (parser.parse(simdjson::padded_string(line)).get(root) ||
            root["ts"].get_string().get(ts) || root["level"].get_string().get(level) ||
            root["msg"].get_string().get(msg)) {
            ADD_FAILURE() << "not a JSON log line: " << line;
            continue;
        }
        EXPECT_TRUE(ts.ends_with("Z")) << line;
        messages.emplace_back(msg);
    }
    return messages;
}

TEST(ServiceTest, JsonLogCoversStartAndStop) {
    auto dir = TempDir::Create("service");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    RmsdOptions options;
    options.data_dir = dir->Path("data");
    options.log_path = dir->Path("rmsd.log");
    options.extra_args = {"--log-format=json"};
    auto rmsd = RmsdProcess::Start(options);
    ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
    auto rc = (*rmsd)->Terminate();
    ASSERT_TRUE(rc.ok()) << rc.status().message();

    std::vector<std::string> messages = JsonLogMessages(options.log_path);
    ASSERT_GE(messages.size(), 3u) << "start-up, ready, stop";
    EXPECT_EQ(messages.back(), "rmsd: stopped cleanly");
}

TEST(ServiceTest, JsonLogLineHoldsAQuoteAndNewlineFromTheConfig) {
    auto dir = TempDir::Create("service");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    // An unknown TOML key is named in the error: make it a quote, a newline and a forged line.
    std::string config = dir->Path("odd.toml");
    std::ofstream(config) << "\"we\\\"ird\\n{\\\"level\\\":\\\"info\\\"}\" = 1\n";
    RmsdOptions options;
    options.data_dir = dir->Path("data");
    options.log_path = dir->Path("rmsd.log");
    options.extra_args = {"--log-format=json", "--config", config};
    auto rmsd = RmsdProcess::Start(options);
    ASSERT_FALSE(rmsd.ok()) << "an unknown key must stop rmsd";

    std::vector<std::string> messages = JsonLogMessages(options.log_path);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_NE(messages[0].find("unknown key \"we\"ird\n{\"level\":\"info\"}\""), std::string::npos)
        << messages[0];
}

TEST(ServiceTest, UnknownLogFormatIsAUsageError) {
    auto dir = TempDir::Create("service");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    auto rmsd = RmsdProcess::Start(dir->Path("data"), {"--log-format=xml"});
    ASSERT_FALSE(rmsd.ok());
    EXPECT_NE(rmsd.status().message().find("--log-format"), std::string::npos)
        << rmsd.status().message();
}

}  // namespace
}  // namespace rms
