// Driving an Engine directly (no sockets) from tests.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"

namespace rms::testing {

// Runs `lines` through the engine as one submission and waits for the answers; true when every
// answer is ok (a line that does not parse is a test failure).
bool CommitEvents(Engine& engine, const std::vector<std::string>& lines);

}  // namespace rms::testing
