#include "tools/export_history.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "engine/date.h"

namespace rms {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr int64_t kSecondsPerDay = 86400;

// One figure of a history day and the series it goes to.
struct Series {
    std::string_view family;
    std::string_view group;  // "aging" for the buckets, empty for top-level members
    std::string_view key;
    std::string_view label_name;  // an extra label besides currency, or empty
    std::string_view label_value;
};

constexpr Series kSeries[] = {
    {"rms_receivables_open_amount", "aging", "current", "bucket", "current"},
    {"rms_receivables_open_amount", "aging", "1-30", "bucket", "1-30"},
    {"rms_receivables_open_amount", "aging", "31-60", "bucket", "31-60"},
    {"rms_receivables_open_amount", "aging", "61-90", "bucket", "61-90"},
    {"rms_receivables_open_amount", "aging", "91-120", "bucket", "91-120"},
    {"rms_receivables_open_amount", "aging", "120+", "bucket", "120+"},
    {"rms_receivables_overdue_amount", "", "overdue", "", ""},
    {"rms_receivables_disputed_amount", "", "disputed", "", ""},
    {"rms_receivables_unapplied_amount", "", "unapplied", "", ""},
    {"rms_dso_days", "", "dso_standard", "method", "standard"},
    {"rms_dso_days", "", "dso_countback", "method", "countback"},
    {"rms_dso_days", "", "dso_best_possible", "method", "best_possible"},
    {"rms_add_days", "", "add", "", ""},
    {"rms_cei_percent", "", "cei", "", ""},
};

constexpr std::string_view kBusinessDate = "rms_business_date_timestamp_seconds";

struct Family {
    std::string_view name;
    std::string_view help;
};

// In the order they are written; the help text matches that of /metrics in meaning.
constexpr Family kFamilies[] = {
    {"rms_receivables_open_amount", "Open receivables by currency and aging bucket, major units"},
    {"rms_receivables_overdue_amount", "Open receivables one day or more past due, major units"},
    {"rms_receivables_disputed_amount", "Open receivables under an open dispute, major units"},
    {"rms_receivables_unapplied_amount", "Customer credit not applied to any invoice"},
    {"rms_dso_days", "Days sales outstanding by method (standard, countback, best_possible)"},
    {"rms_add_days", "Average days delinquent: standard DSO minus best possible DSO"},
    {"rms_cei_percent", "Collection effectiveness index over the 90-day window, in percent"},
    {kBusinessDate, "The business date, as the Unix time of its midnight UTC"},
};

// Label text such as {bucket="1-30",currency="USD"} -> samples "value timestamp", in date order.
using SeriesSamples = std::map<std::string, std::vector<std::string>>;
// Family name (a view of kFamilies or kSeries, which outlive it) -> its series.
using FamilySamples = std::map<std::string_view, SeriesSamples>;

Status Invalid(std::string_view where, std::string_view what) {
    return Status::Error("invalid_json",
                         fmt::format("answer of GET /v1/kpis/history: {}: {}", where, what));
}

// True when `text` is a plain decimal number such as "-12.50" (what the engine writes amounts
// as), so that it can go into the exposition verbatim.
bool IsDecimal(std::string_view text) {
    size_t i = !text.empty() && text[0] == '-' ? 1 : 0;
    bool digits = false;
    bool point = false;
    for (; i < text.size(); ++i) {
        if (text[i] >= '0' && text[i] <= '9') {
            digits = true;
        } else if (text[i] == '.' && !point) {
            point = true;
        } else {
            return false;
        }
    }
    return digits;
}

std::string ShortestDouble(double value) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    return ec == std::errc() ? std::string(buf, end) : fmt::format("{}", value);
}

// The sample value of one figure: nullopt for null (an undefined KPI).
Result<std::optional<std::string>> SampleValue(element figures, const Series& s,
                                               std::string_view where) {
    element value;
    auto error = s.group.empty() ? figures[s.key].get(value) : figures[s.group][s.key].get(value);
    std::string member =
        s.group.empty() ? std::string(s.key) : fmt::format("{}.{}", s.group, s.key);
    if (error) {
        return Invalid(where, "no member " + member);
    }
    if (value.is_null()) {
        return std::optional<std::string>();
    }
    std::string_view text;
    if (value.get_string().get(text) == simdjson::SUCCESS) {
        if (!IsDecimal(text)) {
            return Invalid(where, fmt::format("{} \"{}\" is not a decimal amount", member, text));
        }
        return std::optional<std::string>(std::string(text));
    }
    double number = 0;
    if (value.get_double().get(number) == simdjson::SUCCESS) {
        return std::optional<std::string>(ShortestDouble(number));
    }
    return Invalid(where, member + " is neither a number, a string nor null");
}

std::string Labels(std::string_view currency, const Series& s) {
    // Currency codes and the fixed label values need no escaping; names are in sorted order.
    if (s.label_name.empty()) {
        return fmt::format("{{currency=\"{}\"}}", currency);
    }
    if (s.label_name < "currency") {
        return fmt::format("{{{}=\"{}\",currency=\"{}\"}}", s.label_name, s.label_value, currency);
    }
    return fmt::format("{{currency=\"{}\",{}=\"{}\"}}", currency, s.label_name, s.label_value);
}

Status AddDay(element day, std::optional<int32_t>* last_day, FamilySamples* families) {
    std::string_view date_text;
    if (day["date"].get_string().get(date_text)) {
        return Invalid("a day", "no \"date\" string");
    }
    Result<Date> date = ParseDate(date_text);
    if (!date.ok()) {
        return Invalid(fmt::format("day {}", date_text), date.status().message());
    }
    if (last_day->has_value() && date->days() <= **last_day) {
        return Invalid(fmt::format("day {}", date_text), "not after the day before it");
    }
    *last_day = date->days();
    int64_t timestamp = int64_t{date->days()} * kSecondsPerDay;
    object currencies;
    if (day["currencies"].get_object().get(currencies)) {
        return Invalid(fmt::format("day {}", date_text), "no \"currencies\" object");
    }

    (*families)[kBusinessDate][""].push_back(fmt::format("{} {}", timestamp, timestamp));
    for (auto [currency, figures] : currencies) {
        std::string where = fmt::format("day {} currency {}", date_text, currency);
        for (const Series& s : kSeries) {
            auto value = SampleValue(figures, s, where);
            if (!value.ok()) {
                return value.status();
            }
            if (value->has_value()) {
                (*families)[s.family][Labels(currency, s)].push_back(
                    fmt::format("{} {}", **value, timestamp));
            }
        }
    }
    return Status::Ok();
}

}  // namespace

struct HistoryExport::Samples {
    FamilySamples families;
};

HistoryExport::HistoryExport() : samples_(std::make_unique<Samples>()) {}

HistoryExport::~HistoryExport() = default;

Status HistoryExport::AddPage(std::string_view history_json) {
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(simdjson::padded_string(history_json)).get(root)) {
        return Invalid("the answer", "not JSON");
    }
    simdjson::dom::array days;
    if (root["days"].get_array().get(days)) {
        return Invalid("the answer", "no \"days\" array");
    }

    // Into copies first, so that a page that fails half-way leaves nothing behind.
    FamilySamples families = samples_->families;
    std::optional<int32_t> last_day = last_day_;
    for (element day : days) {
        if (Status s = AddDay(day, &last_day, &families); !s.ok()) {
            return s;
        }
    }
    samples_->families = std::move(families);
    last_day_ = last_day;
    days_ += days.size();
    return Status::Ok();
}

std::string HistoryExport::OpenMetrics() const {
    std::string out;
    for (const Family& family : kFamilies) {
        auto it = samples_->families.find(family.name);
        if (it == samples_->families.end()) {
            continue;
        }
        out +=
            fmt::format("# TYPE {} gauge\n# HELP {} {}\n", family.name, family.name, family.help);
        for (const auto& [labels, samples] : it->second) {
            for (const std::string& sample : samples) {
                out += fmt::format("{}{} {}\n", family.name, labels, sample);
            }
        }
    }
    out += "# EOF\n";
    return out;
}

}  // namespace rms
