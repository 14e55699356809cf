// InlineVector: values kept inline up to N, then all on the heap, through copies and moves.
#include "engine/inline_vector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace rms {
namespace {

struct Pair {
    int32_t a = 0;
    int64_t b = 0;
};

using Vec = InlineVector<Pair, 2>;

std::vector<int64_t> Bs(const Vec& v) {
    std::vector<int64_t> out;
    for (const Pair& p : v) {
        out.push_back(p.b);
    }
    return out;
}

Vec Filled(int n) {
    Vec v;
    for (int i = 0; i < n; ++i) {
        v.push_back({i, 10 * i});
    }
    return v;
}

TEST(InlineVectorTest, HoldsItsFirstValuesInsideTheObject) {
    Vec v = Filled(2);
    const auto* self = reinterpret_cast<const char*>(&v);
    const auto* first = reinterpret_cast<const char*>(v.data());
    EXPECT_TRUE(first >= self && first < self + sizeof(v));
    EXPECT_EQ(Bs(v), (std::vector<int64_t>{0, 10}));
}

TEST(InlineVectorTest, MovesEverythingToTheHeapPastItsInlineSizeAndKeepsTheOrder) {
    Vec v = Filled(5);
    const auto* self = reinterpret_cast<const char*>(&v);
    const auto* first = reinterpret_cast<const char*>(v.data());
    EXPECT_FALSE(first >= self && first < self + sizeof(v));
    EXPECT_EQ(v.size(), 5u);
    EXPECT_EQ(Bs(v), (std::vector<int64_t>{0, 10, 20, 30, 40}));
    EXPECT_EQ(v.back().a, 4);
}

TEST(InlineVectorTest, CopiesAndMovesLeaveBothSidesRightInlineAndOnTheHeap) {
    for (int n : {0, 1, 2, 3, 9}) {
        Vec original = Filled(n);
        Vec copy(original);
        EXPECT_EQ(Bs(copy), Bs(original)) << n;
        if (n > 0) {
            copy[0] = Pair{7, 77};
            EXPECT_EQ(original[0].b, 0) << "the copy shares storage, n=" << n;
        }
        Vec moved(std::move(original));
        EXPECT_EQ(moved.size(), static_cast<uint32_t>(n));
        EXPECT_TRUE(original.empty());  // NOLINT(bugprone-use-after-move): defined as empty
        original.push_back({1, 1});     // still usable
        EXPECT_EQ(Bs(original), (std::vector<int64_t>{1}));

        Vec assigned = Filled(4);
        assigned = moved;
        EXPECT_EQ(Bs(assigned), Bs(Filled(n))) << n;
        Vec move_assigned = Filled(3);
        move_assigned = std::move(assigned);
        EXPECT_EQ(Bs(move_assigned), Bs(Filled(n))) << n;
    }
}

TEST(InlineVectorTest, ResizeValueInitialisesNewValuesAndClearKeepsWorking) {
    Vec v = Filled(1);
    v.resize(4);
    EXPECT_EQ(Bs(v), (std::vector<int64_t>{0, 0, 0, 0}));
    v.back().b = 5;
    v.resize(3);
    v.resize(4);
    EXPECT_EQ(v.back().b, 0) << "a value back in range is new, not the old one";
    v.clear();
    EXPECT_TRUE(v.empty());
    v.push_back({1, 2});
    EXPECT_EQ(Bs(v), (std::vector<int64_t>{2}));
}

TEST(InlineVectorTest, SortsInPlaceLikeAVector) {
    Vec v;
    for (int64_t b : {3, 1, 2}) {
        v.push_back({0, b});
    }
    std::sort(v.begin(), v.end(), [](const Pair& x, const Pair& y) { return x.b < y.b; });
    EXPECT_EQ(Bs(v), (std::vector<int64_t>{1, 2, 3}));
}

TEST(InlineVectorTest, LivesInAGrowingStdVector) {
    std::vector<Vec> many;
    for (int i = 0; i < 100; ++i) {
        many.push_back(Filled(i % 4));
    }
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(Bs(many[i]), Bs(Filled(i % 4))) << i;
    }
}

}  // namespace
}  // namespace rms
