// ReceiverProcess: a loopback receiver of tests/support/delivery_receivers.py (an SMTP server or
// an HTTP webhook receiver) as a child process, killed when the object goes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/status.h"

namespace rms {

class ReceiverProcess {
public:
    // Starts `kind` ("smtp", "http", "brisk" or "switch") with its files under `dir` and waits
    // (bounded) until it listens. Fails with "start_failed" when python3 or the script cannot run.
    [[nodiscard]] static Result<std::unique_ptr<ReceiverProcess>> Start(const std::string& kind,
                                                                        const std::string& dir);
    ReceiverProcess(const ReceiverProcess&) = delete;
    ReceiverProcess& operator=(const ReceiverProcess&) = delete;
    ~ReceiverProcess();

    uint16_t port() const { return port_; }
    // The receiver's log: one line per request ("new KEY ...", "dup KEY", "fail KEY STATUS"), with
    // each space of a KEY written as %20.
    std::vector<std::string> LogLines() const;
    // From the log: how often the receiver processed each key, spaces restored ("new" lines; more
    // than once means its dedupe failed), and in *repeats the repeats it dropped ("dup" lines).
    std::map<std::string, int> ProcessedKeys(int* repeats) const;
    // The "switch" receiver: how it answers from the next request on ("refuse", "accept" or
    // "hold"; see delivery_receivers.py).
    void SetMode(const std::string& mode) const;

private:
    ReceiverProcess() = default;

    pid_t pid_ = -1;
    uint16_t port_ = 0;
    std::string log_path_;
    std::string mode_path_;
};

}  // namespace rms
