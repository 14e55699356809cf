// TCP ingest: newline-delimited JSON events in, one answer line per non-blank line out, in
// order (protocol v1). Lines are cut from 64 KiB reads, parsed on the network thread and handed
// to the engine a read at a time; answers go out in one write per batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/asio.h"
#include "engine/auth.h"
#include "engine/engine.h"
#include "engine/listener.h"
#include "engine/tls.h"
#include "metrics/engine_metrics.h"

namespace rms {

struct IngestLimits {
    size_t max_line_bytes = 65536;
    size_t max_unanswered = 1000;
    size_t max_connections = 512;
    // Also how long a connection may leave its answers unread before it is closed.
    int idle_timeout_seconds = 60;
    // Once a line's first byte has arrived, the rest of it must come within this; otherwise the
    // connection is answered line_timeout and closed.
    int line_timeout_seconds = 30;
    // After SIGTERM, how long connections may take to collect their answers before closing.
    int drain_grace_seconds = 10;
};

class IngestConnection;

class IngestServer {
public:
    IngestServer(boost::asio::io_context& io, Engine* engine, metrics::EngineMetrics* metrics,
                 IngestLimits limits);
    ~IngestServer();

    // Before Listen(): TLS on every connection when `tls` is set (it must outlive the server);
    // with producers, every connection must authenticate before its events are taken.
    void Secure(boost::asio::ssl::context* tls, std::vector<ProducerPolicy> producers);

    // Before Listen(): events go to `submit` instead of the engine (the Kafka gateway, issue
    // #9); the engine may then be null.
    void RouteTo(std::function<void(Submission)> submit) { submit_ = std::move(submit); }

    // Binds and starts accepting; `host` is an IPv4 or IPv6 literal, port 0 picks a free one.
    Status Listen(const std::string& host, uint16_t port);
    uint16_t port() const { return port_; }

    // Stops accepting and reading; connections close once their answers are written.
    void Drain();
    // Connections still open.
    size_t connections() const;

private:
    friend class IngestConnection;
    void Accept();
    void Forget(uint64_t id);
    std::vector<std::shared_ptr<IngestConnection>> Live(bool start_draining);

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    AcceptRetry accept_retry_;
    boost::asio::steady_timer drain_timer_;
    Engine* engine_;
    std::function<void(Submission)> submit_;
    metrics::EngineMetrics* metrics_;
    IngestLimits limits_;
    boost::asio::ssl::context* tls_ = nullptr;
    ProducerAuth auth_{{}};  // used on the io_context thread only
    uint16_t port_ = 0;
    bool draining_ = false;

    mutable std::mutex mu_;
    uint64_t next_id_ = 1;
    std::unordered_map<uint64_t, std::weak_ptr<IngestConnection>> connections_;
};

}  // namespace rms
