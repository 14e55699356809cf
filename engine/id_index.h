// IdIndex: from a record's string id to its index in the ledger's vector of such records.
//
// The ids live in the records already, so the index keeps no second copy of them: each slot of
// an open-addressing table (linear probing, at most half full) holds a record's index and 32 bits
// of its id's hash, 8 bytes in all, where a node-based hash map of strings spends 60-100 bytes
// and a heap allocation per id. A lookup compares hash bits first and reads the record's id only
// on a match. Ids are never removed: records are not deleted from the ledger.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace rms {

class IdIndex {
public:
    // The id of a record, as Find compares it: its `id` member unless told otherwise.
    struct IdMember {
        template <typename Rec>
        std::string_view operator()(const Rec& r) const {
            return r.id;
        }
    };

    // The index of the record of `records` whose id (`id_of(record)`) equals `id`, or nullopt.
    template <typename Records, typename IdOf = IdMember>
    std::optional<uint32_t> Find(std::string_view id, const Records& records,
                                 IdOf id_of = {}) const {
        if (slots_.empty()) {
            return std::nullopt;
        }
        const uint32_t hash = HashOf(id);
        for (size_t at = hash & mask(); slots_[at].used(); at = (at + 1) & mask()) {
            const Slot& s = slots_[at];
            if (s.hash == hash && id_of(records[s.index()]) == id) {
                return s.index();
            }
        }
        return std::nullopt;
    }

    template <typename Records, typename IdOf = IdMember>
    bool Contains(std::string_view id, const Records& records, IdOf id_of = {}) const {
        return Find(id, records, id_of).has_value();
    }

    // Adds `id` as the id of record `index`. The caller has made sure `id` is not there yet.
    void Insert(std::string_view id, uint32_t index) {
        if ((size_ + 1) * 2 > slots_.size()) {
            Grow();
        }
        Place(Slot{index + 1, HashOf(id)});
        ++size_;
    }

    size_t size() const { return size_; }
    // How many ids fit before the table grows.
    size_t capacity() const { return slots_.size() / 2; }

    // Makes room for `n` ids in all, so that inserting up to that many never rehashes.
    void Reserve(size_t n) {
        size_t want = 16;
        while (want < n * 2) {
            want *= 2;
        }
        if (want > slots_.size()) {
            Rehash(want);
        }
    }

private:
    struct Slot {
        uint32_t index_plus_one = 0;  // 0: empty
        uint32_t hash = 0;
        bool used() const { return index_plus_one != 0; }
        uint32_t index() const { return index_plus_one - 1; }
    };

    static uint32_t HashOf(std::string_view id) {
        return static_cast<uint32_t>(std::hash<std::string_view>()(id));
    }
    size_t mask() const { return slots_.size() - 1; }

    void Place(Slot slot) {
        size_t at = slot.hash & mask();
        while (slots_[at].used()) {
            at = (at + 1) & mask();
        }
        slots_[at] = slot;
    }

    void Grow() { Rehash(slots_.empty() ? 16 : slots_.size() * 2); }

    void Rehash(size_t slots) {
        std::vector<Slot> old;
        old.swap(slots_);
        slots_.assign(slots, Slot{});
        for (const Slot& s : old) {
            if (s.used()) {
                Place(s);
            }
        }
    }

    std::vector<Slot> slots_;  // a power of two in size
    size_t size_ = 0;
};

}  // namespace rms
