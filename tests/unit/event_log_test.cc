// The event log as stored: one block per group commit, read back one event or all in order; and
// the store's reads the engine's marker lookups rely on.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "engine/ledger_codec.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace rms {
namespace {

class EventLogTest : public ::testing::Test {
protected:
    void SetUp() override {
        Result<TempDir> dir = TempDir::Create("event-log");
        ASSERT_TRUE(dir.ok()) << dir.status().message();
        dir_.emplace(std::move(dir).value());
        auto store = storage::Store::Open(dir_->Path("store"), storage::StoreOptions());
        ASSERT_TRUE(store.ok()) << store.status().message();
        store_ = std::move(store).value();
    }

    // Commits one block holding `events` as seqs first_seq, first_seq + 1, ...
    void CommitBlock(uint64_t first_seq, const std::vector<std::string>& events) {
        std::string block;
        for (const std::string& e : events) {
            AppendLogEntry(&block, e);
        }
        storage::Batch batch;
        batch.Put(EventLogKey(first_seq), block);
        ASSERT_TRUE(store_->Commit(batch).ok());
    }

    std::optional<std::string> Read(uint64_t seq) {
        Result<std::optional<std::string>> r = ReadLoggedEvent(*store_, seq);
        EXPECT_TRUE(r.ok()) << r.status().message();
        return r.ok() ? *r : std::nullopt;
    }

    std::optional<TempDir> dir_;
    std::unique_ptr<storage::Store> store_;
};

TEST_F(EventLogTest, EachEventOfABlockIsReadBackByItsSeq) {
    CommitBlock(1, {"{\"a\":1}", "{\"b\":2}"});
    CommitBlock(3, {"{\"c\":3}", "", "{\"e\":5}"});

    EXPECT_EQ(Read(1), "{\"a\":1}");
    EXPECT_EQ(Read(2), "{\"b\":2}");
    EXPECT_EQ(Read(3), "{\"c\":3}");
    EXPECT_EQ(Read(4), "");
    EXPECT_EQ(Read(5), "{\"e\":5}");
}

TEST_F(EventLogTest, SeqsOutsideEveryBlockAreAbsent) {
    EXPECT_EQ(Read(1), std::nullopt);
    CommitBlock(10, {"x", "y"});

    EXPECT_EQ(Read(9), std::nullopt);
    EXPECT_EQ(Read(12), std::nullopt);
    EXPECT_EQ(Read(1000), std::nullopt);
}

TEST_F(EventLogTest, ForEachVisitsEveryEventInSeqOrderAndStopsWhenAsked) {
    CommitBlock(300, {"c", "d"});  // key order, not commit order, decides
    CommitBlock(1, {"a", "b"});
    std::vector<std::pair<uint64_t, std::string>> seen;
    Status s = ForEachLoggedEvent(*store_, [&](uint64_t seq, std::string_view e) {
        seen.emplace_back(seq, std::string(e));
        return true;
    });
    ASSERT_TRUE(s.ok()) << s.message();
    std::vector<std::pair<uint64_t, std::string>> want = {
        {1, "a"}, {2, "b"}, {300, "c"}, {301, "d"}};
    EXPECT_EQ(seen, want);

    size_t visits = 0;
    s = ForEachLoggedEvent(*store_, [&](uint64_t, std::string_view) { return ++visits < 3; });
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(visits, 3u);
}

TEST_F(EventLogTest, ATruncatedBlockIsReportedDamaged) {
    storage::Batch batch;
    batch.Put(EventLogKey(1), std::string("\x05"
                                          "ab",
                                          3));  // says 5 bytes, holds 2
    ASSERT_TRUE(store_->Commit(batch).ok());

    Result<std::optional<std::string>> r = ReadLoggedEvent(*store_, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), "unavailable");
}

TEST_F(EventLogTest, MultiGetAnswersEachKeyInOrder) {
    storage::Batch batch;
    batch.Put(MarkerKey("erp", "E1"), EncodeMarker(Marker{7, 42}));
    batch.Put(MarkerKey("erp", "E3"), EncodeMarker(Marker{9, 43}));
    ASSERT_TRUE(store_->Commit(batch).ok());

    auto got =
        store_->MultiGet({MarkerKey("erp", "E3"), MarkerKey("erp", "E2"), MarkerKey("erp", "E1")});
    ASSERT_TRUE(got.ok()) << got.status().message();
    ASSERT_EQ(got->size(), 3u);
    ASSERT_TRUE((*got)[0].has_value());
    EXPECT_EQ(DecodeMarker(*(*got)[0])->seq, 9u);
    EXPECT_FALSE((*got)[1].has_value());
    ASSERT_TRUE((*got)[2].has_value());
    EXPECT_EQ(DecodeMarker(*(*got)[2])->hash, 42u);
}

TEST_F(EventLogTest, ABatchCommitsInKeyOrderButALaterPutOfAKeyWins) {
    storage::Batch batch;
    batch.Put("z", "1");
    batch.Put("a", "first");
    batch.Put("a", "second");
    ASSERT_TRUE(store_->Commit(batch).ok());

    auto a = store_->Get("a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(*a, std::optional<std::string>("second"));
}

TEST_F(EventLogTest, ABatchKeepsEveryKeyAndValueWholeInItsOneBufferAndIsReusedAfterClear) {
    storage::Batch batch;
    batch.Put("k1", std::string("a\0b", 3));
    batch.PutEncoded("k2", [](std::string* out) { out->append(3000, 'x'); });
    batch.Put("k3", "");
    batch.Delete("k0");
    EXPECT_EQ(batch.size(), 4u);
    EXPECT_EQ(batch.bytes(), 2 + 3 + 2 + 3000 + 2 + 2u);
    std::vector<std::tuple<std::string, std::string, bool>> seen;
    batch.ForEach([&](std::string_view key, std::string_view value, bool is_delete) {
        seen.emplace_back(std::string(key), std::string(value), is_delete);
    });
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[0], std::make_tuple(std::string("k1"), std::string("a\0b", 3), false));
    EXPECT_EQ(std::get<1>(seen[1]), std::string(3000, 'x'));
    EXPECT_EQ(seen[2], std::make_tuple(std::string("k3"), std::string(), false));
    EXPECT_EQ(seen[3], std::make_tuple(std::string("k0"), std::string(), true));
    ASSERT_TRUE(store_->Commit(batch).ok());
    EXPECT_EQ(*store_->Get("k1"), std::optional<std::string>(std::string("a\0b", 3)));
    EXPECT_EQ(store_->Get("k2")->value().size(), 3000u);

    batch.Clear();
    EXPECT_TRUE(batch.empty());
    EXPECT_EQ(batch.bytes(), 0u);
    batch.Delete("k1");
    batch.Put("k2", "short");
    ASSERT_TRUE(store_->Commit(batch).ok());
    EXPECT_EQ(*store_->Get("k1"), std::optional<std::string>());
    EXPECT_EQ(*store_->Get("k2"), std::optional<std::string>("short"));
}

}  // namespace
}  // namespace rms
