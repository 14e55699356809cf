// rmsd's settings: defaults, then an optional TOML file, then command-line flags.
#pragma once

#include <cstdint>
#include <string>

#include "engine/engine.h"
#include "engine/ingest_server.h"
#include "engine/status.h"

namespace rms {

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
    EngineOptions engine;
    IngestLimits limits;
};

// Reads a TOML file into `config`, leaving unset keys alone. Unknown keys, wrong types and
// out-of-range values are errors naming the key and its line.
Status LoadConfigFile(const std::string& path, Config* config);

// Splits "host:port" ("[::1]:7400" for IPv6).
Result<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& text);

}  // namespace rms
