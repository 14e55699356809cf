// rmsd: the RMS engine. Starts the store, the ingest listener and the HTTP listener, prints one
// ready line on stdout, and runs until SIGTERM or SIGINT, then drains and closes cleanly.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "engine/asio.h"
#include "engine/config.h"
#include "engine/engine.h"
#include "engine/http_server.h"
#include "engine/ingest_server.h"
#include "engine/query_api.h"
#include "metrics/engine_metrics.h"

namespace {

constexpr int kExitUsage = 64;
constexpr int kExitUnavailable = 69;
constexpr int kExitConfig = 78;

int Fail(int code, const std::string& message) {
    spdlog::error("rmsd: {}", message);
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("rmsd: the RMS receivables engine");
    rms::Config config;
    std::string config_file;
    std::string data_dir, listen, http;
    bool fsync = false;
    bool version = false;
    app.add_option("-c,--config", config_file, "TOML settings file")->check(CLI::ExistingFile);
    app.add_option("--data-dir", data_dir, "data directory (default var/rms)");
    app.add_option("--listen", listen, "ingest address host:port (default 127.0.0.1:7400)");
    app.add_option("--http", http, "query API address host:port (default 127.0.0.1:8080)");
    app.add_flag("--fsync", fsync, "fdatasync every group commit (survives power loss)");
    app.add_flag("--version", version, "print the version and exit");
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
    auto logger = spdlog::stderr_color_mt("rmsd");
    spdlog::set_default_logger(logger);
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
    auto opened = rms::Engine::Open(config.engine, &metrics);
    if (!opened.ok()) {
        return Fail(kExitUnavailable, opened.status().message());
    }
    std::unique_ptr<rms::Engine> engine = std::move(opened).value();
    rms::QueryApi api(engine.get(), &metrics);

    boost::asio::io_context ingest_io(1);
    boost::asio::io_context http_io(1);
    rms::IngestServer ingest(ingest_io, engine.get(), &metrics, config.limits);
    rms::HttpServer http_server(http_io, &api);
    rms::Status s = ingest.Listen(ingest_addr->first, ingest_addr->second);
    if (s.ok()) {
        s = http_server.Listen(http_addr->first, http_addr->second);
    }
    if (!s.ok()) {
        return Fail(kExitUnavailable, s.message());
    }

    boost::asio::signal_set signals(ingest_io, SIGTERM, SIGINT);
    signals.async_wait([&](boost::system::error_code ec, int signo) {
        if (ec) {
            return;
        }
        spdlog::info("rmsd: signal {}, draining", signo);
        ingest.Drain();
        // Once every connection has closed, ingest_io runs out of work and returns.
    });

    auto http_guard = boost::asio::make_work_guard(http_io);
    std::thread http_thread([&] { http_io.run(); });
    spdlog::info("rmsd: ready, ingest {}:{}, http {}:{}, data {}{}", ingest_addr->first,
                 ingest.port(), http_addr->first, http_server.port(), config.data_dir,
                 config.engine.fsync ? ", fsync on" : "");
    std::printf("rmsd ready ingest=%s:%u http=%s:%u\n", ingest_addr->first.c_str(),
                static_cast<unsigned>(ingest.port()), http_addr->first.c_str(),
                static_cast<unsigned>(http_server.port()));
    std::fflush(stdout);

    ingest_io.run();

    engine->Stop();
    http_server.Stop();
    http_guard.reset();
    http_io.stop();
    http_thread.join();
    engine.reset();
    spdlog::info("rmsd: stopped cleanly");
    return 0;
}
