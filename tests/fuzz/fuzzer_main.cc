// A libFuzzer target: RMS_FUZZ_ENTRY names one of the entry points in fuzz_entries.h. A failed
// property aborts with its message, so libFuzzer saves the input like any other crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tests/fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    rms::Status s = rms::fuzz::RMS_FUZZ_ENTRY(input);
    if (!s.ok()) {
        std::fprintf(stderr, "property failed: %s\n", s.message().c_str());
        std::abort();
    }
    return 0;
}
