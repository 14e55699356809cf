#include "engine/config.h"

#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include <charconv>
#include <functional>
#include <map>

namespace rms {

namespace {

std::string Where(const toml::node& node) {
    return "line " + std::to_string(node.source().begin.line);
}

// Applies one integer key within [lo, hi].
template <typename T>
Status IntKey(const toml::node& node, std::string_view key, int64_t lo, int64_t hi, T* out) {
    std::optional<int64_t> v = node.value<int64_t>();
    if (!v || *v < lo || *v > hi) {
        return Status::Error("invalid_field", std::string(key) + " (" + Where(node) +
                                                  ") must be a whole number from " +
                                                  std::to_string(lo) + " to " + std::to_string(hi));
    }
    *out = static_cast<T>(*v);
    return Status::Ok();
}

Status StringKey(const toml::node& node, std::string_view key, std::string* out) {
    std::optional<std::string> v = node.value<std::string>();
    if (!v) {
        return Status::Error("invalid_field",
                             std::string(key) + " (" + Where(node) + ") must be a string");
    }
    *out = *v;
    return Status::Ok();
}

Status BoolKey(const toml::node& node, std::string_view key, bool* out) {
    std::optional<bool> v = node.value<bool>();
    if (!v) {
        return Status::Error("invalid_field",
                             std::string(key) + " (" + Where(node) + ") must be true or false");
    }
    *out = *v;
    return Status::Ok();
}

}  // namespace

Status LoadConfigFile(const std::string& path, Config* c) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        return Status::Error("invalid_config", path + ": line " +
                                                   std::to_string(e.source().begin.line) + ": " +
                                                   std::string(e.description()));
    }
    using Setter = std::function<Status(const toml::node&, std::string_view)>;
    const std::map<std::string, Setter, std::less<>> keys = {
        {"data_dir", [c](auto& n, auto k) { return StringKey(n, k, &c->data_dir); }},
        {"listen", [c](auto& n, auto k) { return StringKey(n, k, &c->listen); }},
        {"http", [c](auto& n, auto k) { return StringKey(n, k, &c->http); }},
        {"log_level",
         [c](auto& n, auto k) {
             Status s = StringKey(n, k, &c->log_level);
             if (s.ok() && spdlog::level::from_str(c->log_level) == spdlog::level::off &&
                 c->log_level != "off") {
                 return Status::Error("invalid_field",
                                      std::string(k) + " (" + Where(n) + ") \"" + c->log_level +
                                          "\" is not trace, debug, info, warn, error or off");
             }
             return s;
         }},
        {"rules_file", [c](auto& n, auto k) { return StringKey(n, k, &c->rules_file); }},
        {"delivery_file", [c](auto& n, auto k) { return StringKey(n, k, &c->delivery_file); }},
        {"base_currency", [c](auto& n, auto k) { return StringKey(n, k, &c->base_currency); }},
        {"fsync", [c](auto& n, auto k) { return BoolKey(n, k, &c->engine.fsync); }},
        {"min_free_mib",
         [c](auto& n, auto k) {
             int64_t mib = 0;
             Status s = IntKey(n, k, 0, 1 << 20, &mib);
             c->engine.min_free_bytes = static_cast<uint64_t>(mib) << 20;
             return s;
         }},
        {"max_future_days",
         [c](auto& n, auto k) {
             return IntKey(n, k, 1, 36600, &c->engine.ledger.max_future_days);
         }},
        {"promise_threshold_percent",
         [c](auto& n, auto k) {
             return IntKey(n, k, 1, 100, &c->engine.ledger.promise_threshold_percent);
         }},
        {"promise_grace_days",
         [c](auto& n, auto k) {
             return IntKey(n, k, 0, 365, &c->engine.ledger.promise_grace_days);
         }},
        {"max_connections",
         [c](auto& n, auto k) { return IntKey(n, k, 1, 65536, &c->limits.max_connections); }},
        {"max_unanswered",
         [c](auto& n, auto k) { return IntKey(n, k, 1, 1000000, &c->limits.max_unanswered); }},
        {"idle_timeout_seconds",
         [c](auto& n, auto k) { return IntKey(n, k, 1, 86400, &c->limits.idle_timeout_seconds); }},
    };
    for (const auto& [key, node] : table) {
        auto it = keys.find(key.str());
        if (it == keys.end()) {
            return Status::Error("invalid_config", path + ": " + Where(node) + ": unknown key \"" +
                                                       std::string(key.str()) + "\"");
        }
        Status s = it->second(node, key.str());
        if (!s.ok()) {
            return Status::Error("invalid_config", path + ": " + s.message());
        }
    }
    return Status::Ok();
}

Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& text) {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
        return Status::Error("invalid_field", "\"" + text + "\" is not host:port");
    }
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    unsigned port = 0;
    std::string_view p(text.data() + colon + 1, text.size() - colon - 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port > 65535) {
        return Status::Error("invalid_field", "\"" + text + "\" has no valid port");
    }
    return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace rms
