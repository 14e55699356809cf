#include "engine/ledger.h"

#include "engine/fx.h"
#include "engine/parallel.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace rms {

namespace {

std::string Q(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

// Erases a map entry that has dropped to zero so the maps hold only what is open.
void AddToDay(std::map<int32_t, int64_t>* m, int32_t day, int64_t delta) {
    auto [it, inserted] = m->try_emplace(day, 0);
    it->second += delta;
    if (it->second == 0) {
        m->erase(it);
    }
}

}  // namespace

int64_t InvoiceRec::open() const {
    int64_t sum = 0;
    for (const InstallmentRec& i : installments) {
        sum += i.open;
    }
    return sum;
}

std::string_view InvoiceRec::status() const {
    if (open() > 0) {
        return "open";
    }
    return closed_by_write_off ? "written_off" : "paid";
}

const InstallmentRec* InvoiceRec::OldestOpen() const {
    for (const InstallmentRec& i : installments) {
        if (i.open > 0) {
            return &i;
        }
    }
    return nullptr;
}

std::string_view PromiseStatusName(PromiseStatus s) {
    switch (s) {
        case PromiseStatus::kOpen:
            return "open";
        case PromiseStatus::kKept:
            return "kept";
        case PromiseStatus::kBroken:
            return "broken";
        case PromiseStatus::kCancelled:
            return "cancelled";
    }
    return "open";
}

void DirtyIndexes::Normalize() {
    std::sort(indexes_.begin(), indexes_.end());
    indexes_.erase(std::unique(indexes_.begin(), indexes_.end()), indexes_.end());
}

bool DirtyIndexes::count(uint32_t index) const {
    return std::find(indexes_.begin(), indexes_.end(), index) != indexes_.end();
}

bool DirtySet::empty() const {
    return customers.empty() && invoices.empty() && payments.empty() && credit_notes.empty() &&
           promises.empty() && actions.empty() && segment_changes.empty() && closed_days.empty() &&
           timeline.empty() && effects.empty() && !meta;
}

Ledger::Ledger(LedgerOptions options)
    : options_(options), rules_(std::make_shared<rules::RulesConfig>(rules::DefaultRules())) {}

DirtySet Ledger::TakeDirty() {
    DirtySet out = std::move(dirty_);
    dirty_ = DirtySet();
    for (DirtyIndexes* d :
         {&out.customers, &out.invoices, &out.payments, &out.credit_notes, &out.promises}) {
        d->Normalize();
    }
    return out;
}

int32_t Ledger::DaysPastDue(Date due) const {
    return business_date_ ? *business_date_ - due : 0;
}

// ---------------------------------------------------------------------------------------------
// Dates

Status Ledger::CheckDate(const Event& e) const {
    if (business_date_ && e.date - *business_date_ > options_.max_future_days) {
        return Status::Error(
            "invalid_date", "event \"" + e.id + "\": date " + e.date.ToString() + " is more than " +
                                std::to_string(options_.max_future_days) +
                                " days after the business date " + business_date_->ToString());
    }
    return Status::Ok();
}

void Ledger::AdvanceTo(Date date) {
    if (!business_date_) {
        business_date_ = date;
        dirty_.meta = true;
        return;
    }
    while (*business_date_ < date) {
        CloseDay();
        RollOneDay();
        WakeCustomers();
    }
    dirty_.meta = true;
}

void Ledger::CloseDay() {
    ClosedDay day;
    day.date = *business_date_;
    for (const auto& [currency, book] : books_) {
        day.currencies.emplace(currency, FiguresOf(currency, book));
    }
    history_[day.date] = std::move(day);
    dirty_.closed_days.push_back(*business_date_);
}

void Ledger::RollOneDay() {
    int32_t today = business_date_->days();
    for (auto& [currency, book] : books_) {
        for (size_t i = 0; i < kBucketEdges.size(); ++i) {
            auto it = book.open_by_due.find(today - kBucketEdges[i]);
            if (it != book.open_by_due.end()) {
                book.aging[i] -= it->second;
                book.aging[i + 1] += it->second;
            }
        }
        auto leaving = book.sales_by_day.find(today - (kWindowDays - 1));
        if (leaving != book.sales_by_day.end()) {
            book.sales_window -= leaving->second;
        }
    }
    business_date_ = business_date_->AddDays(1);
    while (!promise_deadlines_.empty() && promise_deadlines_.begin()->first < *business_date_) {
        uint32_t p = promise_deadlines_.begin()->second;
        promise_deadlines_.erase(promise_deadlines_.begin());
        if (promises_[p].status == PromiseStatus::kOpen) {
            SetPromiseStatus(p, PromiseStatus::kBroken);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Apply

Status Ledger::Apply(const Event& e, uint64_t seq) {
    static constexpr std::array<Handler, kEventTypeCount> kHandlers = {
        &Ledger::ApplyCustomerUpserted,  &Ledger::ApplyInvoiceIssued,
        &Ledger::ApplyCreditNoteIssued,  &Ledger::ApplyPaymentReceived,
        &Ledger::ApplyCreditApplied,     &Ledger::ApplyPaymentReversed,
        &Ledger::ApplyInvoiceWrittenOff, &Ledger::ApplyDisputeOpened,
        &Ledger::ApplyDisputeResolved,   &Ledger::ApplyPromiseMade,
        &Ledger::ApplyPromiseCancelled,  &Ledger::ApplyContactLogged,
        &Ledger::ApplyNothing,           &Ledger::ApplyFxRate,
    };
    Status date = CheckDate(e);
    if (!date.ok()) {
        return date;
    }
    Handler handler = kHandlers[static_cast<size_t>(e.type)];
    current_event_ = e.id;
    current_event_date_ = e.date;
    // Every check runs before the date moves, so that a rejected event leaves no trace; the
    // handler then runs again for real on the advanced state.
    checking_ = true;
    Status check = (this->*handler)(e, seq);
    checking_ = false;
    if (!check.ok()) {
        return check;
    }
    size_t timeline_from = dirty_.timeline.size();
    if (!business_date_ || e.date > *business_date_) {
        AdvanceTo(e.date);
    }
    Status applied = (this->*handler)(e, seq);
    paying_ = false;
    EvaluateTouched();
    if (std::optional<uint32_t> subject = SubjectCustomer(e); subject && applied.ok()) {
        // The event's own entry comes first: what it caused follows it.
        TimelineEntry entry;
        entry.customer = *subject;
        entry.kind = e.type == EventType::kContactLogged ? "contact" : "event";
        entry.date = e.date;
        entry.caused_by = e.id;
        entry.fields = EventFields(e);
        dirty_.timeline.insert(dirty_.timeline.begin() + static_cast<std::ptrdiff_t>(timeline_from),
                               std::move(entry));
    }
    NumberTimeline(timeline_from);
    return applied;
}

std::optional<uint32_t> Ledger::SubjectCustomer(const Event& e) const {
    auto find = [](const IdIndex& index, const auto& recs,
                   const std::string& id) -> std::optional<uint32_t> {
        std::optional<uint32_t> at = index.Find(id, recs);
        return at ? std::make_optional(recs[*at].customer) : std::nullopt;
    };
    if (!e.customer.empty()) {
        return customer_index_.Find(e.customer, customers_);
    }
    if (!e.invoice.empty()) {
        return find(invoice_index_, invoices_, e.invoice);
    }
    if (!e.payment.empty()) {
        return find(payment_index_, payments_, e.payment);
    }
    if (!e.promise.empty()) {
        return find(promise_index_, promises_, e.promise);
    }
    return std::nullopt;
}

Ledger::Fields Ledger::EventFields(const Event& e) const {
    Fields f;
    f.reserve(e.type == EventType::kContactLogged ? 14 : 8);  // the most either can have
    f.emplace_back("type", EventTypeName(e.type));
    for (auto [name, value] :
         {std::pair{"invoice", &e.invoice}, std::pair{"payment", &e.payment},
          std::pair{"credit_note", &e.credit_note}, std::pair{"promise", &e.promise}}) {
        if (!value->empty()) {
            f.emplace_back(name, *value);
        }
    }
    if (e.has_amount) {
        f.emplace_back("amount", FormatAmount(e.amount, e.currency));
        f.emplace_back("currency", std::string(e.currency.code()));
    }
    if (e.due) {
        f.emplace_back("due", e.due->ToString());
    }
    if (e.type == EventType::kContactLogged) {
        f.emplace_back("channel", e.channel);
        f.emplace_back("direction", e.direction);
        for (auto [name, value] : {std::pair{"outcome", &e.outcome}, std::pair{"agent", &e.agent},
                                   std::pair{"note", &e.note}}) {
            if (!value->empty()) {
                f.emplace_back(name, *value);
            }
        }
        f.emplace_back("source", "event");
    }
    return f;
}

void Ledger::Note(uint32_t customer, std::string_view kind, Fields fields) {
    TimelineEntry entry;
    entry.customer = customer;
    entry.kind = std::string(kind);
    entry.date = *business_date_;
    entry.caused_by = current_event_;
    entry.fields = std::move(fields);
    dirty_.timeline.push_back(std::move(entry));
}

void Ledger::NumberTimeline(size_t from) {
    std::vector<TimelineEntry>& t = dirty_.timeline;
    for (size_t i = from; i < t.size(); ++i) {
        t[i].seq = ++timeline_clock_;
    }
}

Result<uint32_t> Ledger::KnownCustomer(std::string_view id) const {
    std::optional<uint32_t> at = customer_index_.Find(id, customers_);
    if (!at) {
        return Status::Error("unknown_customer", "customer " + Q(id) + " was never upserted");
    }
    return *at;
}

Result<uint32_t> Ledger::KnownInvoice(const Event& e) const {
    std::optional<uint32_t> at = invoice_index_.Find(e.invoice, invoices_);
    if (!at) {
        return Status::Error("unknown_invoice", "invoice " + Q(e.invoice) + " does not exist");
    }
    return *at;
}

Status Ledger::CheckCustomerMatch(const Event& e, uint32_t customer) const {
    if (e.customer.empty() || e.customer == customers_[customer].id) {
        return Status::Ok();
    }
    if (!customer_index_.Contains(e.customer, customers_)) {
        return Status::Error("unknown_customer",
                             "customer " + Q(e.customer) + " was never upserted");
    }
    return Status::Error("customer_mismatch", "field \"customer\" is " + Q(e.customer) +
                                                  " but the item belongs to " +
                                                  Q(customers_[customer].id));
}

Status Ledger::CheckTotal(Currency c, int64_t amount, bool invoiced) const {
    auto it = books_.find(c);
    int64_t total = it == books_.end() ? 0
                    : invoiced         ? it->second.issued_total
                                       : it->second.credit_total;
    if (amount > kMaxCurrencyTotal - total) {
        return Status::Error("invalid_amount", "amount " + FormatAmount(amount, c) +
                                                   " would take the " + std::string(c.code()) +
                                                   " running total past " +
                                                   FormatAmount(kMaxCurrencyTotal, c) +
                                                   ", the most this engine holds exactly");
    }
    return Status::Ok();
}

CurrencyBook& Ledger::Book(Currency c) {
    auto [it, inserted] = books_.try_emplace(c);
    if (inserted) {
        dirty_.meta = true;
    }
    return it->second;
}

void Ledger::AddOpen(uint32_t invoice, uint32_t installment, int64_t delta) {
    InvoiceRec& inv = invoices_[invoice];
    InstallmentRec& inst = inv.installments[installment];
    bool was_open = inv.open() > 0;
    inst.open += delta;
    bool is_open = inv.open() > 0;
    if (was_open && !is_open && paying_) {
        inv.paid_date = current_event_date_;  // the payment's own date, back-dated or not
        CountPaid(inv, +1);
    } else if (!was_open && is_open && inv.paid_date) {
        CountPaid(inv, -1);
        inv.paid_date.reset();
    }
    Touch(inv.customer);
    CurrencyBook& book = Book(inv.currency);
    AddToDay(&book.open_by_due, inst.due.days(), delta);
    book.aging[BucketOf(DaysPastDue(inst.due))] += delta;
    if (inv.disputed) {
        book.disputed += delta;
    }
    dirty_.invoices.insert(invoice);
}

int64_t Ledger::TakeFromInvoice(uint32_t invoice, int64_t amount, std::vector<Application>* out) {
    int64_t left = amount;
    InvoiceRec& inv = invoices_[invoice];
    for (uint32_t i = 0; i < inv.installments.size() && left > 0; ++i) {
        int64_t take = std::min(left, inv.installments[i].open);
        if (take <= 0) {
            continue;
        }
        AddOpen(invoice, i, -take);
        left -= take;
        if (out != nullptr) {
            out->push_back({invoice, i, take});
        }
    }
    if (inv.open() == 0) {
        inv.closed_by_write_off = false;
    }
    return amount - left;
}

std::vector<std::pair<uint32_t, uint32_t>> Ledger::OpenItemsOldestFirst(uint32_t customer,
                                                                        Currency currency) const {
    std::vector<std::pair<uint32_t, uint32_t>> items;
    for (uint32_t idx : customers_[customer].invoices) {
        const InvoiceRec& inv = invoices_[idx];
        if (inv.currency != currency || inv.disputed) {
            continue;
        }
        for (uint32_t i = 0; i < inv.installments.size(); ++i) {
            if (inv.installments[i].open > 0) {
                items.emplace_back(idx, i);
            }
        }
    }
    std::sort(items.begin(), items.end(), [this](const auto& a, const auto& b) {
        const InvoiceRec& x = invoices_[a.first];
        const InvoiceRec& y = invoices_[b.first];
        return std::make_tuple(x.installments[a.second].due, x.issued, x.seq, a.second) <
               std::make_tuple(y.installments[b.second].due, y.issued, y.seq, b.second);
    });
    return items;
}

void Ledger::AddSales(Currency c, Date day, int64_t amount) {
    CurrencyBook& book = Book(c);
    book.issued_total += amount;
    AddToDay(&book.sales_by_day, day.days(), amount);
    if (*business_date_ - day < kWindowDays) {
        book.sales_window += amount;
    }
}

void Ledger::AddUnapplied(CreditRec* credit, uint32_t customer, int64_t delta) {
    static_cast<void>(customer);
    credit->unapplied += delta;
    Book(credit->currency).unapplied += delta;
}

// ---------------------------------------------------------------------------------------------
// Handlers. Each checks everything first and returns early while checking_ is set.

Status Ledger::ApplyCustomerUpserted(const Event& e, uint64_t /*seq*/) {
    if (checking_) {
        return Status::Ok();
    }
    std::optional<uint32_t> at = customer_index_.Find(e.customer, customers_);
    if (!at) {
        at = static_cast<uint32_t>(customers_.size());
        CustomerRec rec;
        rec.id = e.customer;
        rec.created = e.date;
        customers_.push_back(std::move(rec));
        customer_index_.Insert(e.customer, *at);
        EnsureCustomerSlots();
    }
    Touch(*at);
    CustomerAttributes& a = customers_[*at].attributes;
    const CustomerAttributes& in = e.attributes;
    for (auto [dst, src] :
         {std::pair{&a.name, &in.name}, std::pair{&a.kind, &in.kind}, std::pair{&a.risk, &in.risk},
          std::pair{&a.credit_limit, &in.credit_limit}, std::pair{&a.currency, &in.currency},
          std::pair{&a.country, &in.country}, std::pair{&a.owner, &in.owner},
          std::pair{&a.email, &in.email}, std::pair{&a.phone, &in.phone}}) {
        if (src->has_value()) {
            *dst = *src;
        }
    }
    if (in.terms_days) {
        a.terms_days = in.terms_days;
    }
    dirty_.customers.insert(*at);
    return Status::Ok();
}

Status Ledger::ApplyInvoiceIssued(const Event& e, uint64_t seq) {
    Result<uint32_t> customer = KnownCustomer(e.customer);
    if (!customer.ok()) {
        return customer.status();
    }
    if (invoice_index_.Contains(e.invoice, invoices_)) {
        return Status::Error("already_exists", "invoice " + Q(e.invoice) + " already exists");
    }
    if (Status total = CheckTotal(e.currency, e.amount, true); !total.ok()) {
        return total;
    }
    if (checking_) {
        return Status::Ok();
    }
    InvoiceRec rec;
    rec.id = e.invoice;
    rec.customer = *customer;
    rec.currency = e.currency;
    rec.issued = e.date;
    rec.seq = seq;
    rec.amount = e.amount;
    if (e.due) {
        rec.installments.push_back({*e.due, e.amount, 0});
    } else {
        for (const InstallmentSpec& s : e.installments) {
            rec.installments.push_back({s.due, s.amount, 0});
        }
        std::stable_sort(
            rec.installments.begin(), rec.installments.end(),
            [](const InstallmentRec& a, const InstallmentRec& b) { return a.due < b.due; });
    }
    uint32_t idx = static_cast<uint32_t>(invoices_.size());
    invoices_.push_back(std::move(rec));
    invoice_index_.Insert(e.invoice, idx);
    customers_[*customer].invoices.push_back(idx);
    for (uint32_t i = 0; i < invoices_[idx].installments.size(); ++i) {
        AddOpen(idx, i, invoices_[idx].installments[i].amount);
    }
    AddSales(e.currency, e.date, e.amount);
    return Status::Ok();
}

Status Ledger::ApplyCreditNoteIssued(const Event& e, uint64_t seq) {
    Result<uint32_t> customer = KnownCustomer(e.customer);
    if (!customer.ok()) {
        return customer.status();
    }
    std::optional<uint32_t> invoice;
    if (!e.invoice.empty()) {
        Result<uint32_t> inv = KnownInvoice(e);
        if (!inv.ok()) {
            return inv.status();
        }
        invoice = *inv;
    }
    if (credit_note_index_.Contains(e.credit_note, credit_notes_)) {
        return Status::Error("already_exists",
                             "credit note " + Q(e.credit_note) + " already exists");
    }
    if (Status total = CheckTotal(e.currency, e.amount, false); !total.ok()) {
        return total;
    }
    if (invoice) {
        const InvoiceRec& inv = invoices_[*invoice];
        if (inv.customer != *customer) {
            return Status::Error("customer_mismatch", "invoice " + Q(inv.id) + " belongs to " +
                                                          Q(customers_[inv.customer].id));
        }
        if (inv.currency != e.currency) {
            return Status::Error("currency_mismatch", "credit note in " +
                                                          std::string(e.currency.code()) +
                                                          " for invoice " + Q(inv.id) + " in " +
                                                          std::string(inv.currency.code()));
        }
        if (e.amount > inv.open()) {
            return Status::Error("invalid_amount",
                                 "credit note of " + FormatAmount(e.amount, e.currency) +
                                     " is more than the " + FormatAmount(inv.open(), e.currency) +
                                     " open on invoice " + Q(inv.id));
        }
    }
    if (checking_) {
        return Status::Ok();
    }
    CreditRec rec;
    rec.id = e.credit_note;
    rec.customer = *customer;
    rec.currency = e.currency;
    rec.date = e.date;
    rec.seq = seq;
    rec.amount = e.amount;
    uint32_t idx = static_cast<uint32_t>(credit_notes_.size());
    credit_notes_.push_back(std::move(rec));
    credit_note_index_.Insert(e.credit_note, idx);
    customers_[*customer].credit_notes.push_back(idx);
    CreditRec& cn = credit_notes_[idx];
    Book(e.currency).credit_total += e.amount;
    if (invoice) {
        TakeFromInvoice(*invoice, e.amount, &cn.applied);
    } else {
        AddUnapplied(&cn, *customer, e.amount);
    }
    dirty_.credit_notes.insert(idx);
    return Status::Ok();
}

Status Ledger::ApplyPaymentReceived(const Event& e, uint64_t seq) {
    Result<uint32_t> customer = KnownCustomer(e.customer);
    if (!customer.ok()) {
        return customer.status();
    }
    if (payment_index_.Contains(e.payment, payments_)) {
        return Status::Error("already_exists", "payment " + Q(e.payment) + " already exists");
    }
    if (Status total = CheckTotal(e.currency, e.amount, false); !total.ok()) {
        return total;
    }
    std::vector<uint32_t> targets;
    std::map<uint32_t, int64_t> planned;
    for (const AllocationSpec& a : e.allocations) {
        std::optional<uint32_t> at = invoice_index_.Find(a.invoice, invoices_);
        if (!at) {
            return Status::Error("unknown_invoice", "allocation to invoice " + Q(a.invoice) +
                                                        ", which does not exist");
        }
        const InvoiceRec& inv = invoices_[*at];
        if (inv.customer != *customer) {
            return Status::Error("customer_mismatch", "allocation to invoice " + Q(inv.id) +
                                                          " of customer " +
                                                          Q(customers_[inv.customer].id));
        }
        if (inv.currency != e.currency) {
            return Status::Error("currency_mismatch",
                                 "payment in " + std::string(e.currency.code()) +
                                     " allocated to invoice " + Q(inv.id) + " in " +
                                     std::string(inv.currency.code()));
        }
        int64_t& total = planned[*at];
        total += a.amount;
        if (total > inv.open()) {
            return Status::Error("invalid_amount",
                                 "allocation of " + FormatAmount(total, e.currency) +
                                     " to invoice " + Q(inv.id) + " is more than its open " +
                                     FormatAmount(inv.open(), e.currency));
        }
        targets.push_back(*at);
    }
    if (checking_) {
        return Status::Ok();
    }
    CreditRec rec;
    rec.id = e.payment;
    rec.customer = *customer;
    rec.currency = e.currency;
    rec.date = e.date;
    rec.seq = seq;
    rec.amount = e.amount;
    uint32_t idx = static_cast<uint32_t>(payments_.size());
    payments_.push_back(std::move(rec));
    payment_index_.Insert(e.payment, idx);
    customers_[*customer].payments.push_back(idx);
    CreditRec& pay = payments_[idx];
    Book(e.currency).credit_total += e.amount;

    int64_t left = e.amount;
    paying_ = true;
    for (size_t i = 0; i < targets.size(); ++i) {
        left -= TakeFromInvoice(targets[i], e.allocations[i].amount, &pay.applied);
    }
    for (const auto& [invoice, installment] : OpenItemsOldestFirst(*customer, e.currency)) {
        if (left == 0) {
            break;
        }
        InvoiceRec& inv = invoices_[invoice];
        int64_t take = std::min(left, inv.installments[installment].open);
        AddOpen(invoice, installment, -take);
        pay.applied.push_back({invoice, installment, take});
        if (inv.open() == 0) {
            inv.closed_by_write_off = false;
        }
        left -= take;
    }
    if (left > 0) {
        AddUnapplied(&pay, *customer, left);
    }
    CountPayment(pay, +1);
    dirty_.payments.insert(idx);
    EffectKey key;
    if (EffectCounts* effect = AttributedContact(*customer, e.date, &key)) {
        ++effect->payments_7d;
    }
    return Status::Ok();
}

Status Ledger::ApplyCreditApplied(const Event& e, uint64_t /*seq*/) {
    Result<uint32_t> customer = KnownCustomer(e.customer);
    if (!customer.ok()) {
        return customer.status();
    }
    Result<uint32_t> invoice = KnownInvoice(e);
    if (!invoice.ok()) {
        return invoice.status();
    }
    const InvoiceRec& inv = invoices_[*invoice];
    if (inv.customer != *customer) {
        return Status::Error("customer_mismatch", "invoice " + Q(inv.id) + " belongs to " +
                                                      Q(customers_[inv.customer].id));
    }
    if (inv.currency != e.currency) {
        return Status::Error("currency_mismatch", "credit in " + std::string(e.currency.code()) +
                                                      " applied to invoice " + Q(inv.id) + " in " +
                                                      std::string(inv.currency.code()));
    }
    // The customer's credit lots in this currency, oldest first.
    std::vector<CreditRec*> lots;
    int64_t available = 0;
    const CustomerRec& c = customers_[*customer];
    for (uint32_t p : c.payments) {
        if (payments_[p].currency == e.currency && payments_[p].unapplied > 0) {
            lots.push_back(&payments_[p]);
        }
    }
    for (uint32_t n : c.credit_notes) {
        if (credit_notes_[n].currency == e.currency && credit_notes_[n].unapplied > 0) {
            lots.push_back(&credit_notes_[n]);
        }
    }
    for (CreditRec* lot : lots) {
        available += lot->unapplied;
    }
    if (e.amount > available) {
        return Status::Error("invalid_amount", "credit of " + FormatAmount(e.amount, e.currency) +
                                                   " is more than the customer's unapplied " +
                                                   FormatAmount(available, e.currency));
    }
    if (e.amount > inv.open()) {
        return Status::Error("invalid_amount", "credit of " + FormatAmount(e.amount, e.currency) +
                                                   " is more than the " +
                                                   FormatAmount(inv.open(), e.currency) +
                                                   " open on invoice " + Q(inv.id));
    }
    if (checking_) {
        return Status::Ok();
    }
    std::stable_sort(lots.begin(), lots.end(), [](const CreditRec* a, const CreditRec* b) {
        return std::tie(a->date, a->seq) < std::tie(b->date, b->seq);
    });
    paying_ = true;
    int64_t left = e.amount;
    for (CreditRec* lot : lots) {
        if (left == 0) {
            break;
        }
        int64_t take = std::min(left, lot->unapplied);
        TakeFromInvoice(*invoice, take, &lot->from_credit);
        AddUnapplied(lot, *customer, -take);
        left -= take;
        bool is_payment = lot >= payments_.data() && lot < payments_.data() + payments_.size();
        if (is_payment) {
            dirty_.payments.insert(static_cast<uint32_t>(lot - payments_.data()));
        } else {
            dirty_.credit_notes.insert(static_cast<uint32_t>(lot - credit_notes_.data()));
        }
    }
    return Status::Ok();
}

Status Ledger::ApplyPaymentReversed(const Event& e, uint64_t /*seq*/) {
    std::optional<uint32_t> at = payment_index_.Find(e.payment, payments_);
    if (!at) {
        return Status::Error("unknown_payment", "payment " + Q(e.payment) + " does not exist");
    }
    uint32_t idx = *at;
    Status match = CheckCustomerMatch(e, payments_[idx].customer);
    if (!match.ok()) {
        return match;
    }
    if (payments_[idx].reversed) {
        return Status::Error("already_reversed",
                             "payment " + Q(e.payment) + " was already reversed");
    }
    if (checking_) {
        return Status::Ok();
    }
    CreditRec& pay = payments_[idx];
    for (const std::vector<Application>* apps : {&pay.applied, &pay.from_credit}) {
        for (const Application& a : *apps) {
            AddOpen(a.invoice, a.installment, a.amount);
        }
    }
    AddUnapplied(&pay, pay.customer, -pay.unapplied);
    pay.reversed = true;
    CountPayment(pay, -1);
    dirty_.payments.insert(idx);
    return Status::Ok();
}

Status Ledger::ApplyInvoiceWrittenOff(const Event& e, uint64_t /*seq*/) {
    Result<uint32_t> invoice = KnownInvoice(e);
    if (!invoice.ok()) {
        return invoice.status();
    }
    Status match = CheckCustomerMatch(e, invoices_[*invoice].customer);
    if (!match.ok()) {
        return match;
    }
    const InvoiceRec& inv = invoices_[*invoice];
    int64_t open = inv.open();
    int64_t amount = open;
    if (e.has_amount) {
        Result<int64_t> parsed = ParseAmount(e.amount_text, inv.currency);
        if (!parsed.ok()) {
            return Status::Error("invalid_amount",
                                 "field \"amount\": " + parsed.status().message());
        }
        amount = *parsed;
    }
    if (open == 0) {
        return Status::Error("invalid_amount", "invoice " + Q(inv.id) + " has nothing open");
    }
    if (amount > open) {
        return Status::Error("invalid_amount",
                             "write-off of " + FormatAmount(amount, inv.currency) +
                                 " is more than the " + FormatAmount(open, inv.currency) +
                                 " open on invoice " + Q(inv.id));
    }
    if (checking_) {
        return Status::Ok();
    }
    TakeFromInvoice(*invoice, amount, nullptr);
    InvoiceRec& w = invoices_[*invoice];
    w.written_off += amount;
    w.closed_by_write_off = w.open() == 0;
    Book(w.currency).written_off += amount;
    return Status::Ok();
}

Status Ledger::ApplyDisputeOpened(const Event& e, uint64_t /*seq*/) {
    Result<uint32_t> invoice = KnownInvoice(e);
    if (!invoice.ok()) {
        return invoice.status();
    }
    Status match = CheckCustomerMatch(e, invoices_[*invoice].customer);
    if (!match.ok()) {
        return match;
    }
    if (invoices_[*invoice].disputed) {
        return Status::Error("invalid_state",
                             "invoice " + Q(e.invoice) + " already has an open dispute");
    }
    if (checking_) {
        return Status::Ok();
    }
    InvoiceRec& inv = invoices_[*invoice];
    inv.disputed = true;
    Book(inv.currency).disputed += inv.open();
    dirty_.invoices.insert(*invoice);
    customers_[inv.customer].dispute_dates.push_back(e.date);
    dirty_.customers.insert(inv.customer);
    Touch(inv.customer);
    return Status::Ok();
}

Status Ledger::ApplyDisputeResolved(const Event& e, uint64_t /*seq*/) {
    Result<uint32_t> invoice = KnownInvoice(e);
    if (!invoice.ok()) {
        return invoice.status();
    }
    Status match = CheckCustomerMatch(e, invoices_[*invoice].customer);
    if (!match.ok()) {
        return match;
    }
    if (!invoices_[*invoice].disputed) {
        return Status::Error("invalid_state", "invoice " + Q(e.invoice) + " has no open dispute");
    }
    if (checking_) {
        return Status::Ok();
    }
    InvoiceRec& inv = invoices_[*invoice];
    inv.disputed = false;
    Book(inv.currency).disputed -= inv.open();
    dirty_.invoices.insert(*invoice);
    Touch(inv.customer);
    return Status::Ok();
}

Date Ledger::PromiseDeadline(const PromiseRec& p) const {
    return p.due.AddDays(options_.promise_grace_days);
}

bool Ledger::InPromiseWindow(const PromiseRec& p, Date payment_date) const {
    return payment_date >= p.date && payment_date <= PromiseDeadline(p);
}

void Ledger::UpdatePromiseStatus(uint32_t idx) {
    PromiseRec& p = promises_[idx];
    bool reached = static_cast<__int128>(p.paid) * 100 >=
                   static_cast<__int128>(p.amount) * options_.promise_threshold_percent;
    if (p.status == PromiseStatus::kOpen && reached) {
        SetPromiseStatus(idx, PromiseStatus::kKept);
    } else if (p.status == PromiseStatus::kKept && !reached) {
        SetPromiseStatus(idx, *business_date_ > PromiseDeadline(p) ? PromiseStatus::kBroken
                                                                   : PromiseStatus::kOpen);
    } else if (p.status == PromiseStatus::kOpen && *business_date_ > PromiseDeadline(p)) {
        SetPromiseStatus(idx, PromiseStatus::kBroken);
    }
    dirty_.promises.insert(idx);
}

void Ledger::CountPayment(const CreditRec& payment, int64_t sign) {
    for (uint32_t idx : customers_[payment.customer].promises) {
        PromiseRec& p = promises_[idx];
        bool counts = p.status == PromiseStatus::kOpen || p.status == PromiseStatus::kKept;
        if (!counts || p.currency != payment.currency || !InPromiseWindow(p, payment.date)) {
            continue;
        }
        p.paid += sign * payment.amount;
        UpdatePromiseStatus(idx);
    }
}

Status Ledger::ApplyPromiseMade(const Event& e, uint64_t /*seq*/) {
    Result<uint32_t> customer = KnownCustomer(e.customer);
    if (!customer.ok()) {
        return customer.status();
    }
    for (const std::string& id : e.promise_invoices) {
        std::optional<uint32_t> at = invoice_index_.Find(id, invoices_);
        if (!at) {
            return Status::Error("unknown_invoice",
                                 "promise names invoice " + Q(id) + ", which does not exist");
        }
        if (invoices_[*at].customer != *customer) {
            return Status::Error("customer_mismatch",
                                 "promise names invoice " + Q(id) + " of another customer");
        }
    }
    if (promise_index_.Contains(e.promise, promises_)) {
        return Status::Error("already_exists", "promise " + Q(e.promise) + " already exists");
    }
    if (checking_) {
        return Status::Ok();
    }
    PromiseRec rec;
    rec.id = e.promise;
    rec.customer = *customer;
    rec.currency = e.currency;
    rec.date = e.date;
    rec.due = *e.due;
    rec.amount = e.amount;
    rec.status_date = *business_date_;
    rec.status_event = e.id;
    rec.invoices = e.promise_invoices;
    for (uint32_t p : customers_[*customer].payments) {
        const CreditRec& pay = payments_[p];
        if (!pay.reversed && pay.currency == rec.currency && InPromiseWindow(rec, pay.date)) {
            rec.paid += pay.amount;
        }
    }
    EffectKey key;
    if (EffectCounts* effect = AttributedContact(*customer, e.date, &key)) {
        ++effect->promises;
        rec.contact_channel = key.first;
        rec.contact_step = key.second;
    }
    uint32_t idx = static_cast<uint32_t>(promises_.size());
    promises_.push_back(std::move(rec));
    promise_index_.Insert(e.promise, idx);
    ++promise_transitions_[static_cast<size_t>(PromiseStatus::kOpen)];
    TallyPromise(promises_[idx], +1);
    Note(*customer, "promise", {{"promise", e.promise}, {"status", "open"}});
    Touch(*customer);
    customers_[*customer].promises.push_back(idx);
    promise_deadlines_.emplace(PromiseDeadline(promises_[idx]), idx);
    UpdatePromiseStatus(idx);
    return Status::Ok();
}

Status Ledger::ApplyPromiseCancelled(const Event& e, uint64_t /*seq*/) {
    std::optional<uint32_t> at = promise_index_.Find(e.promise, promises_);
    if (!at) {
        return Status::Error("unknown_promise", "promise " + Q(e.promise) + " does not exist");
    }
    PromiseRec& p = promises_[*at];
    Status match = CheckCustomerMatch(e, p.customer);
    if (!match.ok()) {
        return match;
    }
    // Judged at the event's own date: a promise whose deadline that date passes is broken.
    bool breaks_first = p.status == PromiseStatus::kOpen && e.date > PromiseDeadline(p);
    if (p.status != PromiseStatus::kOpen || breaks_first) {
        std::string_view status = breaks_first ? "broken" : PromiseStatusName(p.status);
        return Status::Error("invalid_state", "promise " + Q(e.promise) + " is " +
                                                  std::string(status) + ", not open");
    }
    if (checking_) {
        return Status::Ok();
    }
    SetPromiseStatus(*at, PromiseStatus::kCancelled);
    return Status::Ok();
}

Status Ledger::ApplyContactLogged(const Event& e, uint64_t /*seq*/) {
    Result<uint32_t> customer = KnownCustomer(e.customer);
    if (!customer.ok()) {
        return customer.status();
    }
    if (checking_) {
        return Status::Ok();
    }
    // The contact itself is the timeline entry Apply writes; here it only counts.
    CountContact(*customer, e.channel, "", e.date);
    return Status::Ok();
}

void Ledger::CountContact(uint32_t customer, std::string channel, std::string step, Date date) {
    CustomerRec& c = customers_[customer];
    EffectKey key{channel, step};
    ++effects_[key].contacts;
    dirty_.effects.insert(key);
    if (!c.last_contact || date >= *c.last_contact) {
        c.last_contact = date;
        c.last_contact_channel = std::move(channel);
        c.last_contact_step = std::move(step);
        dirty_.customers.insert(customer);
    }
}

EffectCounts* Ledger::AttributedContact(uint32_t customer, Date date, EffectKey* key) {
    const CustomerRec& c = customers_[customer];
    if (!c.last_contact || date < *c.last_contact || date - *c.last_contact > kEffectWindowDays) {
        return nullptr;
    }
    *key = EffectKey{c.last_contact_channel, c.last_contact_step};
    dirty_.effects.insert(*key);
    return &effects_[*key];
}

std::map<std::string, EffectCounts> Ledger::EffectsByChannel() const {
    std::map<std::string, EffectCounts> out;
    for (const auto& [key, n] : effects_) {
        EffectCounts& c = out[key.first];
        c.contacts += n.contacts;
        c.payments_7d += n.payments_7d;
        c.promises += n.promises;
        c.promises_kept += n.promises_kept;
    }
    return out;
}

void Ledger::RestoreEffect(EffectKey key, EffectCounts counts) {
    effects_[std::move(key)] = counts;
}

Status Ledger::ApplyNothing(const Event& /*e*/, uint64_t /*seq*/) {
    return Status::Ok();
}

Status Ledger::ApplyFxRate(const Event& e, uint64_t seq) {
    if (checking_) {
        return Status::Ok();
    }
    // The rate policy: the rate dated latest wins; a back-dated rate that arrives late does not
    // replace a newer one (on the same date, the later arrival wins).
    auto [it, inserted] = fx_.try_emplace({e.currency, e.base}, FxRate{e.rate, e.date, seq});
    if (!inserted && e.date >= it->second.date) {
        it->second = FxRate{e.rate, e.date, seq};
    }
    dirty_.meta = true;
    return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Figures

Figures Ledger::FiguresOf(Currency c, const CurrencyBook& book) const {
    int64_t start = 0;
    auto day = history_.find(business_date_->AddDays(-kWindowDays));
    if (day != history_.end()) {
        auto it = day->second.currencies.find(c);
        if (it != day->second.currencies.end()) {
            start = it->second.open;
        }
    }
    return FiguresFromTotals(*business_date_, book, start);
}

Figures Ledger::CurrencyFiguresNow(Currency c) const {
    auto it = books_.find(c);
    if (it == books_.end() || !business_date_) {
        return Figures();
    }
    return FiguresOf(c, it->second);
}

std::map<Currency, Figures> Ledger::CustomerFigures(const CustomerRec& c) const {
    std::map<Currency, Figures> out;
    for (uint32_t idx : c.invoices) {
        const InvoiceRec& inv = invoices_[idx];
        Figures& f = out[inv.currency];
        for (const InstallmentRec& i : inv.installments) {
            f.aging[BucketOf(DaysPastDue(i.due))] += i.open;
            f.open += i.open;
            if (inv.disputed) {
                f.disputed += i.open;
            }
        }
        f.written_off += inv.written_off;
    }
    for (const auto* list : {&c.payments, &c.credit_notes}) {
        const std::vector<CreditRec>& recs = list == &c.payments ? payments_ : credit_notes_;
        for (uint32_t idx : *list) {
            out[recs[idx].currency].unapplied += recs[idx].unapplied;
        }
    }
    for (auto& [currency, f] : out) {
        f.overdue = f.open - f.aging[0];
    }
    return out;
}

std::optional<std::pair<Decimal, bool>> Ledger::RateInto(Currency from, Currency base) const {
    auto direct = fx_.find({from, base});
    auto inverse = fx_.find({base, from});
    auto newer = [](const FxRate& a, const FxRate& b) {
        return std::tie(a.date, a.seq) > std::tie(b.date, b.seq);
    };
    if (direct != fx_.end() && (inverse == fx_.end() || !newer(inverse->second, direct->second))) {
        return std::make_pair(direct->second.rate, false);
    }
    if (inverse != fx_.end()) {
        return std::make_pair(inverse->second.rate, true);
    }
    return std::nullopt;
}

std::optional<Currency> Ledger::DefaultBase() const {
    std::optional<Currency> base;
    const FxRate* newest = nullptr;
    for (const auto& [pair, rate] : fx_) {
        if (newest == nullptr ||
            std::tie(rate.date, rate.seq) > std::tie(newest->date, newest->seq)) {
            newest = &rate;
            base = pair.second;
        }
    }
    return base;
}

BaseFigures Ledger::BaseFiguresNow(Currency base) const {
    BaseFigures out;
    out.base = base;
    if (!business_date_) {
        return out;
    }
    std::map<int32_t, int64_t> sales_by_day;
    Figures& f = out.figures;
    int64_t start = 0;
    auto start_day = history_.find(business_date_->AddDays(-kWindowDays));
    for (const auto& [currency, book] : books_) {
        Decimal one{1, 0};
        std::optional<std::pair<Decimal, bool>> rate =
            currency == base ? std::make_optional(std::make_pair(one, false))
                             : RateInto(currency, base);
        if (!rate) {
            out.missing.push_back(currency);
            continue;
        }
        bool failed = false;
        // The binding is captured by name: clang 14 cannot capture structured bindings.
        auto conv = [&, from = currency](int64_t amount) {
            std::optional<int64_t> v = ConvertAmount(amount, from, base, rate->first, rate->second);
            failed = failed || !v;
            return v.value_or(0);
        };
        Figures c = FiguresOf(currency, book);
        Figures add;
        for (int b = 0; b < kBucketCount; ++b) {
            add.aging[b] = conv(c.aging[b]);
        }
        add.disputed = conv(c.disputed);
        add.unapplied = conv(c.unapplied);
        add.written_off = conv(c.written_off);
        add.sales_window = conv(c.sales_window);
        std::map<int32_t, int64_t> sales;
        for (const auto& [day, amount] : book.sales_by_day) {
            sales[day] = conv(amount);
        }
        int64_t start_add = 0;
        if (start_day != history_.end()) {
            auto it = start_day->second.currencies.find(currency);
            if (it != start_day->second.currencies.end()) {
                start_add = conv(it->second.open);
            }
        }
        if (failed) {
            out.missing.push_back(currency);
            continue;
        }
        out.rates.emplace(currency, BaseFigures::UsedRate{rate->first, rate->second});
        // Each currency stays below 2^62, but their sum in the base need not: check every add.
        auto add_to = [&](int64_t* total, int64_t v) {
            out.overflow = out.overflow || __builtin_add_overflow(*total, v, total);
        };
        for (int b = 0; b < kBucketCount; ++b) {
            add_to(&f.aging[b], add.aging[b]);
        }
        add_to(&f.disputed, add.disputed);
        add_to(&f.unapplied, add.unapplied);
        add_to(&f.written_off, add.written_off);
        add_to(&f.sales_window, add.sales_window);
        for (const auto& [day, amount] : sales) {
            add_to(&sales_by_day[day], amount);
        }
        add_to(&start, start_add);
    }
    for (int64_t v : f.aging) {
        out.overflow = out.overflow || __builtin_add_overflow(f.open, v, &f.open);
    }
    if (out.overflow) {
        out.figures = Figures();
        return out;
    }
    f.overdue = f.open - f.aging[0];
    // Rounded apart, the disputed part could exceed what is open by a minor unit.
    f.disputed = std::min(f.disputed, f.open);
    KpiInputs in;
    in.business_date = *business_date_;
    in.open = f.open;
    in.current = f.aging[0];
    in.sales_window = f.sales_window;
    in.start = start;
    in.sales_by_day = &sales_by_day;
    f.kpis = ComputeKpis(in);
    return out;
}

const CustomerRec* Ledger::FindCustomer(std::string_view id) const {
    std::optional<uint32_t> at = customer_index_.Find(id, customers_);
    return at ? &customers_[*at] : nullptr;
}

const InvoiceRec* Ledger::FindInvoice(std::string_view id) const {
    std::optional<uint32_t> at = invoice_index_.Find(id, invoices_);
    return at ? &invoices_[*at] : nullptr;
}

const PromiseRec* Ledger::FindPromise(std::string_view id) const {
    std::optional<uint32_t> at = promise_index_.Find(id, promises_);
    return at ? &promises_[*at] : nullptr;
}

// ---------------------------------------------------------------------------------------------
// Restore

void Ledger::RestoreMeta(std::optional<Date> business_date, uint64_t timeline_clock) {
    business_date_ = business_date;
    timeline_clock_ = timeline_clock;
}

void Ledger::ReserveForRestore(const RestoreCounts& n) {
    customers_.reserve(n.customers);
    customer_index_.Reserve(n.customers);
    invoices_.reserve(n.invoices);
    invoice_index_.Reserve(n.invoices);
    payments_.reserve(n.payments);
    payment_index_.Reserve(n.payments);
    credit_notes_.reserve(n.credit_notes);
    credit_note_index_.Reserve(n.credit_notes);
    promises_.reserve(n.promises);
    promise_index_.Reserve(n.promises);
    actions_.reserve(n.actions);
    action_index_.Reserve(n.actions);
}

void Ledger::RestoreCustomer(CustomerRec rec) {
    customer_index_.Insert(rec.id, static_cast<uint32_t>(customers_.size()));
    customers_.push_back(std::move(rec));
}

void Ledger::RestoreInvoice(InvoiceRec rec) {
    invoice_index_.Insert(rec.id, static_cast<uint32_t>(invoices_.size()));
    invoices_.push_back(std::move(rec));
}

void Ledger::RestorePayment(CreditRec rec) {
    payment_index_.Insert(rec.id, static_cast<uint32_t>(payments_.size()));
    payments_.push_back(std::move(rec));
}

void Ledger::RestoreCreditNote(CreditRec rec) {
    credit_note_index_.Insert(rec.id, static_cast<uint32_t>(credit_notes_.size()));
    credit_notes_.push_back(std::move(rec));
}

void Ledger::RestorePromise(PromiseRec rec) {
    promise_index_.Insert(rec.id, static_cast<uint32_t>(promises_.size()));
    promises_.push_back(std::move(rec));
}

void Ledger::RestoreClosedDay(ClosedDay day) {
    Date d = day.date;
    history_[d] = std::move(day);
}

void Ledger::RestoreFxRate(Currency currency, Currency base, FxRate rate) {
    fx_[{currency, base}] = rate;
}

void Ledger::RestoreAction(ActionRec rec) {
    ++action_statuses_[rec.status];
    actions_.push_back(std::move(rec));
}

Result<uint32_t> Ledger::ActionIndex(uint64_t id) const {
    if (id == 0 || id > actions_.size()) {
        return Status::Error("unknown_action", "action " + std::to_string(id) + " does not exist");
    }
    return static_cast<uint32_t>(id - 1);
}

std::string ActionRoute(const ActionRec& a) {
    return a.channel.empty() ? std::string(rules::ActionKindName(a.kind)) : a.channel;
}

Status Ledger::RecordDelivery(const DeliveryOutcome& o) {
    Result<uint32_t> found = ActionIndex(o.action_id);
    if (!found.ok()) {
        return found.status();
    }
    uint32_t idx = *found;
    ActionRec& a = actions_[idx];
    if (a.key != o.key || a.status != "pending") {
        return Status::Error("invalid_state", "action " + std::to_string(o.action_id) + " (" +
                                                  a.key + ") is " + a.status + ", not pending");
    }
    --action_statuses_[a.status];
    a.attempts = o.attempt;
    a.last_error = o.error;
    a.next_attempt_ms = o.next_attempt_ms;
    if (o.result != "retry") {
        a.status = o.result;
    }
    ++action_statuses_[a.status];
    dirty_.actions.push_back(idx);

    current_event_ = a.caused_by;
    size_t from = dirty_.timeline.size();
    std::string route = ActionRoute(a);
    Fields fields{{"action_id", std::to_string(a.id)},
                  {"key", a.key},
                  {"channel", route},
                  {"attempt", std::to_string(o.attempt)},
                  {"result", o.result}};
    if (!o.error.empty()) {
        fields.emplace_back("error", o.error);
    }
    Note(a.customer, "delivery", std::move(fields));
    if (o.result == "delivered") {
        CountContact(a.customer, route, a.strategy + "/" + a.step, *business_date_);
    }
    if (o.result != "retry") {
        Note(a.customer, "contact",
             {{"type", "delivery"},
              {"channel", route},
              {"direction", "outbound"},
              {"outcome", o.result == "delivered" ? "delivered" : "failed"},
              {"agent", "rmsd"},
              {"source", "delivery"},
              {"action_id", std::to_string(a.id)}});
    }
    NumberTimeline(from);
    return Status::Ok();
}

Status Ledger::Redeliver(const Redelivery& r) {
    Result<uint32_t> found = ActionIndex(r.action_id);
    if (!found.ok()) {
        return found.status();
    }
    uint32_t idx = *found;
    ActionRec& a = actions_[idx];
    if (a.status != "dead_letter") {
        return Status::Error("invalid_state", "action " + std::to_string(r.action_id) + " (" +
                                                  a.key + ") is " + a.status +
                                                  "; only a dead letter can be redelivered");
    }
    std::string attempts = std::to_string(a.attempts);
    --action_statuses_[a.status];
    a.status = "pending";
    ++action_statuses_[a.status];
    // A fresh start: max_attempts counts again from here. last_error stays, as the reason of the
    // dead letter, until a new attempt replaces it.
    a.attempts = 0;
    a.next_attempt_ms = 0;
    dirty_.actions.push_back(idx);

    current_event_ = a.caused_by;
    size_t from = dirty_.timeline.size();
    std::string route = ActionRoute(a);
    Note(a.customer, "redelivery",
         {{"action_id", std::to_string(a.id)},
          {"key", a.key},
          {"channel", route},
          {"attempts", attempts},
          {"by", r.by},
          {"at", r.at},
          {"reason", "redeliver requested by an operator"}});
    NumberTimeline(from);
    return Status::Ok();
}

void Ledger::RestoreSegmentChange(SegmentChange rec) {
    segment_changes_.push_back(std::move(rec));
}

void Ledger::FinishRestore() {
    RunBoth([this] { RestoreCustomerLists(); }, [this] { RestoreBooksAndIndexes(); });
    for (uint32_t c = 0; c < customers_.size(); ++c) {
        Evaluate(c, /*decide=*/false);
    }
    touched_.clear();
    dirty_ = DirtySet();
}

void Ledger::RestoreCustomerLists() {
    // Each list is sized once, from a count, rather than grown by doubling: with millions of
    // records the reallocations and the slack they leave cost seconds and memory.
    std::vector<std::array<uint32_t, 4>> counts(customers_.size());
    for (const InvoiceRec& inv : invoices_) {
        ++counts[inv.customer][0];
    }
    for (const CreditRec& p : payments_) {
        ++counts[p.customer][1];
    }
    for (const CreditRec& n : credit_notes_) {
        ++counts[n.customer][2];
    }
    for (const PromiseRec& p : promises_) {
        ++counts[p.customer][3];
    }
    for (uint32_t c = 0; c < customers_.size(); ++c) {
        customers_[c].invoices.reserve(counts[c][0]);
        customers_[c].payments.reserve(counts[c][1]);
        customers_[c].credit_notes.reserve(counts[c][2]);
        customers_[c].promises.reserve(counts[c][3]);
    }
    for (uint32_t i = 0; i < invoices_.size(); ++i) {
        customers_[invoices_[i].customer].invoices.push_back(i);
    }
    for (uint32_t i = 0; i < payments_.size(); ++i) {
        customers_[payments_[i].customer].payments.push_back(i);
    }
    for (uint32_t i = 0; i < credit_notes_.size(); ++i) {
        customers_[credit_notes_[i].customer].credit_notes.push_back(i);
    }
    for (uint32_t i = 0; i < promises_.size(); ++i) {
        customers_[promises_[i].customer].promises.push_back(i);
    }
}

void Ledger::RestoreBooksAndIndexes() {
    for (const InvoiceRec& inv : invoices_) {
        CurrencyBook& book = books_[inv.currency];
        for (const InstallmentRec& inst : inv.installments) {
            if (inst.open != 0) {
                AddToDay(&book.open_by_due, inst.due.days(), inst.open);
                book.aging[BucketOf(DaysPastDue(inst.due))] += inst.open;
                if (inv.disputed) {
                    book.disputed += inst.open;
                }
            }
        }
        AddToDay(&book.sales_by_day, inv.issued.days(), inv.amount);
        book.issued_total += inv.amount;
        if (*business_date_ - inv.issued < kWindowDays) {
            book.sales_window += inv.amount;
        }
        book.written_off += inv.written_off;
    }
    for (const CreditRec& p : payments_) {
        books_[p.currency].unapplied += p.unapplied;
        books_[p.currency].credit_total += p.amount;
    }
    for (const CreditRec& n : credit_notes_) {
        books_[n.currency].unapplied += n.unapplied;
        books_[n.currency].credit_total += n.amount;
    }
    EnsureCustomerSlots();
    for (const InvoiceRec& inv : invoices_) {
        if (inv.paid_date) {
            CountPaid(inv, +1);
        }
    }
    for (uint32_t i = 0; i < actions_.size(); ++i) {
        action_index_.Insert(actions_[i].key, i);
    }
    for (uint32_t i = 0; i < promises_.size(); ++i) {
        const PromiseRec& p = promises_[i];
        ++promise_transitions_[static_cast<size_t>(p.status)];
        TallyPromise(p, +1);
        if (p.status == PromiseStatus::kKept) {
            ++stats_[p.customer].promises_kept;
        } else if (p.status == PromiseStatus::kBroken) {
            ++stats_[p.customer].promises_broken;
        }
        // Every open promise gets its deadline, even one already passed (the grace may have
        // shrunk since it was stored): the next day roll breaks it.
        bool pending = p.status == PromiseStatus::kOpen || p.status == PromiseStatus::kKept;
        if (pending) {
            promise_deadlines_.emplace(PromiseDeadline(p), i);
        }
    }
    for (const CustomerRec& c : customers_) {
        if (!c.segment.empty()) {
            ++segment_counts_[c.segment];
        }
    }
}

}  // namespace rms
