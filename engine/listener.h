// Opening a TCP listener, shared by the ingest and HTTP servers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/asio.h"
#include "engine/status.h"

namespace rms {

// Opens, binds and listens on host:port (an IP literal; port 0 picks a free port). `what` names
// the listener in errors. Returns the bound port.
Result<uint16_t> OpenListener(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host,
                              uint16_t port, std::string_view what);

// What an acceptor does after a failed accept. A shortage (no descriptor or memory left) fails
// again at once, so every retry waits kAcceptRetryPause; the warning is logged once when the
// failures start and once, at info, when accepting works again, never once per retry.
class AcceptRetry {
public:
    AcceptRetry(boost::asio::io_context& io, std::string_view what) : timer_(io), what_(what) {}

    // After an accept error other than operation_aborted: calls `again` after the pause.
    void Failed(const boost::system::error_code& ec, std::function<void()> again);
    // After an accepted connection: ends a run of failures.
    void Succeeded();
    // Drops a pending retry (the listener is closing).
    void Cancel() { timer_.cancel(); }

private:
    boost::asio::steady_timer timer_;
    std::string what_;
    uint64_t failures_ = 0;
};

}  // namespace rms
