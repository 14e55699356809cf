// Receivables KPIs of one currency, as protocol v1 defines them. Pure arithmetic on integer
// minor units; the day figures come out as doubles only at the end.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

#include "engine/date.h"

namespace rms {

inline constexpr int kBucketCount = 6;
inline constexpr std::array<std::string_view, kBucketCount> kBucketNames = {
    "current", "1-30", "31-60", "61-90", "91-120", "120+"};
// The KPI window: the business date and the 89 days before it.
inline constexpr int kWindowDays = 90;

using Aging = std::array<int64_t, kBucketCount>;

// The bucket of an amount `days_past_due` days past due: 0 (current, due today included),
// 1 (1-30), 2 (31-60), 3 (61-90), 4 (91-120) or 5 (121 and more).
int BucketOf(int32_t days_past_due);

// The largest days-past-due of each bucket but the last: an amount crosses into the next bucket
// the day after it is this many days past due.
inline constexpr std::array<int32_t, kBucketCount - 1> kBucketEdges = {0, 30, 60, 90, 120};

struct Kpis {
    std::optional<double> dso_standard;
    std::optional<double> dso_countback;
    std::optional<double> dso_best_possible;
    std::optional<double> add;
    std::optional<double> cei;
};

// Inputs: `open` and `current` receivables at the business date, the gross sales of the window,
// `start` = open at the end of the day before the window, and the sales of every day.
struct KpiInputs {
    Date business_date;
    int64_t open = 0;
    int64_t current = 0;
    int64_t sales_window = 0;
    int64_t start = 0;
    const std::map<int32_t, int64_t>* sales_by_day = nullptr;  // day number → sales
};

Kpis ComputeKpis(const KpiInputs& in);

// Countback DSO: walks back from the business date subtracting each day's sales from what is
// open; see protocol.md. 0 when nothing is open.
double CountbackDso(Date business_date, int64_t open,
                    const std::map<int32_t, int64_t>& sales_by_day);

}  // namespace rms
