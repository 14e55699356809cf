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

}  // namespace
}  // namespace rms
