// A one-line text progress bar for rmsctl, redrawn in place on a terminal.
#pragma once

#include <cstddef>
#include <string>

namespace rms {

// Returns "[#####-----] 512/1024  50%" with `width` cells between the brackets; `done` above
// `total` counts as `total`, and a `total` of 0 shows as complete.
std::string RenderProgressBar(size_t done, size_t total, size_t width);

}  // namespace rms
