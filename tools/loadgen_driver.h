// The load generator's driver: sends an NDJSON event stream to rmsd over N TCP connections with
// pipelining, and measures the answers.
//
// Each line goes to the connection its customer hashes to, so that one customer's events keep
// their order; a connection keeps at most `window` lines unanswered. Without a rate the driver
// sends as fast as rmsd answers (closed loop); with one, line k of a connection is due at a fixed
// time and its latency counts from then (open loop, so that a stall is not hidden by the sender
// waiting for it). One thread drives every connection with poll().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace rms::loadgen {

struct DriveOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 0;
    int connections = 4;
    size_t window = 2048;           // lines written but unanswered, per connection
    size_t chunk_bytes = 64 << 10;  // bytes per write()
    double rate = 0;                // events per second over all connections; 0: as fast as it goes
    int idle_timeout_ms = 120000;   // give up when nothing moves for this long
    double duration = 0;            // seconds; stop sending after this long (0: the whole stream)
};

// Latency percentiles, in microseconds.
struct Percentiles {
    double p50 = 0;
    double p99 = 0;
    double p999 = 0;
    double max = 0;
    uint64_t count = 0;
};

// Percentiles of `samples` (reordered).
Percentiles ComputePercentiles(std::vector<uint32_t>* samples);

struct DriveReport {
    uint64_t lines = 0;  // lines sent (and answered)
    uint64_t ok = 0;
    uint64_t duplicate = 0;
    uint64_t errors = 0;
    std::map<std::string, uint64_t> error_codes;
    std::string first_error;  // the first error answer, whole
    double seconds = 0;       // first write to last answer
    double events_per_second = 0;
    // Answers per whole second of the run, the first and last (partial) seconds left out.
    std::vector<uint64_t> per_second;
    double median_second = 0;
    Percentiles latency;
    double client_cpu_seconds = 0;
};

// Sends every line of `stream` ('\n'-terminated lines) and waits for all answers. Fails when a
// connection cannot be made or breaks, or nothing moves for idle_timeout_ms.
[[nodiscard]] Result<DriveReport> Drive(std::string_view stream, const DriveOptions& options);

// Sends `lines` one at a time on a fresh connection and returns each one's round trip in
// microseconds; fails when an answer is not ok.
[[nodiscard]] Result<std::vector<double>> TimeSingleEvents(const std::string& host, uint16_t port,
                                                           const std::vector<std::string>& lines);

// Times `count` GETs of `target` (each on a new connection, as HttpGet makes them), in
// microseconds. Fails on a connection error or a status other than 200.
[[nodiscard]] Result<std::vector<double>> TimeGets(const std::string& host, uint16_t port,
                                                   const std::string& target, int count);

// VmHWM and VmRSS of process `pid`, in bytes; 0 when /proc cannot tell.
struct ProcessMemory {
    uint64_t peak_rss = 0;
    uint64_t rss = 0;
};
ProcessMemory ReadProcessMemory(int pid);

}  // namespace rms::loadgen
