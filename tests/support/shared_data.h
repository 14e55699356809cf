// The shared folder (../shared next to the repository: protocol.md, scenarios/) that some tests
// read. Tests that need it skip with a message when it is absent, except under CI=true, where an
// absent folder is a failure, so that a CI job cannot pass by running nothing.
#pragma once

#include <optional>
#include <string>

namespace rms {

// $RMS_SHARED_DIR when set and non-empty (ctest sets it), else RMS_SOURCE_DIR/../shared (so that
// a test binary run by hand, or listed by gtest_discover_tests, finds it too). nullopt when that
// path is not a directory.
std::optional<std::string> SharedDir();

// Says which paths were tried, for the skip or failure message.
std::string SharedDirMissingMessage();

// True when the environment variable CI is "true" (or "1").
bool RunningInCi();

}  // namespace rms

// Declares `std::string var` holding the shared folder, or ends the test: GTEST_SKIP with a
// message, or a failure under CI=true. Use it in a test body (it returns from the function).
#define RMS_REQUIRE_SHARED_DIR(var)                                        \
    std::string var;                                                       \
    if (std::optional<std::string> rms_shared_dir_ = ::rms::SharedDir()) { \
        var = *rms_shared_dir_;                                            \
    } else if (::rms::RunningInCi()) {                                     \
        FAIL() << ::rms::SharedDirMissingMessage();                        \
    } else {                                                               \
        GTEST_SKIP() << ::rms::SharedDirMissingMessage();                  \
    }
