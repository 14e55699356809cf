// Which Kafka partition an event goes to (issue #9). Producers and the TCP gateway must agree on
// it, or a customer's events would be split between instances: RMS uses the partitioner of
// Kafka's Java client for keyed records, murmur2 of the key bytes with the sign bit cleared,
// modulo the partition count. librdkafka calls it "murmur2_random" (or "murmur2" for keyed
// messages); its default, "consistent_random" (CRC32), gives other partitions.
#pragma once

#include <cstdint>
#include <string_view>

namespace rms {

// Kafka's 32-bit murmur2 of `key` (seed 0x9747b28c), as the Java client's Utils.murmur2.
uint32_t KafkaMurmur2(std::string_view key);

// The partition, 0 .. partitions - 1, of a record keyed `key`. REQUIRES: partitions > 0.
int32_t PartitionForKey(std::string_view key, int32_t partitions);

}  // namespace rms
