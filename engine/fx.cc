#include "engine/fx.h"

namespace rms {

namespace {

using Int = __int128;

std::optional<Int> Mul(Int a, Int b) {
    Int r;
    if (__builtin_mul_overflow(a, b, &r)) {
        return std::nullopt;
    }
    return r;
}

std::optional<Int> Pow10(int n) {
    Int v = 1;
    for (int i = 0; i < n; ++i) {
        v *= 10;
    }
    return v;
}

// num / den rounded half to even; den > 0.
Int DivideHalfEven(Int num, Int den) {
    bool negative = num < 0;
    Int n = negative ? -num : num;
    Int q = n / den;
    Int r = n % den;
    if (r * 2 > den || (r * 2 == den && q % 2 == 1)) {
        ++q;
    }
    return negative ? -q : q;
}

}  // namespace

std::optional<int64_t> ConvertAmount(int64_t amount, Currency from, Currency to, Decimal rate,
                                     bool inverse) {
    if (rate.mantissa <= 0) {
        return std::nullopt;
    }
    // amount / 10^e_from units of `from`, times the rate, times 10^e_to minor units of `to`.
    std::optional<Int> scale = Pow10(rate.scale);
    std::optional<Int> to_unit = Pow10(to.exponent());
    std::optional<Int> from_unit = Pow10(from.exponent());
    std::optional<Int> num = Mul(amount, *to_unit);
    if (!num) {
        return std::nullopt;
    }
    std::optional<Int> den;
    if (inverse) {
        num = Mul(*num, *scale);
        den = Mul(rate.mantissa, *from_unit);
    } else {
        num = Mul(*num, rate.mantissa);
        den = Mul(*scale, *from_unit);
    }
    if (!num || !den) {
        return std::nullopt;
    }
    Int result = DivideHalfEven(*num, *den);
    if (result > INT64_MAX || result < INT64_MIN) {
        return std::nullopt;
    }
    return static_cast<int64_t>(result);
}

}  // namespace rms
