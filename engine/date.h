// Business dates: civil days without time or time zone, as every date in the protocol is.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace rms {

// A civil date in the proleptic Gregorian calendar, counted in days since 1970-01-01
// (1970-01-01 is 0, 1969-12-31 is -1). The default is 1970-01-01.
class Date {
public:
    constexpr Date() = default;
    constexpr explicit Date(int32_t days_since_epoch) : days_(days_since_epoch) {}

    // Returns the date year-month-day, or nullopt unless 1 <= year <= 9999, 1 <= month <= 12 and
    // the day exists in that month (2024-02-29 does, 2023-02-29 does not).
    static std::optional<Date> FromCivil(int year, int month, int day);

    // Days since 1970-01-01.
    constexpr int32_t days() const { return days_; }

    // Sets the civil year, month (1..12) and day (1..31) of this date. All three are required.
    void ToCivil(int* year, int* month, int* day) const;

    // Returns YYYY-MM-DD, e.g. "2024-02-29". REQUIRES: the year is in 1..9999.
    std::string ToString() const;

    // Returns the date `n` days later (earlier for negative n). REQUIRES: the result fits in
    // int32 days.
    Date AddDays(int32_t n) const { return Date(days_ + n); }

    // a - b in days: positive when a is later.
    friend int32_t operator-(Date a, Date b) { return a.days_ - b.days_; }

    friend auto operator<=>(Date, Date) = default;
    friend bool operator==(Date, Date) = default;

private:
    int32_t days_ = 0;
};

// Parses a protocol date: strictly YYYY-MM-DD, exactly 10 characters, a real day in years
// 0001..9999 ("2024-02-30" and "2024/05/01" fail). Error code "invalid_date"; the message names
// the text and why, e.g. date "2023-02-29" does not exist: February 2023 has 28 days
[[nodiscard]] Result<Date> ParseDate(std::string_view text);

// Parses M/D/YYYY as in the IBM accounts-receivable sample CSV ("1/2/2013" is 2013-01-02):
// month and day of 1 or 2 digits, the year of 4. Returns nullopt if malformed or not a real day.
std::optional<Date> ParseUsDate(std::string_view text);

}  // namespace rms
