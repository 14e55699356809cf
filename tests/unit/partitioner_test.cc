#include "engine/partitioner.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <string>

namespace rms {
namespace {

// Values of Kafka's Java client (Utils.murmur2), as signed 32-bit integers.
TEST(PartitionerTest, Murmur2MatchesTheJavaClient) {
    struct Case {
        std::string key;
        int32_t java;
    };
    const Case cases[] = {
        {"21", -973932308},
        {"foobar", -790332482},
        {"a-little-bit-long-string", -985981536},
        {"a-little-bit-longer-string", -1486304829},
        {"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
        {"abc", 479470107},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.key);
        EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2(c.key)), c.java);
    }
}

// librdkafka's Java-compatible partitioner is an independent implementation of the same rule.
TEST(PartitionerTest, PartitionsMatchLibrdkafkasMurmur2Partitioner) {
    for (int32_t partitions : {1, 3, 6, 7, 64}) {
        for (int i = 0; i < 2000; ++i) {
            std::string key = "cust-" + std::to_string(i * 7919) + std::string(i % 5, 'x');
            SCOPED_TRACE(key + " of " + std::to_string(partitions));
            int32_t theirs = rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(),
                                                              partitions, nullptr, nullptr);
            ASSERT_EQ(PartitionForKey(key, partitions), theirs);
        }
    }
}

TEST(PartitionerTest, EmptyKeyMatchesLibrdkafka) {
    int32_t theirs = rd_kafka_msg_partitioner_murmur2(nullptr, "", 0, 6, nullptr, nullptr);
    EXPECT_EQ(PartitionForKey("", 6), theirs);
}

}  // namespace
}  // namespace rms
