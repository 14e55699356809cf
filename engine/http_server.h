// The HTTP listener of the query API, /metrics and the health endpoints (Boost.Beast).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/asio.h"
#include "engine/auth.h"
#include "engine/query_api.h"
#include "engine/tls.h"
#include "metrics/engine_metrics.h"

namespace rms {

class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, const QueryApi* api);

    // Who may ask, set before Listen(). TLS on every connection when `tls` is set (it must
    // outlive the server); with users, every path but /healthz and /readyz needs HTTP basic
    // auth with one of them. Refusals are counted in `metrics`.
    struct Access {
        boost::asio::ssl::context* tls = nullptr;
        std::vector<HttpUser> users;
        metrics::EngineMetrics* metrics = nullptr;
    };
    void Secure(Access access) { access_ = std::move(access); }

    // Binds and starts accepting; port 0 picks a free one.
    Status Listen(const std::string& host, uint16_t port);
    uint16_t port() const { return port_; }
    void Stop();

private:
    void Accept();

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    const QueryApi* api_;
    Access access_;
    uint16_t port_ = 0;
};

}  // namespace rms
