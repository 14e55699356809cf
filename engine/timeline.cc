#include "engine/timeline.h"

#include <charconv>

namespace rms {

std::string EncodeTimelineCursor(uint64_t seq) {
    char buf[17];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), seq, 16);
    static_cast<void>(ec);
    return "c" + std::string(buf, end);
}

std::optional<uint64_t> DecodeTimelineCursor(std::string_view cursor) {
    if (cursor.size() < 2 || cursor.size() > 17 || cursor[0] != 'c') {
        return std::nullopt;
    }
    uint64_t seq = 0;
    const char* first = cursor.data() + 1;
    const char* last = cursor.data() + cursor.size();
    auto [end, ec] = std::from_chars(first, last, seq, 16);
    if (ec != std::errc() || end != last || seq == 0) {
        return std::nullopt;
    }
    return seq;
}

}  // namespace rms
