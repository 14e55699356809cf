// The load generator's event stream: a seeded, reproducible flow of protocol events shaped by the
// IBM accounts-receivable sample, at any scale.
//
// Customers are upserted first; then, day by day, invoices are issued and what happens to each is
// scheduled from the sample's distributions: its amount, its terms, the day it is settled (and so
// whether it is paid late), whether it is disputed. On top of the sample, a share of invoices is
// paid in two parts, gets a credit note, is split into two installments, or, once overdue, gets a
// phone call and a payment promise. What falls after the last day stays open, so the stream ends
// with a ledger holding many open invoices. Every event is meant to be accepted: a stream that
// draws a rejection from rmsd is a bug here or there.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/date.h"
#include "engine/status.h"

namespace rms::loadgen {

// The empirical distributions of the IBM sample, one entry per invoice row.
struct IbmProfile {
    std::vector<int64_t> amounts;      // InvoiceAmount, in cents
    std::vector<int32_t> terms_days;   // DueDate - InvoiceDate
    std::vector<int32_t> settle_days;  // SettledDate - InvoiceDate
    double disputed_share = 0;
};

// Reads the columns InvoiceDate, DueDate, InvoiceAmount, Disputed and SettledDate of the sample
// (data/ibm-accounts-receivable.csv). Fails with "invalid_csv" naming the line and column of the
// first value that does not read, or when the file has no data rows.
[[nodiscard]] Result<IbmProfile> IbmProfileFromCsv(std::string_view csv_text);

struct StreamOptions {
    uint64_t seed = 42;
    uint32_t customers = 10000;
    uint64_t invoices = 100000;
    // Invoices are issued evenly over this many days; the stream ends on the last one.
    int32_t days = 30;
    Date start = Date(19723);  // 2024-01-01
    // Shares of invoices, drawn independently (percent).
    int partial_percent = 15;     // paid in two parts: 40 % half-way, the rest when settled
    int credit_note_percent = 3;  // credited 10 % before it is settled
    int installment_percent = 5;  // two installments, due at the terms and 30 days later
    int promise_percent = 30;     // of late invoices: a call and a promise the day after due
};

// What the stream holds, complete once Next() has returned false.
struct StreamSummary {
    uint64_t events = 0;
    uint64_t bytes = 0;                  // newlines included
    std::array<uint64_t, 14> by_type{};  // indexed by rms::EventType
    uint64_t invoices = 0;
    uint64_t open_invoices = 0;  // invoices with something open at the end
    Date last_date;
};

class StreamGenerator {
public:
    StreamGenerator(const IbmProfile& profile, const StreamOptions& options);

    // Appends the next event line, without its '\n', to `out`; false once the stream is over.
    bool Next(std::string* out);

    const StreamSummary& summary() const { return summary_; }

private:
    // A scheduled step in an invoice's life, kept until its day comes.
    enum class Step : uint8_t {
        kCreditNote,
        kDisputeOpened,
        kContact,
        kPromise,
        kDisputeResolved,
        kPayment,
    };
    struct Action {
        uint32_t invoice;
        uint32_t amount;  // cents
        Step step;
        uint8_t last = 0;      // a payment that settles the invoice
        uint16_t promise_due;  // days after the action's day
    };
    uint64_t Random();
    uint64_t Below(uint64_t n);
    bool Percent(int percent);
    void Schedule(int32_t day, Action action);
    // Stable per-customer draws: country, currency, risk.
    uint64_t CustomerTraits(uint32_t customer) const;
    std::string_view CurrencyOf(uint32_t customer) const;

    void WriteCustomer(uint32_t customer, std::string* out);
    void WriteInvoice(std::string* out);
    void WriteAction(const Action& a, std::string* out);
    // The common head: {"id":"<prefix><n>","type":"...","source":"...","date":"..."
    void Head(std::string_view id_prefix, uint64_t n, std::string_view type,
              std::string_view source, int32_t day, std::string* out);
    const std::string& DayText(int32_t day);

    IbmProfile profile_;
    StreamOptions options_;
    uint64_t state_;

    std::vector<uint32_t> invoice_customer_;
    std::vector<std::vector<Action>> calendar_;  // by day, within the horizon only
    std::vector<std::string> day_texts_;

    uint32_t next_customer_ = 0;
    int32_t day_ = 0;
    uint64_t issued_today_ = 0;
    size_t action_ = 0;
    bool actions_sorted_ = false;
    uint64_t payments_ = 0;
    uint64_t credit_notes_ = 0;
    uint64_t promises_ = 0;
    uint64_t contacts_ = 0;
    uint64_t settled_ = 0;
    StreamSummary summary_;
};

// A cheap, stable 64-bit mix (splitmix64's finaliser), for routing and seeding.
uint64_t Mix64(uint64_t x);

}  // namespace rms::loadgen
