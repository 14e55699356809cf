#include "tests/support/ledger_driver.h"

#include <stdexcept>

namespace rms::testing {

Status LedgerDriver::Send(std::string_view line) {
    ParsedLine parsed = ParseEvent(line);
    if (!parsed.status.ok()) {
        return parsed.status;
    }
    Status s = ledger_.Apply(parsed.event, seq_);
    if (s.ok()) {
        ++seq_;
        applied_.emplace_back(line);
    }
    return s;
}

int64_t LedgerDriver::Minor(std::string_view amount, std::string_view currency) {
    Result<int64_t> v = ParseAmount(amount, Currency::FromCode(currency).value());
    if (!v.ok()) {
        throw std::invalid_argument(v.status().message());
    }
    return *v;
}

}  // namespace rms::testing
