#include "engine/http_server.h"

#include <spdlog/spdlog.h>

#include "engine/listener.h"

#include <memory>

namespace rms {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kRequestTimeout = std::chrono::seconds(30);

// One HTTP/1.1 connection: reads requests and answers them in turn, keeping the connection
// open while the client asks to.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(tcp::socket socket, const QueryApi* api, const HttpServer::Access* access)
        : stream_(std::move(socket), access->tls), api_(api), access_(access) {}

    void Start() {
        stream_.tcp().expires_after(kRequestTimeout);
        stream_.AsyncHandshake([self = shared_from_this()](beast::error_code ec) {
            if (ec) {
                if (self->access_->metrics != nullptr) {
                    self->access_->metrics->CountAuthFailure("tls_handshake");
                }
                self->Close();
                return;
            }
            self->Read();
        });
    }

private:
    void Read() {
        request_ = {};
        parser_.emplace();
        parser_->body_limit(64 * 1024);
        stream_.tcp().expires_after(kRequestTimeout);
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    }

    void OnRead(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
            Close();
            return;
        }
        if (ec) {
            // A request that does not parse still gets an answer saying why, then the close.
            bool too_large = ec == http::error::header_limit || ec == http::error::body_limit;
            ApiResponse out = ApiError(too_large ? 431 : 400, "invalid_request",
                                       "the HTTP request cannot be read: " + ec.message());
            Send(std::move(out), 11, false, false);
            return;
        }
        request_ = parser_->release();
        ApiResponse out;
        if (!Allowed()) {
            out = ApiError(401, "unauthorized", "this path needs HTTP basic authentication");
        } else if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
            out = ApiError(405, "method_not_allowed", "only GET is served here");
        } else {
            std::string_view target(request_.target().data(), request_.target().size());
            out = api_->Get(target);
        }
        Send(std::move(out), request_.version(), request_.keep_alive(),
             request_.method() == http::verb::head);
    }

    void Send(ApiResponse out, unsigned version, bool keep_alive, bool head) {
        response_ = {};
        response_.version(version);
        response_.result(static_cast<http::status>(out.status));
        response_.set(http::field::content_type, out.content_type);
        response_.set(http::field::cache_control, "no-store");
        if (out.status == 405) {
            response_.set(http::field::allow, "GET, HEAD");
        }
        if (out.status == 401) {
            response_.set(http::field::www_authenticate, R"(Basic realm="rms", charset="UTF-8")");
        }
        response_.keep_alive(keep_alive);
        response_.body() = std::move(out.body);
        response_.prepare_payload();
        if (head) {
            // HEAD: the headers of the GET answer, Content-Length included, and no body.
            size_t length = response_.body().size();
            response_.body().clear();
            response_.content_length(length);
        }
        http::async_write(stream_, response_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec || !self->response_.keep_alive()) {
                                  self->Close();
                                  return;
                              }
                              self->Read();
                          });
    }

    // With users configured, every path but the health checks needs one of them.
    bool Allowed() const {
        if (access_->users.empty()) {
            return true;
        }
        std::string_view target(request_.target().data(), request_.target().size());
        std::string_view path = target.substr(0, target.find('?'));
        if (path == "/healthz" || path == "/readyz") {
            return true;
        }
        auto header = request_.find(http::field::authorization);
        if (header != request_.end() &&
            BasicAuthAllows(std::string_view(header->value().data(), header->value().size()),
                            access_->users)) {
            return true;
        }
        if (access_->metrics != nullptr) {
            access_->metrics->CountAuthFailure("http_unauthorized");
        }
        return false;
    }

    void Close() {
        beast::error_code ignored;
        stream_.tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.tcp().socket().close(ignored);
    }

    MaybeTlsStream stream_;
    beast::flat_buffer buffer_;
    const QueryApi* api_;
    const HttpServer::Access* access_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, const QueryApi* api)
    : io_(io), acceptor_(io), api_(api) {}

Status HttpServer::Listen(const std::string& host, uint16_t port) {
    Result<uint16_t> bound = OpenListener(acceptor_, host, port, "http");
    if (!bound.ok()) {
        return bound.status();
    }
    port_ = *bound;
    Accept();
    return Status::Ok();
}

void HttpServer::Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec != asio::error::operation_aborted) {
                spdlog::warn("http: accept failed: {}", ec.message());
                Accept();
            }
            return;
        }
        std::make_shared<HttpSession>(std::move(socket), api_, &access_)->Start();
        Accept();
    });
}

void HttpServer::Stop() {
    asio::post(io_, [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    });
}

}  // namespace rms
