#include "engine/http_server.h"

#include <spdlog/spdlog.h>

#include "engine/listener.h"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <string>

namespace rms {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// How long a refused request's unread bytes are drained before the close (see Linger()).
constexpr auto kLingerTimeout = std::chrono::seconds(5);
// A connection over the cap gets this long for its TLS handshake and its 503, and as long again
// to go away: it is answered so that a client can tell "busy" from "down", not served.
constexpr auto kRefusalTimeout = std::chrono::seconds(2);
// Refused connections answered at a time; beyond that they are closed unanswered, so that a flood
// of connections cannot hold more descriptors than the cap and this.
constexpr size_t kMaxRefusing = 64;
// The body limit of every request but POST /v1/events (whose limit is kMaxEventsBodyBytes).
constexpr size_t kMaxQueryBodyBytes = 64 * 1024;
constexpr std::string_view kEventsPath = "/v1/events";
// The X-Requested-With value the console sends (console/app.js).
constexpr char kConsoleRequester[] = "rms-console";

std::string_view PathOf(std::string_view target) {
    return target.substr(0, target.find('?'));
}

// One HTTP/1.1 connection: reads requests and answers them in turn, keeping the connection
// open while the client asks to.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    // `slot` counts the connection while it lives. With `refusal`, the connection is answered
    // that and closed, whatever it sends.
    HttpSession(tcp::socket socket, const HttpHandlers& handlers, const HttpServer::Access* access,
                std::chrono::seconds timeout, ConnectionSlot slot,
                std::optional<ApiResponse> refusal = std::nullopt)
        : stream_(std::move(socket), access->tls),
          handlers_(handlers),
          access_(access),
          timeout_(timeout),
          slot_(std::move(slot)),
          refusal_(std::move(refusal)) {}

    void Start() {
        stream_.tcp().expires_after(timeout_);
        stream_.AsyncHandshake([self = shared_from_this()](beast::error_code ec) {
            if (ec) {
                if (self->access_->metrics != nullptr) {
                    self->access_->metrics->CountAuthFailure("tls_handshake");
                }
                self->Close();
                return;
            }
            if (self->refusal_) {
                // Answered before its request is read: the drain in Linger() takes the request.
                self->linger_ = true;
                self->Send(std::move(*self->refusal_), 11, false, false);
                return;
            }
            self->Read();
        });
    }

private:
    // The header first: the body limit depends on where the request goes.
    void Read() {
        request_ = {};
        parser_.emplace();
        // Beast checks a Content-Length against the limit as the header completes, so the
        // header is read under the largest limit and OnHeader narrows it.
        parser_->body_limit(kMaxEventsBodyBytes);
        // One deadline for the header and the body together (Beast's expiry is not reset by each
        // read), so a client dripping bytes cannot hold the connection beyond it.
        stream_.tcp().expires_after(timeout_);
        http::async_read_header(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
    }

    void OnHeader(beast::error_code ec) {
        if (ec) {
            OnReadError(ec);
            return;
        }
        const auto& header = parser_->get();
        std::string_view path =
            PathOf(std::string_view(header.target().data(), header.target().size()));
        bool post = header.method() == http::verb::post;
        bool events = post && path == kEventsPath;
        bool write = events || (post && RedeliveryEndpoint::Owns(path));
        size_t limit = events ? kMaxEventsBodyBytes : kMaxQueryBodyBytes;
        body_limit_ = limit;
        parser_->body_limit(limit);
        producer_ = nullptr;
        user_.reset();
        if (write && handlers_.events != nullptr && handlers_.events->needs_producer()) {
            // Writers are producers, so also for the other write, a redelivery (a read-only user
            // of the query API must not send messages to customers).
            auto field = header[http::field::authorization];
            if (auto refusal =
                    AuthorizeWriter(path, std::string_view(field.data(), field.size()))) {
                linger_ = true;
                Send(std::move(*refusal), header.version(), false, false);
                return;
            }
        } else if (!Allowed(header)) {
            // Refused on its header: the body of a caller without credentials is never read.
            linger_ = true;
            Send(ApiError(401, "unauthorized", "this path needs HTTP basic authentication"),
                 header.version(), false, false);
            return;
        }
        if (parser_->content_length() && *parser_->content_length() > limit) {
            // Refused before a byte of it is read: the client need not send it at all.
            linger_ = true;
            Send(TooLarge(limit), header.version(), false, false);
            return;
        }
        if (beast::iequals(header[http::field::expect], "100-continue")) {
            continue_ = {http::status::continue_, header.version()};
            http::async_write(stream_, continue_,
                              [self = shared_from_this()](beast::error_code ec, size_t) {
                                  if (ec) {
                                      self->Close();
                                      return;
                                  }
                                  self->ReadBody();
                              });
            return;
        }
        ReadBody();
    }

    void ReadBody() {
        http::async_read(
            stream_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    }

    void OnReadError(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
            Close();
            return;
        }
        // A request that does not parse still gets an answer saying why, then the close.
        linger_ = true;
        ApiResponse out;
        if (ec == http::error::body_limit) {
            out = TooLarge(body_limit_);
        } else {
            out = ApiError(ec == http::error::header_limit ? 431 : 400, "invalid_request",
                           "the HTTP request cannot be read: " + ec.message());
        }
        Send(std::move(out), 11, false, false);
    }

    static ApiResponse TooLarge(size_t limit) {
        return ApiError(413, "body_too_large",
                        "the request body is larger than " + std::to_string(limit) +
                            " bytes; send the events in smaller requests");
    }

    void OnRead(beast::error_code ec) {
        if (ec) {
            OnReadError(ec);
            return;
        }
        request_ = parser_->release();
        std::string_view target(request_.target().data(), request_.target().size());
        std::string_view path = PathOf(target);
        unsigned version = request_.version();
        bool keep_alive = request_.keep_alive();
        bool head = request_.method() == http::verb::head;
        if (handlers_.redelivery != nullptr && RedeliveryEndpoint::Owns(path)) {
            if (request_.method() != http::verb::post) {
                Send(ApiError(405, "method_not_allowed", "an action is redelivered with POST"),
                     version, keep_alive, head);
                return;
            }
            PostRedelivery(path, version, keep_alive);
            return;
        }
        if (path == kEventsPath && handlers_.events != nullptr) {
            if (request_.method() != http::verb::post) {
                Send(ApiError(405, "method_not_allowed", "events are sent with POST"), version,
                     keep_alive, head);
                return;
            }
            PostEvents(version, keep_alive);
            return;
        }
        if (request_.method() != http::verb::get && !head) {
            Send(ApiError(405, "method_not_allowed", "only GET is served here"), version,
                 keep_alive, head);
            return;
        }
        if (handlers_.console != nullptr && Console::Owns(path)) {
            auto etag = request_[http::field::if_none_match];
            Send(handlers_.console->Get(path, std::string_view(etag.data(), etag.size())), version,
                 keep_alive, head);
            return;
        }
        Send(handlers_.api->Get(target), version, keep_alive, head);
    }

    // The engine answers on its commit thread; the answer is written from this connection's.
    void PostEvents(unsigned version, bool keep_alive) {
        auto content_type = request_[http::field::content_type];
        auto self = shared_from_this();
        handlers_.events->Post(
            std::string_view(content_type.data(), content_type.size()), std::move(request_.body()),
            producer_, [self, version, keep_alive](ApiResponse out) {
                asio::post(self->stream_.get_executor(),
                           [self, version, keep_alive, out = std::move(out)]() mutable {
                               self->Send(std::move(out), version, keep_alive, false);
                           });
            });
    }

    void PostRedelivery(std::string_view path, unsigned version, bool keep_alive) {
        // A user who writes as a producer is named as the user.
        std::string by = user_                  ? *user_
                         : producer_ != nullptr ? "producer " + producer_->name
                                                : std::string("anonymous");
        auto content_type = request_[http::field::content_type];
        auto self = shared_from_this();
        handlers_.redelivery->Post(
            path, std::string_view(content_type.data(), content_type.size()), request_.body(),
            std::move(by), [self, version, keep_alive](ApiResponse out) {
                asio::post(self->stream_.get_executor(),
                           [self, version, keep_alive, out = std::move(out)]() mutable {
                               self->Send(std::move(out), version, keep_alive, false);
                           });
            });
    }

    void Send(ApiResponse out, unsigned version, bool keep_alive, bool head) {
        response_ = {};
        response_.version(version);
        response_.result(static_cast<http::status>(out.status));
        response_.set(http::field::content_type, out.content_type);
        response_.set(http::field::cache_control, out.cache_control);
        for (const auto& [name, value] : out.headers) {
            response_.set(name, value);
        }
        if (out.status == 405) {
            std::string_view path =
                PathOf(std::string_view(request_.target().data(), request_.target().size()));
            bool post_only = path == kEventsPath ||
                             (handlers_.redelivery != nullptr && RedeliveryEndpoint::Owns(path));
            response_.set(http::field::allow, post_only ? "POST" : "GET, HEAD");
        }
        if (out.status == 401 && parser_ && response_[http::field::www_authenticate].empty() &&
            !beast::iequals(parser_->get()["X-Requested-With"], kConsoleRequester)) {
            // The console asks for credentials in its own form; a browser shown this header
            // would also open its own login box.
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
        stream_.tcp().expires_after(timeout_);
        http::async_write(stream_, response_,
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec || !self->response_.keep_alive()) {
                                  self->linger_ && !ec ? self->Linger() : self->Close();
                                  return;
                              }
                              self->Read();
                          });
    }

    // With producers configured, who may write: a producer's bearer token, or an HTTP user that
    // writes as a producer (`producer` in [[http_users]], the console's users). Sets producer_
    // (and user_ for a user), or gives the refusal: 401 for no or wrong credentials, 403 for a
    // user who only reads.
    std::optional<ApiResponse> AuthorizeWriter(std::string_view path,
                                               std::string_view authorization) {
        producer_ = handlers_.events->Authenticate(authorization);
        if (producer_ != nullptr) {
            return std::nullopt;
        }
        const HttpUser* user = BasicAuthUser(authorization, access_->users);
        if (user != nullptr && !user->producer.empty()) {
            producer_ = handlers_.events->ProducerNamed(user->producer);
            user_ = user->name;
        }
        if (producer_ != nullptr) {
            return std::nullopt;
        }
        if (user != nullptr) {
            if (access_->metrics != nullptr) {
                access_->metrics->CountAuthFailure("forbidden");
            }
            return ApiError(403, "forbidden",
                            "user \"" + user->name + "\" may read but not write: POST " +
                                std::string(path) +
                                " needs a producer's token or a user that writes as a producer");
        }
        if (access_->metrics != nullptr) {
            access_->metrics->CountAuthFailure("unauthorized");
        }
        ApiResponse out = ApiError(401, "unauthorized",
                                   "POST " + std::string(path) +
                                       " needs a producer's token (\"Authorization: Bearer "
                                       "TOKEN\") or a user that writes as a producer");
        out.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="rms")");
        return out;
    }

    // With users configured, every path but the health checks and the console's static files
    // (which hold no data) needs one of them; user_ is then the one who signed in.
    bool Allowed(const http::request_parser<http::string_body>::value_type& header) {
        if (access_->users.empty()) {
            return true;
        }
        std::string_view path =
            PathOf(std::string_view(header.target().data(), header.target().size()));
        if (path == "/healthz" || path == "/readyz" || Console::Owns(path)) {
            return true;
        }
        auto field = header.find(http::field::authorization);
        if (field != header.end()) {
            const HttpUser* user = BasicAuthUser(
                std::string_view(field->value().data(), field->value().size()), access_->users);
            if (user != nullptr) {
                user_ = user->name;
            }
        }
        if (user_) {
            return true;
        }
        if (access_->metrics != nullptr) {
            access_->metrics->CountAuthFailure("http_unauthorized");
        }
        return false;
    }

    // After refusing a request whose bytes were not all read: a close with unread data makes
    // the kernel send a reset, which can destroy the answer before the client has read it. So
    // stop sending, read and drop what still comes (for a few seconds at most), then close.
    void Linger() {
        beast::error_code ignored;
        stream_.tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.tcp().expires_after(std::min(timeout_, kLingerTimeout));
        Discard();
    }

    void Discard() {
        stream_.async_read_some(asio::buffer(discard_),
                                [self = shared_from_this()](beast::error_code ec, size_t) {
                                    if (ec) {
                                        self->Close();
                                        return;
                                    }
                                    self->Discard();
                                });
    }

    void Close() {
        beast::error_code ignored;
        stream_.tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.tcp().socket().close(ignored);
    }

    MaybeTlsStream stream_;
    beast::flat_buffer buffer_;
    HttpHandlers handlers_;
    const HttpServer::Access* access_;
    std::chrono::seconds timeout_;
    ConnectionSlot slot_;
    std::optional<ApiResponse> refusal_;
    // The producer of the current write (its token, or the user who writes as it), when
    // producers are set.
    const ProducerPolicy* producer_ = nullptr;
    // The HTTP user whose basic auth opened the current request, when users are set.
    std::optional<std::string> user_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::request<http::string_body> request_;
    http::response<http::empty_body> continue_;
    http::response<http::string_body> response_;
    bool linger_ = false;
    size_t body_limit_ = kMaxEventsBodyBytes;
    std::array<char, 16 * 1024> discard_;
};

}  // namespace

HttpServer::HttpServer(asio::io_context& io, HttpHandlers handlers, HttpLimits limits)
    : io_(io),
      acceptor_(io),
      accept_retry_(io, "http"),
      handlers_(handlers),
      limits_(limits),
      cap_("http", "http_max_connections", limits.max_connections) {}

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
            if (ec != asio::error::operation_aborted && acceptor_.is_open()) {
                accept_retry_.Failed(ec, [this] { Accept(); });
            }
            return;
        }
        accept_retry_.Succeeded();
        std::optional<ConnectionSlot> slot = cap_.TryTake();
        if (!slot) {
            Refuse(std::move(socket));
        } else {
            std::make_shared<HttpSession>(std::move(socket), handlers_, &access_,
                                          std::chrono::seconds(limits_.request_timeout_seconds),
                                          std::move(*slot))
                ->Start();
        }
        Accept();
    });
}

void HttpServer::Refuse(tcp::socket socket) {
    if (access_.metrics != nullptr) {
        access_.metrics->CountEvents("http_connection", "refused");
    }
    if (*refusing_ >= kMaxRefusing) {
        boost::system::error_code ignored;
        socket.close(ignored);
        return;
    }
    ApiResponse out = ApiError(503, "too_many_connections",
                               "the HTTP port has " + std::to_string(cap_.limit()) +
                                   " connections open, its limit (http_max_connections); "
                                   "try again once some have closed");
    out.headers.emplace_back("Retry-After", "1");
    std::make_shared<HttpSession>(std::move(socket), handlers_, &access_, kRefusalTimeout,
                                  ConnectionSlot(refusing_), std::move(out))
        ->Start();
}

void HttpServer::Stop() {
    asio::post(io_, [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        accept_retry_.Cancel();
    });
}

}  // namespace rms
