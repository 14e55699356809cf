// The receivables ledger: customers, invoices and their installments, payments, credit notes,
// promises, the per-currency books and the closed-day history.
//
// Apply() takes one event that passed ParseEvent and either applies all of it or, on a state
// error, nothing. It is pure in-memory and deterministic: the same events in the same order give
// the same state, which is what replays, crash recovery and tests compare. Which records an
// event changed is kept as a dirty set for the group commit to persist.
#pragma once

#include <array>
#include <climits>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/currency.h"
#include "engine/date.h"
#include "engine/event.h"
#include "engine/id_index.h"
#include "engine/inline_vector.h"
#include "engine/kpis.h"
#include "engine/status.h"
#include "engine/timeline.h"
#include "rules/rules_config.h"

namespace rms {

struct LedgerOptions {
    // A promise is kept once payments reach this share of its amount, in percent.
    int promise_threshold_percent = 100;
    // Days after a promise's due date that payments still count and before it breaks.
    int promise_grace_days = 0;
    // An event dated more than this many days after the business date is invalid_date.
    int max_future_days = 3660;
};

struct InstallmentRec {
    Date due;
    int64_t amount = 0;
    int64_t open = 0;
};

struct InvoiceRec {
    // What every walk over a customer's invoices reads (the rules, payments) comes first, the
    // installments inline: one invoice in a few cache lines, with no pointer to follow.
    InlineVector<InstallmentRec, 1> installments;  // sorted by due date
    uint32_t customer = 0;
    Currency currency;
    bool disputed = false;
    bool closed_by_write_off = false;
    bool held = false;  // steps came due while paused: resume at the right step only
    // The offset of the last step fired or skipped: steps with a larger offset are still to
    // come, whatever the rules file says by then (it may have been reloaded meanwhile).
    int32_t last_offset = INT32_MIN;
    std::string strategy;  // the strategy its steps follow; empty before the first match
    Date issued;
    uint64_t seq = 0;  // arrival order, the last tie-break of oldest-due-first
    int64_t amount = 0;
    int64_t written_off = 0;
    // Collections: the date the invoice was last closed by payments or credit (its lateness
    // counts in the customer's behaviour).
    std::optional<Date> paid_date;
    std::string id;

    int64_t open() const;
    // "open", "paid" or "written_off".
    std::string_view status() const;
    // The oldest installment with something open, or nullptr.
    const InstallmentRec* OldestOpen() const;
};

// Money applied to one installment.
struct Application {
    uint32_t invoice = 0;
    uint32_t installment = 0;
    int64_t amount = 0;
};

// A payment or a credit note: money that settles invoices directly (`applied`), or sits as the
// customer's unapplied credit until credit.applied moves it (`from_credit`).
struct CreditRec {
    std::string id;
    uint32_t customer = 0;
    Currency currency;
    Date date;
    uint64_t seq = 0;
    int64_t amount = 0;
    int64_t unapplied = 0;
    bool reversed = false;
    std::vector<Application> applied;
    std::vector<Application> from_credit;
};

enum class PromiseStatus : uint8_t { kOpen, kKept, kBroken, kCancelled };
std::string_view PromiseStatusName(PromiseStatus s);

struct PromiseRec {
    std::string id;
    uint32_t customer = 0;
    Currency currency;
    Date date;
    Date due;
    int64_t amount = 0;
    int64_t paid = 0;  // payments counted towards it
    PromiseStatus status = PromiseStatus::kOpen;
    Date status_date;          // when it took its status
    std::string status_event;  // the event being applied when it took it (a breach: the one
                               // that moved the business date past its deadline)
    std::vector<std::string> invoices;
    // The contact it followed within 7 days (effectiveness): its route and step; empty if none.
    std::string contact_channel;
    std::string contact_step;
};

// The promises of one currency: how many are in each status, and the kept and broken ones by
// the day they took that status (for the kept rate over a window).
struct PromiseTally {
    std::array<int64_t, 4> by_status{};                             // by PromiseStatus
    std::map<int32_t, std::pair<int64_t, int64_t>> decided_by_day;  // day -> (kept, broken)
};

// Effectiveness of one channel and strategy step (step "" for contacts logged by people).
struct EffectCounts {
    int64_t contacts = 0;
    int64_t payments_7d = 0;    // payments within 7 days after a contact, attributed to it
    int64_t promises = 0;       // promises made within 7 days after a contact
    int64_t promises_kept = 0;  // of those, kept
};
using EffectKey = std::pair<std::string, std::string>;  // (channel, "strategy/step")
inline constexpr int32_t kEffectWindowDays = 7;

// An action decided by the rules engine. `key` is stable: the same decision never makes two.
struct ActionRec {
    uint64_t id = 0;  // 1, 2, ... in decision order
    std::string key;
    uint32_t customer = 0;
    std::string invoice;  // empty for customer-level actions
    std::string strategy;
    std::string step;
    rules::ActionKind kind = rules::ActionKind::kReminder;
    std::string channel;
    std::string template_name;
    Date step_date;         // the day the step came due
    Date created;           // the business date it was decided on
    std::string caused_by;  // the id of the event being applied when it was decided
    // Delivery (engine/outbox.h): "pending" until delivered or dead-lettered.
    std::string status = "pending";
    uint32_t attempts = 0;        // delivery attempts recorded so far
    std::string last_error;       // of the latest failed attempt
    int64_t next_attempt_ms = 0;  // wall-clock ms (Unix) before which no retry goes out
};

// An action's key, by which the ledger finds it (the projection its IdIndex compares).
struct ActionKeyOf {
    std::string_view operator()(const ActionRec& a) const { return a.key; }
};

// Where an action goes, as deliveries, metrics and the timeline name it: its channel, or its kind
// when it names none.
std::string ActionRoute(const ActionRec& a);

// The recorded result of one delivery attempt of an action.
struct DeliveryOutcome {
    uint64_t action_id = 0;
    std::string key;       // the action's key, checked against the id
    uint32_t attempt = 0;  // this attempt's number, 1 for the first
    std::string result;    // "delivered", "retry" or "dead_letter"
    std::string error;
    int64_t next_attempt_ms = 0;  // retry: when the next attempt may go
};

// An operator's request to send a dead-lettered action again (POST /v1/actions/{id}/redeliver),
// after fixing what made it fail. Who and when are recorded in the customer's timeline.
struct Redelivery {
    uint64_t action_id = 0;
    std::string by;  // the HTTP user, "producer NAME", or "anonymous" without authentication
    std::string at;  // wall-clock time of the request, UTC, "2024-03-05T10:15:00Z"
};

struct SegmentChange {
    uint32_t customer = 0;
    std::string from;
    std::string to;
    std::string reason;
    Date date;
    std::string caused_by;
};

struct CustomerRec {
    std::string id;
    Date created;
    CustomerAttributes attributes;
    // Collections state, stored with the customer.
    std::string segment;  // empty until first classified
    std::string segment_reason;
    std::vector<Date> dispute_dates;  // disputes opened, for the 180-day count
    uint32_t episode = 0;             // customer-level steps re-arm when nothing is overdue
    std::string strategy;             // the strategy its customer-level steps follow
    bool held = false;                // customer-level steps came due while paused
    std::vector<std::string> fired_customer_steps;  // "strategy/step" fired in this episode
    // The latest contact, to which payments and promises in the next 7 days are attributed.
    std::optional<Date> last_contact;
    std::string last_contact_channel;
    std::string last_contact_step;
    std::vector<uint32_t> invoices;
    std::vector<uint32_t> payments;
    std::vector<uint32_t> credit_notes;
    std::vector<uint32_t> promises;
};

// Figures of one currency, for the whole ledger or one customer.
struct Figures {
    int64_t open = 0;
    int64_t overdue = 0;
    int64_t disputed = 0;
    int64_t unapplied = 0;
    int64_t written_off = 0;
    Aging aging{};
    int64_t sales_window = 0;
    Kpis kpis;
};

// The incrementally kept totals of one currency.
struct CurrencyBook {
    std::map<int32_t, int64_t> open_by_due;   // due day → open amount
    std::map<int32_t, int64_t> sales_by_day;  // issue day → gross sales
    Aging aging{};
    int64_t disputed = 0;
    int64_t unapplied = 0;
    int64_t written_off = 0;
    int64_t sales_window = 0;
    // Everything ever invoiced, and ever paid or credited, in this currency. Every other total
    // is bounded by one of these, so keeping them under kMaxCurrencyTotal keeps all sums exact.
    int64_t issued_total = 0;
    int64_t credit_total = 0;
};

// The figures and KPIs of one currency's totals as of `business_date`. `totals` is anything with
// the totals of a CurrencyBook (aging, disputed, unapplied, written_off, sales_window,
// sales_by_day): a ledger's book, or a cluster's parts summed over partitions, so that both are
// computed by the same rule. `start` is CEI's open amount at the end of the day before the window.
template <typename Totals>
Figures FiguresFromTotals(Date business_date, const Totals& totals, int64_t start) {
    Figures f;
    f.aging = totals.aging;
    for (int64_t v : totals.aging) {
        f.open += v;
    }
    f.overdue = f.open - totals.aging[0];
    f.disputed = totals.disputed;
    f.unapplied = totals.unapplied;
    f.written_off = totals.written_off;
    f.sales_window = totals.sales_window;
    KpiInputs in;
    in.business_date = business_date;
    in.open = f.open;
    in.current = totals.aging[0];
    in.sales_window = totals.sales_window;
    in.start = start;
    in.sales_by_day = &totals.sales_by_day;
    f.kpis = ComputeKpis(in);
    return f;
}

// The most a currency's running totals may reach (half of int64, so sums never overflow).
inline constexpr int64_t kMaxCurrencyTotal = INT64_MAX / 2;

struct ClosedDay {
    Date date;
    std::map<Currency, Figures> currencies;
};

// Indexes of records changed since the last Ledger::TakeDirty(): appended as they change,
// repeats and all (a record often changes several times in a group), then sorted and made unique
// once by Normalize(), so that each record is written once and in index order.
class DirtyIndexes {
public:
    void insert(uint32_t index) { indexes_.push_back(index); }
    void Normalize();
    bool count(uint32_t index) const;
    bool empty() const { return indexes_.empty(); }
    size_t size() const { return indexes_.size(); }
    std::vector<uint32_t>::const_iterator begin() const { return indexes_.begin(); }
    std::vector<uint32_t>::const_iterator end() const { return indexes_.end(); }

private:
    std::vector<uint32_t> indexes_;
};

// Records changed since the last TakeDirty(), by index.
struct DirtySet {
    DirtyIndexes customers;
    DirtyIndexes invoices;
    DirtyIndexes payments;
    DirtyIndexes credit_notes;
    DirtyIndexes promises;
    std::vector<uint32_t> actions;          // new actions (indexes)
    std::vector<uint32_t> segment_changes;  // new segment changes (indexes)
    std::vector<Date> closed_days;
    std::vector<TimelineEntry> timeline;  // new timeline entries, seqs assigned
    std::set<EffectKey> effects;
    bool meta = false;

    bool empty() const;
};

struct FxRate {
    Decimal rate;
    Date date;
    uint64_t seq = 0;  // arrival, the tie-break between rates of one date
};

// Every currency's figures converted into one base currency with the latest fx rates.
struct BaseFigures {
    Currency base;
    Figures figures;
    struct UsedRate {
        Decimal rate;
        bool inverse = false;  // the stored rate is one unit of the base in this currency
    };
    std::map<Currency, UsedRate> rates;
    std::vector<Currency> missing;  // currencies left out: no rate into the base
    bool overflow = false;          // the converted totals do not fit in 64 bits: no figures
};

class Ledger {
public:
    explicit Ledger(LedgerOptions options = {});

    // Checks that `event` may be applied now (the date limit); run before the idempotence check.
    Status CheckDate(const Event& event) const;

    // Applies one parsed event with arrival number `seq`. On failure nothing changed.
    Status Apply(const Event& event, uint64_t seq);

    std::optional<Date> business_date() const { return business_date_; }
    const LedgerOptions& options() const { return options_; }

    // Figures of one currency at the business date, KPIs included.
    Figures CurrencyFiguresNow(Currency c) const;
    // All currencies in `base`, each converted with its latest rate into it (or out of it).
    BaseFigures BaseFiguresNow(Currency base) const;
    // The base of the fx rate dated latest (ties: the later arrival): the default base currency.
    std::optional<Currency> DefaultBase() const;
    const std::map<Currency, CurrencyBook>& books() const { return books_; }
    const std::map<Date, ClosedDay>& history() const { return history_; }
    const std::map<std::pair<Currency, Currency>, FxRate>& fx_rates() const { return fx_; }

    const CustomerRec* FindCustomer(std::string_view id) const;
    const InvoiceRec* FindInvoice(std::string_view id) const;
    const PromiseRec* FindPromise(std::string_view id) const;
    // A customer's figures per currency it has dealt in.
    std::map<Currency, Figures> CustomerFigures(const CustomerRec& c) const;
    int32_t DaysPastDue(Date due) const;

    const std::vector<CustomerRec>& customers() const { return customers_; }
    const std::vector<InvoiceRec>& invoices() const { return invoices_; }
    const std::vector<CreditRec>& payments() const { return payments_; }
    const std::vector<CreditRec>& credit_notes() const { return credit_notes_; }
    const std::vector<PromiseRec>& promises() const { return promises_; }

    DirtySet TakeDirty();

    // Collections. The rules in force; changing them affects decisions from then on only.
    void SetRules(std::shared_ptr<const rules::RulesConfig> rules);
    const rules::RulesConfig& rules() const { return *rules_; }
    const std::vector<ActionRec>& actions() const { return actions_; }
    const std::vector<SegmentChange>& segment_changes() const { return segment_changes_; }

    // Records a delivery attempt of a pending action: its status, the timeline's delivery entry
    // and, once it is delivered or dead-lettered, the contact. invalid_state when the action is
    // not pending or the key does not match; unknown_action when there is no such action.
    Status RecordDelivery(const DeliveryOutcome& outcome);
    // Makes a dead-lettered action pending again with no attempts (its key, hence the
    // Idempotency-Key, stays) and notes the re-drive in the customer's timeline. unknown_action
    // when there is no such action; invalid_state when it is not a dead letter.
    Status Redeliver(const Redelivery& request);
    // Effectiveness per channel and step, since the store was created.
    const std::map<EffectKey, EffectCounts>& effects() const { return effects_; }
    // The same summed over the steps of each channel.
    std::map<std::string, EffectCounts> EffectsByChannel() const;
    void RestoreEffect(EffectKey key, EffectCounts counts);
    // Actions per delivery status ("pending", "delivered", "dead_letter").
    const std::map<std::string, int64_t, std::less<>>& action_statuses() const {
        return action_statuses_;
    }

    struct WorklistEntry {
        uint32_t customer = 0;
        double score = 0;
        rules::ScoreBreakdown breakdown;
        rules::CustomerFacts facts;
        std::string strategy;
    };
    // The top customers by priority score, optionally only one owner's or one segment's. Walks
    // an index kept in score order; only customers with something overdue are listed.
    std::vector<WorklistEntry> Worklist(size_t limit, std::string_view owner,
                                        std::string_view segment) const;
    // The facts the rules see for a customer now.
    rules::CustomerFacts FactsOf(uint32_t customer) const;
    const rules::BehaviourStats& StatsOf(uint32_t customer) const { return stats_[customer]; }

    // Promises kept among those kept or broken in the 90-day window, of one currency or of all;
    // nullopt when none.
    std::optional<double> PromiseKeptRate(std::optional<Currency> currency = std::nullopt) const;
    // The promises of each currency by status, kept up to date as statuses change.
    const std::map<Currency, PromiseTally>& promise_tallies() const { return promise_tallies_; }
    // How many promises entered each status (open, kept, broken, cancelled) since start-up,
    // counting the stored ones once at load.
    const std::array<uint64_t, 4>& promise_transitions() const { return promise_transitions_; }
    // Customers per segment (classified customers only) and on the worklist.
    const std::map<std::string, int64_t, std::less<>>& segment_counts() const {
        return segment_counts_;
    }
    size_t worklist_size() const { return worklist_.size(); }
    // The seq of the newest timeline entry of any customer. All customers draw their entries'
    // seqs from this one clock, stored in the meta record every group writes, so numbering an
    // entry rewrites no customer record.
    uint64_t timeline_clock() const { return timeline_clock_; }

    // Rebuilding from stored records (see ledger_codec.h): add every record, then Finish().
    // RestoreInvoice may run on one thread while the other Restore calls run on another: it
    // touches the invoices alone (and checks nothing against the customers).
    struct RestoreCounts {  // how many records of each kind are about to be restored
        uint32_t customers = 0;
        uint32_t invoices = 0;
        uint32_t payments = 0;
        uint32_t credit_notes = 0;
        uint32_t promises = 0;
        uint32_t actions = 0;
    };
    // Makes room for that many records, in the vectors and id indexes, before they come.
    void ReserveForRestore(const RestoreCounts& n);
    void RestoreMeta(std::optional<Date> business_date, uint64_t timeline_clock);
    void RestoreCustomer(CustomerRec rec);
    void RestoreInvoice(InvoiceRec rec);
    void RestorePayment(CreditRec rec);
    void RestoreCreditNote(CreditRec rec);
    void RestorePromise(PromiseRec rec);
    void RestoreClosedDay(ClosedDay day);
    void RestoreFxRate(Currency currency, Currency base, FxRate rate);
    void RestoreAction(ActionRec rec);
    void RestoreSegmentChange(SegmentChange rec);
    // Recomputes the books and indexes from the records (on two threads: the customers' lists
    // of their records on one, the books and collections indexes on the other).
    void FinishRestore();

private:
    using Handler = Status (Ledger::*)(const Event&, uint64_t);

    Status ApplyCustomerUpserted(const Event& e, uint64_t seq);
    Status ApplyInvoiceIssued(const Event& e, uint64_t seq);
    Status ApplyCreditNoteIssued(const Event& e, uint64_t seq);
    Status ApplyPaymentReceived(const Event& e, uint64_t seq);
    Status ApplyCreditApplied(const Event& e, uint64_t seq);
    Status ApplyPaymentReversed(const Event& e, uint64_t seq);
    Status ApplyInvoiceWrittenOff(const Event& e, uint64_t seq);
    Status ApplyDisputeOpened(const Event& e, uint64_t seq);
    Status ApplyDisputeResolved(const Event& e, uint64_t seq);
    Status ApplyPromiseMade(const Event& e, uint64_t seq);
    Status ApplyPromiseCancelled(const Event& e, uint64_t seq);
    Status ApplyContactLogged(const Event& e, uint64_t seq);
    Status ApplyNothing(const Event& e, uint64_t seq);
    Status ApplyFxRate(const Event& e, uint64_t seq);

    // Moves the business date to `date`, closing every day in between.
    void AdvanceTo(Date date);
    void CloseDay();
    void RollOneDay();

    // Lookups that produce the protocol's state errors.
    Result<uint32_t> KnownCustomer(std::string_view id) const;
    Result<uint32_t> KnownInvoice(const Event& e) const;
    Status CheckCustomerMatch(const Event& e, uint32_t customer) const;

    CurrencyBook& Book(Currency c);
    // invalid_amount when `amount` would take the currency's running total past the limit.
    Status CheckTotal(Currency c, int64_t amount, bool invoiced) const;
    // Changes the open amount of one installment, keeping every total in step.
    void AddOpen(uint32_t invoice, uint32_t installment, int64_t delta);
    // Takes up to `amount` from `invoice`, oldest due installment first; returns what it took.
    int64_t TakeFromInvoice(uint32_t invoice, int64_t amount, std::vector<Application>* out);
    // The customer's open, undisputed items in `currency`, oldest due first.
    std::vector<std::pair<uint32_t, uint32_t>> OpenItemsOldestFirst(uint32_t customer,
                                                                    Currency currency) const;
    void AddSales(Currency c, Date day, int64_t amount);
    void AddUnapplied(CreditRec* credit, uint32_t customer, int64_t delta);

    // Promises: count a payment towards (or back from) the customer's promises.
    void CountPayment(const CreditRec& payment, int64_t sign);
    bool InPromiseWindow(const PromiseRec& p, Date payment_date) const;
    void UpdatePromiseStatus(uint32_t promise);
    Date PromiseDeadline(const PromiseRec& p) const;

    Figures FiguresOf(Currency c, const CurrencyBook& book) const;
    // The rate turning `from` into `base`, and whether it is the inverse (base into from).
    std::optional<std::pair<Decimal, bool>> RateInto(Currency from, Currency base) const;

    // Collections (engine/collections.cc).
    void Touch(uint32_t customer);
    void EvaluateTouched();
    void Evaluate(uint32_t customer, bool decide);
    void FireAction(uint32_t customer, const rules::Strategy& strategy, const rules::Step& step,
                    std::string key, std::string_view invoice, Date step_date);
    void Schedule(uint32_t customer, Date wake);
    void Rank(uint32_t customer, const rules::CustomerFacts& facts);
    void CountPaid(const InvoiceRec& inv, int sign);
    void SetPromiseStatus(uint32_t promise, PromiseStatus status);
    // Adds (sign +1) or takes out (-1) promise `p` in its currency's tally, as of its status.
    void TallyPromise(const PromiseRec& p, int sign);
    void WakeCustomers();
    void EnsureCustomerSlots();
    // The two halves of FinishRestore(), run at once: they touch disjoint members.
    void RestoreCustomerLists();
    void RestoreBooksAndIndexes();

    // Timeline (engine/timeline.h): records an entry for `customer`, caused by the event being
    // applied. Seqs are given when the event's Apply ends, after its own entry.
    using Fields = std::vector<std::pair<std::string, std::string>>;
    void Note(uint32_t customer, std::string_view kind, Fields fields);
    // The customer an event is about, also when it names only an invoice, payment or promise.
    std::optional<uint32_t> SubjectCustomer(const Event& e) const;
    Fields EventFields(const Event& e) const;
    // Gives the entries from index `from` on their customers' next seqs.
    void NumberTimeline(size_t from);
    // The index of action `id` (1-based), or unknown_action.
    Result<uint32_t> ActionIndex(uint64_t id) const;

    // Effectiveness: a contact made, and what followed one within the window.
    void CountContact(uint32_t customer, std::string channel, std::string step, Date date);
    EffectCounts* AttributedContact(uint32_t customer, Date date, EffectKey* key);

    LedgerOptions options_;
    std::optional<Date> business_date_;
    uint64_t timeline_clock_ = 0;

    std::vector<CustomerRec> customers_;
    std::vector<InvoiceRec> invoices_;
    std::vector<CreditRec> payments_;
    std::vector<CreditRec> credit_notes_;
    std::vector<PromiseRec> promises_;
    // Each record's string id to its index in the vector above (engine/id_index.h).
    IdIndex customer_index_;
    IdIndex invoice_index_;
    IdIndex payment_index_;
    IdIndex credit_note_index_;
    IdIndex promise_index_;

    std::map<Currency, CurrencyBook> books_;
    std::map<Date, ClosedDay> history_;
    std::map<std::pair<Currency, Currency>, FxRate> fx_;
    // Open promises by the day after which they break.
    std::multimap<Date, uint32_t> promise_deadlines_;

    // Collections: decisions (stored) and the indexes derived from them and the ledger.
    std::shared_ptr<const rules::RulesConfig> rules_;
    std::vector<ActionRec> actions_;
    IdIndex action_index_;  // by ActionRec::key (see ActionKeyOf)
    std::vector<SegmentChange> segment_changes_;
    std::vector<rules::BehaviourStats> stats_;
    std::vector<double> rank_key_;  // score minus the days term's date part; see Rank()
    std::set<std::pair<double, uint32_t>> worklist_;
    std::vector<int32_t> wake_day_;
    // Day -> customers to evaluate then; an entry is stale when wake_day_ says another day.
    std::map<int32_t, std::vector<uint32_t>> wakes_;
    // (customer, promise) to act on in the next evaluation round; sorted by customer when the
    // round starts (EvaluateTouched).
    std::vector<std::pair<uint32_t, uint32_t>> broken_promises_;
    // Customers to evaluate after the event, in any order and repeated; EvaluateTouched takes
    // them into evaluating_, sorted and each once (vectors: no node per touch).
    std::vector<uint32_t> touched_;
    std::vector<uint32_t> evaluating_;
    std::map<Currency, PromiseTally> promise_tallies_;
    std::array<uint64_t, 4> promise_transitions_{};
    std::map<std::string, int64_t, std::less<>> segment_counts_;
    std::map<std::string, int64_t, std::less<>> action_statuses_;
    std::map<EffectKey, EffectCounts> effects_;
    std::string current_event_;
    Date current_event_date_;
    bool paying_ = false;  // the open amounts being reduced are paid, not credited or written off

    DirtySet dirty_;
    // Set while Apply() runs a handler's checks only, before the business date moves.
    bool checking_ = false;
};

}  // namespace rms
