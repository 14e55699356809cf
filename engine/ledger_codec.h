// How the ledger is laid out in the store: one key per record, written whole whenever the record
// changes, plus the idempotence markers and the append-only event log.
//
// Keys start with a one-byte kind and carry fixed-width big-endian numbers, so records of a kind
// sort in arrival order and a batch writes them in key order:
//   "m"                 meta: business date, next event sequence number
//   "c" idx32           customer          "i" idx32   invoice
//   "p" idx32           payment           "n" idx32   credit note
//   "r" idx32           promise           "h" day32   closed day (figures per currency)
//   "a" idx32           action            "g" idx32   segment change
//   "x" cur base        latest fx rate
//   "e" seq64           event log: one block per group commit, keyed by the seq of its first
//                       event: the canonical JSON of each applied event, length-prefixed, in seq
//                       order (seqs of a block are consecutive)
//   "k" len source id   idempotence marker (len a varint): seq64 of the event, hash64; read from
//                       the store when an event arrives, never held in memory as a whole
//   "t" idx32 ~seq64    a customer's timeline entry, newest first (engine/timeline.h)
//   "f" len channel step  contact effectiveness of one channel and step
//   "o" len topic part32  Kafka: the next offset of that partition to consume (int64)
// Values are a compact binary encoding (varints, length-prefixed strings, currencies as codes).
// Derived totals (books, per-customer lists, deadlines) are not stored: Load recomputes them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/ledger.h"
#include "storage/store.h"

namespace rms {

struct Marker {
    uint64_t seq = 0;
    uint64_t hash = 0;
};

// The marker key of an event: the source's length, the source, the id. The length keeps the
// pair unambiguous whatever bytes the two strings hold.
std::string MarkerKey(std::string_view source, std::string_view id);
// The key of the event-log block whose first event has `first_seq`.
std::string EventLogKey(uint64_t first_seq);
std::string EncodeMarker(const Marker& m);
std::optional<Marker> DecodeMarker(std::string_view value);
// Appends one event's canonical JSON to a log block.
void AppendLogEntry(std::string* block, std::string_view canonical);

// The canonical JSON of logged event `seq`; nullopt when it is not in the log.
Result<std::optional<std::string>> ReadLoggedEvent(const storage::Store& store, uint64_t seq);
// Calls fn(seq, canonical) for every logged event in seq order, until it returns false.
Status ForEachLoggedEvent(const storage::Store& store,
                          const std::function<bool(uint64_t, std::string_view)>& fn);

// Timeline entries (engine/timeline.h): the key of one, the prefix of a customer's, and the
// stored value. Decoding gives nullopt when the bytes are damaged.
std::string TimelineKey(uint32_t customer, uint64_t seq);
std::string TimelinePrefix(uint32_t customer);
std::string EncodeTimelineEntry(const TimelineEntry& e);
// The same, appended to `out`.
void AppendTimelineEntry(const TimelineEntry& e, std::string* out);
std::optional<TimelineEntry> DecodeTimelineEntry(std::string_view key, std::string_view value);

// Kafka mode (issue #9): the key of a topic partition's consumed position, and its value, the
// offset of the next message to consume. Written in the batch of the state that message made.
std::string OffsetKey(std::string_view topic, int32_t partition);
std::string EncodeOffset(int64_t next_offset);
// Fails with "unavailable" when the stored value is not 8 bytes.
[[nodiscard]] Result<int64_t> DecodeOffset(std::string_view value);

// Writes every record in `dirty`, and the meta record, into `batch`.
void EncodeDirty(const Ledger& ledger, const DirtySet& dirty, uint64_t next_seq,
                 storage::Batch* batch);

struct LoadedState {
    std::unique_ptr<Ledger> ledger;
    uint64_t next_seq = 1;
};

// Reads the whole ledger from the store (the markers stay there).
Result<LoadedState> LoadState(const storage::Store& store, const LedgerOptions& options);

// What DumpState covers. kWithoutDeliveries leaves out what the outbox records beside the events
// (engine/outbox.h): each action's delivery status, attempts, error and next try, each customer's
// latest contact, the timeline clock, and the effectiveness counts. The state of an rmsd that
// delivered actions equals a rebuild from the event log in that sense only.
enum class DumpScope { kAll, kWithoutDeliveries };

// Serialises the records of `ledger`, one by one: equal strings mean equal ledgers. Used to
// compare a loaded state with one rebuilt from the event log.
std::string DumpState(const Ledger& ledger, DumpScope scope = DumpScope::kAll);

}  // namespace rms

namespace rms {

// Rebuilds a ledger from the event log alone, re-applying every logged event in order. The
// result must equal the loaded state (DumpState compares them); a mismatch means the stored
// records and the log disagree.
Result<std::unique_ptr<Ledger>> RebuildFromEventLog(const storage::Store& store,
                                                    const LedgerOptions& options);

}  // namespace rms
