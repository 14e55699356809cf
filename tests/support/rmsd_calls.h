// The calls integration tests make of a running rmsd again and again, with gtest checks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rms {

// Sends `lines` on one ingest connection (100 in flight) and expects every answer to be ok.
void SendExpectingOk(uint16_t ingest_port, const std::vector<std::string>& lines);

// The body of GET `target` on the HTTP port; empty (and a test failure) when the call fails.
std::string GetBody(uint16_t http_port, const std::string& target);

}  // namespace rms
