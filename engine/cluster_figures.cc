#include "engine/cluster_figures.h"

#include <simdjson.h>

#include "engine/json_writer.h"
#include "engine/query_api.h"

namespace rms {
namespace {

Status Invalid(std::string_view what) {
    return Status::Error("invalid_json", "cluster parts: " + std::string(what));
}

Result<int64_t> IntMember(simdjson::dom::object o, std::string_view key) {
    int64_t v = 0;
    if (o[key].get_int64().get(v)) {
        return Invalid("member \"" + std::string(key) + "\" is not an integer");
    }
    return v;
}

Result<FigureParts> ReadCurrency(simdjson::dom::object o) {
    FigureParts p;
    simdjson::dom::array aging;
    if (o["aging"].get_array().get(aging) || aging.size() != kBucketCount) {
        return Invalid("\"aging\" is not an array of 6 integers");
    }
    size_t b = 0;
    for (simdjson::dom::element e : aging) {
        if (e.get_int64().get(p.aging[b++])) {
            return Invalid("\"aging\" is not an array of 6 integers");
        }
    }
    struct Field {
        std::string_view key;
        int64_t* into;
    };
    for (Field f : {Field{"disputed", &p.disputed}, Field{"unapplied", &p.unapplied},
                    Field{"written_off", &p.written_off}, Field{"sales_window", &p.sales_window},
                    Field{"start", &p.start}}) {
        Result<int64_t> v = IntMember(o, f.key);
        if (!v.ok()) {
            return v.status();
        }
        *f.into = *v;
    }
    simdjson::dom::array days;
    if (o["sales_by_day"].get_array().get(days)) {
        return Invalid("\"sales_by_day\" is not an array");
    }
    for (simdjson::dom::element day : days) {
        simdjson::dom::array pair;
        int64_t number = 0;
        int64_t sales = 0;
        if (day.get_array().get(pair) || pair.size() != 2 || pair.at(0).get_int64().get(number) ||
            pair.at(1).get_int64().get(sales)) {
            return Invalid("a \"sales_by_day\" entry is not [day, amount]");
        }
        p.sales_by_day[static_cast<int32_t>(number)] += sales;
    }
    return p;
}

}  // namespace

void ClusterParts::Add(const ClusterParts& other) {
    if (other.business_date && (!business_date || *business_date < *other.business_date)) {
        business_date = other.business_date;
    }
    for (const auto& [code, theirs] : other.currencies) {
        FigureParts& mine = currencies[code];
        for (int b = 0; b < kBucketCount; ++b) {
            mine.aging[b] += theirs.aging[b];
        }
        mine.disputed += theirs.disputed;
        mine.unapplied += theirs.unapplied;
        mine.written_off += theirs.written_off;
        mine.sales_window += theirs.sales_window;
        mine.start += theirs.start;
        for (const auto& [day, sales] : theirs.sales_by_day) {
            mine.sales_by_day[day] += sales;
        }
    }
}

ClusterParts PartsOf(const Ledger& ledger) {
    ClusterParts out;
    out.business_date = ledger.business_date();
    if (!out.business_date) {
        return out;
    }
    auto start_day = ledger.history().find(out.business_date->AddDays(-kWindowDays));
    for (const auto& [currency, book] : ledger.books()) {
        FigureParts& p = out.currencies[std::string(currency.code())];
        p.aging = book.aging;
        p.disputed = book.disputed;
        p.unapplied = book.unapplied;
        p.written_off = book.written_off;
        p.sales_window = book.sales_window;
        p.sales_by_day = book.sales_by_day;
        if (start_day != ledger.history().end()) {
            auto it = start_day->second.currencies.find(currency);
            if (it != start_day->second.currencies.end()) {
                p.start = it->second.open;
            }
        }
    }
    return out;
}

Figures FiguresOf(Date business_date, const FigureParts& parts) {
    return FiguresFromTotals(business_date, parts, parts.start);
}

void WriteParts(JsonWriter& w, const ClusterParts& parts) {
    w.Key("business_date");
    if (parts.business_date) {
        w.String(parts.business_date->ToString());
    } else {
        w.Null();
    }
    w.Key("currencies");
    w.BeginObject();
    for (const auto& [code, p] : parts.currencies) {
        w.Key(code);
        w.BeginObject();
        w.Key("aging");
        w.BeginArray();
        for (int64_t v : p.aging) {
            w.Int(v);
        }
        w.EndArray();
        w.Key("disputed");
        w.Int(p.disputed);
        w.Key("unapplied");
        w.Int(p.unapplied);
        w.Key("written_off");
        w.Int(p.written_off);
        w.Key("sales_window");
        w.Int(p.sales_window);
        w.Key("start");
        w.Int(p.start);
        w.Key("sales_by_day");
        w.BeginArray();
        for (const auto& [day, sales] : p.sales_by_day) {
            w.BeginArray();
            w.Int(day);
            w.Int(sales);
            w.EndArray();
        }
        w.EndArray();
        w.EndObject();
    }
    w.EndObject();
}

Result<ClusterParts> ReadParts(std::string_view object_json) {
    simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (parser.parse(simdjson::padded_string(object_json)).get_object().get(root)) {
        return Invalid("not a JSON object");
    }
    ClusterParts out;
    simdjson::dom::element date;
    if (root["business_date"].get(date)) {
        return Invalid("no \"business_date\"");
    }
    if (!date.is_null()) {
        std::string_view text;
        if (date.get_string().get(text)) {
            return Invalid("\"business_date\" is not a date");
        }
        Result<Date> parsed = ParseDate(text);
        if (!parsed.ok()) {
            return Invalid("\"business_date\": " + parsed.status().message());
        }
        out.business_date = *parsed;
    }
    simdjson::dom::object currencies;
    if (root["currencies"].get_object().get(currencies)) {
        return Invalid("no \"currencies\" object");
    }
    for (auto [code, value] : currencies) {
        simdjson::dom::object o;
        if (value.get_object().get(o)) {
            return Invalid("currency " + std::string(code) + " is not an object");
        }
        Result<FigureParts> p = ReadCurrency(o);
        if (!p.ok()) {
            return Status::Error(p.status().code(),
                                 std::string(code) + ": " + p.status().message());
        }
        out.currencies[std::string(code)] = std::move(p).value();
    }
    return out;
}

std::string KpisJson(const ClusterParts& parts) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("business_date");
    if (parts.business_date) {
        w.String(parts.business_date->ToString());
    } else {
        w.Null();
    }
    w.Key("currencies");
    w.BeginObject();
    if (parts.business_date) {
        for (const auto& [code, p] : parts.currencies) {
            std::optional<Currency> currency = Currency::FromCode(code);
            if (!currency) {
                continue;  // not one of ours: ReadParts takes any code, the table does not
            }
            w.Key(code);
            WriteFigures(w, *currency, FiguresOf(*parts.business_date, p));
        }
    }
    w.EndObject();
    w.EndObject();
    return out;
}

}  // namespace rms
