// TLS for the ingest and HTTP listeners (Boost.Asio ssl over OpenSSL 3): the server context
// built from the configured certificate, key and optional client CA, and a stream that is TLS
// or plain TCP as configured, so that one connection class serves both.
#pragma once

#include "engine/asio.h"  // first: it includes <utility> before Asio

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include <memory>
#include <optional>
#include <string>

#include "engine/status.h"

namespace rms {

struct TlsSettings {
    std::string cert_file;       // PEM certificate chain; empty: no TLS
    std::string key_file;        // PEM private key
    std::string client_ca_file;  // PEM CAs; set: every client must present a certificate they sign
    bool enabled() const { return !cert_file.empty(); }
};

// A server context: TLS 1.2 or later, the certificate and key loaded (and checked to match),
// and, with a client CA, peer verification that fails the handshake without a client
// certificate. Fails with "invalid_config" naming the file that could not be used.
[[nodiscard]] Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const TlsSettings& settings);

// A TCP connection with TLS on it or not. Meets Asio's AsyncReadStream and AsyncWriteStream, so
// Beast and asio::async_write take it as they take a socket.
class MaybeTlsStream {
public:
    using executor_type = boost::beast::tcp_stream::executor_type;

    // `tls` null: plain TCP. The context must outlive the stream.
    MaybeTlsStream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls) {
        if (tls != nullptr) {
            tls_.emplace(std::move(socket), *tls);
        } else {
            plain_.emplace(std::move(socket));
        }
    }

    bool tls() const { return tls_.has_value(); }
    boost::beast::tcp_stream& tcp() { return tls_ ? tls_->next_layer() : *plain_; }
    executor_type get_executor() { return tcp().get_executor(); }

    // Runs the server handshake; on plain TCP, calls `handler` with no error straight away
    // (through the executor, never inline).
    template <typename Handler>
    void AsyncHandshake(Handler&& handler) {
        if (tls_) {
            tls_->async_handshake(boost::asio::ssl::stream_base::server,
                                  std::forward<Handler>(handler));
        } else {
            boost::asio::post(get_executor(), [h = std::forward<Handler>(handler)]() mutable {
                h(boost::system::error_code());
            });
        }
    }

    template <typename Buffers, typename Handler>
    void async_read_some(const Buffers& buffers, Handler&& handler) {
        if (tls_) {
            tls_->async_read_some(buffers, std::forward<Handler>(handler));
        } else {
            plain_->async_read_some(buffers, std::forward<Handler>(handler));
        }
    }

    template <typename Buffers, typename Handler>
    void async_write_some(const Buffers& buffers, Handler&& handler) {
        if (tls_) {
            tls_->async_write_some(buffers, std::forward<Handler>(handler));
        } else {
            plain_->async_write_some(buffers, std::forward<Handler>(handler));
        }
    }

    // Stops sending: the peer reads end of stream; reading goes on.
    void ShutdownSend();

    // Shuts the TCP connection down and closes it. TLS sessions end without close_notify: the
    // protocols above frame their own messages, so a cut cannot pass for a whole answer.
    void Close();

private:
    std::optional<boost::beast::tcp_stream> plain_;
    std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
};

}  // namespace rms
