// POST /v1/events: protocol events over HTTP. The body is one event (application/json) or
// NDJSON lines (application/x-ndjson); each event is parsed with the same checks as a TCP line
// and goes through the same Engine::Submit, so it is answered only once its group commit is
// durable, with the same answer objects. See docs/protocol.md ("Events over HTTP").
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/auth.h"
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

    // With producers, every POST is from one of them (its bearer token, or an HTTP user that
    // writes as it), and each event is held to that producer's rules, as on the ingest port.
    // The rate limits here are this endpoint's own, not shared with the ingest port's. Call
    // before serving.
    void RequireProducers(std::vector<ProducerPolicy> producers);
    bool needs_producer() const { return producers_ != nullptr; }

    // Sends every submission to `route` instead of the engine (Kafka gateway mode), whose
    // answers then say what the route says. Call before serving.
    void RouteTo(std::function<void(Submission)> route) { route_ = std::move(route); }

    // The producer an Authorization header value ("Bearer TOKEN") names, or null.
    const ProducerPolicy* Authenticate(std::string_view authorization) const;
    // The producer called `name` (an HTTP user writes as it), or null.
    const ProducerPolicy* ProducerNamed(std::string_view name) const;

    // Answers one POST from `producer` (null when no producers are configured). `done` runs
    // exactly once: on the caller's thread for an answer that needs no commit (a bad media
    // type, nothing but rejected lines), otherwise on the engine's commit thread once the
    // events are committed.
    void Post(std::string_view content_type, std::string body, const ProducerPolicy* producer,
              std::function<void(ApiResponse)> done) const;

private:
    void PostOne(std::string body, const ProducerPolicy* producer,
                 std::function<void(ApiResponse)> done) const;
    void PostLines(std::string body, const ProducerPolicy* producer,
                   std::function<void(ApiResponse)> done) const;
    // Ok, or why `producer` may not send `event` (counted in the metrics).
    Status Authorize(const ProducerPolicy* producer, const Event& event) const;

    void Submit(Submission sub) const;

    Engine* engine_;
    metrics::EngineMetrics* metrics_;
    std::function<void(Submission)> route_;
    // Null: no producers configured. The buckets change on every event, from any HTTP thread.
    std::unique_ptr<ProducerAuth> producers_;
    mutable std::mutex producers_mu_;
};

// The media type of a Content-Type value, lower-cased, without parameters ("; charset=utf-8").
std::string MediaType(std::string_view content_type);

// The HTTP status of a single event's answer: 200 applied or duplicate, 400 a fault of the
// line or its fields, 409 conflict, 422 a state check, 503 unavailable.
int HttpStatusOfAnswer(std::string_view error_code);

}  // namespace rms
