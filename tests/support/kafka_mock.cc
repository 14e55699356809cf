#include "tests/support/kafka_mock.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

namespace rms {
namespace {

constexpr int kReadyTimeoutMs = 10000;
constexpr std::string_view kReadyPrefix = "kafka-mock bootstrap=";

}  // namespace

Result<std::unique_ptr<KafkaMock>> KafkaMock::Start(KafkaMockOptions options) {
    int in[2];
    int out[2];
    if (pipe(in) != 0 || pipe(out) != 0) {
        return Status::Error("start_failed", std::string("pipe: ") + std::strerror(errno));
    }
    std::vector<std::string> args = {RMS_KAFKA_MOCK_PATH,
                                     "--brokers",
                                     std::to_string(options.brokers),
                                     "--partitions",
                                     std::to_string(options.partitions),
                                     "--topic",
                                     options.topic};
    pid_t pid = fork();
    if (pid < 0) {
        return Status::Error("start_failed", std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        std::vector<char*> argv;
        for (std::string& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    std::unique_ptr<KafkaMock> mock(new KafkaMock());
    mock->pid_ = pid;
    mock->stdin_fd_ = in[1];

    // The ready line; the mock prints nothing after it.
    std::string line;
    while (line.find('\n') == std::string::npos) {
        pollfd p{out[0], POLLIN, 0};
        if (poll(&p, 1, kReadyTimeoutMs) <= 0) {
            close(out[0]);
            return Status::Error("start_failed", "the Kafka mock printed no ready line");
        }
        char buf[512];
        ssize_t n = read(out[0], buf, sizeof(buf));
        if (n <= 0) {
            close(out[0]);
            return Status::Error("start_failed", "the Kafka mock exited: " + line);
        }
        line.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    line.resize(line.find('\n'));
    if (line.rfind(kReadyPrefix, 0) != 0) {
        return Status::Error("start_failed", "the Kafka mock printed: " + line);
    }
    mock->bootstrap_ = line.substr(kReadyPrefix.size());
    return mock;
}

KafkaMock::~KafkaMock() {
    if (stdin_fd_ >= 0) {
        close(stdin_fd_);
    }
    if (pid_ > 0) {
        int status = 0;
        waitpid(pid_, &status, 0);
    }
}

}  // namespace rms
