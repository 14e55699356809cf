#include "tools/progress_bar.h"

#include <fmt/format.h>

#include <algorithm>

namespace rms {

std::string RenderProgressBar(size_t done, size_t total, size_t width) {
    if (total == 0) {
        done = total = 1;
    }
    done = std::min(done, total);
    size_t filled = done * width / total;
    size_t percent = done * 100 / total;
    return fmt::format("[{}{}] {}/{} {:3}%", std::string(filled, '#'),
                       std::string(width - filled, '-'), done, total, percent);
}

}  // namespace rms
