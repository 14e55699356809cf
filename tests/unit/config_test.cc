#include "engine/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace rms {
namespace {

Status LoadText(const std::string& text, Config* config) {
    Result<TempDir> dir = TempDir::Create("config");
    EXPECT_TRUE(dir.ok()) << dir.status().message();
    std::string path = dir->Path("rms.toml");
    std::ofstream(path) << text;
    return LoadConfigFile(path, config);
}

// Found by the config fuzzer: toml++ turned a float into int64 without a range check (undefined
// behaviour). Integer keys now take TOML integers only.
TEST(ConfigTest, AFloatForAWholeNumberKeyIsRefusedWithItsKey) {
    for (const char* text :
         {"max_unanswered = 109223372036854775807.1\n", "max_unanswered = 1e300\n",
          "max_unanswered = 100.0\n", "min_free_mib = nan\n"}) {
        SCOPED_TRACE(text);
        Config config;
        Status s = LoadText(text, &config);
        EXPECT_EQ(s.code(), "invalid_config");
        EXPECT_NE(s.message().find("line 1) must be a whole number"), std::string::npos)
            << s.message();
        EXPECT_EQ(config.limits.max_unanswered, Config().limits.max_unanswered);
        EXPECT_EQ(config.engine.min_free_bytes, Config().engine.min_free_bytes);
    }
}

TEST(ConfigTest, WholeNumbersInRangeAreTaken) {
    Config config;
    Status s = LoadText("max_unanswered = 250\nmin_free_mib = 8\n", &config);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(config.limits.max_unanswered, 250u);
    EXPECT_EQ(config.engine.min_free_bytes, 8ull << 20);
}

// The connection limits and deadlines of both ports: defaults, values taken, the range enforced.
TEST(ConfigTest, HttpConnectionCapAndDeadlinesHaveDefaultsAndRanges) {
    Config defaults;
    EXPECT_EQ(defaults.http_limits.max_connections, 256u);
    EXPECT_EQ(defaults.http_limits.request_timeout_seconds, 30);
    EXPECT_EQ(defaults.limits.line_timeout_seconds, 30);

    Config config;
    Status s = LoadText(
        "http_max_connections = 65536\nhttp_request_timeout_seconds = 5\n"
        "line_timeout_seconds = 86400\n",
        &config);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(config.http_limits.max_connections, 65536u);
    EXPECT_EQ(config.http_limits.request_timeout_seconds, 5);
    EXPECT_EQ(config.limits.line_timeout_seconds, 86400);

    for (const char* text : {"http_max_connections = 0\n", "http_max_connections = 65537\n",
                             "http_request_timeout_seconds = 0\n", "line_timeout_seconds = 0\n",
                             "line_timeout_seconds = 86401\n"}) {
        SCOPED_TRACE(text);
        Config refused;
        Status bad = LoadText(text, &refused);
        EXPECT_EQ(bad.code(), "invalid_config");
        EXPECT_NE(bad.message().find("must be a whole number from 1 to"), std::string::npos)
            << bad.message();
    }
}

}  // namespace
}  // namespace rms
