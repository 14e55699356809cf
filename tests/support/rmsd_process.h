// RmsdProcess: a real rmsd child process for integration tests. It listens on 127.0.0.1 with
// ports chosen by the kernel, and its stderr goes to a log file whose tail failure messages carry.
//
//   Result<TempDir> dir = TempDir::Create("ingest");
//   Result<std::unique_ptr<RmsdProcess>> rmsd = RmsdProcess::Start({.data_dir =
//   dir->Path("data")}); ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
//   LineClient::Connect("127.0.0.1", (*rmsd)->ingest_port());
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/status.h"

namespace rms {

// Every member has a default initializer, so that designated initializers may name only some
// of them without -Wmissing-field-initializers.
struct RmsdOptions {
    // The --data-dir; created by rmsd if absent. Required.
    std::string data_dir = {};
    // Where stderr (and any stdout after the ready line) goes, appended across restarts.
    // Empty means data_dir + ".log".
    std::string log_path = {};
    // Arguments after the listen addresses, such as "--fsync".
    std::vector<std::string> extra_args = {};
    // The binary; empty means $RMS_RMSD_PATH when set (to test an installed rmsd), else
    // RMS_RMSD_PATH, the rmsd this build made.
    std::string binary = {};
    // How long the ready line may take.
    int ready_timeout_ms = 30000;
};

class RmsdProcess {
public:
    // Starts rmsd with `--data-dir D --listen 127.0.0.1:0 --http 127.0.0.1:0` and the extra
    // arguments, and waits for its ready line. Fails with "start_failed" when the exec fails, rmsd
    // exits, prints something else or is not ready in time; the message holds the log tail.
    [[nodiscard]] static Result<std::unique_ptr<RmsdProcess>> Start(RmsdOptions options);
    // Start() with only the data dir and extra arguments given.
    [[nodiscard]] static Result<std::unique_ptr<RmsdProcess>> Start(
        std::string_view data_dir, std::vector<std::string> extra_args = {});

    RmsdProcess(const RmsdProcess&) = delete;
    RmsdProcess& operator=(const RmsdProcess&) = delete;
    // Kills a process still running with SIGKILL.
    ~RmsdProcess();

    uint16_t ingest_port() const { return ingest_port_; }
    uint16_t http_port() const { return http_port_; }
    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }
    const RmsdOptions& options() const { return options_; }

    // SIGKILL, a crash: nothing is flushed. Waits for the process to go.
    void Kill9();

    // SIGTERM, then waits up to `timeout_ms` for the process to exit. Returns its exit code.
    // Fails with "not_running", "killed_by_signal" when it died of a signal, or "timeout" (the
    // process is then killed with SIGKILL).
    [[nodiscard]] Result<int> Terminate(int timeout_ms = 30000);

    // Stops a running process with Terminate(), then starts it again with the same options (same
    // data dir; new ports). Fails like Start(), or when the stop fails.
    [[nodiscard]] Status Restart();

    // The last `max_bytes` of the log file, for failure messages.
    std::string LogTail(size_t max_bytes = 4000) const;

private:
    explicit RmsdProcess(RmsdOptions options) : options_(std::move(options)) {}

    Status Launch();
    // Reads stdout until the ready line; fills the ports.
    Status AwaitReady();
    // Waits for the child to exit; returns its wait status, or -1 when `timeout_ms` passed.
    int WaitExit(int timeout_ms);
    // Copies the rest of stdout to the log until the child closes it.
    void DrainStdout();
    // Forgets the exited child: joins the stdout drain and closes the pipe.
    void Reap();

    RmsdOptions options_;
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    uint16_t ingest_port_ = 0;
    uint16_t http_port_ = 0;
    std::thread drain_;
};

}  // namespace rms
