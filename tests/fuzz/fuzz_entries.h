// The fuzzing entry points: one function per input format the engine reads from outside. Each
// feeds arbitrary bytes to the real parser and then checks properties of what came back, so that
// a wrong answer is found as surely as a crash.
//
// The libFuzzer targets (tests/fuzz/fuzzer_main.cc, built with RMS_FUZZ=ON and clang) abort on
// a failed property; the corpus replay test (tests/unit/fuzz_replay_test.cc, built in every
// build) runs every seed and every saved crash input through the same functions.
#pragma once

#include <string_view>
#include <vector>

#include "engine/status.h"

namespace rms::fuzz {

// One event line (without its newline) through ParseEvent. When it parses, its canonical form
// must parse again into the same event: same canonical bytes, hash, type, id, source and
// amount. That is what a rebuild from the event log relies on.
[[nodiscard]] Status FuzzEventLine(std::string_view data);

// The first byte picks a currency from the pinned table, the rest is a money string for
// ParseAmount, then a decimal for ParseDecimal. Acceptance must match an independent reading of
// the grammar, and formatting must give the canonical text, which parses back to the same value.
[[nodiscard]] Status FuzzMoney(std::string_view data);

// The bytes as a protocol date (ParseDate) and as an M/D/YYYY date (ParseUsDate): acceptance
// must match an independent calendar, and ToString must give the text back. The first four
// bytes are also read as a day count, which must survive a civil-date round trip.
[[nodiscard]] Status FuzzDate(std::string_view data);

// The bytes as rmsd's TOML settings file (LoadConfigFile); an accepted file's addresses go
// through SplitHostPort. Nothing may crash or throw; errors must carry a code.
[[nodiscard]] Status FuzzConfig(std::string_view data);

// The bytes as a rules file (ParseRules). Accepted rules must be usable: strategies matched,
// scores and segments computed for a set of customers without a non-finite score.
[[nodiscard]] Status FuzzRules(std::string_view data);

struct FuzzTarget {
    std::string_view name;  // also the folder name under tests/fuzz/corpus/
    Status (*run)(std::string_view data);
};

// Every target, in a fixed order.
const std::vector<FuzzTarget>& FuzzTargets();

}  // namespace rms::fuzz
