// Helpers shared by the benchmark programs: a read-only mapped file, a "key value" report file
// that bench/run-all reads back, and process memory from /proc.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace rms::bench {

// A file mapped read-only for the life of the object.
class MappedFile {
public:
    MappedFile() = default;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile() {
        if (data_ != nullptr) {
            munmap(data_, size_);
        }
    }

    // Maps `path`; fails with "io_error" naming it.
    [[nodiscard]] Status Open(const std::string& path) {
        int fd = ::open(path.c_str(), O_RDONLY);
        if (fd < 0) {
            return Status::Error("io_error", "cannot open " + path + ": " + std::strerror(errno));
        }
        struct stat st {};
        fstat(fd, &st);
        size_ = static_cast<size_t>(st.st_size);
        if (size_ > 0) {
            void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                ::close(fd);
                return Status::Error("io_error",
                                     "cannot map " + path + ": " + std::strerror(errno));
            }
            data_ = p;
            madvise(data_, size_, MADV_SEQUENTIAL);
        }
        ::close(fd);
        return Status::Ok();
    }

    std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

private:
    void* data_ = nullptr;
    size_t size_ = 0;
};

// Calls fn(line) for every non-empty '\n'-separated line of `text`.
template <typename Fn>
void ForEachLine(std::string_view text, Fn&& fn) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        size_t end = nl == std::string_view::npos ? text.size() : nl;
        if (end > pos) {
            fn(text.substr(pos, end - pos));
        }
        pos = end + 1;
    }
}

// Figures written as "key value" lines, in the order added.
class Report {
public:
    void Add(std::string key, double value) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.6g", value);
        items_.emplace_back(std::move(key), buf);
    }
    void AddInt(std::string key, uint64_t value) {
        items_.emplace_back(std::move(key), std::to_string(value));
    }
    void AddText(std::string key, std::string value) {
        for (char& c : value) {
            if (c == '\n') {
                c = ' ';
            }
        }
        items_.emplace_back(std::move(key), std::move(value));
    }

    // Writes the report to `path` (nothing when empty) and to stdout.
    [[nodiscard]] Status Write(const std::string& path) const {
        std::string text;
        for (const auto& [k, v] : items_) {
            text += k + " " + v + "\n";
        }
        std::fputs(text.c_str(), stdout);
        if (path.empty()) {
            return Status::Ok();
        }
        std::ofstream out(path, std::ios::app);
        out << text;
        if (!out) {
            return Status::Error("io_error", "cannot write " + path);
        }
        return Status::Ok();
    }

private:
    std::vector<std::pair<std::string, std::string>> items_;
};

// VmHWM and VmRSS of this process, in bytes.
inline std::pair<uint64_t, uint64_t> SelfMemory() {
    std::ifstream in("/proc/self/status");
    std::string key;
    uint64_t hwm = 0;
    uint64_t rss = 0;
    while (in >> key) {
        uint64_t kb = 0;
        if (key == "VmHWM:" && in >> kb) {
            hwm = kb << 10;
        } else if (key == "VmRSS:" && in >> kb) {
            rss = kb << 10;
        }
    }
    return {hwm, rss};
}

}  // namespace rms::bench
