// Opening a TCP listener, shared by the ingest and HTTP servers.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

// One connection's place in a count of open connections, held for as long as the connection
// lives: the count goes up on construction and down on destruction. The count is shared, so a
// connection may outlive its listener (an io_context destroys its pending handlers last).
class ConnectionSlot {
public:
    explicit ConnectionSlot(std::shared_ptr<std::atomic<size_t>> count) : count_(std::move(count)) {
        ++*count_;
    }
    ConnectionSlot(ConnectionSlot&& other) noexcept = default;
    ConnectionSlot& operator=(ConnectionSlot&&) = delete;
    ~ConnectionSlot() {
        if (count_) {
            --*count_;
        }
    }

private:
    std::shared_ptr<std::atomic<size_t>> count_;
};

// A listener's limit on open connections. Refusals come in episodes, like failed accepts: the
// warning is logged when the cap is first reached and, at info, once a connection is taken again,
// never once per refused connection.
class ConnectionCap {
public:
    // `key` is the setting that holds `limit`, named in the warning.
    ConnectionCap(std::string_view what, std::string_view key, size_t limit)
        : what_(what), key_(key), limit_(limit) {}

    // On the acceptor's thread only. A slot for a new connection, or nullopt when `limit`
    // connections are open.
    std::optional<ConnectionSlot> TryTake();
    size_t open() const { return *open_; }
    size_t limit() const { return limit_; }

private:
    std::string what_;
    std::string key_;
    size_t limit_;
    std::shared_ptr<std::atomic<size_t>> open_ = std::make_shared<std::atomic<size_t>>(0);
    uint64_t refused_ = 0;  // in the current episode
};

}  // namespace rms
