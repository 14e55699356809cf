#include "engine/redelivery_endpoint.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <ctime>

#include "engine/events_endpoint.h"
#include "engine/json_writer.h"

namespace rms {

namespace {

constexpr std::string_view kPrefix = "/v1/actions/";
constexpr std::string_view kSuffix = "/redeliver";

// The wall-clock time now, UTC, to the second: when the operator asked.
std::string UtcNow() {
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[32];
    size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return std::string(buf, n);
}

// True for an empty body or one JSON object without members.
bool EmptyRequest(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return true;
    }
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    simdjson::padded_string padded(body);
    return parser.parse(padded).get(object) == simdjson::SUCCESS && object.size() == 0;
}

ApiResponse Redriven(uint64_t id) {
    ApiResponse r;
    JsonWriter w(&r.body);
    w.BeginObject();
    w.Key("ok");
    w.Bool(true);
    w.Key("action_id");
    w.Int(static_cast<int64_t>(id));
    w.Key("status");
    w.String("pending");
    w.EndObject();
    return r;
}

}  // namespace

bool RedeliveryEndpoint::Owns(std::string_view path) {
    return path.size() > kPrefix.size() + kSuffix.size() && path.starts_with(kPrefix) &&
           path.ends_with(kSuffix);
}

void RedeliveryEndpoint::Post(std::string_view path, std::string_view content_type,
                              std::string_view body, std::string by,
                              std::function<void(ApiResponse)> done) const {
    std::string_view raw =
        path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
    uint64_t id = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), id);
    if (ec != std::errc() || end != raw.data() + raw.size() || id == 0) {
        done(ApiError(404, "not_found", "action \"" + std::string(raw) + "\" does not exist"));
        return;
    }
    if (MediaType(content_type) != "application/json") {
        done(ApiError(415, "unsupported_media_type",
                      "a redelivery is sent with Content-Type: application/json, not \"" +
                          std::string(content_type) + "\""));
        return;
    }
    if (!EmptyRequest(body)) {
        done(
            ApiError(400, "invalid_field", "a redelivery takes no parameters: send no body or {}"));
        return;
    }
    Redelivery request{id, by, UtcNow()};
    engine_->Redeliver(std::move(request), [id, by, done = std::move(done)](Status s) {
        if (s.ok()) {
            spdlog::info("redelivery: action {} is pending again, asked by {}", id, by);
            done(Redriven(id));
        } else if (s.code() == "unknown_action") {
            done(ApiError(404, "not_found", s.message()));
        } else if (s.code() == "invalid_state") {
            done(ApiError(409, "invalid_state", s.message()));
        } else {
            done(ApiError(503, "unavailable", s.message()));
        }
    });
}

}  // namespace rms
