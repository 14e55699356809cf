// POST /v1/events: protocol events over HTTP. The body is one event (application/json) or
// NDJSON lines (application/x-ndjson); each event is parsed with the same checks as a TCP line
// and goes through the same Engine::Submit, so it is answered only once its group commit is
// durable, with the same answer objects. See docs/protocol.md ("Events over HTTP").
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "engine/query_api.h"
#include "metrics/engine_metrics.h"

namespace rms {

// The largest body POST /v1/events takes; a larger one is 413 `body_too_large`.
inline constexpr size_t kMaxEventsBodyBytes = 1 << 20;
// The longest line (or single event), as on the TCP ingest.
inline constexpr size_t kMaxEventLineBytes = 65536;

class EventsEndpoint {
public:
    EventsEndpoint(Engine* engine, metrics::EngineMetrics* metrics)
        : engine_(engine), metrics_(metrics) {}

    // Answers one POST. `done` runs exactly once: on the caller's thread for an answer that
    // needs no commit (a bad media type, nothing but rejected lines), otherwise on the engine's
    // commit thread once the events are committed.
    void Post(std::string_view content_type, std::string body,
              std::function<void(ApiResponse)> done) const;

private:
    void PostOne(std::string body, std::function<void(ApiResponse)> done) const;
    void PostLines(std::string body, std::function<void(ApiResponse)> done) const;

    Engine* engine_;
    metrics::EngineMetrics* metrics_;
};

// The HTTP status of a single event's answer: 200 applied or duplicate, 400 a fault of the
// line or its fields, 409 conflict, 422 a state check, 503 unavailable.
int HttpStatusOfAnswer(std::string_view error_code);

}  // namespace rms
