#include "tests/fuzz/fuzz_entries.h"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "engine/config.h"
#include "engine/currency.h"
#include "engine/date.h"
#include "engine/event.h"
#include "engine/money.h"
#include "rules/rules_config.h"

namespace rms::fuzz {

namespace {

Status Broken(std::string what) {
    return Status::Error("property", std::move(what));
}

// A rejection must say why: a code and a message.
Status CheckRejection(const Status& s, std::string_view where) {
    if (s.code().empty() || s.message().empty()) {
        return Broken(std::string(where) + ": a rejection without a code or message");
    }
    return Status::Ok();
}

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

// The money and decimal grammar read independently of engine/money.cc: 1*DIGIT ["." 1*DIGIT]
// with at most `max_fraction` fraction digits. Returns the canonical integer and fraction parts
// (integer without leading zeros, fraction as sent), or nullopt when the text breaks it.
struct DecimalText {
    std::string integer;
    std::string fraction;
};

std::optional<DecimalText> ReadDecimalText(std::string_view text, int max_fraction) {
    size_t dot = text.find('.');
    std::string_view integer = text.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
    if (integer.empty() || (dot != std::string_view::npos && fraction.empty()) ||
        fraction.size() > static_cast<size_t>(max_fraction)) {
        return std::nullopt;
    }
    for (std::string_view part : {integer, fraction}) {
        for (char c : part) {
            if (!IsDigit(c)) {
                return std::nullopt;
            }
        }
    }
    size_t first = integer.find_first_not_of('0');
    DecimalText out;
    out.integer = first == std::string_view::npos ? "0" : std::string(integer.substr(first));
    out.fraction = std::string(fraction);
    return out;
}

// The value of a digit string when it fits in int64.
std::optional<int64_t> DigitsValue(std::string_view digits) {
    __int128 v = 0;
    for (char c : digits) {
        v = v * 10 + (c - '0');
        if (v > INT64_MAX) {
            return std::nullopt;
        }
    }
    return static_cast<int64_t>(v);
}

Status CheckAmount(std::string_view text, Currency currency) {
    const int e = currency.exponent();
    Result<int64_t> parsed = ParseAmount(text, currency);
    // What the grammar says the value is; 0 when the text must be refused (zero is refused too).
    int64_t expected = 0;
    std::string canonical;
    if (std::optional<DecimalText> read = ReadDecimalText(text, e)) {
        std::string fraction = read->fraction;
        fraction.append(static_cast<size_t>(e) - fraction.size(), '0');
        expected = DigitsValue(read->integer + fraction).value_or(0);
        canonical = e == 0 ? read->integer : read->integer + "." + fraction;
    }
    const std::string shown =
        "amount \"" + std::string(text) + "\" " + std::string(currency.code());
    if (!parsed.ok()) {
        if (expected != 0) {
            return Broken(shown + " was refused: " + parsed.status().message());
        }
        return CheckRejection(parsed.status(), shown);
    }
    if (*parsed != expected) {
        return Broken(shown + " parsed as " + std::to_string(*parsed) + ", expected " +
                      (expected == 0 ? std::string("a refusal") : std::to_string(expected)));
    }
    std::string formatted = FormatAmount(*parsed, currency);
    if (formatted != canonical) {
        return Broken(shown + " formats as \"" + formatted + "\", expected \"" + canonical + "\"");
    }
    Result<int64_t> again = ParseAmount(formatted, currency);
    if (!again.ok() || *again != *parsed) {
        return Broken(shown + ": its canonical text \"" + formatted + "\" does not parse back");
    }
    if (FormatAmount(-*parsed, currency) != "-" + formatted) {
        return Broken(shown + ": the negative formats as " + FormatAmount(-*parsed, currency));
    }
    return Status::Ok();
}

Status CheckDecimal(std::string_view text) {
    constexpr int kMaxScale = 12;
    Result<Decimal> parsed = ParseDecimal(text);
    std::optional<DecimalText> read = ReadDecimalText(text, kMaxScale);
    std::optional<Decimal> expected;
    if (read) {
        std::string fraction = read->fraction;
        fraction.erase(fraction.find_last_not_of('0') + 1);
        std::optional<int64_t> mantissa = DigitsValue(read->integer + fraction);
        if (mantissa && *mantissa > 0) {
            expected = Decimal{*mantissa, static_cast<int>(fraction.size())};
        }
    }
    const std::string shown = "decimal \"" + std::string(text) + "\"";
    if (!parsed.ok()) {
        if (expected) {
            return Broken(shown + " was refused: " + parsed.status().message());
        }
        return CheckRejection(parsed.status(), shown);
    }
    if (!expected || parsed->mantissa != expected->mantissa || parsed->scale != expected->scale) {
        return Broken(shown + " parsed as {" + std::to_string(parsed->mantissa) + ", " +
                      std::to_string(parsed->scale) + "}");
    }
    std::string formatted = FormatDecimal(*parsed);
    Result<Decimal> again = ParseDecimal(formatted);
    if (!again.ok() || again->mantissa != parsed->mantissa || again->scale != parsed->scale) {
        return Broken(shown + ": its canonical text \"" + formatted + "\" does not parse back");
    }
    return Status::Ok();
}

int DaysInMonth(int year, int month) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : kDays[month - 1];
}

// YYYY-MM-DD read independently: the civil fields when the text is a real day, else nullopt.
struct Civil {
    int year, month, day;
};

std::optional<Civil> ReadIsoDate(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (!IsDigit(text[i])) {
            return std::nullopt;
        }
    }
    auto number = [&](size_t at, size_t n) {
        return static_cast<int>(*DigitsValue(text.substr(at, n)));
    };
    Civil c{number(0, 4), number(5, 2), number(8, 2)};
    if (c.year < 1 || c.month < 1 || c.month > 12 || c.day < 1 ||
        c.day > DaysInMonth(c.year, c.month)) {
        return std::nullopt;
    }
    return c;
}

Status CheckDayCount(std::string_view data) {
    if (data.size() < 4) {
        return Status::Ok();
    }
    uint32_t raw = 0;
    std::memcpy(&raw, data.data(), 4);
    const int32_t lo = Date::FromCivil(1, 1, 1)->days();
    const int32_t hi = Date::FromCivil(9999, 12, 31)->days();
    const Date date(lo + static_cast<int32_t>(raw % static_cast<uint32_t>(hi - lo + 1)));
    int year = 0, month = 0, day = 0;
    date.ToCivil(&year, &month, &day);
    std::optional<Date> back = Date::FromCivil(year, month, day);
    if (!back || *back != date) {
        return Broken("day " + std::to_string(date.days()) + " is " + std::to_string(year) + "-" +
                      std::to_string(month) + "-" + std::to_string(day) + " but not back");
    }
    Result<Date> parsed = ParseDate(date.ToString());
    if (!parsed.ok() || *parsed != date) {
        return Broken("day " + std::to_string(date.days()) + ": \"" + date.ToString() +
                      "\" does not parse back");
    }
    return Status::Ok();
}

// The settings file goes through LoadConfigFile, which reads a path: a file of this process.
const std::string& ConfigPath() {
    static const std::string path = [] {
        const char* dir = std::getenv("TMPDIR");
        return std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/rms-fuzz-config-" +
               std::to_string(::getpid()) + ".toml";
    }();
    return path;
}

// A spread of customers the rules are asked about.
std::vector<rules::CustomerFacts> SampleFacts() {
    std::vector<rules::CustomerFacts> all;
    rules::CustomerFacts none;
    all.push_back(none);
    rules::CustomerFacts late;
    late.kind = "company";
    late.risk = "high";
    late.segment = "chronic_late";
    late.open_major = 120000;
    late.overdue_major = 90000;
    late.overdue_exact_major = 90000.5;
    late.days_past_due = 400;
    late.open_disputes = 2;
    late.broken_promises = 3;
    late.last_promise_broken = true;
    late.credit_limit_major = 0.0;
    late.open_exact_major = 120000.25;
    all.push_back(late);
    rules::CustomerFacts limited = late;
    limited.credit_limit_major = 1000.0;
    limited.has_open_promise = true;
    limited.days_past_due = 1;
    all.push_back(limited);
    return all;
}

std::vector<rules::BehaviourStats> SampleStats() {
    rules::BehaviourStats none;
    rules::BehaviourStats some;
    some.paid_invoices = 7;
    some.paid_on_time = 2;
    some.paid_weight = 50000;
    some.paid_weight_days_late = static_cast<__int128>(50000) * 45;
    some.disputes_180d = 3;
    some.promises_kept = 1;
    some.promises_broken = 4;
    return {none, some};
}

}  // namespace

Status FuzzEventLine(std::string_view data) {
    ParsedLine first = ParseEvent(data);
    if (!first.status.ok()) {
        return CheckRejection(first.status, "event line");
    }
    const Event& a = first.event;
    if (a.content_hash != StableHash(a.canonical)) {
        return Broken("the content hash is not the hash of the canonical form " + a.canonical);
    }
    ParsedLine second = ParseEvent(a.canonical);
    if (!second.status.ok()) {
        return Broken("the canonical form " + a.canonical +
                      " does not parse: " + second.status.message());
    }
    const Event& b = second.event;
    if (b.canonical != a.canonical) {
        return Broken("the canonical form is not stable: " + a.canonical + " became " +
                      b.canonical);
    }
    if (b.type != a.type || b.id != a.id || b.source != a.source || b.date != a.date ||
        b.amount != a.amount || b.currency != a.currency || b.customer != a.customer) {
        return Broken("the canonical form " + a.canonical + " parses into another event");
    }
    return Status::Ok();
}

Status FuzzMoney(std::string_view data) {
    if (data.empty()) {
        return Status::Ok();
    }
    const uint8_t pick = static_cast<uint8_t>(data[0]);
    std::optional<Currency> currency = Currency::FromIndex(pick % CurrencyCount());
    if (!currency) {
        return Broken("no currency at index " + std::to_string(pick % CurrencyCount()));
    }
    const std::string_view text = data.substr(1);
    if (Status s = CheckAmount(text, *currency); !s.ok()) {
        return s;
    }
    return CheckDecimal(text);
}

Status FuzzDate(std::string_view data) {
    Result<Date> parsed = ParseDate(data);
    std::optional<Civil> expected = ReadIsoDate(data);
    const std::string shown = "date \"" + std::string(data.substr(0, 40)) + "\"";
    if (!parsed.ok()) {
        if (expected) {
            return Broken(shown + " was refused: " + parsed.status().message());
        }
        if (Status s = CheckRejection(parsed.status(), shown); !s.ok()) {
            return s;
        }
    } else {
        std::optional<Date> civil =
            expected ? Date::FromCivil(expected->year, expected->month, expected->day)
                     : std::nullopt;
        if (!civil || *civil != *parsed) {
            return Broken(shown + " parsed as day " + std::to_string(parsed->days()));
        }
        if (parsed->ToString() != data) {
            return Broken(shown + " formats as " + parsed->ToString());
        }
    }
    if (std::optional<Date> us = ParseUsDate(data)) {
        Result<Date> again = ParseDate(us->ToString());
        if (!again.ok() || *again != *us) {
            return Broken(shown + " as M/D/YYYY is \"" + us->ToString() + "\", not a date");
        }
    }
    return CheckDayCount(data);
}

Status FuzzConfig(std::string_view data) {
    const std::string& path = ConfigPath();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
        return Broken("cannot write " + path);
    }
    const size_t written = std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
    if (written != data.size()) {
        return Broken("cannot write " + path);
    }
    Config config;
    Status loaded = LoadConfigFile(path, &config);
    std::remove(path.c_str());
    if (!loaded.ok()) {
        return CheckRejection(loaded, "settings file");
    }
    for (const std::string& address : {config.listen, config.http}) {
        auto split = SplitHostPort(address);
        if (!split.ok()) {
            if (Status s = CheckRejection(split.status(), "address"); !s.ok()) {
                return s;
            }
        }
    }
    return Status::Ok();
}

Status FuzzRules(std::string_view data) {
    Result<rules::RulesConfig> parsed = rules::ParseRules(data, "fuzz.toml");
    if (!parsed.ok()) {
        return CheckRejection(parsed.status(), "rules file");
    }
    for (const rules::CustomerFacts& facts : SampleFacts()) {
        rules::MatchStrategy(*parsed, facts);
        const double score = rules::Score(parsed->score, facts).Total();
        if (!std::isfinite(score)) {
            return Broken("accepted rules give a score of " + std::to_string(score));
        }
    }
    for (const rules::BehaviourStats& stats : SampleStats()) {
        rules::SegmentDecision decision = rules::Classify(parsed->segments, stats);
        if (decision.segment.empty()) {
            return Broken("accepted rules put a customer in no segment");
        }
    }
    return Status::Ok();
}

const std::vector<FuzzTarget>& FuzzTargets() {
    static const std::vector<FuzzTarget> targets = {
        {"event", FuzzEventLine}, {"money", FuzzMoney}, {"date", FuzzDate},
        {"config", FuzzConfig},   {"rules", FuzzRules},
    };
    return targets;
}

}  // namespace rms::fuzz
