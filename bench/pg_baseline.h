// The PostgreSQL baseline: what a team would build instead of rmsd. A plain schema (customers,
// invoices with their open amount, payments and allocations, credit notes, promises, contacts, and
// an events table that is both the idempotence key and the audit log), the stream applied with
// prepared statements in transactions of `txn_events` events, then the aging and DSO query.
#pragma once

#include <cstddef>
#include <string>

#include "bench/bench_util.h"
#include "engine/status.h"

namespace rms::bench {

#ifdef RMS_HAVE_LIBPQ
// Creates the schema in the database `conninfo` names (dropping an older one), applies every
// event of the stream file, runs the aging and DSO query three times, and returns the figures
// under keys that start with `label`. With `pipeline`, each transaction goes out in libpq
// pipeline mode instead of one round trip per statement. Fails with "unavailable" when the
// connection or a statement fails.
[[nodiscard]] Result<Report> RunPostgres(const std::string& stream_path,
                                         const std::string& conninfo, size_t txn_events,
                                         bool pipeline, const std::string& label);
#else
[[nodiscard]] inline Result<Report> RunPostgres(const std::string&, const std::string&, size_t,
                                                bool, const std::string&) {
    return Status::Error("unavailable", "rms-baselines was built without libpq");
}
#endif

}  // namespace rms::bench
