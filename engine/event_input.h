// One input line of the event protocol, as every transport (TCP ingest, POST /v1/events) cuts it:
// the trailing '\r' dropped, blank lines skipped, parse failures counted in the metrics.
#pragma once

#include <optional>
#include <string_view>

#include "engine/event.h"
#include "metrics/engine_metrics.h"

namespace rms {

// Parses `line` (without its '\n'). Returns nullopt for a blank line (spaces, tabs and '\r'
// only), which gets no answer. A line that fails to parse is counted in `metrics` as rejected
// before it reaches the engine.
std::optional<ParsedLine> ParseInputLine(std::string_view line, metrics::EngineMetrics* metrics);

// True for a line of spaces, tabs and '\r' only.
bool IsBlankLine(std::string_view line);

}  // namespace rms
