// The collector console (issue #10): static HTML, JavaScript and CSS from console/, embedded into
// rmsd at build time (cmake/embed_console.cmake writes the generated console_files.cc), served
// under /console/. Nothing is read from the file system at run time, so no path can reach a
// file that was not embedded.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "engine/query_api.h"

namespace rms {

// One embedded file: its path under console/ ("index.html", "js/api.js") and its bytes.
struct ConsoleFile {
    std::string_view path;
    std::string_view bytes;
};

// Every embedded file (generated at build time).
std::span<const ConsoleFile> ConsoleFiles();

// What the console reads from /console/config.json.
struct ConsoleOptions {
    // The Grafana dashboards the Overview links to; empty: no link.
    std::string grafana_url;
};

class Console {
public:
    explicit Console(ConsoleOptions options) : options_(std::move(options)) {}

    // True for the paths this serves: "/console" and everything under "/console/".
    static bool Owns(std::string_view path);

    // Answers a GET of `path` (no query string): "/console" redirects to "/console/", which is
    // index.html; other files by their exact embedded path, 404 otherwise. Files carry an ETag
    // and `Cache-Control: no-cache`; an `if_none_match` equal to the ETag gets 304.
    ApiResponse Get(std::string_view path, std::string_view if_none_match) const;

private:
    ConsoleOptions options_;
};

// The Content-Type of a file by its extension; application/octet-stream when unknown.
std::string_view ConsoleContentType(std::string_view path);

}  // namespace rms
