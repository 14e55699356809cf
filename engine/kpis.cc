#include "engine/kpis.h"

namespace rms {

int BucketOf(int32_t days_past_due) {
    if (days_past_due <= 0) {
        return 0;
    }
    if (days_past_due <= 30) {
        return 1;
    }
    if (days_past_due <= 60) {
        return 2;
    }
    if (days_past_due <= 90) {
        return 3;
    }
    if (days_past_due <= 120) {
        return 4;
    }
    return 5;
}

double CountbackDso(Date business_date, int64_t open,
                    const std::map<int32_t, int64_t>& sales_by_day) {
    if (open <= 0) {
        return 0.0;
    }
    int64_t left = open;
    int64_t whole_days = 0;
    int32_t cursor = business_date.days();
    // Walk the days with sales from the newest; the days between them count one each.
    for (auto it = sales_by_day.upper_bound(cursor); it != sales_by_day.begin();) {
        --it;
        int32_t day = it->first;
        int64_t sales = it->second;
        if (sales <= 0) {
            continue;
        }
        whole_days += cursor - day;
        if (sales < left) {
            left -= sales;
            whole_days += 1;
            cursor = day - 1;
            continue;
        }
        return static_cast<double>(whole_days) +
               static_cast<double>(left) / static_cast<double>(sales);
    }
    // Unreachable while open never exceeds the sales ever made; count the days walked.
    return static_cast<double>(whole_days);
}

Kpis ComputeKpis(const KpiInputs& in) {
    Kpis k;
    if (in.sales_window > 0) {
        double sales = static_cast<double>(in.sales_window);
        k.dso_standard = static_cast<double>(in.open) * kWindowDays / sales;
        k.dso_best_possible = static_cast<double>(in.current) * kWindowDays / sales;
        k.add = static_cast<double>(in.open - in.current) * kWindowDays / sales;
    }
    k.dso_countback = CountbackDso(in.business_date, in.open, *in.sales_by_day);
    __int128 numerator = static_cast<__int128>(in.start) + in.sales_window - in.open;
    __int128 denominator = static_cast<__int128>(in.start) + in.sales_window - in.current;
    if (denominator > 0) {
        k.cei = static_cast<double>(numerator) * 100.0 / static_cast<double>(denominator);
    }
    return k;
}

}  // namespace rms
