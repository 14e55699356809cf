#include "engine/console.h"

#include <cstdio>

#include "engine/event.h"
#include "engine/json_writer.h"

namespace rms {

namespace {

constexpr std::string_view kPrefix = "/console/";

// The console's pages load only their own files and talk only to this server.
constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

std::string ETagOf(std::string_view bytes) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "\"%016llx\"",
                  static_cast<unsigned long long>(StableHash(bytes)));
    return buf;
}

// A file answer with its validators; 304 without a body when the client holds this version.
ApiResponse FileResponse(std::string_view path, std::string body, std::string_view if_none_match) {
    ApiResponse r;
    std::string etag = ETagOf(body);
    r.content_type = std::string(ConsoleContentType(path));
    r.cache_control = "no-cache";
    r.headers = {{"ETag", etag},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Content-Security-Policy", kContentSecurityPolicy},
                 {"Referrer-Policy", "no-referrer"}};
    if (if_none_match == etag) {
        r.status = 304;
        return r;
    }
    r.body = std::move(body);
    return r;
}

}  // namespace

std::string_view ConsoleContentType(std::string_view path) {
    struct Type {
        std::string_view extension;
        std::string_view content_type;
    };
    static constexpr Type kTypes[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    for (const Type& t : kTypes) {
        if (path.ends_with(t.extension)) {
            return t.content_type;
        }
    }
    return "application/octet-stream";
}

bool Console::Owns(std::string_view path) {
    return path == "/console" || path.starts_with(kPrefix);
}

ApiResponse Console::Get(std::string_view path, std::string_view if_none_match) const {
    if (path == "/console") {
        ApiResponse r;
        r.status = 308;
        r.content_type = "text/plain";
        r.body = "the console is at /console/\n";
        r.headers = {{"Location", "/console/"}};
        return r;
    }
    std::string_view name = path.substr(kPrefix.size());
    if (name.empty()) {
        name = "index.html";
    }
    if (name == "config.json") {
        std::string body;
        JsonWriter w(&body);
        w.BeginObject();
        w.Key("grafana_url");
        w.String(options_.grafana_url);
        w.EndObject();
        return FileResponse(name, std::move(body), if_none_match);
    }
    for (const ConsoleFile& f : ConsoleFiles()) {
        if (f.path == name) {
            return FileResponse(name, std::string(f.bytes), if_none_match);
        }
    }
    return ApiError(404, "not_found", "the console has no file " + std::string(path));
}

}  // namespace rms
