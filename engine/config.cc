#include "engine/config.h"

#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <set>

namespace rms {

namespace {

std::string Where(const toml::node& node) {
    return "line " + std::to_string(node.source().begin.line);
}

// Applies one integer key within [lo, hi].
template <typename T>
Status IntKey(const toml::node& node, std::string_view key, int64_t lo, int64_t hi, T* out) {
    // Integers only: toml++ converts a float such as 1e20 to int64 without a range check, which
    // is undefined behaviour (found by the config fuzzer).
    std::optional<int64_t> v = node.is_integer() ? node.value<int64_t>() : std::nullopt;
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

Status KeyError(const toml::node& node, std::string_view key, std::string_view what) {
    return Status::Error("invalid_field",
                         std::string(key) + " (" + Where(node) + ") " + std::string(what));
}

Status DigestKey(const toml::node& node, std::string_view key, std::string* out) {
    Status s = StringKey(node, key, out);
    if (s.ok() && !IsSha256Hex(*out)) {
        return KeyError(node, key, "must be a SHA-256 digest in hex (64 characters)");
    }
    for (char& ch : *out) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    return s;
}

// A list of strings, each accepted by `valid`.
Status StringSetKey(const toml::node& node, std::string_view key,
                    const std::function<bool(std::string_view)>& valid,
                    std::set<std::string, std::less<>>* out) {
    const toml::array* items = node.as_array();
    if (items == nullptr) {
        return KeyError(node, key, "must be a list of strings");
    }
    if (items->empty()) {
        // An empty list would read as "nothing allowed" but the policy reads it as "all".
        return KeyError(node, key, "is empty: leave the key out to allow every one");
    }
    for (const toml::node& item : *items) {
        std::optional<std::string> v = item.value<std::string>();
        if (!v || !valid(*v)) {
            return KeyError(item, key, "holds something that is not a known name");
        }
        out->insert(*v);
    }
    return Status::Ok();
}

Status RateKey(const toml::node& node, std::string_view key, double* out) {
    std::optional<double> v = node.value<double>();
    if (!v || !(*v > 0) || *v > 1e9) {
        return KeyError(node, key, "must be a number above 0 and at most 1e9");
    }
    *out = *v;
    return Status::Ok();
}

// Reads each table of an array of tables (`[[producers]]`) with its own key setters; `name` is
// required in every one.
using TableKeys =
    std::map<std::string, std::function<Status(const toml::node&, std::string_view)>, std::less<>>;
Status ForEachTable(const toml::node& node, std::string_view key,
                    const std::function<TableKeys()>& begin_table,
                    const std::vector<std::string>& required) {
    const toml::array* tables = node.as_array();
    if (tables == nullptr || !tables->is_array_of_tables()) {
        return KeyError(node, key, "must be tables: [[" + std::string(key) + "]]");
    }
    for (const toml::node& table_node : *tables) {
        TableKeys keys = begin_table();
        const toml::table& table = *table_node.as_table();
        for (const auto& [name, value] : table) {
            auto it = keys.find(name.str());
            if (it == keys.end()) {
                return KeyError(value, key,
                                "has an unknown key \"" + std::string(name.str()) + "\"");
            }
            Status s = it->second(value, std::string(key) + "." + std::string(name.str()));
            if (!s.ok()) {
                return s;
            }
        }
        for (const std::string& name : required) {
            if (!table.contains(name)) {
                return KeyError(table_node, key, "needs a \"" + name + "\"");
            }
        }
    }
    return Status::Ok();
}

Status ProducersKey(const toml::node& node, std::string_view key, SecurityConfig* sec) {
    auto begin = [sec]() -> TableKeys {
        ProducerPolicy* p = &sec->producers.emplace_back();
        return {
            {"name", [p](auto& n, auto k) { return StringKey(n, k, &p->name); }},
            {"token_sha256", [p](auto& n, auto k) { return DigestKey(n, k, &p->token_sha256); }},
            {"event_types",
             [p](auto& n, auto k) {
                 auto known = [](std::string_view t) { return EventTypeFromName(t).has_value(); };
                 return StringSetKey(n, k, known, &p->event_types);
             }},
            {"currencies",
             [p](auto& n, auto k) {
                 auto known = [](std::string_view c) { return Currency::FromCode(c).has_value(); };
                 return StringSetKey(n, k, known, &p->currencies);
             }},
            {"rate_per_second",
             [p](auto& n, auto k) { return RateKey(n, k, &p->rate_per_second); }},
            {"burst", [p](auto& n, auto k) { return IntKey(n, k, 1, 1000000000, &p->burst); }},
        };
    };
    // Pointers into the vector must stay valid while its tables are read.
    const toml::array* tables = node.as_array();
    sec->producers.reserve(sec->producers.size() + (tables ? tables->size() : 0));
    Status s = ForEachTable(node, key, begin, {"name", "token_sha256"});
    if (!s.ok()) {
        return s;
    }
    std::set<std::string, std::less<>> names, digests;
    for (ProducerPolicy& p : sec->producers) {
        if (p.name.empty() || p.name.size() > 128 || !names.insert(p.name).second) {
            return KeyError(node, key, "need names of 1 to 128 characters, each used once");
        }
        if (!digests.insert(p.token_sha256).second) {
            return KeyError(node, key, "must each have their own token");
        }
        if (p.burst == 0) {
            p.burst = std::max(1.0, p.rate_per_second);
        }
    }
    return Status::Ok();
}

Status HttpUsersKey(const toml::node& node, std::string_view key, SecurityConfig* sec) {
    auto begin = [sec]() -> TableKeys {
        HttpUser* u = &sec->http_users.emplace_back();
        return {
            {"name", [u](auto& n, auto k) { return StringKey(n, k, &u->name); }},
            {"password_sha256",
             [u](auto& n, auto k) { return DigestKey(n, k, &u->password_sha256); }},
            {"producer", [u](auto& n, auto k) { return StringKey(n, k, &u->producer); }},
        };
    };
    const toml::array* tables = node.as_array();
    sec->http_users.reserve(sec->http_users.size() + (tables ? tables->size() : 0));
    Status s = ForEachTable(node, key, begin, {"name", "password_sha256"});
    for (const HttpUser& u : sec->http_users) {
        if (s.ok() && (u.name.empty() || u.name.find(':') != std::string::npos)) {
            return KeyError(node, key, "need names that are not empty and hold no ':'");
        }
    }
    return s;
}

}  // namespace

Status CheckSecurityConfig(const SecurityConfig& sec) {
    const TlsSettings& tls = sec.tls;
    if (tls.cert_file.empty() != tls.key_file.empty()) {
        return Status::Error("invalid_config", "TLS needs both a certificate and a key file");
    }
    if (!tls.client_ca_file.empty() && tls.cert_file.empty()) {
        return Status::Error("invalid_config", "a TLS client CA needs a certificate and key too");
    }
    for (const HttpUser& user : sec.http_users) {
        bool known = std::any_of(sec.producers.begin(), sec.producers.end(),
                                 [&](const ProducerPolicy& p) { return p.name == user.producer; });
        if (!user.producer.empty() && !known) {
            return Status::Error("invalid_config", "http_users: user \"" + user.name +
                                                       "\" writes as producer \"" + user.producer +
                                                       "\", which no [[producers]] table names");
        }
    }
    return Status::Ok();
}

// kafka_settings = { "session.timeout.ms" = "10000", ... }: librdkafka settings as strings.
Status KafkaSettingsKey(const toml::node& node, std::string_view key, KafkaOptions* kafka) {
    const toml::table* table = node.as_table();
    if (table == nullptr) {
        return KeyError(node, key, "must be a table of strings");
    }
    for (const auto& [name, value] : *table) {
        const auto* text = value.as_string();
        if (text == nullptr) {
            return KeyError(value, std::string(key) + "." + std::string(name.str()),
                            "must be a string");
        }
        kafka->settings.emplace_back(std::string(name.str()), text->get());
    }
    return Status::Ok();
}

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
        {"grafana_url", [c](auto& n, auto k) { return StringKey(n, k, &c->grafana_url); }},
        {"fsync", [c](auto& n, auto k) { return BoolKey(n, k, &c->engine.fsync); }},
        {"min_free_mib",
         [c](auto& n, auto k) {
             int64_t mib = 0;
             Status s = IntKey(n, k, 0, 1 << 20, &mib);
             if (s.ok()) {
                 c->engine.min_free_bytes = static_cast<uint64_t>(mib) << 20;
             }
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
        {"line_timeout_seconds",
         [c](auto& n, auto k) { return IntKey(n, k, 1, 86400, &c->limits.line_timeout_seconds); }},
        {"http_max_connections",
         [c](auto& n, auto k) { return IntKey(n, k, 1, 65536, &c->http_limits.max_connections); }},
        {"http_request_timeout_seconds",
         [c](auto& n, auto k) {
             return IntKey(n, k, 1, 86400, &c->http_limits.request_timeout_seconds);
         }},
        {"tls_cert_file",
         [c](auto& n, auto k) { return StringKey(n, k, &c->security.tls.cert_file); }},
        {"tls_key_file",
         [c](auto& n, auto k) { return StringKey(n, k, &c->security.tls.key_file); }},
        {"tls_client_ca_file",
         [c](auto& n, auto k) { return StringKey(n, k, &c->security.tls.client_ca_file); }},
        {"tls_ingest", [c](auto& n, auto k) { return BoolKey(n, k, &c->security.tls_ingest); }},
        {"tls_http", [c](auto& n, auto k) { return BoolKey(n, k, &c->security.tls_http); }},
        {"producers", [c](auto& n, auto k) { return ProducersKey(n, k, &c->security); }},
        {"http_users", [c](auto& n, auto k) { return HttpUsersKey(n, k, &c->security); }},
        {"kafka_brokers", [c](auto& n, auto k) { return StringKey(n, k, &c->kafka.brokers); }},
        {"kafka_topic", [c](auto& n, auto k) { return StringKey(n, k, &c->kafka.topic); }},
        {"kafka_group", [c](auto& n, auto k) { return StringKey(n, k, &c->kafka.group); }},
        {"kafka_settings", [c](auto& n, auto k) { return KafkaSettingsKey(n, k, &c->kafka); }},
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
