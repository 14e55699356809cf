#include "engine/query_api.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <map>
#include <optional>

#include "engine/json_writer.h"

namespace rms {

namespace {

constexpr int kDayFigureDecimals = 6;
// The longest range one history request may ask for (ten years and a day).
constexpr int32_t kMaxHistoryDays = 3661;

void WriteAmount(JsonWriter& w, std::string_view key, int64_t amount, Currency c) {
    w.Key(key);
    w.String(FormatAmount(amount, c));
}

void WriteOptional(JsonWriter& w, std::string_view key, const std::optional<double>& v) {
    w.Key(key);
    if (v) {
        w.Fixed(*v, kDayFigureDecimals);
    } else {
        w.Null();
    }
}

void WriteAging(JsonWriter& w, const Aging& aging, Currency c) {
    w.Key("aging");
    w.BeginObject();
    for (int b = 0; b < kBucketCount; ++b) {
        WriteAmount(w, kBucketNames[b], aging[b], c);
    }
    w.EndObject();
}

}  // namespace

void WriteFigures(JsonWriter& w, Currency c, const Figures& f) {
    w.BeginObject();
    WriteAmount(w, "open", f.open, c);
    WriteAmount(w, "overdue", f.overdue, c);
    WriteAmount(w, "disputed", f.disputed, c);
    WriteAmount(w, "unapplied", f.unapplied, c);
    WriteAmount(w, "written_off", f.written_off, c);
    WriteAging(w, f.aging, c);
    WriteAmount(w, "sales_90d", f.sales_window, c);
    WriteOptional(w, "dso_standard", f.kpis.dso_standard);
    WriteOptional(w, "dso_countback", f.kpis.dso_countback);
    WriteOptional(w, "dso_best_possible", f.kpis.dso_best_possible);
    WriteOptional(w, "add", f.kpis.add);
    WriteOptional(w, "cei", f.kpis.cei);
    w.EndObject();
}

namespace {

void WriteOptionalString(JsonWriter& w, std::string_view key, const std::optional<std::string>& v) {
    if (v) {
        w.Key(key);
        w.String(*v);
    }
}

void WriteBusinessDate(JsonWriter& w, const Ledger& ledger) {
    w.Key("business_date");
    if (ledger.business_date()) {
        w.String(ledger.business_date()->ToString());
    } else {
        w.Null();
    }
}

int HexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// Decodes %XX escapes (and '+' in query values); nullopt when an escape is malformed.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) {
                return std::nullopt;
            }
            int hi = HexValue(s[i + 1]);
            int lo = HexValue(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

// The value of parameter `name`; nullopt when absent. A value with a bad % escape sets `*bad`
// (when given) and comes back empty.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name,
                                      bool* bad = nullptr) {
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        size_t eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            std::optional<std::string> value =
                PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
            if (!value && bad != nullptr) {
                *bad = true;
            }
            return value.value_or("");
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

void WritePromise(JsonWriter& w, const Ledger& ledger, const PromiseRec& p) {
    w.BeginObject();
    w.Key("promise");
    w.String(p.id);
    w.Key("customer");
    w.String(ledger.customers()[p.customer].id);
    w.Key("currency");
    w.String(p.currency.code());
    WriteAmount(w, "amount", p.amount, p.currency);
    WriteAmount(w, "paid", p.paid, p.currency);
    w.Key("date");
    w.String(p.date.ToString());
    w.Key("due");
    w.String(p.due.ToString());
    w.Key("status");
    w.String(PromiseStatusName(p.status));
    w.Key("status_date");
    w.String(p.status_date.ToString());
    w.Key("status_event");
    w.String(p.status_event);
    w.EndObject();
}

// Promises per currency: how many have each status, and kept ÷ (kept + broken) among those
// whose current status was taken in the 90-day window (null when none was).
void WritePromisesByCurrency(JsonWriter& w, const Ledger& ledger) {
    // The answer lists currencies by code.
    std::map<std::string_view, std::pair<Currency, const PromiseTally*>> by_code;
    for (const auto& [currency, tally] : ledger.promise_tallies()) {
        by_code.emplace(currency.code(), std::make_pair(currency, &tally));
    }
    w.Key("by_currency");
    w.BeginObject();
    for (const auto& [code, entry] : by_code) {
        const auto& [currency, tally] = entry;
        w.Key(code);
        w.BeginObject();
        for (size_t i = 0; i < tally->by_status.size(); ++i) {
            w.Key(PromiseStatusName(static_cast<PromiseStatus>(i)));
            w.Int(tally->by_status[i]);
        }
        WriteOptional(w, "kept_rate_90d", ledger.PromiseKeptRate(currency));
        w.EndObject();
    }
    w.EndObject();
}

void WriteEffect(JsonWriter& w, const EffectCounts& n) {
    for (auto [name, v] :
         {std::pair{"contacts", n.contacts}, std::pair{"payments_7d", n.payments_7d},
          std::pair{"promises", n.promises}, std::pair{"promises_kept", n.promises_kept}}) {
        w.Key(name);
        w.Int(v);
    }
}

// Contacts and what followed them within 7 days, per channel and per channel and step.
void WriteEffectiveness(JsonWriter& w, const Ledger& ledger) {
    std::map<std::string, EffectCounts> by_channel = ledger.EffectsByChannel();
    w.Key("effectiveness");
    w.BeginObject();
    w.Key("window_days");
    w.Int(kEffectWindowDays);
    w.Key("channels");
    w.BeginObject();
    for (const auto& [channel, n] : by_channel) {
        w.Key(channel);
        w.BeginObject();
        WriteEffect(w, n);
        w.EndObject();
    }
    w.EndObject();
    w.Key("steps");
    w.BeginArray();
    for (const auto& [key, n] : ledger.effects()) {
        w.BeginObject();
        w.Key("channel");
        w.String(key.first);
        w.Key("step");
        if (key.second.empty()) {
            w.Null();
        } else {
            w.String(key.second);
        }
        WriteEffect(w, n);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
}

ApiResponse NotFound(std::string_view what, std::string_view id) {
    return ApiError(404, "not_found",
                    std::string(what) + " \"" + std::string(id) + "\" does not exist");
}

// The answer about one customer: 404 when unknown, else an object that starts with
// "customer" and goes on with what `write` adds, under the engine's shared lock.
template <typename Fn>
ApiResponse CustomerAnswer(const Engine& engine, std::string_view id, Fn&& write) {
    return engine.Read([&](const Ledger& ledger) {
        const CustomerRec* c = ledger.FindCustomer(id);
        if (c == nullptr) {
            return NotFound("customer", id);
        }
        ApiResponse r;
        JsonWriter w(&r.body);
        w.BeginObject();
        w.Key("customer");
        w.String(c->id);
        write(ledger, c, w);
        w.EndObject();
        return r;
    });
}

}  // namespace

ApiResponse ApiError(int status, std::string_view code, std::string_view message) {
    ApiResponse r;
    r.status = status;
    JsonWriter w(&r.body);
    w.BeginObject();
    w.Key("error");
    w.String(code);
    w.Key("message");
    w.String(message);
    w.EndObject();
    return r;
}

ApiResponse QueryApi::Get(std::string_view target) const {
    size_t q = target.find('?');
    std::string_view path = target.substr(0, q);
    std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
    if (routes_) {
        if (std::optional<ApiResponse> routed = routes_(target)) {
            return std::move(routed).value();
        }
    }
    if (path == "/healthz") {
        return ApiResponse{200, "text/plain", "ok\n"};
    }
    if (engine_ == nullptr) {
        return ApiError(404, "not_found",
                        "in Kafka mode an instance serves /v1/kpis, /v1/cluster/parts, /metrics "
                        "and the health checks only");
    }
    if (path == "/readyz") {
        bool ready = engine_->ready();
        return ApiResponse{ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n"};
    }
    if (path == "/metrics") {
        return ApiResponse{200, "text/plain; version=0.0.4", metrics_->Serialize()};
    }
    if (path == "/v1/kpis") {
        return Kpis();
    }
    if (path == "/v1/kpis/history") {
        return History(query);
    }
    if (path == "/v1/worklist") {
        return Worklist(query);
    }
    if (path == "/v1/actions") {
        return Actions(query);
    }
    if (path == "/v1/rules") {
        return Rules();
    }
    constexpr std::string_view kCustomers = "/v1/customers/";
    constexpr std::string_view kTimeline = "/timeline";
    if (path.starts_with(kCustomers) && path.ends_with(kTimeline) &&
        path.size() > kCustomers.size() + kTimeline.size()) {
        std::string_view raw =
            path.substr(kCustomers.size(), path.size() - kCustomers.size() - kTimeline.size());
        std::optional<std::string> id = PercentDecode(raw, false);
        if (raw.find('/') == std::string_view::npos) {
            if (!id) {
                return ApiError(400, "invalid_field", "the id in the path has a bad % escape");
            }
            return Timeline(*id, query);
        }
    }
    struct Route {
        std::string_view prefix;
        std::string_view suffix;
        ApiResponse (QueryApi::*handler)(std::string_view) const;
    };
    static constexpr Route kRoutes[] = {
        {"/v1/customers/", "/items", &QueryApi::CustomerItems},
        {"/v1/customers/", "/promises", &QueryApi::CustomerPromises},
        {"/v1/customers/", "", &QueryApi::Customer},
        {"/v1/invoices/", "", &QueryApi::Invoice},
        {"/v1/promises/", "", &QueryApi::Promise},
    };
    for (const Route& route : kRoutes) {
        if (!path.starts_with(route.prefix) || !path.ends_with(route.suffix)) {
            continue;
        }
        std::string_view raw = path.substr(route.prefix.size(),
                                           path.size() - route.prefix.size() - route.suffix.size());
        if (raw.empty() || raw.find('/') != std::string_view::npos) {
            continue;
        }
        std::optional<std::string> id = PercentDecode(raw, false);
        if (!id) {
            return ApiError(400, "invalid_field", "the id in the path has a bad % escape");
        }
        return (this->*route.handler)(*id);
    }
    return ApiError(404, "not_found", "no endpoint " + std::string(path));
}

QueryApi::QueryApi(const Engine* engine, const metrics::EngineMetrics* metrics,
                   std::optional<Currency> base_currency)
    : engine_(engine), metrics_(metrics), base_currency_(base_currency) {
    if (engine_ != nullptr) {
        // The view outlives this object inside the engine: it keeps copies, never `this`.
        kpis_view_ = std::make_shared<CommittedView>(
            [base_currency](const Ledger& ledger) { return KpisBody(ledger, base_currency); });
        engine_->AddView(kpis_view_);
        worklist_view_ = std::make_shared<CommittedView>(
            [](const Ledger& ledger) { return WorklistBody(ledger, kWorklistViewLimit, "", ""); });
        engine_->AddView(worklist_view_);
    }
}

template <typename Render>
std::string QueryApi::Rendered(const CommittedView* view, Render&& render) const {
    if (view != nullptr) {
        if (std::shared_ptr<const std::string> body = view->Get()) {
            return *body;
        }
    }
    return engine_->Read(std::forward<Render>(render));
}

ApiResponse QueryApi::Kpis() const {
    ApiResponse r;
    r.body = Rendered(kpis_view_.get(),
                      [this](const Ledger& ledger) { return KpisBody(ledger, base_currency_); });
    return r;
}

std::string QueryApi::KpisBody(const Ledger& ledger, std::optional<Currency> base_currency) {
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    WriteBusinessDate(w, ledger);
    w.Key("currencies");
    w.BeginObject();
    for (const auto& [currency, book] : ledger.books()) {
        w.Key(currency.code());
        WriteFigures(w, currency, ledger.CurrencyFiguresNow(currency));
    }
    w.EndObject();
    if (!ledger.business_date()) {
        // Before any event the answer is exactly the protocol's empty shape.
        w.EndObject();
        return body;
    }
    std::optional<Currency> base = base_currency ? base_currency : ledger.DefaultBase();
    if (base) {
        BaseFigures b = ledger.BaseFiguresNow(*base);
        w.Key("base");
        w.BeginObject();
        w.Key("currency");
        w.String(base->code());
        w.Key("rates");
        w.BeginObject();
        for (const auto& [currency, used] : b.rates) {
            w.Key(currency.code());
            w.BeginObject();
            w.Key("rate");
            w.String(FormatDecimal(used.rate));
            w.Key("inverse");
            w.Bool(used.inverse);
            w.EndObject();
        }
        w.EndObject();
        w.Key("missing_rates");
        w.BeginArray();
        for (Currency c : b.missing) {
            w.String(c.code());
        }
        w.EndArray();
        if (b.overflow) {
            w.Key("error");
            w.String("the totals converted into " + std::string(base->code()) +
                     " do not fit in 64-bit minor units");
        } else {
            w.Key("figures");
            WriteFigures(w, *base, b.figures);
        }
        w.EndObject();
    }
    w.Key("promises");
    w.BeginObject();
    std::array<int64_t, 4> by_status{};
    for (const auto& [currency, tally] : ledger.promise_tallies()) {
        for (size_t i = 0; i < by_status.size(); ++i) {
            by_status[i] += tally.by_status[i];
        }
    }
    for (size_t i = 0; i < by_status.size(); ++i) {
        w.Key(PromiseStatusName(static_cast<PromiseStatus>(i)));
        w.Int(by_status[i]);
    }
    WriteOptional(w, "kept_rate_90d", ledger.PromiseKeptRate());
    WritePromisesByCurrency(w, ledger);
    w.EndObject();
    WriteEffectiveness(w, ledger);
    w.EndObject();
    return body;
}

ApiResponse QueryApi::History(std::string_view query) const {
    std::optional<std::string> from_text = QueryParam(query, "from");
    std::optional<std::string> to_text = QueryParam(query, "to");
    if (!from_text || !to_text) {
        return ApiError(400, "missing_field", "parameters from and to (YYYY-MM-DD) are required");
    }
    Result<Date> from = ParseDate(*from_text);
    Result<Date> to = ParseDate(*to_text);
    if (!from.ok() || !to.ok()) {
        const Status& s = from.ok() ? to.status() : from.status();
        return ApiError(400, "invalid_date", (from.ok() ? "to: " : "from: ") + s.message());
    }
    if (*to < *from) {
        return ApiError(400, "invalid_date",
                        "from " + from->ToString() + " is after to " + to->ToString());
    }
    if (*to - *from >= kMaxHistoryDays) {
        return ApiError(400, "invalid_date",
                        "at most " + std::to_string(kMaxHistoryDays) +
                            " days per request; ask for the rest in further pages");
    }
    return engine_->Read([&](const Ledger& ledger) {
        ApiResponse r;
        JsonWriter w(&r.body);
        w.BeginObject();
        w.Key("days");
        w.BeginArray();
        const auto& history = ledger.history();
        for (auto it = history.lower_bound(*from); it != history.end() && it->first <= *to; ++it) {
            w.BeginObject();
            w.Key("date");
            w.String(it->first.ToString());
            w.Key("currencies");
            w.BeginObject();
            for (const auto& [currency, figures] : it->second.currencies) {
                w.Key(currency.code());
                WriteFigures(w, currency, figures);
            }
            w.EndObject();
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        return r;
    });
}

ApiResponse QueryApi::Customer(std::string_view id) const {
    auto write = [&](const Ledger& ledger, const CustomerRec* c, JsonWriter& w) {
        const CustomerAttributes& a = c->attributes;
        WriteOptionalString(w, "name", a.name);
        WriteOptionalString(w, "kind", a.kind);
        WriteOptionalString(w, "risk", a.risk);
        WriteOptionalString(w, "credit_limit", a.credit_limit);
        WriteOptionalString(w, "currency", a.currency);
        if (a.terms_days) {
            w.Key("terms_days");
            w.Int(*a.terms_days);
        }
        WriteOptionalString(w, "country", a.country);
        WriteOptionalString(w, "owner", a.owner);
        if (!c->segment.empty()) {
            w.Key("segment");
            w.String(c->segment);
            w.Key("segment_reason");
            w.String(c->segment_reason);
        }
        w.Key("currencies");
        w.BeginObject();
        for (const auto& [currency, f] : ledger.CustomerFigures(*c)) {
            w.Key(currency.code());
            w.BeginObject();
            WriteAmount(w, "open", f.open, currency);
            WriteAmount(w, "overdue", f.overdue, currency);
            WriteAmount(w, "disputed", f.disputed, currency);
            WriteAmount(w, "unapplied", f.unapplied, currency);
            WriteAmount(w, "written_off", f.written_off, currency);
            WriteAging(w, f.aging, currency);
            w.EndObject();
        }
        w.EndObject();
    };
    return CustomerAnswer(*engine_, id, write);
}

ApiResponse QueryApi::CustomerItems(std::string_view id) const {
    auto write = [&](const Ledger& ledger, const CustomerRec* c, JsonWriter& w) {
        WriteBusinessDate(w, ledger);
        w.Key("items");
        w.BeginArray();
        for (uint32_t idx : c->invoices) {
            const InvoiceRec& inv = ledger.invoices()[idx];
            for (size_t i = 0; i < inv.installments.size(); ++i) {
                const InstallmentRec& inst = inv.installments[i];
                if (inst.open <= 0) {
                    continue;
                }
                int32_t dpd = ledger.DaysPastDue(inst.due);
                w.BeginObject();
                w.Key("invoice");
                w.String(inv.id);
                w.Key("installment");
                w.Int(static_cast<int64_t>(i + 1));
                w.Key("currency");
                w.String(inv.currency.code());
                w.Key("due");
                w.String(inst.due.ToString());
                w.Key("days_past_due");
                w.Int(dpd);
                w.Key("bucket");
                w.String(kBucketNames[BucketOf(dpd)]);
                WriteAmount(w, "open", inst.open, inv.currency);
                w.Key("disputed");
                w.Bool(inv.disputed);
                w.EndObject();
            }
        }
        w.EndArray();
        w.Key("unapplied");
        w.BeginObject();
        for (const auto& [currency, f] : ledger.CustomerFigures(*c)) {
            WriteAmount(w, currency.code(), f.unapplied, currency);
        }
        w.EndObject();
    };
    return CustomerAnswer(*engine_, id, write);
}

ApiResponse QueryApi::Invoice(std::string_view id) const {
    return engine_->Read([&](const Ledger& ledger) {
        const InvoiceRec* inv = ledger.FindInvoice(id);
        if (inv == nullptr) {
            return NotFound("invoice", id);
        }
        ApiResponse r;
        JsonWriter w(&r.body);
        Currency c = inv->currency;
        w.BeginObject();
        w.Key("invoice");
        w.String(inv->id);
        w.Key("customer");
        w.String(ledger.customers()[inv->customer].id);
        w.Key("currency");
        w.String(c.code());
        w.Key("date");
        w.String(inv->issued.ToString());
        WriteAmount(w, "amount", inv->amount, c);
        WriteAmount(w, "open", inv->open(), c);
        WriteAmount(w, "written_off", inv->written_off, c);
        const InstallmentRec* oldest = inv->OldestOpen();
        w.Key("due");
        if (oldest) {
            w.String(oldest->due.ToString());
        } else {
            w.Null();
        }
        w.Key("days_past_due");
        if (oldest) {
            w.Int(ledger.DaysPastDue(oldest->due));
        } else {
            w.Null();
        }
        w.Key("status");
        w.String(inv->status());
        w.Key("disputed");
        w.Bool(inv->disputed);
        w.Key("installments");
        w.BeginArray();
        for (const InstallmentRec& i : inv->installments) {
            w.BeginObject();
            w.Key("due");
            w.String(i.due.ToString());
            WriteAmount(w, "amount", i.amount, c);
            WriteAmount(w, "open", i.open, c);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        return r;
    });
}

ApiResponse QueryApi::Promise(std::string_view id) const {
    return engine_->Read([&](const Ledger& ledger) {
        const PromiseRec* p = ledger.FindPromise(id);
        if (p == nullptr) {
            return NotFound("promise", id);
        }
        ApiResponse r;
        JsonWriter w(&r.body);
        WritePromise(w, ledger, *p);
        return r;
    });
}

ApiResponse QueryApi::CustomerPromises(std::string_view id) const {
    auto write = [&](const Ledger& ledger, const CustomerRec* c, JsonWriter& w) {
        WriteBusinessDate(w, ledger);
        w.Key("promises");
        w.BeginArray();
        // Newest first: the one a collector asks about is usually the latest.
        for (auto it = c->promises.rbegin(); it != c->promises.rend(); ++it) {
            WritePromise(w, ledger, ledger.promises()[*it]);
        }
        w.EndArray();
    };
    return CustomerAnswer(*engine_, id, write);
}

namespace {

// Parses an optional whole-number query parameter within [lo, hi].
std::optional<ApiResponse> NumberParam(std::string_view query, std::string_view name, int64_t lo,
                                       int64_t hi, int64_t* out) {
    std::optional<std::string> text = QueryParam(query, name);
    if (!text) {
        return std::nullopt;
    }
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || end != text->data() + text->size() || v < lo || v > hi) {
        return ApiError(400, "invalid_field",
                        std::string(name) + " must be a whole number from " + std::to_string(lo) +
                            " to " + std::to_string(hi));
    }
    *out = v;
    return std::nullopt;
}

void WriteBreakdown(JsonWriter& w, const rules::ScoreBreakdown& b) {
    w.Key("breakdown");
    w.BeginObject();
    for (auto [name, value] :
         {std::pair{"overdue", b.overdue}, std::pair{"days_past_due", b.days},
          std::pair{"risk", b.risk}, std::pair{"broken_promises", b.broken_promises},
          std::pair{"disputes", b.disputes}, std::pair{"credit_limit", b.credit_limit}}) {
        w.Key(name);
        w.Fixed(value, 4);
    }
    w.EndObject();
}

}  // namespace

ApiResponse QueryApi::Worklist(std::string_view query) const {
    int64_t limit = kWorklistViewLimit;
    if (std::optional<ApiResponse> bad = NumberParam(query, "limit", 1, 10000, &limit)) {
        return *bad;
    }
    bool bad = false;
    std::string owner = QueryParam(query, "owner", &bad).value_or("");
    std::string segment = QueryParam(query, "segment", &bad).value_or("");
    if (bad) {
        return ApiError(400, "invalid_field", "owner or segment has a bad % escape");
    }
    if (!segment.empty() && std::find(std::begin(rules::kSegments), std::end(rules::kSegments),
                                      segment) == std::end(rules::kSegments)) {
        return ApiError(400, "invalid_field", "segment \"" + segment + "\" is not a segment");
    }
    bool default_query = limit == kWorklistViewLimit && owner.empty() && segment.empty();
    ApiResponse r;
    r.body = Rendered(default_query ? worklist_view_.get() : nullptr, [&](const Ledger& ledger) {
        return WorklistBody(ledger, static_cast<size_t>(limit), owner, segment);
    });
    return r;
}

std::string QueryApi::WorklistBody(const Ledger& ledger, size_t limit, std::string_view owner,
                                   std::string_view segment) {
    std::string body;
    JsonWriter w(&body);
    w.BeginObject();
    WriteBusinessDate(w, ledger);
    w.Key("customers");
    w.BeginArray();
    for (const Ledger::WorklistEntry& e : ledger.Worklist(limit, owner, segment)) {
        const CustomerRec& c = ledger.customers()[e.customer];
        w.BeginObject();
        w.Key("customer");
        w.String(c.id);
        w.Key("score");
        w.Fixed(e.score, 4);
        WriteBreakdown(w, e.breakdown);
        w.Key("segment");
        w.String(c.segment);
        WriteOptionalString(w, "owner", c.attributes.owner);
        w.Key("overdue_major");
        w.Int(e.facts.overdue_major);
        w.Key("days_past_due");
        w.Int(e.facts.days_past_due);
        w.Key("strategy");
        w.String(e.strategy);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return body;
}

ApiResponse QueryApi::Actions(std::string_view query) const {
    int64_t since = 0;
    int64_t limit = 100;
    if (std::optional<ApiResponse> bad = NumberParam(query, "since", 0, INT64_MAX, &since)) {
        return *bad;
    }
    if (std::optional<ApiResponse> bad = NumberParam(query, "limit", 1, 10000, &limit)) {
        return *bad;
    }
    bool bad_escape = false;
    std::string status = QueryParam(query, "status", &bad_escape).value_or("");
    if (bad_escape || (!status.empty() && status != "pending" && status != "delivered" &&
                       status != "dead_letter")) {
        return ApiError(400, "invalid_field", "status must be pending, delivered or dead_letter");
    }
    return engine_->Read([&](const Ledger& ledger) {
        ApiResponse r;
        JsonWriter w(&r.body);
        w.BeginObject();
        w.Key("actions");
        w.BeginArray();
        const auto& actions = ledger.actions();
        int64_t written = 0;
        uint64_t last = static_cast<uint64_t>(since);
        // Ids are 1, 2, ... in decision order: the first after `since` is at index `since`.
        for (size_t i = static_cast<size_t>(since); i < actions.size() && written < limit; ++i) {
            const ActionRec& a = actions[i];
            if (!status.empty() && a.status != status) {
                continue;
            }
            w.BeginObject();
            w.Key("id");
            w.Int(static_cast<int64_t>(a.id));
            w.Key("key");
            w.String(a.key);
            w.Key("customer");
            w.String(ledger.customers()[a.customer].id);
            if (!a.invoice.empty()) {
                w.Key("invoice");
                w.String(a.invoice);
            }
            w.Key("strategy");
            w.String(a.strategy);
            w.Key("step");
            w.String(a.step);
            w.Key("action");
            w.String(rules::ActionKindName(a.kind));
            if (!a.channel.empty()) {
                w.Key("channel");
                w.String(a.channel);
            }
            if (!a.template_name.empty()) {
                w.Key("template");
                w.String(a.template_name);
            }
            w.Key("step_date");
            w.String(a.step_date.ToString());
            w.Key("created");
            w.String(a.created.ToString());
            w.Key("caused_by");
            w.String(a.caused_by);
            w.Key("status");
            w.String(a.status);
            w.Key("attempts");
            w.Int(a.attempts);
            if (!a.last_error.empty()) {
                w.Key("last_error");
                w.String(a.last_error);
            }
            w.EndObject();
            ++written;
            last = a.id;
        }
        w.EndArray();
        w.Key("next");
        w.Int(static_cast<int64_t>(last));
        w.EndObject();
        return r;
    });
}

ApiResponse QueryApi::Rules() const {
    return engine_->Read([](const Ledger& ledger) {
        ApiResponse r;
        JsonWriter w(&r.body);
        w.BeginObject();
        w.Key("strategies");
        w.BeginArray();
        for (const rules::Strategy& s : ledger.rules().strategies) {
            w.BeginObject();
            w.Key("name");
            w.String(s.name);
            w.Key("steps");
            w.BeginArray();
            for (const rules::Step& step : s.steps) {
                w.BeginObject();
                w.Key("name");
                w.String(step.name);
                if (step.trigger == rules::StepTrigger::kPromiseBroken) {
                    w.Key("on");
                    w.String("promise_broken");
                } else {
                    w.Key("offset_days");
                    w.Int(step.offset_days);
                }
                w.Key("action");
                w.String(rules::ActionKindName(step.action));
                w.Key("scope");
                w.String(step.scope == rules::StepScope::kInvoice ? "invoice" : "customer");
                if (!step.channel.empty()) {
                    w.Key("channel");
                    w.String(step.channel);
                }
                if (!step.template_name.empty()) {
                    w.Key("template");
                    w.String(step.template_name);
                }
                w.EndObject();
            }
            w.EndArray();
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        return r;
    });
}

ApiResponse QueryApi::Timeline(std::string_view id, std::string_view query) const {
    int64_t limit = 50;
    if (std::optional<ApiResponse> bad = NumberParam(query, "limit", 1, 1000, &limit)) {
        return *bad;
    }
    uint64_t before = 0;
    bool bad_escape = false;
    if (std::optional<std::string> cursor = QueryParam(query, "cursor", &bad_escape);
        bad_escape || (cursor && !cursor->empty())) {
        std::optional<uint64_t> seq = DecodeTimelineCursor(*cursor);
        if (bad_escape || !seq) {
            return ApiError(400, "invalid_field",
                            bad_escape
                                ? std::string("cursor has a bad % escape")
                                : "cursor \"" + *cursor + "\" is not one this API handed out");
        }
        before = *seq;
    }
    Result<std::optional<Engine::TimelinePage>> page =
        engine_->Timeline(id, before, static_cast<size_t>(limit));
    if (!page.ok()) {
        return ApiError(503, "unavailable", page.status().message());
    }
    if (!page->has_value()) {
        return NotFound("customer", id);
    }
    ApiResponse r;
    JsonWriter w(&r.body);
    w.BeginObject();
    w.Key("customer");
    w.String(id);
    w.Key("entries");
    w.BeginArray();
    for (const TimelineEntry& e : (*page)->entries) {
        w.BeginObject();
        w.Key("seq");
        w.Int(static_cast<int64_t>(e.seq));
        w.Key("kind");
        w.String(e.kind);
        w.Key("date");
        w.String(e.date.ToString());
        w.Key("caused_by");
        w.String(e.caused_by);
        for (const auto& [name, value] : e.fields) {
            w.Key(name);
            w.String(value);
        }
        w.EndObject();
    }
    w.EndArray();
    w.Key("next_cursor");
    if ((*page)->more) {
        w.String(EncodeTimelineCursor((*page)->entries.back().seq));
    } else {
        w.Null();
    }
    w.EndObject();
    return r;
}

}  // namespace rms
