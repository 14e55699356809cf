#include "tools/text_table.h"

#include <algorithm>
#include <cstddef>

namespace rms {

std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }

    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            if (i > 0) {
                line.append(2 + widths[i] - row[i].size(), ' ');
                line.append(row[i]);
            } else {
                line.append(row[i]);
                line.append(widths[i] - row[i].size(), ' ');
            }
        }
        line.erase(line.find_last_not_of(' ') + 1);
        out.append(line);
        out.push_back('\n');
    }
    return out;
}

}  // namespace rms
