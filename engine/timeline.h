// The customer timeline: everything that happened to one customer, in the order it happened,
// kept in the store and read newest first.
//
// Each customer has its own sequence 1, 2, ... of entries. An entry is written in the same batch
// as what it records (the event, the action, the delivery attempt), so the timeline holds
// exactly what is committed. Keys are
//   "t" customer-index32 (2^64 - 1 - seq)64      both big-endian
// so that a forward scan of one customer's prefix yields its newest entry first, and a page that
// starts after a given seq is one seek. New entries get larger seqs, which sort before every
// page already handed out: a cursor stays valid and its pages unchanged while events arrive.
// The keys and the stored encoding are in engine/ledger_codec.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/date.h"
#include "engine/status.h"

namespace rms {

// One line of a customer's history. `kind` is one of kTimelineKinds.
struct TimelineEntry {
    uint32_t customer = 0;
    uint64_t seq = 0;  // 1, 2, ... per customer
    std::string kind;
    Date date;              // the business date it happened on
    std::string caused_by;  // the id of the event that caused it (for an event: its own id)
    // What happened, as named text values ("type", "invoice", "amount", ...), in a fixed order.
    std::vector<std::pair<std::string, std::string>> fields;
};

inline constexpr std::string_view kTimelineKinds[] = {"event",    "contact",    "action", "promise",
                                                      "delivery", "redelivery", "segment"};

// A cursor names the seq a page continues below. Opaque to clients: "c" and the seq in hex.
std::string EncodeTimelineCursor(uint64_t seq);
std::optional<uint64_t> DecodeTimelineCursor(std::string_view cursor);

}  // namespace rms
