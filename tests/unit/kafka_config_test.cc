#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "engine/config.h"
#include "tests/support/temp_dir.h"

namespace rms {
namespace {

TEST(KafkaConfigTest, KeysFillTheKafkaOptions) {
    auto dir = TempDir::Create("kafka-config");
    ASSERT_TRUE(dir.ok());
    const std::string path = dir->Path("rms.toml");
    std::ofstream(path) << "kafka_brokers = \"k1:9092,k2:9092\"\n"
                           "kafka_topic = \"rms-events\"\n"
                           "kafka_group = \"rms\"\n"
                           "kafka_settings = { \"session.timeout.ms\" = \"10000\", "
                           "\"client.id\" = \"rms-1\" }\n";
    Config config;
    Status s = LoadConfigFile(path, &config);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(config.kafka.brokers, "k1:9092,k2:9092");
    EXPECT_EQ(config.kafka.topic, "rms-events");
    EXPECT_EQ(config.kafka.group, "rms");
    // TOML tables have no order: the settings come by key.
    std::map<std::string, std::string> settings(config.kafka.settings.begin(),
                                                config.kafka.settings.end());
    EXPECT_EQ(settings, (std::map<std::string, std::string>{{"client.id", "rms-1"},
                                                            {"session.timeout.ms", "10000"}}));
}

TEST(KafkaConfigTest, SettingsMustBeStrings) {
    auto dir = TempDir::Create("kafka-config");
    ASSERT_TRUE(dir.ok());
    const std::string path = dir->Path("rms.toml");
    std::ofstream(path) << "kafka_settings = { \"session.timeout.ms\" = 10000 }\n";
    Config config;
    Status s = LoadConfigFile(path, &config);
    EXPECT_EQ(s.code(), "invalid_config");
    EXPECT_NE(s.message().find("kafka_settings.session.timeout.ms"), std::string::npos)
        << s.message();
}

}  // namespace
}  // namespace rms
