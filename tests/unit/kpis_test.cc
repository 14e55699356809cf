#include "engine/kpis.h"

#include <gtest/gtest.h>

namespace rms {
namespace {

Date D(int y, int m, int d) {
    return Date::FromCivil(y, m, d).value();
}

TEST(BucketTest, EdgesFollowTheProtocol) {
    struct Case {
        int32_t days;
        int bucket;
    };
    for (Case c :
         {Case{-10, 0}, Case{0, 0}, Case{1, 1}, Case{30, 1}, Case{31, 2}, Case{60, 2}, Case{61, 3},
          Case{90, 3}, Case{91, 4}, Case{120, 4}, Case{121, 5}, Case{5000, 5}}) {
        SCOPED_TRACE(c.days);
        EXPECT_EQ(BucketOf(c.days), c.bucket);
    }
}

TEST(CountbackTest, WalksBackOverDaysWithoutSales) {
    // Open 500.00 on 2024-03-31; sales 400.00 on 03-16 and 300.00 on 02-15.
    // 03-31..03-17: 15 days; 03-16 counts 1 (100.00 left); 03-15..02-16: 29 days (2024 is a
    // leap year); 02-15 counts 100/300. Total 45 + 1/3.
    std::map<int32_t, int64_t> sales = {{D(2024, 3, 16).days(), 40000},
                                        {D(2024, 2, 15).days(), 30000}};
    EXPECT_NEAR(CountbackDso(D(2024, 3, 31), 50000, sales), 45.0 + 1.0 / 3.0, 1e-9);
}

TEST(CountbackTest, NothingOpenIsZero) {
    std::map<int32_t, int64_t> sales = {{D(2024, 3, 16).days(), 40000}};
    EXPECT_EQ(CountbackDso(D(2024, 3, 31), 0, sales), 0.0);
}

TEST(CountbackTest, SalesEqualToWhatIsLeftCountOneDay) {
    std::map<int32_t, int64_t> sales = {{D(2024, 1, 10).days(), 1000}};
    // 01-10 is the business date itself: its sales reach what is left, so it counts 1000/1000.
    EXPECT_DOUBLE_EQ(CountbackDso(D(2024, 1, 10), 1000, sales), 1.0);
}

TEST(CountbackTest, SalesAfterTheBusinessDateAreIgnored) {
    std::map<int32_t, int64_t> sales = {{D(2024, 1, 10).days(), 1000},
                                        {D(2024, 1, 20).days(), 999999}};
    // From 01-15 back: 01-15..01-11 are 5 days, then 01-10 counts 500/1000.
    EXPECT_DOUBLE_EQ(CountbackDso(D(2024, 1, 15), 500, sales), 5.5);
}

TEST(KpisTest, StandardBestPossibleAddAndCei) {
    // The protocol's worked case: open 50,000, current 40,000, sales 90,000, start 10,000.
    std::map<int32_t, int64_t> sales = {{D(2024, 3, 16).days(), 4000000},
                                        {D(2024, 2, 15).days(), 3000000},
                                        {D(2024, 1, 15).days(), 2000000}};
    KpiInputs in;
    in.business_date = D(2024, 3, 31);
    in.open = 5000000;
    in.current = 4000000;
    in.sales_window = 9000000;
    in.start = 1000000;
    in.sales_by_day = &sales;
    Kpis k = ComputeKpis(in);
    EXPECT_DOUBLE_EQ(*k.dso_standard, 50.0);
    EXPECT_DOUBLE_EQ(*k.dso_best_possible, 40.0);
    EXPECT_DOUBLE_EQ(*k.add, 10.0);
    // (10,000 + 90,000 - 50,000) / (10,000 + 90,000 - 40,000) = 50,000 / 60,000.
    EXPECT_NEAR(*k.cei, 250.0 / 3.0, 1e-9);
    EXPECT_NEAR(*k.dso_countback, 45.0 + 1.0 / 3.0, 1e-9);
}

TEST(KpisTest, NoSalesLeavesDsoUndefined) {
    std::map<int32_t, int64_t> sales;
    KpiInputs in;
    in.business_date = D(2024, 3, 31);
    in.sales_by_day = &sales;
    Kpis k = ComputeKpis(in);
    EXPECT_FALSE(k.dso_standard.has_value());
    EXPECT_FALSE(k.dso_best_possible.has_value());
    EXPECT_FALSE(k.add.has_value());
    EXPECT_FALSE(k.cei.has_value());  // denominator 0
    EXPECT_EQ(*k.dso_countback, 0.0);
}

TEST(KpisTest, CeiUndefinedWhenDenominatorIsNegative) {
    std::map<int32_t, int64_t> sales = {{D(2024, 3, 1).days(), 100}};
    KpiInputs in;
    in.business_date = D(2024, 3, 31);
    in.open = 100;
    in.current = 500;  // impossible in a ledger, but the formula must not divide by it
    in.sales_window = 100;
    in.sales_by_day = &sales;
    EXPECT_FALSE(ComputeKpis(in).cei.has_value());
}

}  // namespace
}  // namespace rms
