#include "tests/support/receiver_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace rms {

Result<std::unique_ptr<ReceiverProcess>> ReceiverProcess::Start(const std::string& kind,
                                                                const std::string& dir) {
    std::unique_ptr<ReceiverProcess> p(new ReceiverProcess());
    std::string script = std::string(RMS_SOURCE_DIR) + "/tests/support/delivery_receivers.py";
    std::string port_file = dir + "/" + kind + ".port";
    p->log_path_ = dir + "/" + kind + ".log";
    p->mode_path_ = dir + "/" + kind + ".mode";
    pid_t pid = ::fork();
    if (pid < 0) {
        return Status::Error("start_failed", "fork failed");
    }
    if (pid == 0) {
        // Debian's python3, where python3-aiosmtpd is installed.
        ::execl("/usr/bin/python3", "python3", script.c_str(), kind.c_str(), port_file.c_str(),
                p->log_path_.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    p->pid_ = pid;
    // Polls for the port file; the receiver writes it once it listens.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream in(port_file);
        unsigned port = 0;
        if (in >> port && port > 0 && port < 65536) {
            p->port_ = static_cast<uint16_t>(port);
            return p;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            p->pid_ = -1;
            return Status::Error("start_failed", kind + " receiver exited before listening");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return Status::Error("start_failed", kind + " receiver did not listen within 20 s");
}

ReceiverProcess::~ReceiverProcess() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

std::vector<std::string> ReceiverProcess::LogLines() const {
    std::vector<std::string> lines;
    std::ifstream in(log_path_);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

std::map<std::string, int> ReceiverProcess::ProcessedKeys(int* repeats) const {
    std::map<std::string, int> out;
    for (const std::string& line : LogLines()) {
        if (line.starts_with("new ")) {
            std::string key = line.substr(4, line.find(' ', 4) - 4);
            for (size_t at; (at = key.find("%20")) != std::string::npos;) {
                key.replace(at, 3, " ");
            }
            ++out[key];
        } else if (line.starts_with("dup ")) {
            ++*repeats;
        }
    }
    return out;
}

void ReceiverProcess::SetMode(const std::string& mode) const {
    // Written aside and renamed, so that a request never reads half a mode.
    std::string tmp = mode_path_ + ".tmp";
    std::ofstream(tmp, std::ios::trunc) << mode;
    std::rename(tmp.c_str(), mode_path_.c_str());
}

}  // namespace rms
