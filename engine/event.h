// Protocol events (event protocol v1): their typed form and the strict parser that builds it.
//
// ParseEvent runs every check that needs no state: the line is one JSON object without
// duplicate keys, the common fields, and the fields and formats of the event's type. What it
// returns also carries the event's canonical content (sorted keys, source filled in), which
// decides whether a resent event is a duplicate or a conflict.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/currency.h"
#include "engine/date.h"
#include "engine/money.h"
#include "engine/status.h"

namespace rms {

enum class EventType : uint8_t {
    kCustomerUpserted,
    kInvoiceIssued,
    kCreditNoteIssued,
    kPaymentReceived,
    kCreditApplied,
    kPaymentReversed,
    kInvoiceWrittenOff,
    kDisputeOpened,
    kDisputeResolved,
    kPromiseMade,
    kPromiseCancelled,
    kContactLogged,
    kClockAdvanced,
    kFxRate,
};
inline constexpr int kEventTypeCount = 14;

// The protocol name of a type ("invoice.issued").
std::string_view EventTypeName(EventType type);
std::optional<EventType> EventTypeFromName(std::string_view name);

struct InstallmentSpec {
    Date due;
    int64_t amount = 0;
};

struct AllocationSpec {
    std::string invoice;
    int64_t amount = 0;
};

// Optional attributes of customer.upserted; an absent one leaves the stored value alone.
struct CustomerAttributes {
    std::optional<std::string> name;
    std::optional<std::string> kind;
    std::optional<std::string> risk;
    std::optional<std::string> credit_limit;  // a validated money string in `currency`
    std::optional<std::string> currency;
    std::optional<int64_t> terms_days;
    std::optional<std::string> country;
    std::optional<std::string> owner;
    // Where reminders go (protocol extension): an e-mail address and a phone number.
    std::optional<std::string> email;
    std::optional<std::string> phone;
};

struct Event {
    EventType type = EventType::kClockAdvanced;
    std::string id;
    std::string source;  // "default" when absent
    Date date;

    // The subject: the customer, and the item the type names (invoice, payment, credit note or
    // promise). `customer` is empty when optional and absent.
    std::string customer;
    std::string invoice;
    std::string payment;
    std::string credit_note;
    std::string promise;

    Currency currency;
    int64_t amount = 0;  // minor units of `currency`; 0 when the type has none or it is absent
    bool has_amount = false;
    // invoice.written_off: the amount as sent, parsed by the ledger in the invoice's currency.
    std::string amount_text;
    std::optional<Date> due;
    std::vector<InstallmentSpec> installments;
    std::vector<AllocationSpec> allocations;
    std::vector<std::string> promise_invoices;
    CustomerAttributes attributes;

    // contact.logged
    std::string channel;
    std::string direction;
    std::string outcome;  // empty when absent
    std::string agent;
    std::string note;

    // fx.rate: one unit of `currency` is `rate` units of `base`.
    Currency base;
    Decimal rate;

    // The canonical JSON of the whole event: what "same content" compares.
    std::string canonical;
    uint64_t content_hash = 0;
};

// The result of parsing one line: an event, or a rejection with the id when one was readable.
struct ParsedLine {
    Status status;
    std::optional<std::string> id;
    Event event;
};

// Parses and validates one line (without its newline). Never throws.
ParsedLine ParseEvent(std::string_view line);

// A stable 64-bit hash of bytes (FNV-1a folded with a final mix); used for content hashes.
uint64_t StableHash(std::string_view bytes);

}  // namespace rms
