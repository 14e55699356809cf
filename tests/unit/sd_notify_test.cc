#include "engine/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/support/temp_dir.h"

namespace rms {
namespace {

// A datagram socket standing in for systemd's notify socket, named in $NOTIFY_SOCKET while it
// lives.
class FakeServiceManager {
public:
    explicit FakeServiceManager(const std::string& address) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::memcpy(sa.sun_path, address.data(), address.size());
        socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() +
                                                  (address[0] == '@' ? 0 : 1));
        if (address[0] == '@') {
            sa.sun_path[0] = '\0';
        }
        bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), length) == 0;
        ::setenv("NOTIFY_SOCKET", address.c_str(), 1);
    }
    ~FakeServiceManager() {
        ::unsetenv("NOTIFY_SOCKET");
        ::close(fd_);
    }

    bool bound() const { return bound_; }

    std::string Receive() {
        char buf[512];
        ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
        return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<size_t>(n));
    }

private:
    int fd_ = -1;
    bool bound_ = false;
};

TEST(SdNotifyTest, SendsTheStateToThePathSocket) {
    auto dir = TempDir::Create("sd-notify");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    FakeServiceManager manager(dir->Path("notify"));
    ASSERT_TRUE(manager.bound());
    ASSERT_TRUE(NotifyServiceManager("READY=1\nSTATUS=ready").ok());
    EXPECT_EQ(manager.Receive(), "READY=1\nSTATUS=ready");
}

TEST(SdNotifyTest, SendsToAnAbstractSocket) {
    FakeServiceManager manager("@rms-sd-notify-test-" + std::to_string(::getpid()));
    ASSERT_TRUE(manager.bound());
    ASSERT_TRUE(NotifyServiceManager("STOPPING=1").ok());
    EXPECT_EQ(manager.Receive(), "STOPPING=1");
}

TEST(SdNotifyTest, WithoutNotifySocketDoesNothing) {
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_TRUE(NotifyServiceManager("READY=1").ok());
}

TEST(SdNotifyTest, UnreachableSocketIsAnIoError) {
    ::setenv("NOTIFY_SOCKET", "/nonexistent/rms/notify", 1);
    Status s = NotifyServiceManager("READY=1");
    ::unsetenv("NOTIFY_SOCKET");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), "io_error");
    EXPECT_NE(s.message().find("/nonexistent/rms/notify"), std::string::npos) << s.message();
}

TEST(SdNotifyTest, RelativeAddressIsRefused) {
    ::setenv("NOTIFY_SOCKET", "notify", 1);
    Status s = NotifyServiceManager("READY=1");
    ::unsetenv("NOTIFY_SOCKET");
    EXPECT_EQ(s.code(), "io_error");
}

}  // namespace
}  // namespace rms
