// The durable store: an ordered key-value map on disk (RocksDB), written in atomic batches.
//
// Only this library includes RocksDB. The engine sees three operations: read a key, scan a key
// prefix in order, and commit a batch of puts atomically. A committed batch survives a process
// crash; with `sync` it also survives a power cut.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace rms::storage {

struct StoreOptions {
    // Write each batch with an fdatasync of the WAL before Commit() returns.
    bool sync = false;
    // Commit() refuses with "unavailable" while the file system has less free space than this:
    // Debian's RocksDB aborts on ENOSPC instead of returning an error, so we stop before it.
    uint64_t min_free_bytes = 64ull << 20;
    // Block cache for reads, in bytes.
    size_t block_cache_bytes = 32u << 20;
};

// A set of puts and deletes that commit together or not at all.
//
// Keys and values are copied into one buffer that Clear() keeps: a group commit of thousands of
// records costs a few growths of that buffer, not two allocations per record.
class Batch {
public:
    void Put(std::string_view key, std::string_view value) {
        size_t at = data_.size();
        data_.append(key);
        data_.append(value);
        ops_.push_back({at, key.size(), value.size(), false});
    }
    // A put whose value `encode(std::string* out)` appends to `out`, the batch's own buffer.
    template <typename Encode>
    void PutEncoded(std::string_view key, Encode&& encode) {
        size_t at = data_.size();
        data_.append(key);
        encode(&data_);
        ops_.push_back({at, key.size(), data_.size() - at - key.size(), false});
    }
    void Delete(std::string_view key) {
        size_t at = data_.size();
        data_.append(key);
        ops_.push_back({at, key.size(), 0, true});
    }
    bool empty() const { return ops_.empty(); }
    size_t size() const { return ops_.size(); }
    size_t bytes() const { return data_.size(); }
    // Calls fn(key, value, is_delete) for each operation in the order added.
    template <typename Fn>
    void ForEach(Fn&& fn) const {
        for (const Op& op : ops_) {
            fn(key(op), value(op), op.is_delete);
        }
    }
    void Clear() {
        ops_.clear();
        data_.clear();
    }

private:
    friend class Store;
    struct Op {
        size_t at;  // the key's offset in data_, the value right after it
        size_t key_size;
        size_t value_size;
        bool is_delete;
    };
    std::string_view key(const Op& op) const {
        return std::string_view(data_).substr(op.at, op.key_size);
    }
    std::string_view value(const Op& op) const {
        return std::string_view(data_).substr(op.at + op.key_size, op.value_size);
    }
    std::string data_;
    std::vector<Op> ops_;
};

class Store {
public:
    // Opens (creating if needed) the store in `dir`.
    static Result<std::unique_ptr<Store>> Open(const std::string& dir, const StoreOptions& options);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Commits `batch` atomically, its operations in key order (a later operation on the same key
    // still wins). Fails with code "unavailable" when the disk reserve is low or the write fails;
    // then nothing of the batch is visible.
    Status Commit(const Batch& batch);

    // Reads one key; nullopt when absent. Fails with "unavailable" on a read error.
    Result<std::optional<std::string>> Get(std::string_view key) const;

    // Reads many keys at once (one sorted pass, bloom filters first): the values in the order
    // of `keys`, nullopt for each absent one. Fails with "unavailable" on any read error.
    Result<std::vector<std::optional<std::string>>> MultiGet(
        const std::vector<std::string>& keys) const;

    // The last key at or before `key` that starts with `prefix`, and its value; nullopt when
    // there is none.
    Result<std::optional<std::pair<std::string, std::string>>> Floor(std::string_view prefix,
                                                                     std::string_view key) const;

    // Calls `fn(key, value)` for every key starting with `prefix`, in key order, until it
    // returns false.
    Status Scan(std::string_view prefix,
                const std::function<bool(std::string_view, std::string_view)>& fn) const;
    // Scan() that starts at the first key at or after `start` (which should begin with
    // `prefix`) instead of at the prefix itself.
    Status ScanFrom(std::string_view prefix, std::string_view start,
                    const std::function<bool(std::string_view, std::string_view)>& fn) const;

    // Writes what the memtables hold into table files, so that the next open has no write-ahead
    // log to replay (a clean stop: at the goal's scale the replay is seconds of start-up). Skipped
    // (Ok) when the disk reserve is low: the log then replays as after a crash. Fails with
    // "unavailable" when the flush fails; nothing is lost then either.
    Status Flush();

    // Free bytes on the store's file system, or nullopt when statvfs fails.
    std::optional<uint64_t> FreeBytes() const;
    // True while the free space is at or above the reserve.
    bool DiskReserveOk() const;

    const std::string& dir() const { return dir_; }

private:
    struct Impl;
    Store(std::string dir, const StoreOptions& options, std::unique_ptr<Impl> impl);

    std::string dir_;
    StoreOptions options_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace rms::storage
