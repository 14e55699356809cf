// The calls integration tests make of a running rmsd again and again, with gtest checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/client.h"

namespace rms {

// Sends `lines` on one ingest connection (100 in flight) and expects every answer to be ok.
void SendExpectingOk(uint16_t ingest_port, const std::vector<std::string>& lines);

// The body of GET `target` on the HTTP port; empty (and a test failure) when the call fails.
std::string GetBody(uint16_t http_port, const std::string& target);

// POST `body` to `target` on the HTTP port, with a Content-Type when `content_type` is not
// empty, an Authorization header when `authorization` is not empty, and the credentials of
// `options`. Nullopt (and a test failure) when the call fails.
std::optional<HttpResponse> Post(uint16_t http_port, const std::string& target, std::string body,
                                 const std::string& content_type, const std::string& authorization,
                                 const HttpOptions& options = {});

}  // namespace rms
