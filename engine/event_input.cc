#include "engine/event_input.h"

namespace rms {

bool IsBlankLine(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::optional<ParsedLine> ParseInputLine(std::string_view line, metrics::EngineMetrics* metrics) {
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (IsBlankLine(line)) {
        return std::nullopt;
    }
    ParsedLine parsed = ParseEvent(line);
    if (!parsed.status.ok()) {
        std::string_view type = parsed.status.code() == "invalid_json" ? "unknown" : "invalid";
        metrics->CountEvents(type, parsed.status.code());
    }
    return parsed;
}

}  // namespace rms
