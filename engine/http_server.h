// The HTTP listener (Boost.Beast): the query API, POST /v1/events, the console under /console/,
// /metrics and the health endpoints.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/asio.h"
#include "engine/auth.h"
#include "engine/console.h"
#include "engine/events_endpoint.h"
#include "engine/listener.h"
#include "engine/query_api.h"
#include "engine/redelivery_endpoint.h"
#include "engine/tls.h"
#include "metrics/engine_metrics.h"

namespace rms {

// What the server answers from; borrowed, all must outlive it. `events`, `console` and
// `redelivery` may be null: POST /v1/events and POST /v1/actions/{id}/redeliver then answer 405,
// /console/ 404.
struct HttpHandlers {
    const QueryApi* api = nullptr;
    const EventsEndpoint* events = nullptr;
    const Console* console = nullptr;
    const RedeliveryEndpoint* redelivery = nullptr;
};

// What one client may hold of the HTTP port.
struct HttpLimits {
    // Open connections; beyond them a new one is answered 503 and closed.
    size_t max_connections = 256;
    // A whole request (header and body) must arrive within this, counted from when the server
    // starts waiting for it, as must the TLS handshake and each answer's write.
    int request_timeout_seconds = 30;
};

class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, HttpHandlers handlers, HttpLimits limits = {});

    // Who may ask, set before Listen(). TLS on every connection when `tls` is set (it must
    // outlive the server); with users, every path but /healthz and /readyz needs HTTP basic
    // auth with one of them. Writes (POST /v1/events, POST /v1/actions/{id}/redeliver) need a
    // producer instead when the events endpoint requires producers: its token, or a user that
    // writes as it (HttpUser::producer); a user who only reads is 403. Refusals are counted in
    // `metrics`.
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
    // Answers a connection over the cap with 503, unless too many refusals are being answered.
    void Refuse(boost::asio::ip::tcp::socket socket);

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    AcceptRetry accept_retry_;
    HttpHandlers handlers_;
    HttpLimits limits_;
    ConnectionCap cap_;
    // Refused connections still being answered: they hold a descriptor each, so they are few.
    std::shared_ptr<std::atomic<size_t>> refusing_ = std::make_shared<std::atomic<size_t>>(0);
    Access access_;
    uint16_t port_ = 0;
};

}  // namespace rms
