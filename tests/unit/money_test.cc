#include "engine/money.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace rms {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Currency C(std::string_view code) {
    std::optional<Currency> currency = Currency::FromCode(code);
    EXPECT_TRUE(currency.has_value()) << code;
    return currency.value_or(Currency());
}

std::string Quoted(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

TEST(ParseAmountTest, AcceptsPlainDigitsWithUpToExponentDecimals) {
    struct Case {
        std::string_view text;
        std::string_view currency;
        int64_t minor_units;
    };
    const Case cases[] = {
        {"12.5", "USD", 1250},
        {"12", "USD", 1200},
        {"12.50", "USD", 1250},
        {"0.01", "USD", 1},
        {"007.50", "USD", 750},  // leading zeros are plain digits
        {"1000000", "EUR", 100000000},
        {"150000", "JPY", 150000},
        {"1", "JPY", 1},
        {"12.345", "KWD", 12345},
        {"12.3", "KWD", 12300},
        {"0.001", "BHD", 1},
        {"1.2345", "CLF", 12345},
        {"1", "UYW", 10000},
        {"92233720368547758.07", "USD", kMax},
        {"9223372036854775807", "JPY", kMax},
        {"922337203685477.5807", "CLF", kMax},
        {"00000000000000000000000000001", "JPY", 1},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(Quoted(c.text) + " " + std::string(c.currency));
        Result<int64_t> parsed = ParseAmount(c.text, C(c.currency));
        ASSERT_TRUE(parsed.ok()) << parsed.status().message();
        EXPECT_EQ(*parsed, c.minor_units);
    }
}

TEST(ParseAmountTest, RejectsEverythingOutsideTheGrammarAsInvalidAmount) {
    struct Case {
        std::string_view text;
        std::string_view currency;
    };
    const Case cases[] = {
        {"", "USD"},
        {"-5", "USD"},
        {"+5", "USD"},
        {"-0.01", "USD"},
        {"5e2", "USD"},
        {"1E3", "USD"},
        {"1.5e1", "USD"},
        {" 5", "USD"},
        {"5 ", "USD"},
        {"1 000", "USD"},
        {"1,000", "USD"},
        {"1,5", "EUR"},
        {"1_000", "USD"},
        {"1'000", "CHF"},
        {".5", "USD"},
        {"5.", "USD"},
        {".", "USD"},
        {"1.2.3", "USD"},
        {"1..2", "USD"},
        {"0", "USD"},
        {"0.00", "USD"},
        {"000", "JPY"},
        {"12.345", "USD"},
        {"150000.5", "JPY"},
        {"1.0", "JPY"},
        {"1.2345", "KWD"},
        {"1.23456", "CLF"},
        {"92233720368547758.08", "USD"},
        {"9223372036854775808", "JPY"},
        {"99999999999999999999", "USD"},
        {"922337203685477.5808", "CLF"},
        {"0x10", "USD"},
        {"NaN", "USD"},
        {"Infinity", "USD"},
        {"12.5\n", "USD"},
        {"\xd9\xa1", "USD"},  // ARABIC-INDIC DIGIT ONE
        {"\"12\"", "USD"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(Quoted(c.text) + " " + std::string(c.currency));
        Result<int64_t> parsed = ParseAmount(c.text, C(c.currency));
        ASSERT_FALSE(parsed.ok()) << *parsed;
        EXPECT_EQ(parsed.status().code(), "invalid_amount");
        EXPECT_NE(parsed.status().message().find(Quoted(c.text)), std::string::npos)
            << parsed.status().message();
    }
}

TEST(ParseAmountTest, RejectsTextWithEmbeddedNul) {
    Result<int64_t> parsed = ParseAmount(std::string_view("12\0", 3), C("USD"));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), "invalid_amount");
}

TEST(ParseAmountTest, MessagesNameTheTextAndTheRule) {
    struct Case {
        std::string_view text;
        std::string_view currency;
        std::string_view message;
    };
    const Case cases[] = {
        {"12.345", "USD", "amount \"12.345\" has 3 decimals, USD allows 2"},
        {"150000.5", "JPY", "amount \"150000.5\" has 1 decimal, JPY allows 0"},
        {"1.2345", "KWD", "amount \"1.2345\" has 4 decimals, KWD allows 3"},
        {"", "USD", "amount \"\" is empty"},
        {"-5", "USD", "amount \"-5\" has a sign; only plain digits are allowed"},
        {"+5", "USD", "amount \"+5\" has a sign; only plain digits are allowed"},
        {"5e2", "USD", "amount \"5e2\" has an exponent; only plain digits are allowed"},
        {".5", "USD", "amount \".5\" needs a digit before the '.'"},
        {"5.", "USD", "amount \"5.\" needs a digit after the '.'"},
        {"1.2.3", "USD", "amount \"1.2.3\" has more than one '.'"},
        {"1,000", "USD",
         "amount \"1,000\" has ',' at position 2; only digits and one '.' are allowed"},
        {"0.00", "USD", "amount \"0.00\" is zero; amounts must be greater than 0"},
        {"92233720368547758.08", "USD",
         "amount \"92233720368547758.08\" is too large; the largest USD amount is "
         "92233720368547758.07"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(Quoted(c.text) + " " + std::string(c.currency));
        Result<int64_t> parsed = ParseAmount(c.text, C(c.currency));
        ASSERT_FALSE(parsed.ok());
        EXPECT_EQ(parsed.status().code(), "invalid_amount");
        EXPECT_EQ(parsed.status().message(), c.message);
    }
}

TEST(ParseAmountTest, RejectsAnInvalidCurrency) {
    Result<int64_t> parsed = ParseAmount("12.50", Currency());
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), "invalid_amount");
}

TEST(FormatAmountTest, WritesExactlyTheExponentDecimals) {
    struct Case {
        int64_t minor_units;
        std::string_view currency;
        std::string_view text;
    };
    const Case cases[] = {
        {1250, "USD", "12.50"},
        {1200, "USD", "12.00"},
        {1, "USD", "0.01"},
        {10, "USD", "0.10"},
        {0, "USD", "0.00"},
        {150000, "JPY", "150000"},
        {0, "JPY", "0"},
        {5, "KWD", "0.005"},
        {12345, "KWD", "12.345"},
        {12345, "CLF", "1.2345"},
        {1, "CLF", "0.0001"},
        {kMax, "USD", "92233720368547758.07"},
        {kMax, "JPY", "9223372036854775807"},
        {-1250, "USD", "-12.50"},
        {-1, "USD", "-0.01"},
        {-5, "KWD", "-0.005"},
        {-150000, "JPY", "-150000"},
        {kMin, "USD", "-92233720368547758.08"},
        {kMin, "JPY", "-9223372036854775808"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::to_string(c.minor_units) + " " + std::string(c.currency));
        EXPECT_EQ(FormatAmount(c.minor_units, C(c.currency)), c.text);
    }
}

TEST(FormatAmountTest, InvalidCurrencyFormatsWithoutDecimals) {
    EXPECT_EQ(FormatAmount(1250, Currency()), "1250");
}

TEST(FormatAmountTest, FormatOfParseIsTheCanonicalText) {
    struct Case {
        std::string_view text;
        std::string_view currency;
        std::string_view canonical;
    };
    const Case cases[] = {
        {"12.5", "USD", "12.50"},
        {"12", "USD", "12.00"},
        {"12.50", "USD", "12.50"},
        {"007.50", "USD", "7.50"},
        {"0.01", "USD", "0.01"},
        {"150000", "JPY", "150000"},
        {"0150000", "JPY", "150000"},
        {"12.345", "KWD", "12.345"},
        {"12", "KWD", "12.000"},
        {"0.1", "KWD", "0.100"},
        {"1", "CLF", "1.0000"},
        {"1.2345", "CLF", "1.2345"},
        {"92233720368547758.07", "USD", "92233720368547758.07"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(Quoted(c.text) + " " + std::string(c.currency));
        Currency currency = C(c.currency);
        Result<int64_t> parsed = ParseAmount(c.text, currency);
        ASSERT_TRUE(parsed.ok()) << parsed.status().message();
        EXPECT_EQ(FormatAmount(*parsed, currency), c.canonical);

        Result<int64_t> reparsed = ParseAmount(c.canonical, currency);
        ASSERT_TRUE(reparsed.ok()) << reparsed.status().message();
        EXPECT_EQ(*reparsed, *parsed);
    }
}

TEST(FormatAmountTest, ParseOfFormatIsTheValueInEveryCurrency) {
    const int64_t values[] = {1, 9, 10, 99, 100, 101, 123456789, kMax};
    for (size_t i = 0; i < CurrencyCount(); ++i) {
        Currency currency = *Currency::FromIndex(static_cast<uint16_t>(i));
        for (int64_t value : values) {
            SCOPED_TRACE(std::to_string(value) + " " + std::string(currency.code()));
            Result<int64_t> parsed = ParseAmount(FormatAmount(value, currency), currency);
            ASSERT_TRUE(parsed.ok()) << parsed.status().message();
            EXPECT_EQ(*parsed, value);
        }
    }
}

TEST(ParseDecimalTest, AcceptsPositivePlainDecimals) {
    struct Case {
        std::string_view text;
        int64_t mantissa;
        int scale;
    };
    const Case cases[] = {
        {"1.0825", 10825, 4},
        {"1.5", 15, 1},
        {"1.50", 15, 1},  // trailing fraction zeros are dropped
        {"2", 2, 0},
        {"2.000", 2, 0},
        {"100", 100, 0},
        {"007.5", 75, 1},
        {"0.000000000001", 1, 12},
        {"0.123456789012", 123456789012, 12},
        {"9223372036854775807", kMax, 0},
        {"9223372036854775807.000", kMax, 0},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(Quoted(c.text));
        Result<Decimal> parsed = ParseDecimal(c.text);
        ASSERT_TRUE(parsed.ok()) << parsed.status().message();
        EXPECT_EQ(parsed->mantissa, c.mantissa);
        EXPECT_EQ(parsed->scale, c.scale);
    }
}

TEST(ParseDecimalTest, RejectsEverythingOutsideTheGrammarAsInvalidField) {
    const std::string_view cases[] = {
        "",
        "0",
        "0.0",
        "000.000",
        "-1",
        "+1",
        "-0.5",
        "1e3",
        "1E-3",
        ".5",
        "5.",
        ".",
        "1.2.3",
        "1,5",
        " 1",
        "1 ",
        "1.5\t",
        "0x1",
        "NaN",
        "inf",
        "1.0000000000001",       // 13 fraction digits
        "0.0000000000001",       // 13 fraction digits
        "922337.2036854775807",  // 13 fraction digits, though the mantissa would fit
        "9223372036854775808",   // mantissa past int64
        "92233720368547758.08",
    };
    for (std::string_view text : cases) {
        SCOPED_TRACE(Quoted(text));
        Result<Decimal> parsed = ParseDecimal(text);
        ASSERT_FALSE(parsed.ok()) << FormatDecimal(*parsed);
        EXPECT_EQ(parsed.status().code(), "invalid_field");
        EXPECT_NE(parsed.status().message().find(Quoted(text)), std::string::npos)
            << parsed.status().message();
    }
}

TEST(ParseDecimalTest, MessagesNameTheTextAndTheRule) {
    Result<Decimal> too_precise = ParseDecimal("1.0000000000001");
    ASSERT_FALSE(too_precise.ok());
    EXPECT_EQ(too_precise.status().message(),
              "decimal \"1.0000000000001\" has 13 fraction digits, at most 12 are allowed");

    Result<Decimal> zero = ParseDecimal("0.0");
    ASSERT_FALSE(zero.ok());
    EXPECT_EQ(zero.status().message(), "decimal \"0.0\" is zero; it must be greater than 0");
}

TEST(FormatDecimalTest, WritesNoTrailingZeros) {
    struct Case {
        Decimal decimal;
        std::string_view text;
    };
    const Case cases[] = {
        {{15, 1}, "1.5"},
        {{150, 2}, "1.5"},
        {{2, 0}, "2"},
        {{200, 2}, "2"},
        {{1, 4}, "0.0001"},
        {{10825, 4}, "1.0825"},
        {{100, 0}, "100"},
        {{0, 3}, "0"},
        {{1, 12}, "0.000000000001"},
        {{-15, 1}, "-1.5"},
        {{15, -2}, "1500"},
        {{kMax, 0}, "9223372036854775807"},
        {{kMin, 2}, "-92233720368547758.08"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::to_string(c.decimal.mantissa) + "e-" + std::to_string(c.decimal.scale));
        EXPECT_EQ(FormatDecimal(c.decimal), c.text);
    }
}

TEST(FormatDecimalTest, FormatOfParseIsTheCanonicalText) {
    struct Case {
        std::string_view text;
        std::string_view canonical;
    };
    const Case cases[] = {
        {"1.0825", "1.0825"},
        {"1.50", "1.5"},
        {"2.000", "2"},
        {"007.5", "7.5"},
        {"0.000000000001", "0.000000000001"},
        {"10", "10"},
        {"10.10", "10.1"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(Quoted(c.text));
        Result<Decimal> parsed = ParseDecimal(c.text);
        ASSERT_TRUE(parsed.ok()) << parsed.status().message();
        EXPECT_EQ(FormatDecimal(*parsed), c.canonical);
    }
}

}  // namespace
}  // namespace rms
