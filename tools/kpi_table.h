// Plain-text tables of the query API's KPI answers, for `rmsctl kpis`.
#pragma once

#include <string>
#include <string_view>

#include "engine/status.h"

namespace rms {

// Renders the answer of GET /v1/kpis: the business date, then one row per figure (open, overdue,
// disputed, unapplied, the six buckets, sales_90d, the three DSOs, ADD, CEI) and one column per
// currency. Undefined day figures show as "-". Fails with "invalid_json" when `kpis_json` is not
// a well-formed answer of that request.
[[nodiscard]] Result<std::string> FormatKpiTable(std::string_view kpis_json);

// Renders the answer of GET /v1/kpis/history: one row per day and currency, with the same figures
// as columns. A day without any currency gets a row with its date only. Fails with
// "invalid_json" when `history_json` is not a well-formed answer of that request.
[[nodiscard]] Result<std::string> FormatKpiHistoryTable(std::string_view history_json);

}  // namespace rms
