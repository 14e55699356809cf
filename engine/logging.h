// rmsd's log output: spdlog's default logger on stderr (journald takes it from there), as
// human-readable text or as one JSON object per line for log shippers.
#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace rms {

enum class LogFormat { kText, kJson };

// "text" or "json"; anything else is "invalid_argument" naming the value.
[[nodiscard]] Result<LogFormat> ParseLogFormat(std::string_view text);

// Makes a logger named `name` writing to stderr in `format` the default logger, so that the
// spdlog::info(...) calls of every module go through it.
void InstallStderrLogger(std::string_view name, LogFormat format);

// One JSON log line, '\n' included: {"ts":"2013-01-02T03:04:05.678Z","level":"info",
// "logger":"rmsd","msg":"..."}. The message is escaped (quotes, backslashes, control characters
// as \uXXXX, invalid UTF-8 as U+FFFD), so that a message quoting a producer's bytes can neither
// break the line's JSON nor start a forged line.
std::string FormatJsonLogLine(std::chrono::system_clock::time_point time,
                              spdlog::level::level_enum level, std::string_view logger,
                              std::string_view message);

}  // namespace rms
