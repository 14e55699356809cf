#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <system_error>
#include <utility>
#include <vector>

namespace rms {

bool EnvFlag(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && (std::strcmp(value, "1") == 0 || std::strcmp(value, "true") == 0);
}

Result<TempDir> TempDir::Create(std::string_view prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = (base != nullptr && *base != '\0') ? base : "/tmp";
    pattern.append("/rms-").append(prefix).append("-XXXXXX");
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
        return Status::Error("io_error",
                             "cannot create temp dir " + pattern + ": " + std::strerror(errno));
    }
    return TempDir(std::string(buffer.data()));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, std::string())) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
    if (this != &other) {
        Remove();
        path_ = std::exchange(other.path_, std::string());
    }
    return *this;
}

TempDir::~TempDir() {
    Remove();
}

std::string TempDir::Path(std::string_view name) const {
    return path_ + "/" + std::string(name);
}

void TempDir::Remove() {
    if (path_.empty()) {
        return;
    }
    if (EnvFlag("RMS_KEEP_TEMP")) {
        std::cerr << "RMS_KEEP_TEMP: keeping " << path_ << "\n";
    } else {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    path_.clear();
}

}  // namespace rms
