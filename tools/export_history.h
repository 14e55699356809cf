// The daily KPI history as OpenMetrics text, stamped with business dates, for back-filling
// Prometheus with `promtool tsdb create-blocks-from openmetrics` (`rmsctl export-history`).
//
// Prometheus stamps every scrape with wall-clock time, so a replay of two years of invoices in
// a minute shows as one minute of data. The history the engine keeps of every closed day is the
// business-time record; this turns it into samples with the metric names and labels of
// /metrics, so that the same dashboards show it once the blocks are loaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace rms {

// The days of GET /v1/kpis/history answers, added page by page, as OpenMetrics text.
// Each closed day D of each currency gives one sample per series, timestamped D 00:00:00 UTC in
// Unix seconds (as rms_business_date_timestamp_seconds counts days):
//   rms_receivables_open_amount{currency,bucket}, rms_receivables_{overdue,disputed,unapplied}
//   _amount{currency}, rms_dso_days{currency,method}, rms_add_days{currency},
//   rms_cei_percent{currency}, and rms_business_date_timestamp_seconds.
// Amounts are written as the engine wrote them (decimal text in major units); an undefined KPI
// (null) gives no sample for that day. Samples are grouped by family, then by series, in date
// order, as OpenMetrics requires.
class HistoryExport {
public:
    // The most days one request may span (the query API's limit).
    static constexpr int32_t kMaxDaysPerRequest = 3661;

    HistoryExport();
    ~HistoryExport();
    HistoryExport(const HistoryExport&) = delete;
    HistoryExport& operator=(const HistoryExport&) = delete;

    // Adds the days of one answer. Fails with "invalid_json" naming the day and member when it
    // is not a well-formed history, or when a day is not after every day added before (pages
    // must come in date order); nothing of a failed page is kept.
    [[nodiscard]] Status AddPage(std::string_view history_json);

    // The OpenMetrics text of every day added, ending in "# EOF".
    std::string OpenMetrics() const;

    size_t days() const { return days_; }

private:
    struct Samples;

    std::unique_ptr<Samples> samples_;
    std::optional<int32_t> last_day_;
    size_t days_ = 0;
};

}  // namespace rms
