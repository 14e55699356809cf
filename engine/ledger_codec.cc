#include "engine/ledger_codec.h"

#include "engine/parallel.h"

#include <algorithm>
#include <cstring>

namespace rms {

namespace {

// Bumped whenever a record's encoding changes.
constexpr uint8_t kFormatVersion = 10;

// Appends values to a byte string.
class Writer {
public:
    explicit Writer(std::string* out) : out_(out) {}
    void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
    void Varint(uint64_t v) {
        while (v >= 0x80) {
            out_->push_back(static_cast<char>(v | 0x80));
            v >>= 7;
        }
        out_->push_back(static_cast<char>(v));
    }
    void Signed(int64_t v) {
        Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
    }
    void Str(std::string_view s) {
        Varint(s.size());
        out_->append(s);
    }
    void OptStr(const std::optional<std::string>& s) {
        U8(s.has_value() ? 1 : 0);
        if (s) {
            Str(*s);
        }
    }
    void Day(Date d) { Signed(d.days()); }
    void Cur(Currency c) { Str(c.code()); }
    void Bool(bool b) { U8(b ? 1 : 0); }
    void F64(double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof(bits));
        Varint(bits);
    }
    void OptF64(const std::optional<double>& v) {
        U8(v.has_value() ? 1 : 0);
        if (v) {
            F64(*v);
        }
    }

private:
    std::string* out_;
};

// Reads what Writer wrote; any overrun or bad value marks the reader failed.
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    bool ok() const { return ok_ && pos_ <= in_.size(); }
    bool AtEnd() const { return pos_ == in_.size(); }
    // What is left unread.
    std::string_view Rest() const { return pos_ < in_.size() ? in_.substr(pos_) : ""; }
    uint8_t U8() {
        if (pos_ >= in_.size()) {
            ok_ = false;
            return 0;
        }
        return static_cast<uint8_t>(in_[pos_++]);
    }
    uint64_t Varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            uint8_t b = U8();
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        ok_ = false;
        return 0;
    }
    int64_t Signed() {
        uint64_t u = Varint();
        return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    }
    std::string Str() {
        uint64_t n = Varint();
        if (!ok_ || n > in_.size() - pos_) {
            ok_ = false;
            return std::string();
        }
        std::string s(in_.substr(pos_, n));
        pos_ += n;
        return s;
    }
    // A length-prefixed string, pointing into the input.
    std::string_view View() {
        uint64_t n = Varint();
        if (!ok_ || n > in_.size() - pos_) {
            ok_ = false;
            return std::string_view();
        }
        std::string_view s = in_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    size_t remaining() const { return pos_ <= in_.size() ? in_.size() - pos_ : 0; }
    std::optional<std::string> OptStr() {
        if (U8() == 0) {
            return std::nullopt;
        }
        return Str();
    }
    Date Day() { return Date(static_cast<int32_t>(Signed())); }
    Currency Cur() {
        std::optional<Currency> c = Currency::FromCode(Str());
        if (!c) {
            ok_ = false;
            return Currency();
        }
        return *c;
    }
    bool Bool() { return U8() != 0; }
    double F64() {
        uint64_t bits = Varint();
        double v;
        std::memcpy(&v, &bits, sizeof(v));
        return v;
    }
    std::optional<double> OptF64() {
        if (U8() == 0) {
            return std::nullopt;
        }
        return F64();
    }

private:
    std::string_view in_;
    size_t pos_ = 0;
    bool ok_ = true;
};

void PutBE32(std::string* out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out->push_back(static_cast<char>((v >> shift) & 0xff));
    }
}

void PutBE64(std::string* out, uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out->push_back(static_cast<char>((v >> shift) & 0xff));
    }
}

uint64_t GetBE(std::string_view s) {
    uint64_t v = 0;
    for (char c : s) {
        v = (v << 8) | static_cast<uint8_t>(c);
    }
    return v;
}

std::string RecordKey(char kind, uint32_t idx) {
    std::string key(1, kind);
    PutBE32(&key, idx);
    return key;
}

// Dates sort as unsigned big-endian once shifted by 2^31.
std::string DayKey(Date d) {
    std::string key(1, 'h');
    PutBE32(&key, static_cast<uint32_t>(d.days()) ^ 0x80000000u);
    return key;
}

void EncodeAttributes(Writer& w, const CustomerAttributes& a) {
    w.OptStr(a.name);
    w.OptStr(a.kind);
    w.OptStr(a.risk);
    w.OptStr(a.credit_limit);
    w.OptStr(a.currency);
    w.U8(a.terms_days.has_value() ? 1 : 0);
    if (a.terms_days) {
        w.Signed(*a.terms_days);
    }
    w.OptStr(a.country);
    w.OptStr(a.owner);
    w.OptStr(a.email);
    w.OptStr(a.phone);
}

CustomerAttributes DecodeAttributes(Reader& r) {
    CustomerAttributes a;
    a.name = r.OptStr();
    a.kind = r.OptStr();
    a.risk = r.OptStr();
    a.credit_limit = r.OptStr();
    a.currency = r.OptStr();
    if (r.U8() != 0) {
        a.terms_days = r.Signed();
    }
    a.country = r.OptStr();
    a.owner = r.OptStr();
    a.email = r.OptStr();
    a.phone = r.OptStr();
    return a;
}

void EncodeCustomer(const CustomerRec& c, std::string* out) {
    Writer w(out);
    w.Str(c.id);
    w.Day(c.created);
    EncodeAttributes(w, c.attributes);
    w.Str(c.segment);
    w.Str(c.segment_reason);
    w.Varint(c.dispute_dates.size());
    for (Date d : c.dispute_dates) {
        w.Day(d);
    }
    w.Varint(c.episode);
    w.Str(c.strategy);
    w.Bool(c.held);
    w.Varint(c.fired_customer_steps.size());
    for (const std::string& s : c.fired_customer_steps) {
        w.Str(s);
    }
    // Where earlier stores kept the customer's own timeline counter: now always 0, the one
    // timeline clock being in the meta record.
    w.Varint(0);
    w.Bool(c.last_contact.has_value());
    if (c.last_contact) {
        w.Day(*c.last_contact);
    }
    w.Str(c.last_contact_channel);
    w.Str(c.last_contact_step);
}

void EncodeAction(const ActionRec& a, std::string* out) {
    Writer w(out);
    w.Varint(a.id);
    w.Str(a.key);
    w.Varint(a.customer);
    w.Str(a.invoice);
    w.Str(a.strategy);
    w.Str(a.step);
    w.U8(static_cast<uint8_t>(a.kind));
    w.Str(a.channel);
    w.Str(a.template_name);
    w.Day(a.step_date);
    w.Day(a.created);
    w.Str(a.caused_by);
    w.Str(a.status);
    w.Varint(a.attempts);
    w.Str(a.last_error);
    w.Signed(a.next_attempt_ms);
}

void EncodeSegmentChange(const SegmentChange& g, std::string* out) {
    Writer w(out);
    w.Varint(g.customer);
    w.Str(g.from);
    w.Str(g.to);
    w.Str(g.reason);
    w.Day(g.date);
    w.Str(g.caused_by);
}

void EncodeInvoice(const InvoiceRec& inv, std::string* out) {
    Writer w(out);
    w.Str(inv.id);
    w.Varint(inv.customer);
    w.Cur(inv.currency);
    w.Day(inv.issued);
    w.Varint(inv.seq);
    w.Signed(inv.amount);
    w.Signed(inv.written_off);
    w.Bool(inv.disputed);
    w.Bool(inv.closed_by_write_off);
    w.Varint(inv.installments.size());
    for (const InstallmentRec& i : inv.installments) {
        w.Day(i.due);
        w.Signed(i.amount);
        w.Signed(i.open);
    }
    w.U8(inv.paid_date.has_value() ? 1 : 0);
    if (inv.paid_date) {
        w.Day(*inv.paid_date);
    }
    w.Str(inv.strategy);
    w.Signed(inv.last_offset);
    w.Bool(inv.held);
}

void EncodeApplications(Writer& w, const std::vector<Application>& apps) {
    w.Varint(apps.size());
    for (const Application& a : apps) {
        w.Varint(a.invoice);
        w.Varint(a.installment);
        w.Signed(a.amount);
    }
}

std::vector<Application> DecodeApplications(Reader& r) {
    std::vector<Application> apps(r.Varint());
    for (Application& a : apps) {
        a.invoice = static_cast<uint32_t>(r.Varint());
        a.installment = static_cast<uint32_t>(r.Varint());
        a.amount = r.Signed();
    }
    return apps;
}

void EncodeCredit(const CreditRec& c, std::string* out) {
    Writer w(out);
    w.Str(c.id);
    w.Varint(c.customer);
    w.Cur(c.currency);
    w.Day(c.date);
    w.Varint(c.seq);
    w.Signed(c.amount);
    w.Signed(c.unapplied);
    w.Bool(c.reversed);
    EncodeApplications(w, c.applied);
    EncodeApplications(w, c.from_credit);
}

void EncodePromise(const PromiseRec& p, std::string* out) {
    Writer w(out);
    w.Str(p.id);
    w.Varint(p.customer);
    w.Cur(p.currency);
    w.Day(p.date);
    w.Day(p.due);
    w.Signed(p.amount);
    w.Signed(p.paid);
    w.U8(static_cast<uint8_t>(p.status));
    w.Day(p.status_date);
    w.Str(p.status_event);
    w.Varint(p.invoices.size());
    for (const std::string& s : p.invoices) {
        w.Str(s);
    }
    w.Str(p.contact_channel);
    w.Str(p.contact_step);
}

void EncodeFigures(Writer& w, const Figures& f) {
    w.Signed(f.open);
    w.Signed(f.overdue);
    w.Signed(f.disputed);
    w.Signed(f.unapplied);
    w.Signed(f.written_off);
    for (int64_t v : f.aging) {
        w.Signed(v);
    }
    w.Signed(f.sales_window);
    w.OptF64(f.kpis.dso_standard);
    w.OptF64(f.kpis.dso_countback);
    w.OptF64(f.kpis.dso_best_possible);
    w.OptF64(f.kpis.add);
    w.OptF64(f.kpis.cei);
}

Figures DecodeFigures(Reader& r) {
    Figures f;
    f.open = r.Signed();
    f.overdue = r.Signed();
    f.disputed = r.Signed();
    f.unapplied = r.Signed();
    f.written_off = r.Signed();
    for (int64_t& v : f.aging) {
        v = r.Signed();
    }
    f.sales_window = r.Signed();
    f.kpis.dso_standard = r.OptF64();
    f.kpis.dso_countback = r.OptF64();
    f.kpis.dso_best_possible = r.OptF64();
    f.kpis.add = r.OptF64();
    f.kpis.cei = r.OptF64();
    return f;
}

void EncodeClosedDay(const ClosedDay& day, std::string* out) {
    Writer w(out);
    w.Day(day.date);
    w.Varint(day.currencies.size());
    for (const auto& [currency, figures] : day.currencies) {
        w.Cur(currency);
        EncodeFigures(w, figures);
    }
}

// The meta record: format, business date, next event seq, then the timeline clock (absent from
// stores written before it existed, whose customers kept counters of their own).
std::string EncodeMeta(const Ledger& ledger, uint64_t next_seq, uint64_t timeline_clock) {
    std::string out;
    Writer w(&out);
    w.U8(kFormatVersion);
    w.U8(ledger.business_date().has_value() ? 1 : 0);
    if (ledger.business_date()) {
        w.Day(*ledger.business_date());
    }
    w.Varint(next_seq);
    w.Varint(timeline_clock);
    return out;
}

Status Corrupt(std::string_view key) {
    std::string shown;
    for (unsigned char c : key.substr(0, 1)) {
        shown.push_back(static_cast<char>(c));
    }
    return Status::Error("unavailable", "stored record of kind '" + shown +
                                            "' cannot be decoded: the store is damaged");
}

}  // namespace

std::string MarkerKey(std::string_view source, std::string_view id) {
    std::string key(1, 'k');
    Writer w(&key);
    w.Varint(source.size());  // a source can be 512 bytes: one length byte would wrap
    key.append(source);
    key.append(id);
    return key;
}

std::string EventLogKey(uint64_t seq) {
    std::string key(1, 'e');
    PutBE64(&key, seq);
    return key;
}

std::string OffsetKey(std::string_view topic, int32_t partition) {
    std::string key(1, 'o');
    Writer w(&key);
    w.Varint(topic.size());
    key.append(topic);
    PutBE32(&key, static_cast<uint32_t>(partition));
    return key;
}

std::string EncodeOffset(int64_t next_offset) {
    std::string out;
    PutBE64(&out, static_cast<uint64_t>(next_offset));
    return out;
}

Result<int64_t> DecodeOffset(std::string_view value) {
    if (value.size() != 8) {
        return Status::Error("unavailable", "stored consumed offset has " +
                                                std::to_string(value.size()) + " bytes, not 8");
    }
    return static_cast<int64_t>(GetBE(value));
}

std::string EncodeMarker(const Marker& m) {
    std::string out;
    PutBE64(&out, m.seq);
    PutBE64(&out, m.hash);
    return out;
}

// "f" channel-length channel step: one channel and step's effectiveness counts.
std::string EffectRecordKey(const EffectKey& k) {
    std::string key(1, 'f');
    Writer w(&key);
    w.Str(k.first);
    key.append(k.second);
    return key;
}

std::string TimelinePrefix(uint32_t customer) {
    return RecordKey('t', customer);
}

std::string TimelineKey(uint32_t customer, uint64_t seq) {
    std::string key = TimelinePrefix(customer);
    PutBE64(&key, ~seq);
    return key;
}

void AppendTimelineEntry(const TimelineEntry& e, std::string* out) {
    Writer w(out);
    w.Str(e.kind);
    w.Day(e.date);
    w.Str(e.caused_by);
    w.Varint(e.fields.size());
    for (const auto& [name, value] : e.fields) {
        w.Str(name);
        w.Str(value);
    }
}

std::string EncodeTimelineEntry(const TimelineEntry& e) {
    std::string out;
    AppendTimelineEntry(e, &out);
    return out;
}

std::optional<TimelineEntry> DecodeTimelineEntry(std::string_view key, std::string_view value) {
    if (key.size() != 13 || key[0] != 't') {
        return std::nullopt;
    }
    TimelineEntry e;
    e.customer = static_cast<uint32_t>(GetBE(key.substr(1, 4)));
    e.seq = ~GetBE(key.substr(5, 8));
    Reader r(value);
    e.kind = r.Str();
    e.date = r.Day();
    e.caused_by = r.Str();
    uint64_t n = r.Varint();
    for (uint64_t i = 0; i < n && r.ok(); ++i) {
        std::string name = r.Str();
        std::string text = r.Str();
        e.fields.emplace_back(std::move(name), std::move(text));
    }
    if (!r.ok() || !r.AtEnd()) {
        return std::nullopt;
    }
    return e;
}

std::optional<Marker> DecodeMarker(std::string_view value) {
    if (value.size() != 16) {
        return std::nullopt;
    }
    return Marker{GetBE(value.substr(0, 8)), GetBE(value.substr(8, 8))};
}

void AppendLogEntry(std::string* block, std::string_view canonical) {
    Writer w(block);
    w.Str(canonical);
}

namespace {

// Calls fn(seq, canonical) for each entry of the log block whose first event is `first_seq`,
// until fn returns false. False when the block does not decode.
template <typename Fn>
bool ForEachInBlock(uint64_t first_seq, std::string_view block, Fn&& fn) {
    Reader r(block);
    uint64_t seq = first_seq;
    while (r.ok() && r.remaining() > 0) {
        std::string_view canonical = r.View();
        if (!r.ok()) {
            return false;
        }
        if (!fn(seq, canonical)) {
            return true;
        }
        ++seq;
    }
    return r.ok();
}

}  // namespace

Result<std::optional<std::string>> ReadLoggedEvent(const storage::Store& store, uint64_t seq) {
    auto block = store.Floor("e", EventLogKey(seq));
    if (!block.ok()) {
        return block.status();
    }
    std::optional<std::string> found;
    if (!block->has_value()) {
        return found;
    }
    const auto& [key, value] = **block;
    uint64_t first = GetBE(std::string_view(key).substr(1));
    bool decoded = ForEachInBlock(first, value, [&](uint64_t at, std::string_view canonical) {
        if (at == seq) {
            found = std::string(canonical);
            return false;
        }
        return true;
    });
    if (!decoded) {
        return Corrupt(key);
    }
    return found;
}

Status ForEachLoggedEvent(const storage::Store& store,
                          const std::function<bool(uint64_t, std::string_view)>& fn) {
    Status failed;
    bool stopped = false;
    Status scanned = store.Scan("e", [&](std::string_view key, std::string_view value) {
        bool more = true;
        if (!ForEachInBlock(GetBE(key.substr(1)), value, [&](uint64_t seq, std::string_view c) {
                more = fn(seq, c);
                return more;
            })) {
            failed = Corrupt(key);
            return false;
        }
        stopped = !more;
        return more;
    });
    static_cast<void>(stopped);
    return scanned.ok() ? failed : scanned;
}

namespace {

// Puts the records at `indexes` of `records` under keys of `kind`, each encoded by `encode`
// straight into the batch.
template <typename Indexes, typename Rec>
void PutRecords(char kind, const Indexes& indexes, const std::vector<Rec>& records,
                void (*encode)(const Rec&, std::string*), storage::Batch* batch) {
    for (uint32_t i : indexes) {
        batch->PutEncoded(RecordKey(kind, i), [&](std::string* out) { encode(records[i], out); });
    }
}

}  // namespace

void EncodeDirty(const Ledger& ledger, const DirtySet& dirty, uint64_t next_seq,
                 storage::Batch* batch) {
    PutRecords('c', dirty.customers, ledger.customers(), EncodeCustomer, batch);
    PutRecords('i', dirty.invoices, ledger.invoices(), EncodeInvoice, batch);
    PutRecords('p', dirty.payments, ledger.payments(), EncodeCredit, batch);
    PutRecords('n', dirty.credit_notes, ledger.credit_notes(), EncodeCredit, batch);
    PutRecords('r', dirty.promises, ledger.promises(), EncodePromise, batch);
    PutRecords('a', dirty.actions, ledger.actions(), EncodeAction, batch);
    PutRecords('g', dirty.segment_changes, ledger.segment_changes(), EncodeSegmentChange, batch);
    for (Date d : dirty.closed_days) {
        batch->PutEncoded(DayKey(d),
                          [&](std::string* out) { EncodeClosedDay(ledger.history().at(d), out); });
    }
    for (const EffectKey& k : dirty.effects) {
        const EffectCounts& n = ledger.effects().at(k);
        std::string key = EffectRecordKey(k);
        std::string value;
        Writer w(&value);
        for (int64_t v : {n.contacts, n.payments_7d, n.promises, n.promises_kept}) {
            w.Signed(v);
        }
        batch->Put(key, value);
    }
    for (const TimelineEntry& e : dirty.timeline) {
        batch->PutEncoded(TimelineKey(e.customer, e.seq),
                          [&](std::string* out) { AppendTimelineEntry(e, out); });
    }
    if (dirty.meta) {
        for (const auto& [pair, rate] : ledger.fx_rates()) {
            std::string key(1, 'x');
            key.append(pair.first.code());
            key.append(pair.second.code());
            std::string value;
            Writer w(&value);
            w.Signed(rate.rate.mantissa);
            w.Signed(rate.rate.scale);
            w.Day(rate.date);
            w.Varint(rate.seq);
            batch->Put(key, value);
        }
    }
    batch->Put("m", EncodeMeta(ledger, next_seq, ledger.timeline_clock()));
}

Result<LoadedState> LoadState(const storage::Store& store, const LedgerOptions& options) {
    LoadedState state;
    state.ledger = std::make_unique<Ledger>(options);
    Ledger& ledger = *state.ledger;
    Status failed;

    std::optional<Date> business_date;
    uint64_t timeline_clock = 0;
    Result<std::optional<std::string>> meta = store.Get("m");
    if (!meta.ok()) {
        return meta.status();
    }
    if (meta->has_value()) {
        Reader r(**meta);
        uint8_t version = r.U8();
        if (version != kFormatVersion) {
            return Status::Error("unavailable",
                                 "the store was written in format " + std::to_string(version) +
                                     ", this rmsd reads format " + std::to_string(kFormatVersion) +
                                     ": no migration exists yet");
        }
        if (r.U8() != 0) {
            business_date = r.Day();
        }
        state.next_seq = r.Varint();
        if (!r.AtEnd()) {
            timeline_clock = r.Varint();
        }
        if (!r.ok() || !r.AtEnd()) {
            return Corrupt("m");
        }
    }

    // Records of one kind are numbered densely from 0 (their index in the ledger's vector), so
    // the last key of a kind gives its count: every vector and id index is sized once.
    constexpr uint64_t kMaxReserved = uint64_t{1} << 25;
    Ledger::RestoreCounts counts;
    for (auto [kind, count] : {std::pair{'c', &counts.customers},
                               {'i', &counts.invoices},
                               {'p', &counts.payments},
                               {'n', &counts.credit_notes},
                               {'r', &counts.promises},
                               {'a', &counts.actions}}) {
        auto last = store.Floor(std::string(1, kind), RecordKey(kind, UINT32_MAX));
        if (!last.ok()) {
            return last.status();
        }
        if (last->has_value()) {
            const std::string& key = (*last)->first;
            if (key.size() != 5 || GetBE(key.substr(1)) == UINT32_MAX) {
                return Corrupt(key);
            }
            // Room for at most kMaxReserved: a damaged last key must not ask for more than a few
            // times the design scale (the scan then reports the numbers missing).
            *count =
                static_cast<uint32_t>(std::min<uint64_t>(GetBE(key.substr(1)) + 1, kMaxReserved));
        }
    }
    ledger.ReserveForRestore(counts);

    // Decodes the records of `kind`, numbered from 0, in key order; the first fault (a number
    // missing, a record that does not decode) goes to `*fault`.
    auto scan = [&](char kind, Status* fault, const std::function<bool(Reader&)>& decode) {
        uint32_t expected = 0;
        return store.Scan(std::string(1, kind), [&](std::string_view key, std::string_view value) {
            if (key.size() != 5 || GetBE(key.substr(1)) != expected) {
                *fault =
                    Status::Error("unavailable", "stored records of kind '" + std::string(1, kind) +
                                                     "' miss number " + std::to_string(expected) +
                                                     ": the store is damaged");
                return false;
            }
            ++expected;
            Reader r(value);
            if (!decode(r) || !r.ok()) {
                *fault = Corrupt(key);
                return false;
            }
            return true;
        });
    };
    // The invoices, the most numerous records, are decoded on a thread of their own while this
    // one decodes the rest. An invoice's customer is checked once both are done.
    Status invoices_scanned;
    Status invoice_failed;
    uint64_t invoice_customers = 0;  // one more than the highest customer index of an invoice
    auto load_invoices = [&] {
        invoices_scanned = scan('i', &invoice_failed, [&](Reader& r) {
            InvoiceRec inv;
            inv.id = r.Str();
            inv.customer = static_cast<uint32_t>(r.Varint());
            inv.currency = r.Cur();
            inv.issued = r.Day();
            inv.seq = r.Varint();
            inv.amount = r.Signed();
            inv.written_off = r.Signed();
            inv.disputed = r.Bool();
            inv.closed_by_write_off = r.Bool();
            inv.installments.resize(
                static_cast<uint32_t>(std::min<uint64_t>(r.Varint(), UINT32_MAX)));
            for (InstallmentRec& i : inv.installments) {
                i.due = r.Day();
                i.amount = r.Signed();
                i.open = r.Signed();
            }
            if (r.U8() != 0) {
                inv.paid_date = r.Day();
            }
            inv.strategy = r.Str();
            inv.last_offset = static_cast<int32_t>(r.Signed());
            inv.held = r.Bool();
            invoice_customers = std::max<uint64_t>(invoice_customers, uint64_t{inv.customer} + 1);
            ledger.RestoreInvoice(std::move(inv));
            return true;
        });
    };
    std::vector<Status> results;
    auto load_the_rest = [&] {
        results.push_back(scan('c', &failed, [&](Reader& r) {
            CustomerRec c;
            c.id = r.Str();
            c.created = r.Day();
            c.attributes = DecodeAttributes(r);
            c.segment = r.Str();
            c.segment_reason = r.Str();
            c.dispute_dates.resize(r.Varint());
            for (Date& d : c.dispute_dates) {
                d = r.Day();
            }
            c.episode = static_cast<uint32_t>(r.Varint());
            c.strategy = r.Str();
            c.held = r.Bool();
            c.fired_customer_steps.resize(r.Varint());
            for (std::string& s : c.fired_customer_steps) {
                s = r.Str();
            }
            // A store written before the timeline clock: its customers' own counters.
            timeline_clock = std::max(timeline_clock, r.Varint());
            if (r.Bool()) {
                c.last_contact = r.Day();
            }
            c.last_contact_channel = r.Str();
            c.last_contact_step = r.Str();
            ledger.RestoreCustomer(std::move(c));
            return true;
        }));
        auto decode_credit = [&](Reader& r, bool payment) {
            CreditRec c;
            c.id = r.Str();
            c.customer = static_cast<uint32_t>(r.Varint());
            c.currency = r.Cur();
            c.date = r.Day();
            c.seq = r.Varint();
            c.amount = r.Signed();
            c.unapplied = r.Signed();
            c.reversed = r.Bool();
            c.applied = DecodeApplications(r);
            c.from_credit = DecodeApplications(r);
            bool valid = c.customer < ledger.customers().size();
            if (payment) {
                ledger.RestorePayment(std::move(c));
            } else {
                ledger.RestoreCreditNote(std::move(c));
            }
            return valid;
        };
        results.push_back(scan('p', &failed, [&](Reader& r) { return decode_credit(r, true); }));
        results.push_back(scan('n', &failed, [&](Reader& r) { return decode_credit(r, false); }));
        results.push_back(scan('r', &failed, [&](Reader& r) {
            PromiseRec p;
            p.id = r.Str();
            p.customer = static_cast<uint32_t>(r.Varint());
            p.currency = r.Cur();
            p.date = r.Day();
            p.due = r.Day();
            p.amount = r.Signed();
            p.paid = r.Signed();
            p.status = static_cast<PromiseStatus>(r.U8());
            p.status_date = r.Day();
            p.status_event = r.Str();
            p.invoices.resize(r.Varint());
            for (std::string& s : p.invoices) {
                s = r.Str();
            }
            p.contact_channel = r.Str();
            p.contact_step = r.Str();
            bool valid = p.customer < ledger.customers().size();
            ledger.RestorePromise(std::move(p));
            return valid;
        }));
        results.push_back(scan('a', &failed, [&](Reader& r) {
            ActionRec a;
            a.id = r.Varint();
            a.key = r.Str();
            a.customer = static_cast<uint32_t>(r.Varint());
            a.invoice = r.Str();
            a.strategy = r.Str();
            a.step = r.Str();
            a.kind = static_cast<rules::ActionKind>(r.U8());
            a.channel = r.Str();
            a.template_name = r.Str();
            a.step_date = r.Day();
            a.created = r.Day();
            a.caused_by = r.Str();
            a.status = r.Str();
            a.attempts = static_cast<uint32_t>(r.Varint());
            a.last_error = r.Str();
            a.next_attempt_ms = r.Signed();
            bool valid = a.customer < ledger.customers().size();
            ledger.RestoreAction(std::move(a));
            return valid;
        }));
        results.push_back(scan('g', &failed, [&](Reader& r) {
            SegmentChange g;
            g.customer = static_cast<uint32_t>(r.Varint());
            g.from = r.Str();
            g.to = r.Str();
            g.reason = r.Str();
            g.date = r.Day();
            g.caused_by = r.Str();
            bool valid = g.customer < ledger.customers().size();
            ledger.RestoreSegmentChange(std::move(g));
            return valid;
        }));
        results.push_back(store.Scan("f", [&](std::string_view key, std::string_view value) {
            Reader k(key.substr(1));
            std::string channel = k.Str();
            std::string step(k.Rest());
            Reader r(value);
            EffectCounts n;
            n.contacts = r.Signed();
            n.payments_7d = r.Signed();
            n.promises = r.Signed();
            n.promises_kept = r.Signed();
            if (!k.ok() || !r.ok()) {
                failed = Corrupt(key);
                return false;
            }
            ledger.RestoreEffect({channel, step}, n);
            return true;
        }));
        // Closed days are keyed by their date, not numbered.
        results.push_back(store.Scan("h", [&](std::string_view key, std::string_view value) {
            Reader r(value);
            ClosedDay day;
            day.date = r.Day();
            uint64_t n = r.Varint();
            for (uint64_t i = 0; i < n && r.ok(); ++i) {
                Currency c = r.Cur();
                day.currencies.emplace(c, DecodeFigures(r));
            }
            if (!r.ok()) {
                failed = Corrupt(key);
                return false;
            }
            ledger.RestoreClosedDay(std::move(day));
            return true;
        }));
        results.push_back(store.Scan("x", [&](std::string_view key, std::string_view value) {
            std::optional<Currency> cur = Currency::FromCode(key.substr(1, 3));
            std::optional<Currency> base = Currency::FromCode(key.substr(4, 3));
            Reader r(value);
            FxRate rate;
            rate.rate.mantissa = r.Signed();
            rate.rate.scale = static_cast<int>(r.Signed());
            rate.date = r.Day();
            rate.seq = r.Varint();
            if (!cur || !base || !r.ok()) {
                failed = Corrupt(key);
                return false;
            }
            ledger.RestoreFxRate(*cur, *base, rate);
            return true;
        }));
    };
    RunBoth(load_invoices, load_the_rest);
    results.push_back(invoices_scanned);
    for (Status& s : results) {
        if (!s.ok()) {
            return s;
        }
    }
    for (const Status& s : {failed, invoice_failed}) {
        if (!s.ok()) {
            return s;
        }
    }
    if (invoice_customers > ledger.customers().size()) {
        return Status::Error("unavailable",
                             "a stored invoice names a customer that is not stored: the store is "
                             "damaged");
    }
    ledger.RestoreMeta(business_date, timeline_clock);
    if (ledger.business_date()) {
        ledger.FinishRestore();
    }
    return state;
}

std::string DumpState(const Ledger& ledger, DumpScope scope) {
    const bool deliveries = scope == DumpScope::kAll;
    storage::Batch batch;
    DirtySet all;
    for (uint32_t i = 0; i < ledger.customers().size() && deliveries; ++i) {
        all.customers.insert(i);
    }
    for (uint32_t i = 0; i < ledger.invoices().size(); ++i) {
        all.invoices.insert(i);
    }
    for (uint32_t i = 0; i < ledger.payments().size(); ++i) {
        all.payments.insert(i);
    }
    for (uint32_t i = 0; i < ledger.credit_notes().size(); ++i) {
        all.credit_notes.insert(i);
    }
    for (uint32_t i = 0; i < ledger.promises().size(); ++i) {
        all.promises.insert(i);
    }
    for (const auto& [date, day] : ledger.history()) {
        all.closed_days.push_back(date);
    }
    for (uint32_t i = 0; i < ledger.actions().size() && deliveries; ++i) {
        all.actions.push_back(i);
    }
    for (uint32_t i = 0; i < ledger.segment_changes().size(); ++i) {
        all.segment_changes.push_back(i);
    }
    for (const auto& [key, counts] : ledger.effects()) {
        if (deliveries) {
            all.effects.insert(key);
        }
    }
    all.meta = true;
    EncodeDirty(ledger, all, 0, &batch);
    if (!deliveries) {
        for (uint32_t i = 0; i < ledger.customers().size(); ++i) {
            CustomerRec c = ledger.customers()[i];
            c.last_contact.reset();
            c.last_contact_channel.clear();
            c.last_contact_step.clear();
            batch.PutEncoded(RecordKey('c', i), [&](std::string* out) { EncodeCustomer(c, out); });
        }
        for (uint32_t i = 0; i < ledger.actions().size(); ++i) {
            ActionRec a = ledger.actions()[i];
            a.status = "pending";
            a.attempts = 0;
            a.last_error.clear();
            a.next_attempt_ms = 0;
            batch.PutEncoded(RecordKey('a', i), [&](std::string* out) { EncodeAction(a, out); });
        }
    }
    std::string out;
    Writer w(&out);
    // The timeline clock counts delivery entries too: a rebuild from the events cannot match it.
    const std::string meta_without_clock = EncodeMeta(ledger, 0, 0);
    batch.ForEach([&](std::string_view key, std::string_view value, bool) {
        w.Str(key);
        w.Str(!deliveries && key == "m" ? meta_without_clock : value);
    });
    return out;
}

}  // namespace rms

namespace rms {

Result<std::unique_ptr<Ledger>> RebuildFromEventLog(const storage::Store& store,
                                                    const LedgerOptions& options) {
    auto ledger = std::make_unique<Ledger>(options);
    Status failed;
    Status scanned = ForEachLoggedEvent(store, [&](uint64_t seq, std::string_view value) {
        ParsedLine parsed = ParseEvent(value);
        Status s = parsed.status.ok() ? ledger->Apply(parsed.event, seq) : parsed.status;
        if (!s.ok()) {
            failed = Status::Error("unavailable", "event log entry " + std::to_string(seq) +
                                                      " does not apply again: " + s.message());
            return false;
        }
        return true;
    });
    if (!scanned.ok()) {
        return scanned;
    }
    if (!failed.ok()) {
        return failed;
    }
    ledger->TakeDirty();
    return ledger;
}

}  // namespace rms
