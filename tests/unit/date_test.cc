#include "engine/date.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace rms {
namespace {

Date D(int year, int month, int day) {
    std::optional<Date> date = Date::FromCivil(year, month, day);
    EXPECT_TRUE(date.has_value()) << year << "-" << month << "-" << day;
    return date.value_or(Date());
}

// Days in a month by the Gregorian rule, written out separately from engine/date.cc.
int MonthLength(int year, int month) {
    if (month == 2) {
        bool leap = year % 400 == 0 || (year % 4 == 0 && year % 100 != 0);
        return leap ? 29 : 28;
    }
    return (month == 4 || month == 6 || month == 9 || month == 11) ? 30 : 31;
}

TEST(DateTest, EpochIsDayZero) {
    EXPECT_EQ(D(1970, 1, 1).days(), 0);
    EXPECT_EQ(Date().days(), 0);
    EXPECT_EQ(Date().ToString(), "1970-01-01");
    EXPECT_EQ(Date(-1).ToString(), "1969-12-31");
}

TEST(DateTest, DaysMatchPosixTimeDividedByDaysLength) {
    // Each value is `date -u -d YYYY-MM-DD +%s` / 86400 (GNU date), not this code.
    struct Case {
        int year, month, day;
        int32_t days;
    };
    const Case cases[] = {
        {2012, 1, 3, 15342},  {2013, 1, 2, 15707},     {2000, 2, 29, 11016},  {1900, 3, 1, -25508},
        {2024, 2, 29, 19782}, {1999, 1, 1, 10592},     {2030, 12, 31, 22279}, {1969, 12, 31, -1},
        {1, 1, 1, -719162},   {9999, 12, 31, 2932896},
    };
    for (const Case& c : cases) {
        Date date = D(c.year, c.month, c.day);
        SCOPED_TRACE(date.ToString());
        EXPECT_EQ(date.days(), c.days);
        EXPECT_EQ(Date(c.days), date);

        int year = 0;
        int month = 0;
        int day = 0;
        Date(c.days).ToCivil(&year, &month, &day);
        EXPECT_EQ(year, c.year);
        EXPECT_EQ(month, c.month);
        EXPECT_EQ(day, c.day);
    }
}

TEST(DateTest, LeapDayExistsOnlyInLeapYears) {
    struct Case {
        int year;
        bool leap;
    };
    const Case cases[] = {
        {2000, true},  {1900, false}, {2024, true}, {2023, false},
        {2100, false}, {2400, true},  {1600, true}, {4, true},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.year);
        EXPECT_EQ(Date::FromCivil(c.year, 2, 29).has_value(), c.leap);
        EXPECT_TRUE(Date::FromCivil(c.year, 2, 28).has_value());
        EXPECT_FALSE(Date::FromCivil(c.year, 2, 30).has_value());
    }
    EXPECT_EQ(D(2024, 3, 1) - D(2024, 2, 28), 2);
    EXPECT_EQ(D(2023, 3, 1) - D(2023, 2, 28), 1);
    EXPECT_EQ(D(1900, 3, 1) - D(1900, 2, 28), 1);
    EXPECT_EQ(D(2000, 3, 1) - D(2000, 2, 28), 2);
}

TEST(DateTest, MonthEndIsFollowedByTheFirstOfTheNextMonth) {
    const int years[] = {1900, 2000, 2023, 2024};
    for (int year : years) {
        for (int month = 1; month <= 12; ++month) {
            SCOPED_TRACE(std::to_string(year) + "-" + std::to_string(month));
            int last = MonthLength(year, month);
            ASSERT_TRUE(Date::FromCivil(year, month, last).has_value());
            EXPECT_FALSE(Date::FromCivil(year, month, last + 1).has_value());

            Date next = month == 12 ? D(year + 1, 1, 1) : D(year, month + 1, 1);
            EXPECT_EQ(D(year, month, last).AddDays(1), next);
        }
    }
}

TEST(DateTest, FromCivilRejectsOutOfRangeFields) {
    struct Case {
        int year, month, day;
    };
    const Case cases[] = {
        {0, 12, 31},   {10000, 1, 1}, {-1, 1, 1},    {2024, 0, 1},  {2024, 13, 1},  {2024, 1, 0},
        {2024, 1, 32}, {2024, 4, 31}, {2024, 6, 31}, {2024, 9, 31}, {2024, 11, 31}, {2024, 1, -1},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::to_string(c.year) + "/" + std::to_string(c.month) + "/" +
                     std::to_string(c.day));
        EXPECT_FALSE(Date::FromCivil(c.year, c.month, c.day).has_value());
    }
}

TEST(DateTest, EveryDayFrom1999To2030RoundTripsThroughText) {
    int year = 1999;
    int month = 1;
    int day = 1;
    Date date = D(1999, 1, 1);
    int count = 0;
    while (year <= 2030) {
        char expected[40];
        std::snprintf(expected, sizeof(expected), "%04d-%02d-%02d", year, month, day);
        SCOPED_TRACE(expected);
        ASSERT_EQ(date.ToString(), expected);

        Result<Date> parsed = ParseDate(expected);
        ASSERT_TRUE(parsed.ok()) << parsed.status().message();
        ASSERT_EQ(*parsed, date);
        ASSERT_EQ(Date::FromCivil(year, month, day), date);

        if (++day > MonthLength(year, month)) {
            day = 1;
            if (++month > 12) {
                month = 1;
                ++year;
            }
        }
        Date next = date.AddDays(1);
        ASSERT_EQ(next - date, 1);
        ASSERT_LT(date, next);
        date = next;
        ++count;
    }
    EXPECT_EQ(count, 32 * 365 + 8);  // 8 leap years: 2000, 2004, ..., 2028
}

TEST(DateTest, ArithmeticAndOrder) {
    EXPECT_EQ(D(2024, 3, 1) - D(2024, 1, 1), 60);
    EXPECT_EQ(D(2024, 1, 1) - D(2024, 3, 1), -60);
    EXPECT_EQ(D(2024, 1, 31).AddDays(30), D(2024, 3, 1));
    EXPECT_EQ(D(2024, 3, 1).AddDays(-1), D(2024, 2, 29));
    EXPECT_EQ(D(2013, 1, 2).AddDays(30), D(2013, 2, 1));
    EXPECT_EQ(D(2024, 5, 1).AddDays(0), D(2024, 5, 1));
    EXPECT_LT(D(1999, 12, 31), D(2000, 1, 1));
    EXPECT_GT(D(2000, 1, 1), D(1999, 12, 31));
    EXPECT_NE(D(2000, 1, 1), D(2000, 1, 2));
}

TEST(DateTest, ToStringPadsToFourDigitYears) {
    EXPECT_EQ(D(1, 1, 1).ToString(), "0001-01-01");
    EXPECT_EQ(D(999, 12, 31).ToString(), "0999-12-31");
    EXPECT_EQ(D(9999, 12, 31).ToString(), "9999-12-31");
}

TEST(ParseDateTest, AcceptsRealDaysInStrictForm) {
    struct Case {
        std::string_view text;
        int year, month, day;
    };
    const Case cases[] = {
        {"2024-02-29", 2024, 2, 29}, {"2000-02-29", 2000, 2, 29},  {"1970-01-01", 1970, 1, 1},
        {"0001-01-01", 1, 1, 1},     {"9999-12-31", 9999, 12, 31}, {"2023-12-31", 2023, 12, 31},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.text));
        Result<Date> parsed = ParseDate(c.text);
        ASSERT_TRUE(parsed.ok()) << parsed.status().message();
        EXPECT_EQ(*parsed, D(c.year, c.month, c.day));
    }
}

TEST(ParseDateTest, RejectsMalformedTextAndDaysThatDoNotExist) {
    const std::string_view cases[] = {
        "2024-02-30", "2023-02-29",       "1900-02-29",   "2024-04-31",  "2024/05/01",
        "2024.05.01", "2024-5-1",         "2024-05-1",    "24-05-01",    "20240501",
        "",           "2024-05-01T00:00", "2024-05-01 ",  " 2024-05-01", "2024-13-01",
        "2024-00-10", "2024-01-00",       "2024-01-32",   "0000-01-01",  "+024-05-01",
        "-024-05-01", "2024-05-0a",       "2024-0x-01",   "2024--5-01",  "2024-05--1",
        "1/2/2013",   "10000-01-01",      "2024-05-01\n",
    };
    for (std::string_view text : cases) {
        SCOPED_TRACE("\"" + std::string(text) + "\"");
        Result<Date> parsed = ParseDate(text);
        ASSERT_FALSE(parsed.ok()) << parsed->ToString();
        EXPECT_EQ(parsed.status().code(), "invalid_date");
        EXPECT_NE(parsed.status().message().find("\"" + std::string(text) + "\""),
                  std::string::npos)
            << parsed.status().message();
    }
}

TEST(ParseDateTest, MessagesSayWhy) {
    struct Case {
        std::string_view text;
        std::string_view message;
    };
    const Case cases[] = {
        {"2023-02-29", "date \"2023-02-29\" does not exist: February 2023 has 28 days"},
        {"2024-02-30", "date \"2024-02-30\" does not exist: February 2024 has 29 days"},
        {"2024-04-31", "date \"2024-04-31\" does not exist: April 2024 has 30 days"},
        {"2024-13-01", "date \"2024-13-01\" has month 13; months run from 01 to 12"},
        {"2024-01-00", "date \"2024-01-00\" has day 00; days run from 01"},
        {"0000-01-01", "date \"0000-01-01\" has year 0000; years run from 0001 to 9999"},
        {"2024/05/01", "date \"2024/05/01\" is not YYYY-MM-DD: expected '-' at positions 5 and 8"},
        {"2024-5-1", "date \"2024-5-1\" has 8 characters; YYYY-MM-DD has exactly 10"},
        {"2024-05-0a", "date \"2024-05-0a\" is not YYYY-MM-DD: year, month and day must be digits"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.text));
        Result<Date> parsed = ParseDate(c.text);
        ASSERT_FALSE(parsed.ok());
        EXPECT_EQ(parsed.status().code(), "invalid_date");
        EXPECT_EQ(parsed.status().message(), c.message);
    }
}

TEST(ParseUsDateTest, ReadsMonthDayYearAsInTheIbmSample) {
    struct Case {
        std::string_view text;
        int year, month, day;
    };
    const Case cases[] = {
        {"1/2/2013", 2013, 1, 2},   {"2/1/2013", 2013, 2, 1},   {"12/31/2013", 2013, 12, 31},
        {"1/26/2013", 2013, 1, 26}, {"10/5/2012", 2012, 10, 5}, {"01/02/2013", 2013, 1, 2},
        {"2/29/2012", 2012, 2, 29},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(c.text));
        std::optional<Date> parsed = ParseUsDate(c.text);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(*parsed, D(c.year, c.month, c.day));
    }
    EXPECT_EQ(ParseUsDate("1/3/2012")->days(), 15342);
}

TEST(ParseUsDateTest, RejectsMalformedTextAndDaysThatDoNotExist) {
    const std::string_view cases[] = {
        "2/29/2013", "13/1/2013",  "0/1/2013",   "1/0/2013",   "1/32/2013", "4/31/2013",
        "1/2/13",    "1/2/20134",  "1-2-2013",   "",           "1/2",       "/2/2013",
        "1//2013",   "123/1/2013", "1/123/2013", "1/2/2013 ",  " 1/2/2013", "a/2/2013",
        "1/b/2013",  "1/2/201x",   "1/2/2013/",  "2013-01-02", "1/2/0000",  "+1/2/2013",
    };
    for (std::string_view text : cases) {
        SCOPED_TRACE("\"" + std::string(text) + "\"");
        EXPECT_FALSE(ParseUsDate(text).has_value());
    }
}

}  // namespace
}  // namespace rms
