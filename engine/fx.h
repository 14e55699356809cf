// Conversion of amounts between currencies with a stored fx rate, in integer arithmetic.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/currency.h"
#include "engine/money.h"

namespace rms {

// Converts `amount` minor units of `from` into minor units of `to`, where one unit of `from`
// is `rate` units of `to` (or, with `inverse`, one unit of `to` is `rate` units of `from`).
// Rounds half to even. nullopt when the result or an intermediate would not fit.
std::optional<int64_t> ConvertAmount(int64_t amount, Currency from, Currency to, Decimal rate,
                                     bool inverse);

}  // namespace rms
