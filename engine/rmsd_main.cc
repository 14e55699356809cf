// rmsd: the RMS engine. Starts the store, the ingest listener and the HTTP listener, prints one
// ready line on stdout, and runs until SIGTERM or SIGINT, then drains and closes cleanly.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <thread>

#include "engine/asio.h"
#include "engine/channels.h"
#include "engine/config.h"
#include "engine/console.h"
#include "engine/engine.h"
#include "engine/events_endpoint.h"
#include "engine/http_server.h"
#include "engine/ingest_server.h"
#include "engine/kafka_consumer.h"
#include "engine/kafka_gateway.h"
#include "engine/logging.h"
#include "engine/outbox.h"
#include "engine/query_api.h"
#include "engine/sd_notify.h"
#include "metrics/engine_metrics.h"
#include "metrics/kafka_metrics.h"
#include "rules/rules_config.h"

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;
constexpr int kExitConfig = 78;

int Fail(int code, const std::string& message) {
    spdlog::error("rmsd: {}", message);
    return code;
}

// Tells systemd (Type=notify) about a state change; a failure is logged, never fatal.
void Notify(std::string_view state) {
    rms::Status s = rms::NotifyServiceManager(state);
    if (!s.ok()) {
        spdlog::warn("rmsd: {}", s.message());
    }
}

// Loads the delivery file and checks that every template the rules name is in it.
rms::Result<rms::DeliveryConfig> LoadDelivery(const std::string& path,
                                              const rms::rules::RulesConfig& rules,
                                              const std::string& rules_origin) {
    rms::Result<rms::DeliveryConfig> delivery = rms::LoadDeliveryFile(path);
    if (!delivery.ok()) {
        return delivery;
    }
    rms::Status names = rms::CheckTemplateNames(*delivery, rules, rules_origin);
    if (!names.ok()) {
        return names;
    }
    return delivery;
}

// --check-config: every error of the rules file and of the delivery file, one a line.
int CheckConfig(const std::string& rules_path, const std::string& delivery_path) {
    rms::Result<rms::rules::RulesConfig> rules = rms::rules::LoadRulesFile(rules_path);
    if (!rules.ok()) {
        std::fprintf(stderr, "%s\n", rules.status().message().c_str());
        return kExitConfig;
    }
    std::printf("%s: ok, %zu strategies\n", rules_path.c_str(), rules->strategies.size());
    if (delivery_path.empty()) {
        return 0;
    }
    rms::Result<rms::DeliveryConfig> delivery = LoadDelivery(delivery_path, *rules, rules_path);
    if (!delivery.ok()) {
        std::fprintf(stderr, "%s\n", delivery.status().message().c_str());
        return kExitConfig;
    }
    std::printf("%s: ok, %zu channels, %zu templates\n", delivery_path.c_str(),
                delivery->channels.size(), delivery->templates.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("rmsd: the RMS receivables engine");
    rms::Config config;
    std::string config_file;
    std::string data_dir, listen, http;
    bool fsync = false;
    bool version = false;
    std::string log_format = "text";
    std::string rules_file, check_config, base_currency, log_level, grafana_url, delivery_file;
    rms::TlsSettings tls_flags;
    rms::KafkaOptions kafka_flags;
    std::vector<std::string> kafka_set;
    app.add_option("-c,--config", config_file, "TOML settings file")->check(CLI::ExistingFile);
    app.add_option("--data-dir", data_dir, "data directory (default var/rms)");
    app.add_option("--listen", listen, "ingest address host:port (default 127.0.0.1:7400)");
    app.add_option("--http", http, "query API address host:port (default 127.0.0.1:8080)");
    app.add_flag("--fsync", fsync, "fdatasync every group commit (survives power loss)");
    app.add_flag("--version", version, "print the version and exit");
    app.add_option("--rules", rules_file, "collections rules (TOML); SIGHUP reloads it");
    app.add_option("--check-config", check_config,
                   "check a rules file (and the --delivery file with it), print every error "
                   "with its line, and exit");
    app.add_option("--delivery", delivery_file,
                   "delivery file (TOML): channels, templates and retries of the outbox");
    app.add_option("--base-currency", base_currency,
                   "convert all figures into this currency in /v1/kpis");
    app.add_option("--grafana-url", grafana_url,
                   "the Grafana dashboards the console's Overview links to");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
    app.add_option("--tls-cert", tls_flags.cert_file, "PEM certificate chain: TLS on both ports");
    app.add_option("--tls-key", tls_flags.key_file, "PEM private key of --tls-cert");
    app.add_option("--tls-client-ca", tls_flags.client_ca_file,
                   "PEM CA file: clients must present a certificate it signed (mutual TLS)");
    app.add_option("--kafka", kafka_flags.brokers,
                   "Kafka bootstrap servers: run as one instance of a cluster (scale-out.md)");
    app.add_option("--topic", kafka_flags.topic, "Kafka topic of the events (with --kafka)");
    app.add_option("--group", kafka_flags.group, "Kafka consumer group (with --kafka)");
    app.add_option("--kafka-set", kafka_set, "a librdkafka setting KEY=VALUE (repeatable)");
    app.add_option("--log-format", log_format, "stderr log lines: text or json (one object a line)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }
    if (version) {
        std::printf("rmsd 0.1.0\n");
        return 0;
    }
    if (!check_config.empty()) {
        return CheckConfig(check_config, delivery_file);
    }
    rms::InstallStderrLogger("rmsd", rms::ParseLogFormat(log_format).value());
    if (!config_file.empty()) {
        rms::Status s = rms::LoadConfigFile(config_file, &config);
        if (!s.ok()) {
            return Fail(kExitConfig, s.message());
        }
    }
    if (!data_dir.empty()) {
        config.data_dir = data_dir;
    }
    if (!listen.empty()) {
        config.listen = listen;
    }
    if (!http.empty()) {
        config.http = http;
    }
    config.engine.fsync = config.engine.fsync || fsync;
    if (!rules_file.empty()) {
        config.rules_file = rules_file;
    }
    if (!delivery_file.empty()) {
        config.delivery_file = delivery_file;
    }
    if (!base_currency.empty()) {
        config.base_currency = base_currency;
    }
    if (!log_level.empty()) {
        config.log_level = log_level;
    }
    if (!tls_flags.cert_file.empty()) {
        config.security.tls.cert_file = tls_flags.cert_file;
        config.security.tls.key_file = tls_flags.key_file;
    }
    if (!tls_flags.client_ca_file.empty()) {
        config.security.tls.client_ca_file = tls_flags.client_ca_file;
    }
    if (!kafka_flags.brokers.empty()) {
        config.kafka.brokers = kafka_flags.brokers;
    }
    if (!kafka_flags.topic.empty()) {
        config.kafka.topic = kafka_flags.topic;
    }
    if (!kafka_flags.group.empty()) {
        config.kafka.group = kafka_flags.group;
    }
    for (const std::string& kv : kafka_set) {
        size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            return Fail(kExitUsage, "--kafka-set \"" + kv + "\" is not KEY=VALUE");
        }
        config.kafka.settings.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    const bool kafka_mode = !config.kafka.brokers.empty();
    if (kafka_mode && (config.kafka.topic.empty() || config.kafka.group.empty())) {
        return Fail(kExitUsage, "--kafka needs --topic and --group");
    }
    if (rms::Status s = rms::CheckSecurityConfig(config.security); !s.ok()) {
        return Fail(kExitConfig, s.message());
    }
    std::shared_ptr<boost::asio::ssl::context> tls;
    if (config.security.tls.enabled()) {
        auto made = rms::MakeServerTlsContext(config.security.tls);
        if (!made.ok()) {
            return Fail(kExitConfig, made.status().message());
        }
        tls = std::move(made).value();
    }
    if (!grafana_url.empty()) {
        config.grafana_url = grafana_url;
    }
    if (spdlog::level::from_str(config.log_level) == spdlog::level::off &&
        config.log_level != "off") {
        return Fail(kExitUsage, "log level \"" + config.log_level + "\" is not known");
    }
    std::optional<rms::Currency> base;
    if (!config.base_currency.empty()) {
        base = rms::Currency::FromCode(config.base_currency);
        if (!base) {
            return Fail(kExitConfig, "base currency \"" + config.base_currency +
                                         "\" is not an ISO 4217 code this engine knows");
        }
    }
    if (!config.rules_file.empty()) {
        rms::Result<rms::rules::RulesConfig> rules = rms::rules::LoadRulesFile(config.rules_file);
        if (!rules.ok()) {
            return Fail(kExitConfig, rules.status().message());
        }
        config.engine.rules =
            std::make_shared<const rms::rules::RulesConfig>(std::move(rules).value());
        spdlog::info("rmsd: rules from {}: {} strategies", config.rules_file,
                     config.engine.rules->strategies.size());
    }
    std::optional<rms::DeliveryConfig> delivery;
    if (!config.delivery_file.empty()) {
        rms::rules::RulesConfig in_force =
            config.engine.rules ? *config.engine.rules : rms::rules::DefaultRules();
        auto loaded =
            LoadDelivery(config.delivery_file, in_force,
                         config.rules_file.empty() ? "built-in rules" : config.rules_file);
        if (!loaded.ok()) {
            return Fail(kExitConfig, loaded.status().message());
        }
        delivery = std::move(loaded).value();
    }
    if (delivery && !config.kafka.brokers.empty()) {
        return Fail(kExitConfig, "the delivery outbox is not supported in Kafka mode yet");
    }
    config.engine.data_dir = config.data_dir;
    spdlog::set_level(spdlog::level::from_str(config.log_level));

    auto ingest_addr = rms::SplitHostPort(config.listen);
    auto http_addr = rms::SplitHostPort(config.http);
    if (!ingest_addr.ok() || !http_addr.ok()) {
        return Fail(kExitUsage, (ingest_addr.ok() ? http_addr : ingest_addr).status().message());
    }
    std::error_code mk;
    std::filesystem::create_directories(config.data_dir, mk);
    if (mk) {
        return Fail(kExitUnavailable, "cannot create " + config.data_dir + ": " + mk.message());
    }

    rms::metrics::EngineMetrics metrics;
    rms::metrics::KafkaMetrics kafka_metrics;
    std::unique_ptr<rms::Engine> engine;
    std::unique_ptr<rms::KafkaConsumer> consumer;
    std::unique_ptr<rms::KafkaGateway> gateway;
    if (kafka_mode) {
        auto started =
            rms::KafkaConsumer::Start(config.kafka, config.engine, &metrics, &kafka_metrics);
        if (!started.ok()) {
            return Fail(kExitConfig, started.status().message());
        }
        consumer = std::move(started).value();
        auto producing = rms::KafkaGateway::Start(config.kafka, &kafka_metrics);
        if (!producing.ok()) {
            return Fail(kExitUnavailable, producing.status().message());
        }
        gateway = std::move(producing).value();
    } else {
        auto opened = rms::Engine::Open(config.engine, &metrics);
        if (!opened.ok()) {
            return Fail(kExitUnavailable, opened.status().message());
        }
        engine = std::move(opened).value();
    }
    rms::QueryApi api(engine.get(), &metrics, base);
    std::unique_ptr<rms::Outbox> outbox;
    if (delivery) {
        outbox = std::make_unique<rms::Outbox>(engine.get(), *delivery);
        outbox->Start();
    }
    if (consumer) {
        api.SetRoutes(rms::KafkaRoutes(consumer.get(), &metrics, &kafka_metrics));
    }

    boost::asio::io_context ingest_io(1);
    boost::asio::io_context http_io(1);
    rms::IngestServer ingest(ingest_io, engine.get(), &metrics, config.limits);
    rms::EventsEndpoint events(engine.get(), &metrics);
    rms::Console console(rms::ConsoleOptions{.grafana_url = config.grafana_url});
    if (gateway) {
        auto to_kafka = [gw = gateway.get()](rms::Submission s) { gw->Submit(std::move(s)); };
        ingest.RouteTo(to_kafka);
        events.RouteTo(to_kafka);
    }
    // In Kafka mode there is no engine of the instance's own, hence no actions to re-drive.
    std::optional<rms::RedeliveryEndpoint> redelivery;
    if (engine) {
        redelivery.emplace(engine.get());
    }
    rms::HttpServer http_server(http_io,
                                {.api = &api,
                                 .events = &events,
                                 .console = &console,
                                 .redelivery = redelivery ? &*redelivery : nullptr},
                                config.http_limits);
    const rms::SecurityConfig& sec = config.security;
    bool tls_ingest = tls && sec.tls_ingest;
    bool tls_http = tls && sec.tls_http;
    ingest.Secure(tls_ingest ? tls.get() : nullptr, sec.producers);
    events.RequireProducers(sec.producers);
    http_server.Secure({tls_http ? tls.get() : nullptr, sec.http_users, &metrics});
    spdlog::info("rmsd: ingest {}, {} producers; http {}, {} users{}",
                 tls_ingest ? "TLS" : "plain TCP", sec.producers.size(),
                 tls_http ? "TLS" : "plain TCP", sec.http_users.size(),
                 sec.tls.client_ca_file.empty() ? "" : "; client certificates required");
    rms::Status s = ingest.Listen(ingest_addr->first, ingest_addr->second);
    if (s.ok()) {
        s = http_server.Listen(http_addr->first, http_addr->second);
    }
    if (!s.ok()) {
        return Fail(kExitUnavailable, s.message());
    }

    boost::asio::signal_set hangup(ingest_io, SIGHUP);
    boost::asio::signal_set signals(ingest_io, SIGTERM, SIGINT);
    signals.async_wait([&](boost::system::error_code ec, int signo) {
        if (ec) {
            return;
        }
        spdlog::info("rmsd: signal {}, draining", signo);
        Notify("STOPPING=1\nSTATUS=draining");
        hangup.cancel();
        ingest.Drain();
        // Once every connection has closed, ingest_io runs out of work and returns.
    });

    // SIGHUP reloads the rules; a file with errors is refused and the rules in force stay.
    std::function<void()> await_hangup = [&] {
        hangup.async_wait([&](boost::system::error_code ec, int) {
            if (ec) {
                return;
            }
            if (!engine) {
                spdlog::warn("rmsd: SIGHUP: rules reload is not supported in Kafka mode");
            } else if (config.rules_file.empty()) {
                spdlog::warn("rmsd: SIGHUP, but no rules file was given; nothing to reload");
            } else if (auto rules = rms::rules::LoadRulesFile(config.rules_file); !rules.ok()) {
                spdlog::error("rmsd: SIGHUP: rules refused, the old ones stay: {}",
                              rules.status().message());
                metrics.CountRulesReload(false);
            } else if (rms::Status names =
                           delivery ? rms::CheckTemplateNames(*delivery, *rules, config.rules_file)
                                    : rms::Status::Ok();
                       !names.ok()) {
                spdlog::error("rmsd: SIGHUP: rules refused, the old ones stay: {}",
                              names.message());
                metrics.CountRulesReload(false);
            } else {
                spdlog::info("rmsd: SIGHUP: rules reloaded from {}: {} strategies",
                             config.rules_file, rules->strategies.size());
                engine->SetRules(
                    std::make_shared<const rms::rules::RulesConfig>(std::move(rules).value()));
                metrics.CountRulesReload(true);
            }
            await_hangup();
        });
    };
    await_hangup();

    auto http_guard = boost::asio::make_work_guard(http_io);
    std::thread http_thread([&] { http_io.run(); });
    spdlog::info("rmsd: ready, ingest {}:{}, http {}:{}, data {}{}", ingest_addr->first,
                 ingest.port(), http_addr->first, http_server.port(), config.data_dir,
                 config.engine.fsync ? ", fsync on" : "");
    std::printf("rmsd ready ingest=%s:%u http=%s:%u\n", ingest_addr->first.c_str(),
                static_cast<unsigned>(ingest.port()), http_addr->first.c_str(),
                static_cast<unsigned>(http_server.port()));
    std::fflush(stdout);
    // Store open, recovery done, both listeners bound: systemd may start what depends on rmsd.
    Notify("READY=1\nSTATUS=ready");

    ingest_io.run();

    if (outbox) {
        outbox->Stop();  // before the engine: its last results still commit
    }
    if (gateway) {
        gateway->Stop();
    }
    if (consumer) {
        consumer->Stop();
    }
    if (engine) {
        engine->Stop();
    }
    http_server.Stop();
    http_guard.reset();
    http_io.stop();
    http_thread.join();
    engine.reset();
    gateway.reset();
    consumer.reset();
    spdlog::info("rmsd: stopped cleanly");
    return 0;
}
