#include "engine/logging.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <string>

namespace rms {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// 2013-01-02T03:04:05.678Z
const system_clock::time_point kTime{milliseconds(1357095845678)};

// Parses one log line and returns its "msg"; fails the test when the line is not one JSON
// object followed by '\n'.
std::string MessageOf(const std::string& line) {
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "a log line must be one line: " << line;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::string_view msg;
    EXPECT_EQ(parser.parse(simdjson::padded_string(line)).get(root), simdjson::SUCCESS) << line;
    EXPECT_EQ(root["msg"].get_string().get(msg), simdjson::SUCCESS) << line;
    return std::string(msg);
}

TEST(LoggingTest, JsonLineHasTimeLevelLoggerAndMessage) {
    std::string line = FormatJsonLogLine(kTime, spdlog::level::warn, "rmsd", "engine: slow");
    EXPECT_EQ(line,
              "{\"ts\":\"2013-01-02T03:04:05.678Z\",\"level\":\"warning\",\"logger\":\"rmsd\","
              "\"msg\":\"engine: slow\"}\n");
}

TEST(LoggingTest, QuotesBackslashesAndNewlinesCannotBreakOrForgeALine) {
    std::string forged = "bad \"id\" \\ here\n{\"level\":\"info\",\"msg\":\"forged\"}\r\t\x01";
    std::string line = FormatJsonLogLine(kTime, spdlog::level::err, "rmsd", forged);
    EXPECT_EQ(MessageOf(line), forged);
    EXPECT_NE(line.find("\\u0001"), std::string::npos) << line;
}

TEST(LoggingTest, InvalidUtf8BecomesReplacementCharacters) {
    std::string bytes = "caf\xC3\xA9 \xFF \xC0\xAF \xED\xA0\x80 ok";
    std::string line = FormatJsonLogLine(kTime, spdlog::level::info, "rmsd", bytes);
    EXPECT_EQ(MessageOf(line),
              "caf\xC3\xA9 \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD "
              "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD ok");
}

TEST(LoggingTest, TimeBeforeTheEpochIsStillRfc3339) {
    std::string line =
        FormatJsonLogLine(system_clock::time_point{milliseconds(-1)}, spdlog::level::info, "x", "");
    EXPECT_NE(line.find("\"ts\":\"1969-12-31T23:59:59.999Z\""), std::string::npos) << line;
}

TEST(LoggingTest, ParsesTheTwoFormatsOnly) {
    EXPECT_EQ(ParseLogFormat("json").value(), LogFormat::kJson);
    EXPECT_EQ(ParseLogFormat("text").value(), LogFormat::kText);
    auto bad = ParseLogFormat("JSON");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), "invalid_argument");
}

}  // namespace
}  // namespace rms
