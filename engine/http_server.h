// The HTTP listener of the query API, /metrics and the health endpoints (Boost.Beast).
#pragma once

#include <cstdint>
#include <string>

#include "engine/asio.h"
#include "engine/query_api.h"

namespace rms {

class HttpServer {
public:
    HttpServer(boost::asio::io_context& io, const QueryApi* api);

    // Binds and starts accepting; port 0 picks a free one.
    Status Listen(const std::string& host, uint16_t port);
    uint16_t port() const { return port_; }
    void Stop();

private:
    void Accept();

    boost::asio::io_context& io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    const QueryApi* api_;
    uint16_t port_ = 0;
};

}  // namespace rms
