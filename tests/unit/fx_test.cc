#include "engine/fx.h"

#include <gtest/gtest.h>

#include "tests/support/ledger_driver.h"

namespace rms {
namespace {

Currency C(const char* code) {
    return Currency::FromCode(code).value();
}

TEST(FxTest, ConvertsBetweenExponentsWithIntegerArithmetic) {
    // 100.00 EUR at 1.0850 = 108.50 USD; 10000 JPY at 0.0067 = 67.00 USD; 1.000 KWD at 3.25.
    EXPECT_EQ(ConvertAmount(10000, C("EUR"), C("USD"), Decimal{10850, 4}, false), 10850);
    EXPECT_EQ(ConvertAmount(10000, C("JPY"), C("USD"), Decimal{67, 4}, false), 6700);
    EXPECT_EQ(ConvertAmount(1000, C("KWD"), C("USD"), Decimal{325, 2}, false), 325);
    // 100.00 USD into JPY at 150.5 JPY per USD: 15050 JPY.
    EXPECT_EQ(ConvertAmount(10000, C("USD"), C("JPY"), Decimal{1505, 1}, false), 15050);
}

TEST(FxTest, RoundsHalfToEven) {
    // 0.01 EUR x 1.5 = 1.5 cents -> 2; 0.03 EUR x 1.5 = 4.5 cents -> 4; 0.05 x 1.5 = 7.5 -> 8.
    EXPECT_EQ(ConvertAmount(1, C("EUR"), C("USD"), Decimal{15, 1}, false), 2);
    EXPECT_EQ(ConvertAmount(3, C("EUR"), C("USD"), Decimal{15, 1}, false), 4);
    EXPECT_EQ(ConvertAmount(5, C("EUR"), C("USD"), Decimal{15, 1}, false), 8);
    EXPECT_EQ(ConvertAmount(-3, C("EUR"), C("USD"), Decimal{15, 1}, false), -4);
}

TEST(FxTest, InverseRatesDivide) {
    // The stored rate is 1 USD = 0.92 EUR; 92.00 EUR is then 100.00 USD.
    EXPECT_EQ(ConvertAmount(9200, C("EUR"), C("USD"), Decimal{92, 2}, true), 10000);
}

TEST(FxTest, TooLargeToConvertIsReportedNotWrapped) {
    EXPECT_FALSE(
        ConvertAmount(INT64_MAX / 2, C("EUR"), C("USD"), Decimal{INT64_MAX / 2, 0}, false));
}

TEST(FxTest, BaseFiguresConvertEveryCurrencyWithItsLatestRate) {
    testing::LedgerDriver d;
    for (const char* line : {
             R"({"id":"c","type":"customer.upserted","date":"2024-04-01","customer":"C"})",
             R"({"id":"i1","type":"invoice.issued","date":"2024-04-01","invoice":"U",)"
             R"("customer":"C","amount":"100.00","currency":"USD","due":"2024-04-10"})",
             R"({"id":"i2","type":"invoice.issued","date":"2024-04-01","invoice":"E",)"
             R"("customer":"C","amount":"100.00","currency":"EUR","due":"2024-05-01"})",
             R"({"id":"i3","type":"invoice.issued","date":"2024-04-01","invoice":"J",)"
             R"("customer":"C","amount":"5000","currency":"JPY","due":"2024-05-01"})",
             R"({"id":"f1","type":"fx.rate","date":"2024-04-15","currency":"EUR","base":"USD",)"
             R"("rate":"1.10"})",
             // Back-dated: it arrives later but is older, so it does not replace 1.10.
             R"({"id":"f2","type":"fx.rate","date":"2024-04-02","currency":"EUR","base":"USD",)"
             R"("rate":"1.05"})",
             R"({"id":"k","type":"clock.advanced","date":"2024-04-20"})",
         }) {
        ASSERT_TRUE(d.Send(line).ok()) << line;
    }
    ASSERT_EQ(d.ledger().DefaultBase(), C("USD"));
    BaseFigures b = d.ledger().BaseFiguresNow(C("USD"));
    // USD 100.00 is 10 days late; EUR 100.00 x 1.10 = 110.00 is current; JPY has no rate.
    EXPECT_EQ(b.figures.open, 21000);
    EXPECT_EQ(b.figures.aging[0], 11000);
    EXPECT_EQ(b.figures.aging[1], 10000);
    EXPECT_EQ(b.figures.overdue, 10000);
    EXPECT_EQ(b.figures.sales_window, 21000);
    ASSERT_EQ(b.missing.size(), 1u);
    EXPECT_EQ(b.missing[0], C("JPY"));
    EXPECT_EQ(b.rates.at(C("EUR")).rate.mantissa, 11);
    // DSO in the base: 210.00 open over 210.00 sales in the window: 90 days.
    EXPECT_DOUBLE_EQ(*b.figures.kpis.dso_standard, 90.0);
}

}  // namespace
}  // namespace rms
