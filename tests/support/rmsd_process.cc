#include "tests/support/rmsd_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

namespace rms {
namespace {

using Clock = std::chrono::steady_clock;

std::string ErrnoText(std::string_view what) {
    return std::string(what) + ": " + std::strerror(errno);
}

void WriteFully(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
}

std::string DescribeWaitStatus(int wait_status) {
    if (WIFEXITED(wait_status)) {
        return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
    }
    if (WIFSIGNALED(wait_status)) {
        return "killed by signal " + std::to_string(WTERMSIG(wait_status)) + " (" +
               ::strsignal(WTERMSIG(wait_status)) + ")";
    }
    return "ended with wait status " + std::to_string(wait_status);
}

// Parses "127.0.0.1:PORT" with a port from 1 to 65535.
bool ParseLoopbackPort(std::string_view text, uint16_t* port) {
    constexpr std::string_view kHost = "127.0.0.1:";
    if (!text.starts_with(kHost)) {
        return false;
    }
    text.remove_prefix(kHost.size());
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value == 0 || value > 65535) {
        return false;
    }
    *port = static_cast<uint16_t>(value);
    return true;
}

// Forks a child that runs argv[0] with stdin, stdout and stderr on the given descriptors and
// every other descriptor closed. Returns the child's pid, or -1 with errno set.
pid_t ForkExec(char* const* argv, int stdin_fd, int stdout_fd, int stderr_fd) {
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid != 0) {
        return pid;
    }
    // Only async-signal-safe calls from here to exec. The child dies with the test.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
        ::_exit(126);
    }
    ::dup2(stdin_fd, 0);
    ::dup2(stdout_fd, 1);
    ::dup2(stderr_fd, 2);
    ::close_range(3, ~0U, 0);
    ::execv(argv[0], argv);
    const char kMessage[] = "test harness: execv of rmsd failed\n";
    ssize_t ignored = ::write(2, kMessage, sizeof(kMessage) - 1);
    (void)ignored;
    ::_exit(127);
}

}  // namespace

Result<std::unique_ptr<RmsdProcess>> RmsdProcess::Start(RmsdOptions options) {
    if (options.data_dir.empty()) {
        return Status::Error("start_failed", "RmsdOptions.data_dir is empty");
    }
    if (options.log_path.empty()) {
        options.log_path = options.data_dir + ".log";
    }
    if (options.binary.empty()) {
        const char* env = std::getenv("RMS_RMSD_PATH");
        options.binary = (env != nullptr && *env != '\0') ? env : RMS_RMSD_PATH;
    }
    std::unique_ptr<RmsdProcess> process(new RmsdProcess(std::move(options)));
    Status launched = process->Launch();
    if (!launched.ok()) {
        return launched;
    }
    return process;
}

Result<std::unique_ptr<RmsdProcess>> RmsdProcess::Start(std::string_view data_dir,
                                                        std::vector<std::string> extra_args) {
    RmsdOptions options;
    options.data_dir = std::string(data_dir);
    options.extra_args = std::move(extra_args);
    return Start(std::move(options));
}

RmsdProcess::~RmsdProcess() {
    Kill9();
}

Status RmsdProcess::Launch() {
    std::vector<std::string> args = {options_.binary, "--data-dir", options_.data_dir, "--listen",
                                     "127.0.0.1:0",   "--http",     "127.0.0.1:0"};
    args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
    std::vector<char*> argv;
    std::string command_line;
    for (std::string& arg : args) {
        argv.push_back(arg.data());
        command_line.append(command_line.empty() ? "" : " ").append(arg);
    }
    argv.push_back(nullptr);

    int log_fd = ::open(options_.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        return Status::Error("start_failed", ErrnoText("open " + options_.log_path));
    }
    WriteFully(log_fd, "=== test harness: starting " + command_line + "\n");
    int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int pipe_fds[2];
    if (null_fd < 0 || ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        std::string error = ErrnoText("pipe");
        ::close(log_fd);
        if (null_fd >= 0) {
            ::close(null_fd);
        }
        return Status::Error("start_failed", error);
    }

    pid_t pid = ForkExec(argv.data(), null_fd, pipe_fds[1], log_fd);
    int fork_errno = errno;
    ::close(pipe_fds[1]);
    ::close(log_fd);
    ::close(null_fd);
    if (pid < 0) {
        ::close(pipe_fds[0]);
        return Status::Error("start_failed", std::string("fork: ") + std::strerror(fork_errno));
    }
    pid_ = pid;
    stdout_fd_ = pipe_fds[0];

    Status ready = AwaitReady();
    if (!ready.ok()) {
        return Status::Error("start_failed",
                             "rmsd (" + command_line + ") " + ready.message() + "\n" + LogTail());
    }
    drain_ = std::thread([this] { DrainStdout(); });
    return Status::Ok();
}

Status RmsdProcess::AwaitReady() {
    auto deadline = Clock::now() + std::chrono::milliseconds(options_.ready_timeout_ms);
    std::string out;
    size_t eol = std::string::npos;
    while ((eol = out.find('\n')) == std::string::npos) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd pfd{stdout_fd_, POLLIN, 0};
        int n = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0) {
            Kill9();
            return Status::Error("timeout", "printed no ready line within " +
                                                std::to_string(options_.ready_timeout_ms) +
                                                " ms (stdout so far: \"" + out + "\")");
        }
        char chunk[4096];
        ssize_t got = ::read(stdout_fd_, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            int wait_status = WaitExit(5000);
            if (wait_status == -1) {
                Kill9();
                return Status::Error(
                    "exited", "closed stdout before the ready line (stdout: \"" + out + "\")");
            }
            Reap();
            return Status::Error("exited", DescribeWaitStatus(wait_status) +
                                               " before the ready line (stdout: \"" + out + "\")");
        }
        out.append(chunk, static_cast<size_t>(got));
    }

    std::string_view line(out.data(), eol);
    constexpr std::string_view kPrefix = "rmsd ready ingest=";
    constexpr std::string_view kHttp = " http=";
    size_t http_at = line.find(kHttp);
    if (!line.starts_with(kPrefix) || http_at == std::string_view::npos ||
        !ParseLoopbackPort(line.substr(kPrefix.size(), http_at - kPrefix.size()), &ingest_port_) ||
        !ParseLoopbackPort(line.substr(http_at + kHttp.size()), &http_port_)) {
        Kill9();
        return Status::Error("bad_ready_line", "printed \"" + std::string(line) +
                                                   "\", not \"rmsd ready ingest=127.0.0.1:PORT "
                                                   "http=127.0.0.1:PORT\"");
    }
    return Status::Ok();
}

void RmsdProcess::DrainStdout() {
    int log_fd = ::open(options_.log_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    char chunk[4096];
    for (;;) {
        ssize_t got = ::read(stdout_fd_, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            break;
        }
        if (log_fd >= 0) {
            WriteFully(log_fd, std::string_view(chunk, static_cast<size_t>(got)));
        }
    }
    if (log_fd >= 0) {
        ::close(log_fd);
    }
}

int RmsdProcess::WaitExit(int timeout_ms) {
    int wait_status = 0;
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
        pollfd pfd{pidfd, POLLIN, 0};
        int n;
        do {
            n = ::poll(&pfd, 1, timeout_ms);
        } while (n < 0 && errno == EINTR);
        ::close(pidfd);
        if (n == 0) {
            return -1;
        }
    } else if (timeout_ms >= 0) {
        // No pidfd (an old kernel): check now and then until the deadline.
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (::waitpid(pid_, &wait_status, WNOHANG) == 0) {
            if (Clock::now() >= deadline) {
                return -1;
            }
            ::poll(nullptr, 0, 10);
        }
        return wait_status;
    }
    while (::waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
    }
    return wait_status;
}

void RmsdProcess::Reap() {
    pid_ = -1;
    if (drain_.joinable()) {
        drain_.join();
    }
    if (stdout_fd_ >= 0) {
        ::close(stdout_fd_);
        stdout_fd_ = -1;
    }
}

void RmsdProcess::Kill9() {
    if (!running()) {
        return;
    }
    ::kill(pid_, SIGKILL);
    WaitExit(-1);
    Reap();
}

Result<int> RmsdProcess::Terminate(int timeout_ms) {
    if (!running()) {
        return Status::Error("not_running", "rmsd is not running");
    }
    ::kill(pid_, SIGTERM);
    int wait_status = WaitExit(timeout_ms);
    if (wait_status == -1) {
        Kill9();
        return Status::Error("timeout", "rmsd did not exit within " + std::to_string(timeout_ms) +
                                            " ms of SIGTERM; killed it\n" + LogTail());
    }
    Reap();
    if (!WIFEXITED(wait_status)) {
        return Status::Error("killed_by_signal", "rmsd " + DescribeWaitStatus(wait_status) +
                                                     " after SIGTERM\n" + LogTail());
    }
    return WEXITSTATUS(wait_status);
}

Status RmsdProcess::Restart() {
    if (running()) {
        Result<int> code = Terminate();
        if (!code.ok()) {
            return code.status();
        }
        if (*code != 0) {
            return Status::Error("bad_exit", "rmsd exited with code " + std::to_string(*code) +
                                                 " after SIGTERM\n" + LogTail());
        }
    }
    return Launch();
}

std::string RmsdProcess::LogTail(size_t max_bytes) const {
    std::ifstream in(options_.log_path, std::ios::binary);
    if (!in) {
        return "(no rmsd log at " + options_.log_path + ")";
    }
    in.seekg(0, std::ios::end);
    std::streamoff size = in.tellg();
    std::streamoff start =
        std::max<std::streamoff>(0, size - static_cast<std::streamoff>(max_bytes));
    in.seekg(start);
    std::ostringstream tail;
    tail << in.rdbuf();
    return "--- rmsd log " + options_.log_path + (start > 0 ? " (tail)" : "") + " ---\n" +
           tail.str() + (tail.str().ends_with('\n') ? "" : "\n") + "--- end of rmsd log ---";
}

}  // namespace rms
