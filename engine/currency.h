// Currencies: the ISO 4217 codes RMS accepts, each with its minor unit (exponent).
// The table is pinned in currency.cc; a change of an exponent there is a data migration.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rms {

// A currency from the pinned ISO 4217 table, held as its position in that table. Cheap to copy
// and compare; ordering by index is ordering by code, since the table is sorted by code.
class Currency {
public:
    // An invalid currency: valid() is false, code() is empty and exponent() is 0.
    Currency() = default;

    // Returns the currency whose code is exactly `code` (three upper-case ASCII letters), or
    // nullopt for anything else: unknown codes ("ZZZ"), lower case ("usd"), codes without minor
    // units (XAU, XDR, XTS, XXX, ...) and withdrawn codes (HRK).
    static std::optional<Currency> FromCode(std::string_view code);

    // Returns the currency at `index` in the pinned table, or nullopt when index >=
    // CurrencyCount().
    static std::optional<Currency> FromIndex(uint16_t index);

    // The position in the pinned table; 0xffff for an invalid currency. Stable only for one
    // version of the table, so store codes, not indexes.
    uint16_t index() const { return index_; }

    // The three-letter ISO code, e.g. "USD"; empty for an invalid currency.
    std::string_view code() const;

    // The number of decimals of the minor unit: 0 (JPY), 2 (USD), 3 (KWD) or 4 (CLF); 0 for an
    // invalid currency.
    int exponent() const;

    // True for a currency taken from the table.
    bool valid() const { return index_ != kInvalidIndex; }

    friend bool operator==(Currency, Currency) = default;
    friend auto operator<=>(Currency, Currency) = default;

private:
    static constexpr uint16_t kInvalidIndex = 0xffff;

    explicit Currency(uint16_t index) : index_(index) {}

    uint16_t index_ = kInvalidIndex;
};

// The number of currencies in the pinned table; valid indexes are 0 .. CurrencyCount() - 1.
size_t CurrencyCount();

}  // namespace rms
