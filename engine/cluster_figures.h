// Figures of a cluster (issue #9): what each instance contributes, and how the contributions
// merge into the figures one instance fed every event would show.
//
// Every amount (open by bucket, disputed, unapplied, written off, sales of the window, the open
// amount at the start of the window) is additive: the cluster's is the sum of the partitions'.
// The KPIs are not: standard and best-possible DSO, ADD and CEI are ratios of sums, and countback
// DSO walks the merged sales of every day. So the parts carry the sales of each day, and the KPIs
// are computed once, from the merged parts, by the same code a single ledger uses.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/kpis.h"
#include "engine/ledger.h"
#include "engine/status.h"

namespace rms {

// The additive parts of one currency's figures, in minor units.
struct FigureParts {
    Aging aging{};
    int64_t disputed = 0;
    int64_t unapplied = 0;
    int64_t written_off = 0;
    int64_t sales_window = 0;
    // The open amount at the end of the day before the window (CEI's "start").
    int64_t start = 0;
    std::map<int32_t, int64_t> sales_by_day;  // issue day → gross sales, up to the business date
};

struct ClusterParts {
    // The latest business date of the parts; the figures are as of each part's own date, so
    // they add up exactly once every part has seen the same latest clock.advanced.
    std::optional<Date> business_date;
    std::map<std::string, FigureParts> currencies;  // by currency code

    // Adds `other` in: sums every amount, merges the days' sales.
    void Add(const ClusterParts& other);
};

// The parts of one ledger's committed state.
ClusterParts PartsOf(const Ledger& ledger);

// The figures of `parts` for one currency, KPIs included, exactly as a ledger with that state
// would compute them.
Figures FiguresOf(Date business_date, const FigureParts& parts);

// {"business_date": ..., "currencies": {code: {amounts as integers, "sales_by_day":
// [[day, minor units], ...]}}}.
void WriteParts(class JsonWriter& w, const ClusterParts& parts);
// Reads what WriteParts wrote (the "business_date" and "currencies" members of `object_json`).
// Fails with "invalid_json" naming what is missing or malformed.
[[nodiscard]] Result<ClusterParts> ReadParts(std::string_view object_json);

// The answer of GET /v1/kpis for `parts`: the business date and each currency's figures (no
// base-currency conversion and no promises: those are per instance).
std::string KpisJson(const ClusterParts& parts);

}  // namespace rms
