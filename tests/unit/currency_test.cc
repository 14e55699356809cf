#include "engine/currency.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace rms {
namespace {

Currency MustCurrency(std::string_view code) {
    std::optional<Currency> currency = Currency::FromCode(code);
    EXPECT_TRUE(currency.has_value()) << code;
    return currency.value_or(Currency());
}

TEST(CurrencyTest, ExponentsFollowIso4217ListOne) {
    struct Case {
        std::string_view code;
        int exponent;
    };
    const Case cases[] = {
        {"JPY", 0}, {"KRW", 0}, {"CLP", 0}, {"ISK", 0}, {"VND", 0}, {"XAF", 0}, {"XOF", 0},
        {"XPF", 0}, {"PYG", 0}, {"UGX", 0}, {"RWF", 0}, {"KMF", 0}, {"GNF", 0}, {"DJF", 0},
        {"BIF", 0}, {"VUV", 0}, {"UYI", 0}, {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"CHF", 2},
        {"IDR", 2}, {"HUF", 2}, {"LAK", 2}, {"MGA", 2}, {"MRU", 2}, {"XCG", 2}, {"ZWG", 2},
        {"BHD", 3}, {"IQD", 3}, {"JOD", 3}, {"KWD", 3}, {"LYD", 3}, {"OMR", 3}, {"TND", 3},
        {"CLF", 4}, {"UYW", 4},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.code));
        Currency currency = MustCurrency(c.code);
        EXPECT_TRUE(currency.valid());
        EXPECT_EQ(currency.code(), c.code);
        EXPECT_EQ(currency.exponent(), c.exponent);
    }
}

TEST(CurrencyTest, TableHoldsTheActiveCodesWithMinorUnits) {
    int by_exponent[5] = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < CurrencyCount(); ++i) {
        std::optional<Currency> currency = Currency::FromIndex(static_cast<uint16_t>(i));
        ASSERT_TRUE(currency.has_value());
        ASSERT_GE(currency->exponent(), 0);
        ASSERT_LE(currency->exponent(), 4);
        ++by_exponent[currency->exponent()];
    }

    // List one of 2026-01-01: 178 codes, 13 of them without minor units.
    EXPECT_EQ(CurrencyCount(), 165u);
    EXPECT_EQ(by_exponent[0], 17);
    EXPECT_EQ(by_exponent[1], 0);
    EXPECT_EQ(by_exponent[2], 139);
    EXPECT_EQ(by_exponent[3], 7);
    EXPECT_EQ(by_exponent[4], 2);
}

TEST(CurrencyTest, FromCodeRejectsAnythingButAnExactActiveCode) {
    const std::string_view rejected[] = {
        "ZZZ",
        "usd",
        "Usd",
        "uSD",
        "US",
        "USDX",
        "",
        " USD",
        "USD ",
        "U$D",
        "123",
        // Withdrawn: Croatian kuna (2023), Netherlands Antillean guilder (2025).
        "HRK",
        "ANG",
        // Active in list one but without minor units.
        "XAU",
        "XAG",
        "XPD",
        "XPT",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XDR",
        "XSU",
        "XUA",
        "XTS",
        "XXX",
    };
    for (std::string_view code : rejected) {
        SCOPED_TRACE("\"" + std::string(code) + "\"");
        EXPECT_FALSE(Currency::FromCode(code).has_value());
    }
}

TEST(CurrencyTest, FromCodeRejectsEmbeddedNul) {
    EXPECT_FALSE(Currency::FromCode(std::string_view("US\0", 3)).has_value());
}

TEST(CurrencyTest, DefaultIsInvalid) {
    Currency currency;
    EXPECT_FALSE(currency.valid());
    EXPECT_EQ(currency.index(), 0xffff);
    EXPECT_EQ(currency.code(), "");
    EXPECT_EQ(currency.exponent(), 0);
    EXPECT_NE(currency, MustCurrency("USD"));
}

TEST(CurrencyTest, FromIndexAndFromCodeAgreeForEveryEntry) {
    for (size_t i = 0; i < CurrencyCount(); ++i) {
        std::optional<Currency> by_index = Currency::FromIndex(static_cast<uint16_t>(i));
        ASSERT_TRUE(by_index.has_value());
        SCOPED_TRACE(std::string(by_index->code()));
        EXPECT_EQ(by_index->index(), i);
        EXPECT_EQ(Currency::FromCode(by_index->code()), by_index);
    }
}

TEST(CurrencyTest, FromIndexRejectsIndexesPastTheTable) {
    EXPECT_FALSE(Currency::FromIndex(static_cast<uint16_t>(CurrencyCount())).has_value());
    EXPECT_FALSE(Currency::FromIndex(0xffff).has_value());
}

TEST(CurrencyTest, OrderByIndexIsOrderByCode) {
    EXPECT_EQ(Currency::FromIndex(0)->code(), "AED");
    EXPECT_EQ(Currency::FromIndex(static_cast<uint16_t>(CurrencyCount() - 1))->code(), "ZWG");
    for (size_t i = 1; i < CurrencyCount(); ++i) {
        Currency before = *Currency::FromIndex(static_cast<uint16_t>(i - 1));
        Currency after = *Currency::FromIndex(static_cast<uint16_t>(i));
        SCOPED_TRACE(std::string(after.code()));
        EXPECT_LT(before.code(), after.code());
        EXPECT_LT(before, after);
    }
}

TEST(CurrencyTest, EqualityComparesTheCurrency) {
    EXPECT_EQ(MustCurrency("USD"), MustCurrency("USD"));
    EXPECT_NE(MustCurrency("USD"), MustCurrency("EUR"));
    EXPECT_LT(MustCurrency("EUR"), MustCurrency("USD"));
}

}  // namespace
}  // namespace rms
