// CommittedView (engine/committed_view.h): rendered by the commit thread only while it is wanted,
// and, through a real engine on a RocksDB store on disk, never behind an answered event while
// readers on other threads take it (the test also runs under TSan).
#include "engine/committed_view.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/ledger.h"
#include "engine/query_api.h"
#include "tests/support/engine_calls.h"
#include "tests/support/ledger_driver.h"
#include "tests/support/temp_dir.h"

namespace rms {
namespace {

using testing::CommitEvents;

std::string CustomerEvent(int i) {
    return R"({"id":"c)" + std::to_string(i) +
           R"(","type":"customer.upserted","date":"2024-03-01","customer":"C)" + std::to_string(i) +
           R"("})";
}

// The view's rendering: how many customers the ledger holds.
std::string CountCustomers(const Ledger& ledger) {
    return std::to_string(ledger.customers().size());
}

TEST(CommittedViewTest, RendersOnlyWhileWantedAndDropsTheRenderingWhenNot) {
    testing::LedgerDriver d;
    int renders = 0;
    auto counting = [&](const Ledger& ledger) {
        ++renders;
        return CountCustomers(ledger);
    };
    CommittedView view(counting, std::chrono::hours(1));
    view.Refresh(d.ledger());
    EXPECT_EQ(renders, 0) << "nobody asked for it yet";
    EXPECT_EQ(view.Get(), nullptr);
    ASSERT_TRUE(d.Send(CustomerEvent(1)).ok());
    view.Refresh(d.ledger());
    EXPECT_EQ(renders, 1);
    ASSERT_NE(view.Get(), nullptr);
    EXPECT_EQ(*view.Get(), "1");

    CommittedView brief(counting, std::chrono::milliseconds(1));
    ASSERT_EQ(brief.Get(), nullptr);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    brief.Refresh(d.ledger());
    EXPECT_EQ(brief.Get(), nullptr) << "not read within `keep`: no rendering is kept";
    EXPECT_EQ(renders, 1);
}

TEST(CommittedViewTest, AnAnsweredEventIsInTheViewReadAfterItOnAnyThread) {
    Result<TempDir> dir = TempDir::Create("committed-view");
    ASSERT_TRUE(dir.ok());
    metrics::EngineMetrics metrics;
    EngineOptions options;
    options.data_dir = dir->Path("data");
    auto engine = Engine::Open(options, &metrics);
    ASSERT_TRUE(engine.ok()) << engine.status().message();
    auto view = std::make_shared<CommittedView>(CountCustomers);
    (*engine)->AddView(view);
    EXPECT_EQ(view->Get(), nullptr) << "no change since it was added";

    // Readers take the view all along; each must see the count never go back, and never below
    // what had been answered before its read began.
    constexpr int kEvents = 200;
    std::atomic<int> answered{0};
    std::atomic<bool> done{false};
    std::atomic<int> violations{0};
    std::atomic<int> served{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        readers.emplace_back([&] {
            int last = 0;
            while (!done.load()) {
                int floor = answered.load();
                std::shared_ptr<const std::string> body = view->Get();
                if (body == nullptr) {
                    continue;
                }
                served.fetch_add(1);
                int seen = std::stoi(*body);
                if (seen < last || seen < floor) {
                    violations.fetch_add(1);
                }
                last = seen;
            }
        });
    }
    for (int i = 1; i <= kEvents; ++i) {
        ASSERT_TRUE(CommitEvents(**engine, {CustomerEvent(i)}));
        answered.store(i);
        std::shared_ptr<const std::string> body = view->Get();
        ASSERT_NE(body, nullptr) << "after event " << i;
        EXPECT_EQ(*body, std::to_string(i)) << "the view is behind the answer of event " << i;
    }
    done.store(true);
    for (std::thread& t : readers) {
        t.join();
    }
    EXPECT_EQ(violations.load(), 0);
    EXPECT_GT(served.load(), 0);
    // A duplicate changes nothing; the view still holds the committed count.
    ASSERT_TRUE(CommitEvents(**engine, {CustomerEvent(1)}));
    EXPECT_EQ(*view->Get(), std::to_string(kEvents));
}

TEST(CommittedViewTest, KpisAndWorklistFromTheirViewsEqualTheirRenderingUnderTheLock) {
    Result<TempDir> dir = TempDir::Create("committed-view-api");
    ASSERT_TRUE(dir.ok());
    metrics::EngineMetrics metrics;
    EngineOptions options;
    options.data_dir = dir->Path("data");
    auto engine = Engine::Open(options, &metrics);
    ASSERT_TRUE(engine.ok()) << engine.status().message();
    QueryApi api(engine->get(), &metrics);
    for (const char* target : {"/v1/kpis", "/v1/worklist"}) {
        api.Get(target);  // wanted from now on
    }
    for (int i = 1; i <= 3; ++i) {
        std::string n = std::to_string(i);
        ASSERT_TRUE(CommitEvents(
            **engine,
            {CustomerEvent(i),
             R"({"id":"i)" + n + R"(","type":"invoice.issued","date":"2024-03-01","invoice":"I)" +
                 n + R"(","customer":"C)" + n + R"(","amount":")" + n +
                 R"(00.00","currency":"USD","due":"2024-03-05"})",
             R"({"id":"k)" + n + R"(","type":"clock.advanced","date":"2024-04-0)" + n + R"("})"}));
        // A QueryApi made after the commit holds no rendering yet: it renders under the lock.
        QueryApi fresh(engine->get(), &metrics);
        for (const char* target : {"/v1/kpis", "/v1/worklist", "/v1/worklist?limit=50"}) {
            ApiResponse from_view = api.Get(target);
            ApiResponse under_lock = fresh.Get(target);
            EXPECT_EQ(from_view.status, 200) << target;
            EXPECT_EQ(from_view.body, under_lock.body) << target << " after round " << i;
        }
        EXPECT_NE(api.Get("/v1/worklist").body.find(R"("customer":"C)" + n + R"(")"),
                  std::string::npos)
            << "round " << i;
    }
}

}  // namespace
}  // namespace rms
