#include "engine/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "engine/json_writer.h"

namespace rms {

namespace {

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one (overlong
// forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s) {
    auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
    auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
    unsigned char b0 = byte(0);
    if (b0 < 0x80) {
        return 1;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        return continuation(1) ? 2 : 0;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (!continuation(1) || !continuation(2)) {
            return 0;
        }
        unsigned char b1 = byte(1);
        bool overlong = b0 == 0xE0 && b1 < 0xA0;
        bool surrogate = b0 == 0xED && b1 >= 0xA0;
        return overlong || surrogate ? 0 : 3;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (!continuation(1) || !continuation(2) || !continuation(3)) {
            return 0;
        }
        unsigned char b1 = byte(1);
        bool overlong = b0 == 0xF0 && b1 < 0x90;
        bool too_large = b0 == 0xF4 && b1 >= 0x90;
        return overlong || too_large ? 0 : 4;
    }
    return 0;
}

// `s` with every invalid UTF-8 byte replaced by U+FFFD.
std::string ValidUtf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    while (!s.empty()) {
        size_t n = Utf8SequenceLength(s);
        if (n == 0) {
            out.append("\xEF\xBF\xBD");
            n = 1;
        } else {
            out.append(s.substr(0, n));
        }
        s.remove_prefix(n);
    }
    return out;
}

std::string Rfc3339Utc(std::chrono::system_clock::time_point time) {
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    auto since_epoch = duration_cast<milliseconds>(time.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(since_epoch / 1000);
    int millis = static_cast<int>(since_epoch % 1000);
    if (millis < 0) {
        seconds -= 1;
        millis += 1000;
    }
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[40];
    int n =
        std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return std::string(buf, static_cast<size_t>(n));
}

class JsonLineFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string line = FormatJsonLogLine(
            msg.time, msg.level, std::string_view(msg.logger_name.data(), msg.logger_name.size()),
            std::string_view(msg.payload.data(), msg.payload.size()));
        dest.append(line.data(), line.data() + line.size());
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonLineFormatter>();
    }
};

}  // namespace

Result<LogFormat> ParseLogFormat(std::string_view text) {
    if (text == "text") {
        return LogFormat::kText;
    }
    if (text == "json") {
        return LogFormat::kJson;
    }
    return Status::Error("invalid_argument",
                         "log format \"" + std::string(text) + "\" is neither text nor json");
}

void InstallStderrLogger(std::string_view name, LogFormat format) {
    // JSON lines go to a plain sink: a colour sink would wrap part of them in escape codes when
    // stderr is a terminal.
    std::shared_ptr<spdlog::logger> logger;
    if (format == LogFormat::kJson) {
        logger = spdlog::stderr_logger_mt(std::string(name));
        logger->set_formatter(std::make_unique<JsonLineFormatter>());
    } else {
        logger = spdlog::stderr_color_mt(std::string(name));
    }
    spdlog::set_default_logger(logger);
}

std::string FormatJsonLogLine(std::chrono::system_clock::time_point time,
                              spdlog::level::level_enum level, std::string_view logger,
                              std::string_view message) {
    auto level_name = spdlog::level::to_string_view(level);
    std::string line;
    JsonWriter w(&line);
    w.BeginObject();
    w.Key("ts");
    w.String(Rfc3339Utc(time));
    w.Key("level");
    w.String(std::string_view(level_name.data(), level_name.size()));
    w.Key("logger");
    w.String(ValidUtf8(logger));
    w.Key("msg");
    w.String(ValidUtf8(message));
    w.EndObject();
    line.push_back('\n');
    return line;
}

}  // namespace rms
