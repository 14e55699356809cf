// Feeds protocol lines straight into a Ledger, without network or store, for unit tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/event.h"
#include "engine/ledger.h"

namespace rms::testing {

class LedgerDriver {
public:
    explicit LedgerDriver(LedgerOptions options = {}) : ledger_(options) {}

    // Parses and applies one line; returns the parse or state error, if any.
    Status Send(std::string_view line);

    Ledger& ledger() { return ledger_; }
    // The lines that were applied, in order.
    const std::vector<std::string>& applied() const { return applied_; }

    // Amount in minor units of `currency` ("USD"), for readable expectations.
    static int64_t Minor(std::string_view amount, std::string_view currency = "USD");

private:
    Ledger ledger_;
    uint64_t seq_ = 1;
    std::vector<std::string> applied_;
};

}  // namespace rms::testing
