#include "storage/store.h"

#include <algorithm>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

namespace rms::storage {

struct Store::Impl {
    std::unique_ptr<rocksdb::DB> db;
};

Store::Store(std::string dir, const StoreOptions& options, std::unique_ptr<Impl> impl)
    : dir_(std::move(dir)), options_(options), impl_(std::move(impl)) {}

Store::~Store() {
    if (impl_ && impl_->db) {
        rocksdb::Status s = impl_->db->Close();
        if (!s.ok()) {
            spdlog::warn("store {}: close failed: {}", dir_, s.ToString());
        }
    }
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, const StoreOptions& options) {
    rocksdb::Options db_options;
    db_options.create_if_missing = true;
    db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
    db_options.max_background_jobs = 2;
    db_options.write_buffer_size = 64u << 20;
    db_options.compression = rocksdb::kNoCompression;
    // Most marker lookups are for new events: a whole-key bloom filter on the memtable answers
    // those without a skiplist search (the SST files have theirs below).
    db_options.memtable_prefix_bloom_size_ratio = 0.05;
    db_options.memtable_whole_key_filtering = true;

    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(db_options, dir, &raw);
    if (!s.ok()) {
        return Status::Error("unavailable", "cannot open store in " + dir + ": " + s.ToString());
    }
    auto impl = std::make_unique<Impl>();
    impl->db.reset(raw);
    return std::unique_ptr<Store>(new Store(dir, options, std::move(impl)));
}

Status Store::Flush() {
    if (!DiskReserveOk()) {
        return Status::Ok();
    }
    rocksdb::FlushOptions fo;
    fo.wait = true;
    rocksdb::Status s = impl_->db->Flush(fo);
    if (!s.ok()) {
        return Status::Error("unavailable", "store flush failed: " + s.ToString());
    }
    return Status::Ok();
}

std::optional<uint64_t> Store::FreeBytes() const {
    struct statvfs st {};
    if (statvfs(dir_.c_str(), &st) != 0) {
        return std::nullopt;
    }
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

bool Store::DiskReserveOk() const {
    std::optional<uint64_t> free = FreeBytes();
    return free.has_value() && *free >= options_.min_free_bytes;
}

Status Store::Commit(const Batch& batch) {
    std::optional<uint64_t> free = FreeBytes();
    if (!free.has_value() || *free < options_.min_free_bytes + batch.bytes()) {
        return Status::Error("unavailable", "disk reserve low in " + dir_ + ": " +
                                                std::to_string(free.value_or(0)) + " bytes free, " +
                                                std::to_string(options_.min_free_bytes) +
                                                " reserved");
    }
    // In key order, consecutive memtable inserts land next to each other: with the engine's
    // mostly random marker keys this halves the write time (bench/run-all, (c) and (c')).
    std::vector<const Batch::Op*> sorted;
    sorted.reserve(batch.ops_.size());
    for (const Batch::Op& op : batch.ops_) {
        sorted.push_back(&op);
    }
    std::stable_sort(sorted.begin(), sorted.end(), [&](const Batch::Op* a, const Batch::Op* b) {
        return batch.key(*a) < batch.key(*b);
    });
    rocksdb::WriteBatch wb(batch.bytes() + 16 * batch.size());
    for (const Batch::Op* op : sorted) {
        std::string_view k = batch.key(*op);
        std::string_view v = batch.value(*op);
        rocksdb::Slice key(k.data(), k.size());
        rocksdb::Status s =
            op->is_delete ? wb.Delete(key) : wb.Put(key, rocksdb::Slice(v.data(), v.size()));
        if (!s.ok()) {
            return Status::Error("unavailable", "cannot build write batch: " + s.ToString());
        }
    }
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    rocksdb::Status s = impl_->db->Write(wo, &wb);
    if (!s.ok()) {
        return Status::Error("unavailable", "store write failed: " + s.ToString());
    }
    return Status::Ok();
}

Result<std::optional<std::string>> Store::Get(std::string_view key) const {
    std::string value;
    rocksdb::Status s =
        impl_->db->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) {
        return std::optional<std::string>();
    }
    if (!s.ok()) {
        return Status::Error("unavailable", "store read failed: " + s.ToString());
    }
    return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::optional<std::string>>> Store::MultiGet(
    const std::vector<std::string>& keys) const {
    std::vector<std::optional<std::string>> out(keys.size());
    if (keys.empty()) {
        return out;
    }
    std::vector<rocksdb::Slice> slices;
    slices.reserve(keys.size());
    for (const std::string& k : keys) {
        slices.emplace_back(k);
    }
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->db->DefaultColumnFamily(), keys.size(),
                        slices.data(), values.data(), statuses.data());
    for (size_t i = 0; i < keys.size(); ++i) {
        if (statuses[i].IsNotFound()) {
            continue;
        }
        if (!statuses[i].ok()) {
            return Status::Error("unavailable", "store read failed: " + statuses[i].ToString());
        }
        out[i] = values[i].ToString();
    }
    return out;
}

Result<std::optional<std::pair<std::string, std::string>>> Store::Floor(
    std::string_view prefix, std::string_view key) const {
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(rocksdb::Slice(key.data(), key.size()));
    if (!it->status().ok()) {
        return Status::Error("unavailable", "store read failed: " + it->status().ToString());
    }
    if (!it->Valid() || !it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) {
        return std::optional<std::pair<std::string, std::string>>();
    }
    return std::optional<std::pair<std::string, std::string>>(
        std::make_pair(it->key().ToString(), it->value().ToString()));
}

Status Store::Scan(std::string_view prefix,
                   const std::function<bool(std::string_view, std::string_view)>& fn) const {
    return ScanFrom(prefix, prefix, fn);
}

Status Store::ScanFrom(std::string_view prefix, std::string_view from,
                       const std::function<bool(std::string_view, std::string_view)>& fn) const {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro));
    rocksdb::Slice start(prefix.data(), prefix.size());
    for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
        rocksdb::Slice key = it->key();
        if (!key.starts_with(start)) {
            break;
        }
        rocksdb::Slice value = it->value();
        if (!fn(std::string_view(key.data(), key.size()),
                std::string_view(value.data(), value.size()))) {
            break;
        }
    }
    if (!it->status().ok()) {
        return Status::Error("unavailable", "store scan failed: " + it->status().ToString());
    }
    return Status::Ok();
}

}  // namespace rms::storage
