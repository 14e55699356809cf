// rmsd's settings: defaults, then an optional TOML file, then command-line flags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/auth.h"
#include "engine/engine.h"
#include "engine/http_server.h"
#include "engine/ingest_server.h"
#include "engine/kafka_consumer.h"
#include "engine/status.h"
#include "engine/tls.h"

namespace rms {

// Who may connect and what they may do (docs/guarantees.md, "Security").
struct SecurityConfig {
    // One certificate for both listeners; each listener can be left in plain TCP.
    TlsSettings tls;
    bool tls_ingest = true;
    bool tls_http = true;
    // No producers: the ingest port takes events from anyone who can connect (protocol v1).
    std::vector<ProducerPolicy> producers;
    // No users: the query API and /metrics answer without a password. A user's `producer`
    // names one of `producers`.
    std::vector<HttpUser> http_users;
};

struct Config {
    std::string data_dir = "var/rms";
    std::string listen = "127.0.0.1:7400";
    std::string http = "127.0.0.1:8080";
    std::string log_level = "info";
    // The collections rules (strategies, score, segments); empty: the built-in defaults.
    std::string rules_file;
    // Channels, templates and retries of the delivery outbox; empty: actions are not delivered.
    std::string delivery_file;
    // The currency /v1/kpis converts all figures into; empty: the base of the latest fx rate.
    std::string base_currency;
    // The Grafana dashboards the console's Overview links to; empty: no link.
    std::string grafana_url;
    EngineOptions engine;
    IngestLimits limits;
    HttpLimits http_limits;
    SecurityConfig security;
    // Kafka mode (issue #9) when `kafka.brokers` is set: docs/scale-out.md.
    KafkaOptions kafka;
};

// Reads a TOML file into `config`, leaving unset keys alone. Unknown keys, wrong types and
// out-of-range values are errors naming the key and its line.
Status LoadConfigFile(const std::string& path, Config* config);

// Checks what only makes sense together: a certificate needs its key; a client CA, both; an
// HTTP user's producer must be configured.
Status CheckSecurityConfig(const SecurityConfig& security);

// Splits "host:port" ("[::1]:7400" for IPv6).
Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& text);

}  // namespace rms
