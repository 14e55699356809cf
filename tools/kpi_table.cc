#include "tools/kpi_table.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <vector>

#include "tools/text_table.h"

namespace rms {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// One figure of FIGURES: its heading in the tables and where it sits in the object.
struct Figure {
    std::string_view heading;
    std::string_view group;  // "aging" for the buckets, empty for top-level members
    std::string_view key;
};

constexpr Figure kFigures[] = {
    {"open", "", "open"},
    {"overdue", "", "overdue"},
    {"disputed", "", "disputed"},
    {"unapplied", "", "unapplied"},
    {"current", "aging", "current"},
    {"1-30", "aging", "1-30"},
    {"31-60", "aging", "31-60"},
    {"61-90", "aging", "61-90"},
    {"91-120", "aging", "91-120"},
    {"120+", "aging", "120+"},
    {"sales_90d", "", "sales_90d"},
    {"dso", "", "dso_standard"},
    {"dso_countback", "", "dso_countback"},
    {"dso_best", "", "dso_best_possible"},
    {"add", "", "add"},
    {"cei", "", "cei"},
};

// The text of one figure: amounts as the engine wrote them, day figures with 2 decimals, "-" for
// an undefined figure and "?" for one that is missing or of an unexpected type.
std::string FigureText(element figures, const Figure& figure) {
    element value;
    auto error = figure.group.empty() ? figures[figure.key].get(value)
                                      : figures[figure.group][figure.key].get(value);
    if (error) {
        return "?";
    }
    if (value.is_null()) {
        return "-";
    }
    std::string_view text;
    if (value.get_string().get(text) == simdjson::SUCCESS) {
        return std::string(text);
    }
    double number = 0;
    if (value.get_double().get(number) == simdjson::SUCCESS) {
        return fmt::format("{:.2f}", number);
    }
    return "?";
}

Status InvalidAnswer(std::string_view request, std::string_view what) {
    return Status::Error("invalid_json", fmt::format("answer of {}: {}", request, what));
}

// The text of a member that should be a string or null (a date); "-" for null.
std::string DateText(element parent, std::string_view key) {
    element value;
    std::string_view text;
    if (parent[key].get(value) || value.is_null()) {
        return "-";
    }
    if (value.get_string().get(text)) {
        return "?";
    }
    return std::string(text);
}

}  // namespace

Result<std::string> FormatKpiTable(std::string_view kpis_json) {
    constexpr std::string_view kRequest = "GET /v1/kpis";
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(simdjson::padded_string(kpis_json)).get(root)) {
        return InvalidAnswer(kRequest, "not JSON");
    }
    object currencies;
    if (root["currencies"].get_object().get(currencies)) {
        return InvalidAnswer(kRequest, "no \"currencies\" object");
    }

    std::string out = "business date " + DateText(root, "business_date") + "\n";
    if (currencies.size() == 0) {
        out.append("no figures yet\n");
        return out;
    }

    std::vector<std::vector<std::string>> rows(1 + std::size(kFigures));
    rows[0].push_back("figure");
    for (size_t i = 0; i < std::size(kFigures); ++i) {
        rows[i + 1].push_back(std::string(kFigures[i].heading));
    }
    for (auto [code, figures] : currencies) {
        rows[0].push_back(std::string(code));
        for (size_t i = 0; i < std::size(kFigures); ++i) {
            rows[i + 1].push_back(FigureText(figures, kFigures[i]));
        }
    }
    out.append(RenderTable(rows));
    return out;
}

Result<std::string> FormatKpiHistoryTable(std::string_view history_json) {
    constexpr std::string_view kRequest = "GET /v1/kpis/history";
    simdjson::dom::parser parser;
    element root;
    if (parser.parse(simdjson::padded_string(history_json)).get(root)) {
        return InvalidAnswer(kRequest, "not JSON");
    }
    simdjson::dom::array days;
    if (root["days"].get_array().get(days)) {
        return InvalidAnswer(kRequest, "no \"days\" array");
    }

    std::vector<std::vector<std::string>> rows;
    rows.push_back({"date", "currency"});
    for (const Figure& figure : kFigures) {
        rows[0].push_back(std::string(figure.heading));
    }
    for (element day : days) {
        std::string date = DateText(day, "date");
        object currencies;
        if (day["currencies"].get_object().get(currencies) || currencies.size() == 0) {
            rows.push_back({date});
            continue;
        }
        for (auto [code, figures] : currencies) {
            std::vector<std::string> row = {date, std::string(code)};
            for (const Figure& figure : kFigures) {
                row.push_back(FigureText(figures, figure));
            }
            rows.push_back(std::move(row));
        }
    }
    return RenderTable(rows);
}

}  // namespace rms
