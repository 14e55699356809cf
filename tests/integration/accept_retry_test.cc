// An rmsd out of file descriptors (idle HTTP connections are not capped, so any client that can
// connect can get there) used to retry accept at once on EMFILE and log each retry: a busy loop
// that wrote ~5.5 million "accept failed" lines in five seconds. Now the acceptor pauses between
// retries and logs the episode once, and serves again when descriptors come back.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"

namespace rms {
namespace {

int ConnectTo(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

size_t CountInFile(const std::string& path, const std::string& needle) {
    std::ifstream in(path);
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
        if (line.find(needle) != std::string::npos) {
            ++n;
        }
    }
    return n;
}

TEST(AcceptRetryTest, OutOfDescriptorsNeitherSpinsNorFloodsTheLogAndRecovers) {
    auto dir = TempDir::Create("breaker-fd");
    ASSERT_TRUE(dir.ok()) << dir.status().message();

    // rmsd inherits a small descriptor limit; this process keeps a large one.
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
    rlimit low = old;
    low.rlim_cur = 128;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    auto rmsd = RmsdProcess::Start(dir->Path("data"));
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
    ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();

    // Idle HTTP connections (a request line, never finished) until rmsd has no descriptor left.
    std::vector<int> fds;
    for (int i = 0; i < 300; ++i) {
        int fd = ConnectTo((*rmsd)->http_port());
        if (fd < 0) {
            break;
        }
        static constexpr char kPartial[] = "GET /v1/kpis HTTP/1.1\r\n";
        (void)::send(fd, kPartial, sizeof(kPartial) - 1, MSG_NOSIGNAL);
        fds.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    for (int fd : fds) {
        ::close(fd);
    }

    size_t warnings = CountInFile((*rmsd)->options().log_path, "accept failed");
    EXPECT_GE(fds.size(), 128u) << "the descriptors were never exhausted: the test tests nothing";
    EXPECT_LE(warnings, 2u) << "rmsd logged " << warnings
                            << " 'accept failed' lines in about 2 s of descriptor exhaustion";
    EXPECT_TRUE((*rmsd)->running());
    // With the connections gone the acceptor works again, once rmsd has seen them close and its
    // pause has passed: asked until it answers, for at most 20 s.
    Result<HttpResponse> health = Status::Error("timeout", "never asked");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    do {
        health = HttpGet("127.0.0.1", (*rmsd)->http_port(), "/healthz", 2000);
        if (!health.ok()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    } while (!health.ok() && std::chrono::steady_clock::now() < deadline);
    ASSERT_TRUE(health.ok()) << health.status().message();
    EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace rms
