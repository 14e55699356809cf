// Money amounts and plain decimals as they travel in the protocol: strict decimal strings,
// converted to and from integers without binary floating point.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/currency.h"
#include "engine/status.h"

namespace rms {

// Parses a protocol money string for `currency` into integer minor units. Grammar:
// 1*DIGIT ["." 1*DIGIT], with at most currency.exponent() fraction digits ("12.5" USD = 1250,
// "12" = 1200, "150000" JPY = 150000); the value must be greater than 0 and fit in int64.
// Leading zeros are plain digits and are accepted ("007.50" USD = 750).
// Rejects signs (also a leading '+'), exponents, spaces, separators, ".5", "5.", "", zero,
// extra precision (never rounded) and overflow, as well as an invalid `currency`.
// Error code "invalid_amount"; the message names the text and the rule, e.g.
// amount "12.345" has 3 decimals, USD allows 2
[[nodiscard]] Result<int64_t> ParseAmount(std::string_view text, Currency currency);

// Returns the canonical text of `minor_units` in `currency`: exactly exponent() decimals
// (1250 USD = "12.50", 150000 JPY = "150000", 5 KWD = "0.005"); negative values get a leading
// '-'. An invalid currency formats as exponent 0.
std::string FormatAmount(int64_t minor_units, Currency currency);

// A decimal number, mantissa / 10^scale (fx.rate 1.0825 = {10825, 4}).
struct Decimal {
    int64_t mantissa = 0;
    int scale = 0;
};

// Parses a positive decimal such as an fx.rate: 1*DIGIT ["." 1*DIGIT] with at most 12 fraction
// digits, leading zeros accepted. Trailing zeros of the fraction are dropped, so "1.50" is
// {15, 1} and "2.000" is {2, 0}; the remaining mantissa must fit in int64 and be greater than 0.
// Error code "invalid_field"; the message names the text and the rule.
[[nodiscard]] Result<Decimal> ParseDecimal(std::string_view text);

// Returns the canonical text of `d`: no trailing zeros in the fraction and no '.' without one
// ("1.5", "2", "0.0001"); a negative mantissa gets a leading '-', a negative scale trailing
// zeros ({15, -2} is "1500").
std::string FormatDecimal(Decimal d);

}  // namespace rms
