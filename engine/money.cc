#include "engine/money.h"

#include <limits>

namespace rms {
namespace {

constexpr int kMaxDecimalScale = 12;

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

// Names a character for a message: printable ASCII in quotes, anything else as a byte value.
std::string DescribeChar(char c) {
    if (c >= 0x20 && c < 0x7f) {
        return std::string("'") + c + "'";
    }
    static constexpr char kHex[] = "0123456789abcdef";
    unsigned char byte = static_cast<unsigned char>(c);
    return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

// The two digit runs of a string that matches 1*DIGIT ["." 1*DIGIT].
struct DigitRuns {
    std::string_view whole;
    std::string_view fraction;
};

// Splits `text` into its digit runs. On a mismatch returns false and sets *why to the rule that
// was broken, phrased to follow the quoted text ("has a sign", "needs a digit after the '.'").
bool SplitDigitRuns(std::string_view text, DigitRuns* runs, std::string* why) {
    if (text.empty()) {
        *why = "is empty";
        return false;
    }
    if (text[0] == '+' || text[0] == '-') {
        *why = "has a sign; only plain digits are allowed";
        return false;
    }
    if (text[0] == '.') {
        *why = "needs a digit before the '.'";
        return false;
    }

    size_t dot = std::string_view::npos;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (IsDigit(c)) {
            continue;
        }
        if (c == '.' && dot == std::string_view::npos) {
            dot = i;
            continue;
        }
        if (c == '.') {
            *why = "has more than one '.'";
        } else if (c == 'e' || c == 'E') {
            *why = "has an exponent; only plain digits are allowed";
        } else {
            *why = "has " + DescribeChar(c) + " at position " + std::to_string(i + 1) +
                   "; only digits and one '.' are allowed";
        }
        return false;
    }
    if (dot == text.size() - 1) {
        *why = "needs a digit after the '.'";
        return false;
    }

    runs->whole = text.substr(0, dot);
    runs->fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    return true;
}

// Appends decimal digit `digit` to *value; false (and *value unchanged) if int64 would overflow.
bool AppendDigit(int64_t* value, int digit) {
    if (*value > (std::numeric_limits<int64_t>::max() - digit) / 10) {
        return false;
    }
    *value = *value * 10 + digit;
    return true;
}

bool AppendDigits(int64_t* value, std::string_view digits) {
    for (char c : digits) {
        if (!AppendDigit(value, c - '0')) {
            return false;
        }
    }
    return true;
}

// The decimal digits of |value|, without sign; correct for the most negative int64 too.
std::string MagnitudeDigits(int64_t value) {
    uint64_t magnitude =
        value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + magnitude % 10));
        magnitude /= 10;
    } while (magnitude != 0);
    return digits;
}

// Writes |value| with exactly `decimals` digits after a '.' (none and no '.' for 0 decimals).
std::string FormatFixed(int64_t value, int decimals) {
    std::string digits = MagnitudeDigits(value);
    size_t width = static_cast<size_t>(decimals) + 1;
    if (digits.size() < width) {
        digits.insert(0, width - digits.size(), '0');
    }
    if (decimals > 0) {
        digits.insert(digits.size() - static_cast<size_t>(decimals), 1, '.');
    }
    return value < 0 ? "-" + digits : digits;
}

Status AmountError(std::string_view text, std::string_view why) {
    return Status::Error("invalid_amount",
                         "amount \"" + std::string(text) + "\" " + std::string(why));
}

Status DecimalError(std::string_view text, std::string_view why) {
    return Status::Error("invalid_field",
                         "decimal \"" + std::string(text) + "\" " + std::string(why));
}

}  // namespace

Result<int64_t> ParseAmount(std::string_view text, Currency currency) {
    if (!currency.valid()) {
        return AmountError(text, "has no valid currency");
    }
    DigitRuns runs;
    std::string why;
    if (!SplitDigitRuns(text, &runs, &why)) {
        return AmountError(text, why);
    }

    const int exponent = currency.exponent();
    const size_t decimals = runs.fraction.size();
    if (decimals > static_cast<size_t>(exponent)) {
        return AmountError(text, "has " + std::to_string(decimals) +
                                     (decimals == 1 ? " decimal, " : " decimals, ") +
                                     std::string(currency.code()) + " allows " +
                                     std::to_string(exponent));
    }

    // Digits of both runs, then zeros up to the exponent: "12.5" USD is 12, 5, 0 = 1250.
    int64_t minor_units = 0;
    bool fits = AppendDigits(&minor_units, runs.whole) && AppendDigits(&minor_units, runs.fraction);
    for (size_t i = decimals; fits && i < static_cast<size_t>(exponent); ++i) {
        fits = AppendDigit(&minor_units, 0);
    }
    if (!fits) {
        return AmountError(text, "is too large; the largest " + std::string(currency.code()) +
                                     " amount is " +
                                     FormatAmount(std::numeric_limits<int64_t>::max(), currency));
    }
    if (minor_units == 0) {
        return AmountError(text, "is zero; amounts must be greater than 0");
    }
    return minor_units;
}

std::string FormatAmount(int64_t minor_units, Currency currency) {
    return FormatFixed(minor_units, currency.exponent());
}

Result<Decimal> ParseDecimal(std::string_view text) {
    DigitRuns runs;
    std::string why;
    if (!SplitDigitRuns(text, &runs, &why)) {
        return DecimalError(text, why);
    }
    if (runs.fraction.size() > static_cast<size_t>(kMaxDecimalScale)) {
        return DecimalError(text, "has " + std::to_string(runs.fraction.size()) +
                                      " fraction digits, at most " +
                                      std::to_string(kMaxDecimalScale) + " are allowed");
    }

    // "1.50" and "1.5" are the same rate; keeping the shorter mantissa leaves more headroom.
    std::string_view fraction = runs.fraction;
    while (!fraction.empty() && fraction.back() == '0') {
        fraction.remove_suffix(1);
    }

    Decimal decimal;
    decimal.scale = static_cast<int>(fraction.size());
    if (!AppendDigits(&decimal.mantissa, runs.whole) ||
        !AppendDigits(&decimal.mantissa, fraction)) {
        return DecimalError(text, "has too many digits; its mantissa must fit in 64 bits");
    }
    if (decimal.mantissa == 0) {
        return DecimalError(text, "is zero; it must be greater than 0");
    }
    return decimal;
}

std::string FormatDecimal(Decimal d) {
    if (d.scale < 0) {
        std::string digits = FormatFixed(d.mantissa, 0);
        return d.mantissa == 0 ? digits : digits + std::string(static_cast<size_t>(-d.scale), '0');
    }
    while (d.scale > 0 && d.mantissa % 10 == 0) {
        d.mantissa /= 10;
        --d.scale;
    }
    return FormatFixed(d.mantissa, d.scale);
}

}  // namespace rms
