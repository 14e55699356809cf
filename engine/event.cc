#include "engine/event.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

#include "engine/json_writer.h"

namespace rms {

namespace {

constexpr size_t kMaxIdLength = 128;
constexpr size_t kMaxDepth = 32;
constexpr size_t kMaxListItems = 10000;

constexpr std::array<std::string_view, kEventTypeCount> kTypeNames = {
    "customer.upserted", "invoice.issued",   "credit_note.issued",  "payment.received",
    "credit.applied",    "payment.reversed", "invoice.written_off", "dispute.opened",
    "dispute.resolved",  "promise.made",     "promise.cancelled",   "contact.logged",
    "clock.advanced",    "fx.rate",
};

constexpr std::array<std::string_view, 7> kChannels = {"email",  "phone",  "whatsapp", "sms",
                                                       "letter", "portal", "other"};
constexpr std::array<std::string_view, 2> kDirections = {"outbound", "inbound"};
constexpr std::array<std::string_view, 3> kRisks = {"low", "medium", "high"};

template <size_t N>
bool OneOf(std::string_view value, const std::array<std::string_view, N>& allowed) {
    return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

// Counts UTF-8 code points; the input is already known to be valid UTF-8.
size_t CodePoints(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) {
        if ((c & 0xC0) != 0x80) {
            ++n;
        }
    }
    return n;
}

std::string Quoted(std::string_view s) {
    std::string out;
    JsonWriter::AppendQuoted(&out, s.size() > 80 ? s.substr(0, 80) : s);
    return out;
}

// Byte order of keys, with the first byte compared inline: most keys differ there.
bool KeyLess(std::string_view a, std::string_view b) {
    if (!a.empty() && !b.empty() && a[0] != b[0]) {
        return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]);
    }
    return a < b;
}

// The members of one JSON object, sorted by key once: the duplicate-key check, the field
// lookups and the canonical form all read this one order.
class SortedMembers {
public:
    struct Member {
        std::string_view key;
        simdjson::dom::element value;
    };

    explicit SortedMembers(simdjson::dom::object obj) {
        Member* out = inline_.data();
        size_t n = 0;
        for (simdjson::dom::key_value_pair kv : obj) {
            if (n == inline_.size() && heap_.empty()) {
                heap_.assign(inline_.begin(), inline_.end());
            }
            if (!heap_.empty()) {
                heap_.push_back({kv.key, kv.value});
            } else {
                out[n] = {kv.key, kv.value};
            }
            ++n;
        }
        begin_ = heap_.empty() ? inline_.data() : heap_.data();
        end_ = begin_ + n;
        std::sort(begin_, end_,
                  [](const Member& a, const Member& b) { return KeyLess(a.key, b.key); });
    }
    SortedMembers(const SortedMembers&) = delete;
    SortedMembers& operator=(const SortedMembers&) = delete;

    const Member* begin() const { return begin_; }
    const Member* end() const { return end_; }

    // The first key (in key order) that appears more than once, if any.
    std::optional<std::string_view> Repeated() const {
        const Member* dup = std::adjacent_find(
            begin_, end_, [](const Member& a, const Member& b) { return a.key == b.key; });
        if (dup == end_) {
            return std::nullopt;
        }
        return dup->key;
    }

    std::optional<simdjson::dom::element> Find(std::string_view key) const {
        const Member* it =
            std::lower_bound(begin_, end_, key,
                             [](const Member& m, std::string_view k) { return KeyLess(m.key, k); });
        if (it == end_ || it->key != key) {
            return std::nullopt;
        }
        return it->value;
    }

private:
    std::array<Member, 16> inline_;
    std::vector<Member> heap_;
    Member* begin_ = nullptr;
    Member* end_ = nullptr;
};

bool WriteCanonical(simdjson::dom::element e, std::string* out, std::string* repeated);

// Writes an object with its members in key order. `extra` adds one member given as raw JSON
// (used to make an absent "source" explicit). Returns false, with the key in `repeated`, when
// the object or one inside it repeats a key: "the same JSON value" is then undefined.
bool WriteCanonicalObject(const SortedMembers& members,
                          std::optional<std::pair<std::string_view, std::string_view>> extra,
                          std::string* out, std::string* repeated) {
    if (std::optional<std::string_view> dup = members.Repeated()) {
        *repeated = std::string(*dup);
        return false;
    }
    out->push_back('{');
    bool first = true;
    auto write_extra = [&] {
        if (!first) {
            out->push_back(',');
        }
        first = false;
        JsonWriter::AppendQuoted(out, extra->first);
        out->push_back(':');
        out->append(extra->second);
        extra.reset();
    };
    for (const SortedMembers::Member& m : members) {
        if (extra && KeyLess(extra->first, m.key)) {
            write_extra();
        }
        if (!first) {
            out->push_back(',');
        }
        first = false;
        JsonWriter::AppendQuoted(out, m.key);
        out->push_back(':');
        if (!WriteCanonical(m.value, out, repeated)) {
            return false;
        }
    }
    if (extra) {
        write_extra();
    }
    out->push_back('}');
    return true;
}

template <typename Int>
void AppendInt(std::string* out, Int v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    static_cast<void>(ec);
    out->append(buf, end);
}

// Writes `e` as canonical JSON: members sorted by key, compact, strings re-escaped.
bool WriteCanonical(simdjson::dom::element e, std::string* out, std::string* repeated) {
    using simdjson::dom::element_type;
    switch (e.type()) {
        case element_type::OBJECT:
            return WriteCanonicalObject(SortedMembers(simdjson::dom::object(e)), std::nullopt, out,
                                        repeated);
        case element_type::ARRAY: {
            out->push_back('[');
            bool first = true;
            for (simdjson::dom::element child : simdjson::dom::array(e)) {
                if (!first) {
                    out->push_back(',');
                }
                first = false;
                if (!WriteCanonical(child, out, repeated)) {
                    return false;
                }
            }
            out->push_back(']');
            break;
        }
        case element_type::STRING:
            JsonWriter::AppendQuoted(out, std::string_view(e.get_string().value_unsafe()));
            break;
        case element_type::INT64:
            AppendInt(out, e.get_int64().value_unsafe());
            break;
        case element_type::UINT64:
            AppendInt(out, e.get_uint64().value_unsafe());
            break;
        case element_type::DOUBLE: {
            double v = e.get_double().value_unsafe();
            if (v == 0) {
                // -0.0 prints as "-0", which reads back as the integer 0: both are written as 0
                // so the canonical form of a canonical form is itself.
                out->push_back('0');
                break;
            }
            char buf[40];
            int n = std::snprintf(buf, sizeof(buf), "%.17g", v);
            out->append(buf, static_cast<size_t>(n));
            break;
        }
        case element_type::BOOL:
            out->append(e.get_bool().value_unsafe() ? "true" : "false");
            break;
        case element_type::NULL_VALUE:
            out->append("null");
            break;
    }
    return true;
}

// The canonical content of an event: an absent "source" equals "default".
bool WriteCanonicalEvent(const SortedMembers& members, std::string* out, std::string* repeated) {
    if (members.Find("source")) {
        return WriteCanonicalObject(members, std::nullopt, out, repeated);
    }
    return WriteCanonicalObject(members, std::make_pair("source", "\"default\""), out, repeated);
}

// Reads the members of one JSON object, recording the first fault as a Status.
class FieldReader {
public:
    FieldReader(const SortedMembers& members, std::string context)
        : members_(members), context_(std::move(context)) {}

    bool ok() const { return status_.ok(); }
    Status TakeStatus() { return std::move(status_); }

    std::optional<simdjson::dom::element> Find(std::string_view key) { return members_.Find(key); }

    // A string field that names something (an id): 1 to 128 characters.
    std::optional<std::string> Name(std::string_view key, bool required) {
        std::optional<std::string> s = Text(key, required);
        if (s && (s->empty() || CodePoints(*s) > kMaxIdLength)) {
            Fail("invalid_field", Field(key) + " must be 1 to 128 characters, got " +
                                      std::to_string(CodePoints(*s)));
            return std::nullopt;
        }
        return s;
    }

    // Any string field.
    std::optional<std::string> Text(std::string_view key, bool required) {
        if (!ok()) {
            return std::nullopt;
        }
        std::optional<simdjson::dom::element> e = Find(key);
        if (!e) {
            if (required) {
                Fail("missing_field", Field(key) + " is required");
            }
            return std::nullopt;
        }
        std::string_view s;
        if (e->get_string().get(s) != simdjson::SUCCESS) {
            Fail("invalid_field", Field(key) + " must be a string");
            return std::nullopt;
        }
        return std::string(s);
    }

    template <size_t N>
    std::optional<std::string> Choice(std::string_view key, bool required,
                                      const std::array<std::string_view, N>& allowed) {
        std::optional<std::string> s = Text(key, required);
        if (s && !OneOf(*s, allowed)) {
            std::string list;
            for (std::string_view a : allowed) {
                list += (list.empty() ? "" : ", ") + std::string(a);
            }
            Fail("invalid_field", Field(key) + " " + Quoted(*s) + " is not one of " + list);
            return std::nullopt;
        }
        return s;
    }

    std::optional<Date> DateField(std::string_view key, bool required) {
        if (!ok()) {
            return std::nullopt;
        }
        std::optional<simdjson::dom::element> e = Find(key);
        if (!e) {
            if (required) {
                Fail("missing_field", Field(key) + " is required");
            }
            return std::nullopt;
        }
        std::string_view s;
        if (e->get_string().get(s) != simdjson::SUCCESS) {
            Fail("invalid_date", Field(key) + " must be a YYYY-MM-DD string");
            return std::nullopt;
        }
        Result<Date> d = ParseDate(s);
        if (!d.ok()) {
            Fail("invalid_date", Field(key) + ": " + d.status().message());
            return std::nullopt;
        }
        return *d;
    }

    std::optional<Currency> CurrencyField(std::string_view key, bool required) {
        std::optional<std::string> s = Text(key, required);
        if (!s) {
            return std::nullopt;
        }
        std::optional<Currency> c = Currency::FromCode(*s);
        if (!c) {
            Fail("invalid_currency",
                 Field(key) + " " + Quoted(*s) + " is not an ISO 4217 code this engine knows");
        }
        return c;
    }

    // The raw text of a money field: a JSON string, grammar checked by the caller.
    std::optional<std::string> MoneyText(std::string_view key, bool required) {
        if (!ok()) {
            return std::nullopt;
        }
        std::optional<simdjson::dom::element> e = Find(key);
        if (!e) {
            if (required) {
                Fail("missing_field", Field(key) + " is required");
            }
            return std::nullopt;
        }
        std::string_view s;
        if (e->get_string().get(s) != simdjson::SUCCESS) {
            Fail("invalid_amount", Field(key) +
                                       " must be a decimal string such as \"12.50\", not a JSON " +
                                       TypeName(*e));
            return std::nullopt;
        }
        return std::string(s);
    }

    std::optional<int64_t> Money(std::string_view key, bool required, Currency currency) {
        std::optional<std::string> text = MoneyText(key, required);
        if (!text) {
            return std::nullopt;
        }
        Result<int64_t> amount = ParseAmount(*text, currency);
        if (!amount.ok()) {
            Fail("invalid_amount", Field(key) + ": " + amount.status().message());
            return std::nullopt;
        }
        return *amount;
    }

    std::optional<simdjson::dom::array> List(std::string_view key, bool required) {
        if (!ok()) {
            return std::nullopt;
        }
        std::optional<simdjson::dom::element> e = Find(key);
        if (!e) {
            if (required) {
                Fail("missing_field", Field(key) + " is required");
            }
            return std::nullopt;
        }
        simdjson::dom::array a;
        if (e->get_array().get(a) != simdjson::SUCCESS) {
            Fail("invalid_field", Field(key) + " must be an array");
            return std::nullopt;
        }
        if (a.size() == 0 || a.size() > kMaxListItems) {
            Fail("invalid_field", Field(key) + " must hold 1 to 10000 items");
            return std::nullopt;
        }
        return a;
    }

    void Fail(std::string_view code, std::string message) {
        if (ok()) {
            status_ = Status::Error(code, std::move(message));
        }
    }

    std::string Field(std::string_view key) const {
        return context_ + "field \"" + std::string(key) + "\"";
    }

    static std::string TypeName(simdjson::dom::element e) {
        using simdjson::dom::element_type;
        switch (e.type()) {
            case element_type::OBJECT:
                return "object";
            case element_type::ARRAY:
                return "array";
            case element_type::STRING:
                return "string";
            case element_type::BOOL:
                return "boolean";
            case element_type::NULL_VALUE:
                return "null";
            default:
                return "number";
        }
    }

private:
    const SortedMembers& members_;
    std::string context_;
    Status status_;
};

// Reads the element `e` of array `key` at `index` as an object.
std::optional<simdjson::dom::object> ListObject(FieldReader& r, std::string_view key, size_t index,
                                                simdjson::dom::element e) {
    simdjson::dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) {
        r.Fail("invalid_field", r.Field(key) + "[" + std::to_string(index) + "] must be an object");
        return std::nullopt;
    }
    return obj;
}

std::string ItemContext(std::string_view key, size_t index) {
    return std::string(key) + "[" + std::to_string(index) + "] ";
}

void ParseInvoiceIssued(FieldReader& r, Event* ev) {
    ev->invoice = r.Name("invoice", true).value_or("");
    ev->customer = r.Name("customer", true).value_or("");
    std::optional<Currency> cur = r.CurrencyField("currency", true);
    if (!r.ok()) {
        return;
    }
    ev->currency = *cur;
    ev->amount = r.Money("amount", true, *cur).value_or(0);
    ev->has_amount = true;
    bool has_due = r.Find("due").has_value();
    bool has_installments = r.Find("installments").has_value();
    if (!r.ok()) {
        return;
    }
    if (has_due && has_installments) {
        r.Fail("invalid_field", "give either field \"due\" or field \"installments\", not both");
        return;
    }
    if (!has_due && !has_installments) {
        r.Fail("missing_field", "field \"due\" or field \"installments\" is required");
        return;
    }
    if (has_due) {
        ev->due = r.DateField("due", true);
        return;
    }
    std::optional<simdjson::dom::array> list = r.List("installments", true);
    if (!list) {
        return;
    }
    __int128 sum = 0;
    size_t i = 0;
    for (simdjson::dom::element item : *list) {
        std::optional<simdjson::dom::object> obj = ListObject(r, "installments", i, item);
        if (!obj) {
            return;
        }
        SortedMembers item_members(*obj);
        FieldReader ir(item_members, ItemContext("installments", i));
        InstallmentSpec spec;
        std::optional<Date> due = ir.DateField("due", true);
        std::optional<int64_t> amount = ir.Money("amount", true, *cur);
        if (!ir.ok()) {
            Status s = ir.TakeStatus();
            r.Fail(s.code(), s.message());
            return;
        }
        spec.due = *due;
        spec.amount = *amount;
        sum += spec.amount;
        ev->installments.push_back(spec);
        ++i;
    }
    if (sum != ev->amount) {
        r.Fail("invalid_amount", "installments add up to " +
                                     FormatAmount(static_cast<int64_t>(sum), *cur) +
                                     ", field \"amount\" is " + FormatAmount(ev->amount, *cur));
    }
}

void ParsePaymentReceived(FieldReader& r, Event* ev) {
    ev->payment = r.Name("payment", true).value_or("");
    ev->customer = r.Name("customer", true).value_or("");
    std::optional<Currency> cur = r.CurrencyField("currency", true);
    if (!r.ok()) {
        return;
    }
    ev->currency = *cur;
    ev->amount = r.Money("amount", true, *cur).value_or(0);
    ev->has_amount = true;
    std::optional<simdjson::dom::array> list = r.List("allocations", false);
    if (!list) {
        return;
    }
    __int128 sum = 0;
    size_t i = 0;
    for (simdjson::dom::element item : *list) {
        std::optional<simdjson::dom::object> obj = ListObject(r, "allocations", i, item);
        if (!obj) {
            return;
        }
        SortedMembers item_members(*obj);
        FieldReader ar(item_members, ItemContext("allocations", i));
        AllocationSpec spec;
        std::optional<std::string> invoice = ar.Name("invoice", true);
        std::optional<int64_t> amount = ar.Money("amount", true, *cur);
        if (!ar.ok()) {
            Status s = ar.TakeStatus();
            r.Fail(s.code(), s.message());
            return;
        }
        spec.invoice = *invoice;
        spec.amount = *amount;
        sum += spec.amount;
        ev->allocations.push_back(std::move(spec));
        ++i;
    }
    if (sum > ev->amount) {
        r.Fail("invalid_amount", "allocations add up to " +
                                     FormatAmount(static_cast<int64_t>(sum), *cur) +
                                     ", more than the payment's " + FormatAmount(ev->amount, *cur));
    }
}

// Fields of events that carry customer, currency and amount (credit notes, credit applied).
void ParseCustomerMoney(FieldReader& r, Event* ev) {
    ev->customer = r.Name("customer", true).value_or("");
    std::optional<Currency> cur = r.CurrencyField("currency", true);
    if (!r.ok()) {
        return;
    }
    ev->currency = *cur;
    ev->amount = r.Money("amount", true, *cur).value_or(0);
    ev->has_amount = true;
}

// An address goes into mail headers and provider requests: no control characters, no spaces in
// an e-mail address, an '@' in it, and a bounded length.
void CheckAddress(FieldReader& r, std::string_view key, const std::optional<std::string>& v,
                  size_t max_bytes) {
    if (!v || !r.ok()) {
        return;
    }
    bool email = key == "email";
    bool bad = v->empty() || v->size() > max_bytes || (email && v->find('@') == std::string::npos);
    for (char c : *v) {
        bad = bad || static_cast<unsigned char>(c) < 0x20 || c == 0x7f || (email && c == ' ');
    }
    if (bad) {
        r.Fail("invalid_field", "field \"" + std::string(key) + "\" is not a usable " +
                                    (email ? "e-mail address" : "phone number") + " (at most " +
                                    std::to_string(max_bytes) + " bytes, no control characters)");
    }
}

void ParseCustomerUpserted(FieldReader& r, Event* ev) {
    ev->customer = r.Name("customer", true).value_or("");
    CustomerAttributes& a = ev->attributes;
    a.name = r.Text("name", false);
    a.kind = r.Text("kind", false);
    a.risk = r.Choice("risk", false, kRisks);
    a.country = r.Text("country", false);
    a.owner = r.Text("owner", false);
    a.email = r.Text("email", false);
    a.phone = r.Text("phone", false);
    CheckAddress(r, "email", a.email, 254);
    CheckAddress(r, "phone", a.phone, 32);
    std::optional<Currency> cur = r.CurrencyField("currency", false);
    if (cur) {
        a.currency = std::string(cur->code());
    }
    if (std::optional<simdjson::dom::element> e = r.Find("terms_days"); e && r.ok()) {
        int64_t days = 0;
        if (e->get_int64().get(days) != simdjson::SUCCESS || days < 0 || days > 3660) {
            r.Fail("invalid_field", "field \"terms_days\" must be a whole number of days, 0-3660");
        } else {
            a.terms_days = days;
        }
    }
    std::optional<std::string> limit = r.MoneyText("credit_limit", false);
    if (limit && r.ok()) {
        // Without a currency the limit is checked against the widest exponent in the table.
        Currency check = cur.value_or(Currency::FromCode("CLF").value());
        Result<int64_t> parsed = ParseAmount(*limit, check);
        if (!parsed.ok()) {
            r.Fail("invalid_amount", "field \"credit_limit\": " + parsed.status().message());
        } else {
            a.credit_limit = *limit;
        }
    }
}

void ParseTypeFields(FieldReader& r, Event* ev) {
    switch (ev->type) {
        case EventType::kCustomerUpserted:
            ParseCustomerUpserted(r, ev);
            break;
        case EventType::kInvoiceIssued:
            ParseInvoiceIssued(r, ev);
            break;
        case EventType::kCreditNoteIssued:
            ev->credit_note = r.Name("credit_note", true).value_or("");
            ParseCustomerMoney(r, ev);
            ev->invoice = r.Name("invoice", false).value_or("");
            break;
        case EventType::kPaymentReceived:
            ParsePaymentReceived(r, ev);
            break;
        case EventType::kCreditApplied:
            ev->invoice = r.Name("invoice", true).value_or("");
            ParseCustomerMoney(r, ev);
            break;
        case EventType::kPaymentReversed:
            ev->payment = r.Name("payment", true).value_or("");
            ev->customer = r.Name("customer", false).value_or("");
            break;
        case EventType::kInvoiceWrittenOff: {
            ev->invoice = r.Name("invoice", true).value_or("");
            ev->customer = r.Name("customer", false).value_or("");
            // The exponent is the invoice's, known only with the state: the grammar is checked
            // here against the widest exponent and the ledger parses the text again.
            std::optional<std::string> text = r.MoneyText("amount", false);
            if (text && r.ok()) {
                Result<int64_t> parsed = ParseAmount(*text, Currency::FromCode("CLF").value());
                if (!parsed.ok()) {
                    r.Fail("invalid_amount", "field \"amount\": " + parsed.status().message());
                } else {
                    ev->has_amount = true;
                    ev->amount_text = *text;
                }
            }
            break;
        }
        case EventType::kDisputeOpened:
            ev->invoice = r.Name("invoice", true).value_or("");
            ev->customer = r.Name("customer", false).value_or("");
            r.Text("reason", false);
            break;
        case EventType::kDisputeResolved:
            ev->invoice = r.Name("invoice", true).value_or("");
            ev->customer = r.Name("customer", false).value_or("");
            r.Text("outcome", false);
            break;
        case EventType::kPromiseMade: {
            ev->promise = r.Name("promise", true).value_or("");
            ParseCustomerMoney(r, ev);
            ev->due = r.DateField("due", true);
            if (r.ok() && *ev->due < ev->date) {
                r.Fail("invalid_date", "field \"due\" " + ev->due->ToString() +
                                           " is before the promise's date " + ev->date.ToString());
            }
            std::optional<simdjson::dom::array> list = r.List("invoices", false);
            if (list) {
                size_t i = 0;
                for (simdjson::dom::element item : *list) {
                    std::string_view s;
                    if (item.get_string().get(s) != simdjson::SUCCESS || s.empty() ||
                        CodePoints(s) > kMaxIdLength) {
                        r.Fail("invalid_field", "field \"invoices\"[" + std::to_string(i) +
                                                    "] must be an invoice number string");
                        break;
                    }
                    ev->promise_invoices.emplace_back(s);
                    ++i;
                }
            }
            break;
        }
        case EventType::kPromiseCancelled:
            ev->promise = r.Name("promise", true).value_or("");
            ev->customer = r.Name("customer", false).value_or("");
            break;
        case EventType::kContactLogged:
            ev->customer = r.Name("customer", true).value_or("");
            ev->channel = r.Choice("channel", true, kChannels).value_or("");
            ev->direction = r.Choice("direction", true, kDirections).value_or("");
            ev->outcome = r.Text("outcome", false).value_or("");
            ev->agent = r.Text("agent", false).value_or("");
            ev->note = r.Text("note", false).value_or("");
            break;
        case EventType::kClockAdvanced:
            break;
        case EventType::kFxRate: {
            std::optional<Currency> cur = r.CurrencyField("currency", true);
            std::optional<Currency> base = r.CurrencyField("base", true);
            std::optional<std::string> rate = r.Text("rate", true);
            if (!r.ok()) {
                break;
            }
            ev->currency = *cur;
            ev->base = *base;
            if (*cur == *base) {
                r.Fail("invalid_field", "fields \"currency\" and \"base\" must differ");
                break;
            }
            Result<Decimal> parsed = ParseDecimal(*rate);
            if (!parsed.ok()) {
                r.Fail("invalid_field", "field \"rate\": " + parsed.status().message());
            } else {
                ev->rate = *parsed;
            }
            break;
        }
    }
}

simdjson::dom::parser& ThreadParser() {
    thread_local simdjson::dom::parser parser = [] {
        simdjson::dom::parser p;
        // On failure the parser allocates on first use instead, with the default depth.
        simdjson::error_code err = p.allocate(70 * 1024, kMaxDepth);
        static_cast<void>(err);
        return p;
    }();
    return parser;
}

}  // namespace

std::string_view EventTypeName(EventType type) {
    return kTypeNames[static_cast<size_t>(type)];
}

std::optional<EventType> EventTypeFromName(std::string_view name) {
    for (size_t i = 0; i < kTypeNames.size(); ++i) {
        if (kTypeNames[i] == name) {
            return static_cast<EventType>(i);
        }
    }
    return std::nullopt;
}

uint64_t StableHash(std::string_view bytes) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

ParsedLine ParseEvent(std::string_view line) {
    ParsedLine out;
    simdjson::dom::element doc;
    simdjson::error_code err = ThreadParser().parse(line.data(), line.size()).get(doc);
    if (err != simdjson::SUCCESS) {
        out.status = Status::Error("invalid_json", std::string("the line is not valid JSON: ") +
                                                       simdjson::error_message(err));
        return out;
    }
    simdjson::dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) {
        out.status = Status::Error("invalid_json", "the line is JSON but not an object");
        return out;
    }
    // The canonical form is written first: the same walk finds a repeated key at any depth.
    SortedMembers members(obj);
    Event& ev = out.event;
    ev.canonical.reserve(line.size() + 24);
    std::string dup;
    if (!WriteCanonicalEvent(members, &ev.canonical, &dup)) {
        ev.canonical.clear();
        out.status = Status::Error("invalid_json", "key " + Quoted(dup) + " appears twice");
        // The id can still be told when it is not the repeated key.
        std::string_view id;
        if (dup != "id" && obj.at_key("id").get_string().get(id) == simdjson::SUCCESS &&
            !id.empty() && CodePoints(id) <= kMaxIdLength) {
            out.id = std::string(id);
        }
        return out;
    }

    FieldReader r(members, "");
    std::optional<std::string> id = r.Name("id", true);
    if (!r.ok()) {
        out.status = r.TakeStatus();
        return out;
    }
    ev.id = *id;
    out.id = *id;
    std::optional<std::string> type = r.Text("type", true);
    if (!r.ok()) {
        out.status = r.TakeStatus();
        return out;
    }
    std::optional<EventType> t = EventTypeFromName(*type);
    if (!t) {
        out.status = Status::Error("unknown_type", "event " + Quoted(ev.id) + ": type " +
                                                       Quoted(*type) + " is not a protocol type");
        return out;
    }
    ev.type = *t;
    std::optional<Date> date = r.DateField("date", true);
    ev.source = r.Name("source", false).value_or("default");
    if (r.ok()) {
        ev.date = *date;
        ParseTypeFields(r, &ev);
    }
    if (!r.ok()) {
        Status s = r.TakeStatus();
        out.status =
            Status::Error(s.code(), "event " + Quoted(ev.id) + " (" + *type + "): " + s.message());
        return out;
    }

    ev.content_hash = StableHash(ev.canonical);
    return out;
}

}  // namespace rms
