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
//   "x" cur base        latest fx rate    "e" seq64   event log: the event's canonical JSON
//   "k" len source id   idempotence marker (len a varint): seq64 of the event, hash64
//   "o" len topic part32  Kafka: the next offset of that partition to consume (int64)
// Values are a compact binary encoding (varints, length-prefixed strings, currencies as codes).
// Derived totals (books, per-customer lists, deadlines) are not stored: Load recomputes them.
#pragma once

#include <cstdint>
#include <memory>
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
std::string EventLogKey(uint64_t seq);
std::string EncodeMarker(const Marker& m);

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
    std::unordered_map<std::string, Marker> markers;
    uint64_t next_seq = 1;
};

// Reads the whole ledger and the markers from the store.
Result<LoadedState> LoadState(const storage::Store& store, const LedgerOptions& options);

// Serialises every record of `ledger` in key order: equal strings mean equal ledgers. Used to
// compare a loaded state with one rebuilt from the event log.
std::string DumpState(const Ledger& ledger);

}  // namespace rms

namespace rms {

// Rebuilds a ledger from the event log alone, re-applying every logged event in order. The
// result must equal the loaded state (DumpState compares them); a mismatch means the stored
// records and the log disagree.
Result<std::unique_ptr<Ledger>> RebuildFromEventLog(const storage::Store& store,
                                                    const LedgerOptions& options);

}  // namespace rms
