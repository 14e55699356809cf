// Blocking clients for rmsd: a line client for the NDJSON ingest port and a one-shot HTTP/1.1 GET
// for the query API. rmsctl and the integration tests use them; they speak POSIX sockets, with
// TLS (OpenSSL) on them when asked.
//
// Error codes in the returned Status: "invalid_argument" (a bad host, port or line),
// "connect_failed", "timeout", "connection_closed" (the peer closed before the answer was whole),
// "io_error" (a socket call failed), "tls_failed" (the TLS handshake failed or the server's
// certificate did not verify) and "bad_response" (an HTTP answer that does not parse).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

struct ssl_st;

namespace rms {

// Splits "host:port" ("127.0.0.1:7000", "localhost:7000", "[::1]:7000"). The port must be a
// decimal number from 0 to 65535; the host must not be empty. Brackets around an IPv6 host are
// removed.
[[nodiscard]] Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view text);

class LineClient;

// TLS for a client connection. The server's certificate is verified against `ca_file` (the
// system's CAs when empty) and must name the host connected to (its IP address for a literal).
struct TlsClientOptions {
    bool enabled = false;
    std::string ca_file = {};
    // A client certificate and its key, for servers that require one (mutual TLS).
    std::string cert_file = {};
    std::string key_file = {};
};

// Writes `lines` to `client`, each followed by '\n', keeping at most `window` lines written but
// unanswered (0 counts as 1), and reads answers as they come: `on_answer(k, answer)` is called for
// the answer to lines[k], in order, without its '\n'. Reading and writing share one poll() loop,
// so a peer that stops reading until its answers are taken cannot deadlock the sender.
// REQUIRES: no line is blank or contains '\n' (a blank line gets no answer); such a line is
// "invalid_argument" before anything is sent. Fails with "timeout" when neither direction makes
// progress for `idle_timeout_ms`, or with the first socket error.
[[nodiscard]] Status SendPipelined(
    LineClient& client, const std::vector<std::string>& lines, size_t window,
    const std::function<void(size_t index, std::string_view answer)>& on_answer,
    int idle_timeout_ms = 30000);

// One TCP connection that writes bytes and reads '\n'-ended answer lines. Movable, not copyable;
// the destructor closes the socket.
class LineClient {
public:
    // Connects to host:port (a numeric address or a name; every resolved address is tried in
    // turn). Fails with "connect_failed" naming the address and the errno text.
    // With `tls.enabled`, the TLS handshake follows (within 10 s) and everything after is
    // encrypted.
    [[nodiscard]] static Result<LineClient> Connect(std::string_view host, uint16_t port,
                                                    const TlsClientOptions& tls = {});

    LineClient(LineClient&& other) noexcept;
    LineClient& operator=(LineClient&& other) noexcept;
    LineClient(const LineClient&) = delete;
    LineClient& operator=(const LineClient&) = delete;
    ~LineClient();

    // Writes all of `bytes`, however many send() calls that takes. Fails with "timeout" when the
    // peer takes nothing for `timeout_ms`, or "io_error" (EPIPE included: SIGPIPE is never raised).
    [[nodiscard]] Status WriteAll(std::string_view bytes, int timeout_ms = 30000);

    // Returns the next answer line without its '\n' (and without a '\r' before it). Bytes read
    // past that line stay buffered for the next call. Fails with "timeout" when no whole line
    // arrives within `timeout_ms` (what has arrived stays buffered), or "connection_closed".
    [[nodiscard]] Result<std::string> ReadLine(int timeout_ms);

    // Sets TCP_NODELAY, so that every write goes out as its own segment.
    void SetNoDelay(bool on);

    // Half-closes the connection: the peer reads end of stream, answers can still be read.
    void ShutdownWrite();

    int fd() const { return fd_; }

private:
    friend Status SendPipelined(LineClient&, const std::vector<std::string>&, size_t,
                                const std::function<void(size_t, std::string_view)>&, int);
    friend struct HttpExchange;

    explicit LineClient(int fd) : fd_(fd) {}

    // Runs the client side of the TLS handshake on the connected socket.
    Status StartTls(std::string_view host, const TlsClientOptions& tls);
    // One send() (or SSL_write()) that never blocks: the bytes taken, or -1 with errno set
    // (EAGAIN when the socket would block).
    ssize_t SendSome(const char* data, size_t size);

    // Moves the first whole line out of the read buffer into `line`; false when there is none.
    bool TakeBufferedLine(std::string* line);
    // Reads what the socket has (one recv() call) into the read buffer. Returns the number of
    // bytes read; 0 means the peer closed.
    Result<size_t> ReadSome();

    int fd_ = -1;
    ssl_st* ssl_ = nullptr;  // set with TLS
    std::string read_buffer_;
};

struct HttpResponse {
    int status = 0;
    std::string body;
    // The header fields as received, in order.
    std::vector<std::pair<std::string, std::string>> headers;

    // The value of the first field named `name` (any case); empty when absent.
    std::string Header(std::string_view name) const;
};

// One request for HttpSend: "Host" and "Connection: close" are added; a non-empty body gets its
// Content-Length.
struct HttpCall {
    std::string method = "GET";
    std::string target = "/";
    std::vector<std::pair<std::string, std::string>> headers = {};
    std::string body = {};
    int timeout_ms = 10000;
};

// Sends one HTTP/1.1 request with "Connection: close" and reads the whole answer, whose body may
// be sized by Content-Length, chunked, or ended by the close. The status is returned whatever it
// is (404 is not an error here). Fails on a connection or parse problem, or with "timeout" when
// the whole answer has not arrived within `timeout_ms`.
[[nodiscard]] Result<HttpResponse> HttpRequest(std::string_view host, uint16_t port,
                                               std::string_view method, std::string_view target,
                                               int timeout_ms = 10000);

// What else an HTTP request may need: TLS, and a user and password for basic auth.
struct HttpOptions {
    TlsClientOptions tls = {};
    std::string user = {};  // empty: no Authorization header
    std::string password = {};
    int timeout_ms = 10000;
};

// Sends `call` on a new connection and reads the whole answer, like HttpRequest, within
// `call.timeout_ms` (options.timeout_ms is not used here), with the TLS and credentials of
// `options`.
[[nodiscard]] Result<HttpResponse> HttpSend(std::string_view host, uint16_t port,
                                            const HttpCall& call, const HttpOptions& options = {});

// HttpRequest with TLS and credentials.
[[nodiscard]] Result<HttpResponse> HttpRequest(std::string_view host, uint16_t port,
                                               std::string_view method, std::string_view target,
                                               const HttpOptions& options);

// HttpRequest with method GET.
[[nodiscard]] Result<HttpResponse> HttpGet(std::string_view host, uint16_t port,
                                           std::string_view target, int timeout_ms = 10000);

}  // namespace rms
