// IdIndex (engine/id_index.h) against std::unordered_map as the reference: every id inserted is
// found at its index, through every growth of the table; ids never inserted, and ids that differ
// from an inserted one by a character, are not found.
#include "engine/id_index.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace rms {
namespace {

struct Rec {
    std::string id;
};

TEST(IdIndexTest, FindsWhatWasInsertedAndNothingElse) {
    IdIndex index;
    std::vector<Rec> recs;
    EXPECT_FALSE(index.Find("INV-1", recs).has_value()) << "empty";

    std::mt19937 rng(7);
    std::unordered_map<std::string, uint32_t> reference;
    // Short ids crowd the small tables of the first growths (16, 32, ... slots), so probing runs
    // past occupied slots; the numbered ones are like the sample's invoice numbers.
    for (uint32_t i = 0; i < 20000; ++i) {
        std::string id =
            i % 3 == 0 ? std::to_string(rng() % 100000) : "INV-" + std::to_string(1000000 + i);
        if (reference.count(id) != 0) {
            continue;
        }
        uint32_t at = static_cast<uint32_t>(recs.size());
        recs.push_back(Rec{id});
        index.Insert(id, at);
        reference.emplace(id, at);
        if (i % 997 == 0) {  // now and then, everything so far is still found where it is
            for (const auto& [known, where] : reference) {
                ASSERT_EQ(index.Find(known, recs), std::optional<uint32_t>(where)) << known;
            }
        }
    }
    EXPECT_EQ(index.size(), reference.size());
    for (const auto& [id, at] : reference) {
        ASSERT_EQ(index.Find(id, recs), std::optional<uint32_t>(at)) << id;
        EXPECT_TRUE(index.Contains(id, recs));
        std::string near = id;
        near.back() = near.back() == 'x' ? 'y' : 'x';
        EXPECT_FALSE(index.Contains(near, recs)) << near;
    }
    EXPECT_FALSE(index.Contains("", recs));
    EXPECT_FALSE(index.Contains("INV-", recs));
}

// Reserve (used by a restart, which knows each record kind's count) rehashes what is there and
// makes room for exactly as many ids as asked: inserting that many never grows the table again.
TEST(IdIndexTest, ReserveKeepsTheIdsAndMakesRoomForTheCountAsked) {
    IdIndex index;
    std::vector<Rec> recs;
    auto add = [&](uint32_t i) {
        recs.push_back(Rec{"C" + std::to_string(i)});
        index.Insert(recs.back().id, i);
    };
    for (uint32_t i = 0; i < 100; ++i) {
        add(i);
    }
    index.Reserve(5000);
    const size_t room = index.capacity();
    EXPECT_GE(room, 5000u);
    EXPECT_LT(room, 10000u) << "a power of two, not more than twice what was asked";
    for (uint32_t i = 0; i < 100; ++i) {
        ASSERT_EQ(index.Find("C" + std::to_string(i), recs), std::optional<uint32_t>(i));
    }
    for (uint32_t i = 100; i < 5000; ++i) {
        add(i);
    }
    EXPECT_EQ(index.capacity(), room) << "no growth up to the reserved count";
    index.Reserve(10);  // less than there is: nothing changes
    EXPECT_EQ(index.capacity(), room);
    for (uint32_t i = 0; i < 5000; i += 7) {
        ASSERT_EQ(index.Find("C" + std::to_string(i), recs), std::optional<uint32_t>(i));
    }
    add(5000);
    EXPECT_TRUE(index.Contains("C5000", recs));
}

// The index can key records by another member than `id` (the ledger's actions by their key):
// lookups compare what the projection gives, not the record's `id`.
TEST(IdIndexTest, FindsByTheMemberItsProjectionNames) {
    struct Keyed {
        std::string id;
        std::string key;
    };
    auto key_of = [](const Keyed& r) -> std::string_view { return r.key; };
    IdIndex index;
    std::vector<Keyed> recs;
    for (uint32_t i = 0; i < 300; ++i) {
        recs.push_back(Keyed{"id" + std::to_string(i), "S/step" + std::to_string(i) + "/C"});
        index.Insert(recs.back().key, i);
    }
    for (uint32_t i = 0; i < 300; ++i) {
        ASSERT_EQ(index.Find("S/step" + std::to_string(i) + "/C", recs, key_of),
                  std::optional<uint32_t>(i));
        EXPECT_FALSE(index.Contains("id" + std::to_string(i), recs, key_of));
    }
}

}  // namespace
}  // namespace rms
