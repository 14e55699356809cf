// POST /v1/actions/{id}/redeliver: an operator sends a dead-lettered action again, after fixing
// what made it fail (a wrong webhook URL, a provider's outage). The engine's commit thread makes
// the action pending with no attempts, in one batch with its timeline entry, and the answer
// comes only once that is durable; the outbox takes it at once, under the same Idempotency-Key.
// See docs/channels.md ("Dead letters") and docs/protocol.md.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "engine/query_api.h"

namespace rms {

class RedeliveryEndpoint {
public:
    // `engine` must outlive the endpoint.
    explicit RedeliveryEndpoint(Engine* engine) : engine_(engine) {}

    // True for the paths this endpoint answers: /v1/actions/{anything}/redeliver.
    static bool Owns(std::string_view path);

    // Answers one POST of `path` on behalf of `by` (who is recorded in the timeline). The body
    // must be empty or an empty JSON object, sent as application/json: a page of another site
    // cannot send that type without a CORS preflight, which rmsd never grants, so a browser
    // signed in to rmsd cannot be made to re-drive. `done` runs exactly once: on the caller's
    // thread for a request refused before the engine, else on the commit thread.
    void Post(std::string_view path, std::string_view content_type, std::string_view body,
              std::string by, std::function<void(ApiResponse)> done) const;

private:
    Engine* engine_;
};

}  // namespace rms
