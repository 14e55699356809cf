#include "engine/date.h"

#include <array>

namespace rms {
namespace {

constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;

// The calendar arithmetic counts years from March: with February last, the leap day is the
// final day of a year and every month's start within the year follows one formula.
// A 400-year era has 146097 days; 0000-03-01 is 719468 days before 1970-01-01.
constexpr int32_t kDaysPerEra = 146097;
constexpr int32_t kEpochShift = 719468;

constexpr std::array<std::string_view, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

bool IsLeapYear(int year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
    static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && IsLeapYear(year)) {
        return 29;
    }
    return kDays[static_cast<size_t>(month - 1)];
}

// Days from 1970-01-01 to a valid civil date.
int32_t DaysFromCivil(int year, int month, int day) {
    // January and February belong to the previous March-based year.
    const int march_year = month <= 2 ? year - 1 : year;
    const int era = (march_year >= 0 ? march_year : march_year - 399) / 400;
    const int year_of_era = march_year - era * 400;                 // 0..399
    const int march_month = month > 2 ? month - 3 : month + 9;      // 0 = March
    const int day_of_year = (153 * march_month + 2) / 5 + day - 1;  // 0..365
    const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * kDaysPerEra + day_of_era - kEpochShift;
}

// Parses exactly `digits` decimal digits of `text` starting at `pos`; -1 if any is not a digit.
int ParseFixedDigits(std::string_view text, size_t pos, size_t digits) {
    int value = 0;
    for (size_t i = pos; i < pos + digits; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return -1;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

Status DateError(std::string_view text, std::string_view why) {
    return Status::Error("invalid_date", "date \"" + std::string(text) + "\" " + std::string(why));
}

std::string TwoDigits(int value) {
    return std::string{static_cast<char>('0' + value / 10), static_cast<char>('0' + value % 10)};
}

std::string FourDigits(int value) {
    return TwoDigits(value / 100) + TwoDigits(value % 100);
}

// "February 2023".
std::string MonthAndYear(int year, int month) {
    return std::string(kMonthNames[static_cast<size_t>(month - 1)]) + " " + FourDigits(year);
}

}  // namespace

std::optional<Date> Date::FromCivil(int year, int month, int day) {
    if (year < kMinYear || year > kMaxYear || month < 1 || month > 12) {
        return std::nullopt;
    }
    if (day < 1 || day > DaysInMonth(year, month)) {
        return std::nullopt;
    }
    return Date(DaysFromCivil(year, month, day));
}

void Date::ToCivil(int* year, int* month, int* day) const {
    const int32_t shifted = days_ + kEpochShift;  // days since 0000-03-01
    const int32_t era = (shifted >= 0 ? shifted : shifted - (kDaysPerEra - 1)) / kDaysPerEra;
    const int32_t day_of_era = shifted - era * kDaysPerEra;  // 0..146096
    // Remove the leap days gained so far (one per 4 years, less one per 100, plus one per 400;
    // the last day of the era is its own case) so that a plain division by 365 gives the year.
    const int32_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const int32_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // 0..365
    const int32_t march_month = (5 * day_of_year + 2) / 153;                     // 0 = March

    *day = day_of_year - (153 * march_month + 2) / 5 + 1;
    *month = march_month < 10 ? march_month + 3 : march_month - 9;
    *year = era * 400 + year_of_era + (*month <= 2 ? 1 : 0);
}

std::string Date::ToString() const {
    int year = 0;
    int month = 0;
    int day = 0;
    ToCivil(&year, &month, &day);
    return FourDigits(year) + "-" + TwoDigits(month) + "-" + TwoDigits(day);
}

Result<Date> ParseDate(std::string_view text) {
    if (text.size() != 10) {
        return DateError(
            text, "has " + std::to_string(text.size()) + " characters; YYYY-MM-DD has exactly 10");
    }
    if (text[4] != '-' || text[7] != '-') {
        return DateError(text, "is not YYYY-MM-DD: expected '-' at positions 5 and 8");
    }
    const int year = ParseFixedDigits(text, 0, 4);
    const int month = ParseFixedDigits(text, 5, 2);
    const int day = ParseFixedDigits(text, 8, 2);
    if (year < 0 || month < 0 || day < 0) {
        return DateError(text, "is not YYYY-MM-DD: year, month and day must be digits");
    }

    if (year < kMinYear) {
        return DateError(text, "has year 0000; years run from 0001 to 9999");
    }
    if (month < 1 || month > 12) {
        return DateError(text, "has month " + TwoDigits(month) + "; months run from 01 to 12");
    }
    if (day < 1) {
        return DateError(text, "has day 00; days run from 01");
    }
    const int days_in_month = DaysInMonth(year, month);
    if (day > days_in_month) {
        return DateError(text, "does not exist: " + MonthAndYear(year, month) + " has " +
                                   std::to_string(days_in_month) + " days");
    }
    return Date(DaysFromCivil(year, month, day));
}

std::optional<Date> ParseUsDate(std::string_view text) {
    const size_t first_slash = text.find('/');
    if (first_slash == std::string_view::npos) {
        return std::nullopt;
    }
    const size_t second_slash = text.find('/', first_slash + 1);
    if (second_slash == std::string_view::npos) {
        return std::nullopt;
    }

    const size_t month_digits = first_slash;
    const size_t day_digits = second_slash - first_slash - 1;
    const size_t year_digits = text.size() - second_slash - 1;
    if (month_digits < 1 || month_digits > 2 || day_digits < 1 || day_digits > 2 ||
        year_digits != 4) {
        return std::nullopt;
    }

    const int month = ParseFixedDigits(text, 0, month_digits);
    const int day = ParseFixedDigits(text, first_slash + 1, day_digits);
    const int year = ParseFixedDigits(text, second_slash + 1, year_digits);
    if (month < 0 || day < 0 || year < 0) {
        return std::nullopt;
    }
    return Date::FromCivil(year, month, day);
}

}  // namespace rms
