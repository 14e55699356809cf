#include "engine/listener.h"

#include <spdlog/spdlog.h>

namespace rms {

Result<uint16_t> OpenListener(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host,
                              uint16_t port, std::string_view what) {
    namespace asio = boost::asio;
    boost::system::error_code ec;
    asio::ip::address address = asio::ip::make_address(host, ec);
    if (ec) {
        return Status::Error("invalid_field",
                             std::string(what) + " address \"" + host + "\" is not an IP address");
    }
    asio::ip::tcp::endpoint endpoint(address, port);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return Status::Error("unavailable", "cannot listen on " + host + ":" +
                                                std::to_string(port) + ": " + ec.message());
    }
    return acceptor.local_endpoint().port();
}

constexpr auto kAcceptRetryPause = std::chrono::milliseconds(100);

void AcceptRetry::Failed(const boost::system::error_code& ec, std::function<void()> again) {
    if (failures_++ == 0) {
        spdlog::warn("{}: accept failed: {}; retrying every {} ms until it works", what_,
                     ec.message(), kAcceptRetryPause.count());
    }
    timer_.expires_after(kAcceptRetryPause);
    timer_.async_wait([again = std::move(again)](const boost::system::error_code& waited) {
        if (!waited) {
            again();
        }
    });
}

void AcceptRetry::Succeeded() {
    if (failures_ != 0) {
        spdlog::info("{}: accepting again after {} failed accepts", what_, failures_);
        failures_ = 0;
    }
}

std::optional<ConnectionSlot> ConnectionCap::TryTake() {
    if (*open_ >= limit_) {
        if (refused_++ == 0) {
            spdlog::warn(
                "{}: {} connections open, the limit ({}); refusing new ones until some "
                "close",
                what_, limit_, key_);
        }
        return std::nullopt;
    }
    if (refused_ != 0) {
        spdlog::info("{}: taking connections again after refusing {}", what_, refused_);
        refused_ = 0;
    }
    return ConnectionSlot(open_);
}

}  // namespace rms
