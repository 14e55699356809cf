#include "engine/partitioner.h"

namespace rms {

uint32_t KafkaMurmur2(std::string_view key) {
    constexpr uint32_t kSeed = 0x9747b28c;
    constexpr uint32_t kMix = 0x5bd1e995;
    constexpr int kShift = 24;
    const auto* bytes = reinterpret_cast<const unsigned char*>(key.data());
    const size_t length = key.size();
    uint32_t h = kSeed ^ static_cast<uint32_t>(length);

    // Four bytes at a time, little-endian, as the Java client reads them.
    size_t i = 0;
    for (; i + 4 <= length; i += 4) {
        uint32_t k = uint32_t{bytes[i]} | uint32_t{bytes[i + 1]} << 8 |
                     uint32_t{bytes[i + 2]} << 16 | uint32_t{bytes[i + 3]} << 24;
        k *= kMix;
        k ^= k >> kShift;
        k *= kMix;
        h *= kMix;
        h ^= k;
    }

    // The last one to three bytes.
    switch (length - i) {
        case 3:
            h ^= uint32_t{bytes[i + 2]} << 16;
            [[fallthrough]];
        case 2:
            h ^= uint32_t{bytes[i + 1]} << 8;
            [[fallthrough]];
        case 1:
            h ^= uint32_t{bytes[i]};
            h *= kMix;
            break;
        default:
            break;
    }

    h ^= h >> 13;
    h *= kMix;
    h ^= h >> 15;
    return h;
}

int32_t PartitionForKey(std::string_view key, int32_t partitions) {
    uint32_t positive = KafkaMurmur2(key) & 0x7fffffffu;
    return static_cast<int32_t>(positive % static_cast<uint32_t>(partitions));
}

}  // namespace rms
