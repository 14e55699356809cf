// TempDir: a fresh directory for one test, removed with everything in it when the TempDir goes
// away. Set RMS_KEEP_TEMP=1 to keep it for a post-mortem; its path is then printed to stderr.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"

namespace rms {

class TempDir {
public:
    // Creates "rms-<prefix>-XXXXXX" under $TMPDIR, or /tmp when TMPDIR is unset or empty.
    // Fails with "io_error" naming the path and the errno text.
    [[nodiscard]] static Result<TempDir> Create(std::string_view prefix = "test");

    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&& other) noexcept;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    const std::string& path() const { return path_; }
    // path()/name; nothing is created.
    std::string Path(std::string_view name) const;

private:
    explicit TempDir(std::string path) : path_(std::move(path)) {}
    void Remove();

    std::string path_;
};

// True when the environment variable `name` is set to "1" or "true".
bool EnvFlag(const char* name);

}  // namespace rms
