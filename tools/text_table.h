// A minimal plain-text table layout for rmsctl's reports.
#pragma once

#include <string>
#include <vector>

namespace rms {

// Lays out `rows` in columns two spaces apart, each as wide as its widest cell: the first column
// left-aligned, the others right-aligned (they hold numbers). Rows may be shorter than others;
// missing cells are left empty. Every line ends in '\n', without trailing spaces.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace rms
