#include "tests/support/shared_data.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "tests/support/temp_dir.h"

namespace rms {
namespace {

// The path SharedDir() looks at, whether or not it exists.
std::string SharedDirCandidate() {
    const char* env = std::getenv("RMS_SHARED_DIR");
    if (env != nullptr && *env != '\0') {
        return env;
    }
    return std::string(RMS_SOURCE_DIR) + "/../shared";
}

}  // namespace

std::optional<std::string> SharedDir() {
    std::string path = SharedDirCandidate();
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) {
        return std::nullopt;
    }
    return std::filesystem::weakly_canonical(path, ec).string();
}

std::string SharedDirMissingMessage() {
    const char* env = std::getenv("RMS_SHARED_DIR");
    std::string how = (env != nullptr && *env != '\0') ? "RMS_SHARED_DIR" : "the default";
    return "shared folder absent: " + SharedDirCandidate() + " (" + how +
           ") is not a directory; set RMS_SHARED_DIR to the folder that holds protocol.md and "
           "scenarios/";
}

bool RunningInCi() {
    return EnvFlag("CI");
}

}  // namespace rms
