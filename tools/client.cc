#include "tools/client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <optional>

namespace rms {
namespace {

using Clock = std::chrono::steady_clock;

Status IoError(std::string_view what) {
    return Status::Error("io_error", std::string(what) + ": " + std::strerror(errno));
}

// Milliseconds left until `deadline`, never negative.
int MillisLeft(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Waits until `fd` is ready for `events` or the deadline passes. Returns the revents (0 on
// timeout).
Result<short> PollUntil(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd pfd{fd, events, 0};
        int n = ::poll(&pfd, 1, MillisLeft(deadline));
        if (n >= 0) {
            return static_cast<short>(n == 0 ? 0 : pfd.revents);
        }
        if (errno != EINTR) {
            return IoError("poll");
        }
    }
}

// The text of OpenSSL's first queued error (and clears the queue).
std::string TlsError() {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        return std::strerror(errno);
    }
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    return text;
}

Status TlsFailed(std::string_view what) {
    return Status::Error("tls_failed", std::string(what) + ": " + TlsError());
}

// A client context: TLS 1.2 or later, the server verified against the given CAs, and the
// client's own certificate when given.
Result<SSL_CTX*> MakeClientContext(const TlsClientOptions& tls) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) {
        return TlsFailed("SSL_CTX_new");
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // rmsd ends its sessions without close_notify; the answers are framed by lines anyway.
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    int loaded = tls.ca_file.empty()
                     ? SSL_CTX_set_default_verify_paths(ctx)
                     : SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr);
    Status failed;
    if (loaded != 1) {
        failed = TlsFailed("cannot load CA file \"" + tls.ca_file + "\"");
    } else if (!tls.cert_file.empty() &&
               (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1 ||
                SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
        failed = TlsFailed("cannot load client certificate \"" + tls.cert_file + "\" or key \"" +
                           tls.key_file + "\"");
    }
    if (!failed.ok()) {
        SSL_CTX_free(ctx);
        return failed;
    }
    return ctx;
}

// Blocks the calls on `fd` for at most `ms` (for the handshake), or not at all with 0.
void SetSocketTimeouts(int fd, int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

std::string Base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

bool IsBlank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view Trim(std::string_view s) {
    size_t begin = s.find_first_not_of(" \t");
    if (begin == std::string_view::npos) {
        return {};
    }
    size_t end = s.find_last_not_of(" \t\r");
    return s.substr(begin, end - begin + 1);
}

// Decodes a chunked body from `data` (what follows the head). Fails with "incomplete" while the
// last chunk or the trailer has not arrived, so that the caller reads on.
Result<std::string> DecodeChunked(std::string_view data) {
    std::string body;
    size_t pos = 0;
    for (;;) {
        size_t eol = data.find("\r\n", pos);
        if (eol == std::string_view::npos) {
            return Status::Error("incomplete", "chunk size line not complete");
        }
        std::string_view size_text = data.substr(pos, eol - pos);
        size_text = size_text.substr(0, size_text.find(';'));  // Chunk extensions are ignored.
        size_text = Trim(size_text);
        size_t size = 0;
        auto [ptr, ec] =
            std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
        if (ec != std::errc() || ptr != size_text.data() + size_text.size() || size_text.empty()) {
            return Status::Error("bad_response",
                                 "bad chunk size \"" + std::string(size_text) + "\"");
        }
        pos = eol + 2;
        if (size == 0) {
            // The trailer section ends with an empty line; its fields are not used.
            if (data.find("\r\n", pos) == std::string_view::npos) {
                return Status::Error("incomplete", "chunked trailer not complete");
            }
            return body;
        }
        if (data.size() < pos + size + 2) {
            return Status::Error("incomplete", "chunk not complete");
        }
        body.append(data.substr(pos, size));
        if (data.substr(pos + size, 2) != "\r\n") {
            return Status::Error("bad_response", "chunk not followed by CRLF");
        }
        pos += size + 2;
    }
}

struct ParsedHead {
    int status = 0;
    size_t body_offset = 0;
    bool chunked = false;
    std::optional<size_t> content_length;
    std::vector<std::pair<std::string, std::string>> headers;
};

Result<ParsedHead> ParseHead(std::string_view raw, size_t head_end) {
    ParsedHead head;
    head.body_offset = head_end + 4;
    std::string_view lines = raw.substr(0, head_end);
    size_t eol = lines.find("\r\n");
    std::string_view status_line = lines.substr(0, eol);
    // "HTTP/1.1 200 OK": the code is the second word.
    size_t space = status_line.find(' ');
    if (!status_line.starts_with("HTTP/") || space == std::string_view::npos ||
        status_line.size() < space + 4) {
        return Status::Error("bad_response",
                             "bad status line \"" + std::string(status_line) + "\"");
    }
    std::string_view code = status_line.substr(space + 1, 3);
    auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), head.status);
    if (ec != std::errc() || ptr != code.data() + code.size()) {
        return Status::Error("bad_response",
                             "bad status line \"" + std::string(status_line) + "\"");
    }

    while (eol != std::string_view::npos) {
        size_t start = eol + 2;
        eol = lines.find("\r\n", start);
        std::string_view field = lines.substr(
            start, eol == std::string_view::npos ? std::string_view::npos : eol - start);
        size_t colon = field.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        std::string_view name = Trim(field.substr(0, colon));
        std::string_view value = Trim(field.substr(colon + 1));
        head.headers.emplace_back(name, value);
        if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
            head.chunked = value.find("chunked") != std::string_view::npos;
        } else if (EqualsIgnoreCase(name, "Content-Length")) {
            size_t length = 0;
            auto [p, e] = std::from_chars(value.data(), value.data() + value.size(), length);
            if (e != std::errc() || p != value.data() + value.size()) {
                return Status::Error("bad_response",
                                     "bad Content-Length \"" + std::string(value) + "\"");
            }
            head.content_length = length;
        }
    }
    return head;
}

// Returns the response once `raw` holds all of it; "incomplete" while more is needed. `closed`
// says the peer has closed, which ends a body without a length.
Result<HttpResponse> ParseResponse(std::string_view raw, bool closed) {
    size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
        return Status::Error(closed ? "bad_response" : "incomplete", "response head not complete");
    }
    Result<ParsedHead> head = ParseHead(raw, head_end);
    if (!head.ok()) {
        return head.status();
    }
    std::string_view rest = raw.substr(head->body_offset);
    HttpResponse response;
    response.status = head->status;
    response.headers = head->headers;
    if (head->chunked) {
        Result<std::string> body = DecodeChunked(rest);
        if (!body.ok()) {
            if (closed && body.status().code() == "incomplete") {
                return Status::Error("connection_closed", "chunked body cut short");
            }
            return body.status();
        }
        response.body = std::move(body).value();
        return response;
    }
    if (head->content_length) {
        if (rest.size() < *head->content_length) {
            return Status::Error(closed ? "connection_closed" : "incomplete",
                                 "body shorter than Content-Length");
        }
        response.body = std::string(rest.substr(0, *head->content_length));
        return response;
    }
    if (!closed) {
        return Status::Error("incomplete", "body ends with the connection");
    }
    response.body = std::string(rest);
    return response;
}

// An IPv6 literal goes into the Host field in brackets.
bool NeedsNoHostBrackets(std::string_view host) {
    return host.find(':') == std::string_view::npos;
}

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view text) {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
        return Status::Error("invalid_argument",
                             "address \"" + std::string(text) + "\" is not host:port");
    }
    std::string_view host = text.substr(0, colon);
    std::string_view port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string_view::npos) {
        return Status::Error("invalid_argument",
                             "address \"" + std::string(text) + "\": an IPv6 host needs brackets");
    }
    if (host.empty()) {
        return Status::Error("invalid_argument",
                             "address \"" + std::string(text) + "\" has no host");
    }
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
        port > 65535) {
        return Status::Error("invalid_argument", "address \"" + std::string(text) + "\": port \"" +
                                                     std::string(port_text) +
                                                     "\" is not a number from 0 to 65535");
    }
    return std::pair<std::string, uint16_t>(std::string(host), static_cast<uint16_t>(port));
}

Result<LineClient> LineClient::Connect(std::string_view host, uint16_t port,
                                       const TlsClientOptions& tls) {
    std::string host_text(host);
    std::string port_text = std::to_string(port);
    std::string where = host_text + ":" + port_text;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(host_text.c_str(), port_text.c_str(), &hints, &found);
    if (rc != 0) {
        return Status::Error("connect_failed",
                             "cannot resolve " + where + ": " + ::gai_strerror(rc));
    }

    std::string last_error = "no address";
    for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last_error = std::strerror(errno);
            continue;
        }
        int connected;
        do {
            connected = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        } while (connected != 0 && errno == EINTR);
        if (connected == 0) {
            ::freeaddrinfo(found);
            LineClient client(fd);
            if (tls.enabled) {
                Status s = client.StartTls(host, tls);
                if (!s.ok()) {
                    return s;
                }
            }
            return client;
        }
        last_error = std::strerror(errno);
        ::close(fd);
    }
    ::freeaddrinfo(found);
    return Status::Error("connect_failed", "cannot connect to " + where + ": " + last_error);
}

Status LineClient::StartTls(std::string_view host, const TlsClientOptions& tls) {
    Result<SSL_CTX*> ctx = MakeClientContext(tls);
    if (!ctx.ok()) {
        return ctx.status();
    }
    ssl_ = SSL_new(*ctx);
    SSL_CTX_free(*ctx);  // the SSL holds its own reference
    if (ssl_ == nullptr) {
        return TlsFailed("SSL_new");
    }
    std::string name(host);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) {
        // Not an IP literal: check the DNS name, and send it as SNI.
        SSL_set1_host(ssl_, name.c_str());
        SSL_set_tlsext_host_name(ssl_, name.c_str());
    }
    SSL_set_fd(ssl_, fd_);
    SetSocketTimeouts(fd_, 10000);
    int rc = SSL_connect(ssl_);
    SetSocketTimeouts(fd_, 0);
    if (rc != 1) {
        long verify = SSL_get_verify_result(ssl_);
        if (verify != X509_V_OK) {
            return Status::Error("tls_failed",
                                 "server certificate not accepted: " +
                                     std::string(X509_verify_cert_error_string(verify)));
        }
        return TlsFailed("TLS handshake");
    }
    // From here on every call must return at once; poll() says when to try again.
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    return Status::Ok();
}

LineClient::LineClient(LineClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      read_buffer_(std::move(other.read_buffer_)) {}

LineClient& LineClient::operator=(LineClient&& other) noexcept {
    if (this != &other) {
        this->~LineClient();
        fd_ = std::exchange(other.fd_, -1);
        ssl_ = std::exchange(other.ssl_, nullptr);
        read_buffer_ = std::move(other.read_buffer_);
    }
    return *this;
}

LineClient::~LineClient() {
    if (ssl_ != nullptr) {
        SSL_shutdown(ssl_);  // sends close_notify if it can; never waits for the peer's
        SSL_free(ssl_);
        ssl_ = nullptr;
    }
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

ssize_t LineClient::SendSome(const char* data, size_t size) {
    if (ssl_ == nullptr) {
        return ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    size_t written = 0;
    if (SSL_write_ex(ssl_, data, size, &written) == 1) {
        return static_cast<ssize_t>(written);
    }
    int err = SSL_get_error(ssl_, 0);
    ERR_clear_error();
    errno = (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) ? EAGAIN : EPIPE;
    return -1;
}

Status LineClient::WriteAll(std::string_view bytes, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!bytes.empty()) {
        ssize_t n = SendSome(bytes.data(), bytes.size());
        if (n > 0) {
            bytes.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            return IoError("send");
        }
        Result<short> ready = PollUntil(fd_, POLLOUT, deadline);
        if (!ready.ok()) {
            return ready.status();
        }
        if (*ready == 0) {
            return Status::Error("timeout", "peer took no bytes for " + std::to_string(timeout_ms) +
                                                " ms (" + std::to_string(bytes.size()) +
                                                " bytes left)");
        }
    }
    return Status::Ok();
}

bool LineClient::TakeBufferedLine(std::string* line) {
    size_t eol = read_buffer_.find('\n');
    if (eol == std::string::npos) {
        return false;
    }
    size_t end = (eol > 0 && read_buffer_[eol - 1] == '\r') ? eol - 1 : eol;
    line->assign(read_buffer_, 0, end);
    read_buffer_.erase(0, eol + 1);
    return true;
}

Result<size_t> LineClient::ReadSome() {
    char chunk[65536];
    // TLS: take every decrypted byte now, since poll() cannot see what OpenSSL holds.
    size_t total = 0;
    while (ssl_ != nullptr) {
        size_t n = 0;
        if (SSL_read_ex(ssl_, chunk, sizeof(chunk), &n) == 1) {
            read_buffer_.append(chunk, n);
            total += n;
            continue;
        }
        int err = SSL_get_error(ssl_, 0);
        std::string text = err == SSL_ERROR_SSL ? TlsError() : "";
        ERR_clear_error();
        if (total > 0 || err == SSL_ERROR_ZERO_RETURN) {
            return total;  // what was read, or 0 for the end of the stream
        }
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            return Status::Error("again", "nothing to read");
        }
        if (err == SSL_ERROR_SYSCALL && errno == 0) {
            return total;
        }
        return Status::Error("io_error",
                             "TLS read: " + (text.empty() ? std::strerror(errno) : text));
    }
    for (;;) {
        ssize_t n = ::recv(fd_, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (n >= 0) {
            read_buffer_.append(chunk, static_cast<size_t>(n));
            return static_cast<size_t>(n);
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return Status::Error("again", "nothing to read");
        }
        return IoError("recv");
    }
}

Result<std::string> LineClient::ReadLine(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string line;
    while (!TakeBufferedLine(&line)) {
        Result<short> ready = PollUntil(fd_, POLLIN, deadline);
        if (!ready.ok()) {
            return ready.status();
        }
        if (*ready == 0) {
            return Status::Error("timeout", "no answer line within " + std::to_string(timeout_ms) +
                                                " ms (" + std::to_string(read_buffer_.size()) +
                                                " bytes of a partial line buffered)");
        }
        Result<size_t> n = ReadSome();
        if (!n.ok() && n.status().code() == "again") {
            continue;
        }
        if (!n.ok()) {
            return n.status();
        }
        if (*n == 0) {
            return Status::Error("connection_closed",
                                 "peer closed the connection before a whole answer line (" +
                                     std::to_string(read_buffer_.size()) + " bytes buffered)");
        }
    }
    return line;
}

void LineClient::SetNoDelay(bool on) {
    int value = on ? 1 : 0;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &value, sizeof(value));
}

void LineClient::ShutdownWrite() {
    ::shutdown(fd_, SHUT_WR);
}

Status SendPipelined(LineClient& client, const std::vector<std::string>& lines, size_t window,
                     const std::function<void(size_t index, std::string_view answer)>& on_answer,
                     int idle_timeout_ms) {
    for (size_t i = 0; i < lines.size(); ++i) {
        if (IsBlank(lines[i]) || lines[i].find('\n') != std::string::npos) {
            return Status::Error("invalid_argument",
                                 "line " + std::to_string(i) + " is blank or holds a newline");
        }
    }
    window = std::max<size_t>(window, 1);

    std::string pending;     // Bytes queued for the socket.
    size_t pending_off = 0;  // How much of `pending` is already written.
    size_t queued = 0;       // Lines copied into `pending` so far.
    size_t answered = 0;
    std::string answer;
    while (answered < lines.size()) {
        while (queued < lines.size() && queued - answered < window) {
            pending.append(lines[queued]).push_back('\n');
            ++queued;
        }
        short events = POLLIN;
        if (pending_off < pending.size()) {
            events |= POLLOUT;
        }
        auto deadline = Clock::now() + std::chrono::milliseconds(idle_timeout_ms);
        Result<short> ready = PollUntil(client.fd_, events, deadline);
        if (!ready.ok()) {
            return ready.status();
        }
        if (*ready == 0) {
            return Status::Error("timeout", "no progress for " + std::to_string(idle_timeout_ms) +
                                                " ms with " + std::to_string(answered) + " of " +
                                                std::to_string(lines.size()) + " lines answered");
        }

        if ((*ready & POLLOUT) != 0) {
            ssize_t n = client.SendSome(pending.data() + pending_off, pending.size() - pending_off);
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return IoError("send");
            }
            if (n > 0) {
                pending_off += static_cast<size_t>(n);
            }
            if (pending_off == pending.size()) {
                pending.clear();
                pending_off = 0;
            }
        }

        if ((*ready & (POLLIN | POLLHUP | POLLERR)) != 0) {
            Result<size_t> n = client.ReadSome();
            if (!n.ok() && n.status().code() != "again") {
                return n.status();
            }
            while (answered < queued && client.TakeBufferedLine(&answer)) {
                on_answer(answered, answer);
                ++answered;
            }
            if (n.ok() && *n == 0 && answered < lines.size()) {
                return Status::Error("connection_closed", "peer closed the connection after " +
                                                              std::to_string(answered) + " of " +
                                                              std::to_string(lines.size()) +
                                                              " answers");
            }
        }
    }
    return Status::Ok();
}

// Reads an HTTP answer through the client's buffer (and its TLS, if any).
struct HttpExchange {
    static Result<HttpResponse> ReadResponse(LineClient& client, std::string_view what,
                                             int timeout_ms) {
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;) {
            Result<HttpResponse> parsed = ParseResponse(client.read_buffer_, false);
            if (parsed.ok() || parsed.status().code() != "incomplete") {
                return parsed;
            }
            Result<short> ready = PollUntil(client.fd_, POLLIN, deadline);
            if (!ready.ok()) {
                return ready.status();
            }
            if (*ready == 0) {
                return Status::Error("timeout", std::string(what) + ": no whole answer within " +
                                                    std::to_string(timeout_ms) + " ms");
            }
            Result<size_t> n = client.ReadSome();
            if (!n.ok() && n.status().code() == "again") {
                continue;
            }
            if (!n.ok()) {
                return n.status();
            }
            if (*n == 0) {
                return ParseResponse(client.read_buffer_, true);
            }
        }
    }
};

std::string HttpResponse::Header(std::string_view name) const {
    for (const auto& [field, value] : headers) {
        if (EqualsIgnoreCase(field, name)) {
            return value;
        }
    }
    return "";
}

Result<HttpResponse> HttpSend(std::string_view host, uint16_t port, const HttpCall& call,
                              const HttpOptions& options) {
    std::string_view method = call.method;
    std::string_view target = call.target;
    Result<LineClient> connected = LineClient::Connect(host, port, options.tls);
    if (!connected.ok()) {
        return connected.status();
    }
    LineClient client = std::move(connected).value();

    std::string host_field =
        NeedsNoHostBrackets(host) ? std::string(host) : "[" + std::string(host) + "]";
    std::string request;
    request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    request.append("Host: ").append(host_field).append(":").append(std::to_string(port));
    if (!options.user.empty()) {
        request.append("\r\nAuthorization: Basic ")
            .append(Base64(options.user + ":" + options.password));
    }
    request.append("\r\nConnection: close\r\n");
    for (const auto& [name, value] : call.headers) {
        request.append(name).append(": ").append(value).append("\r\n");
    }
    if (!call.body.empty()) {
        request.append("Content-Length: ").append(std::to_string(call.body.size()));
        request.append("\r\n");
    }
    request.append("\r\n").append(call.body);
    Status written = client.WriteAll(request, call.timeout_ms);
    if (!written.ok()) {
        return written;
    }
    return HttpExchange::ReadResponse(client, std::string(method) + " " + std::string(target),
                                      call.timeout_ms);
}

Result<HttpResponse> HttpRequest(std::string_view host, uint16_t port, std::string_view method,
                                 std::string_view target, const HttpOptions& options) {
    HttpCall call;
    call.method = std::string(method);
    call.target = std::string(target);
    call.headers = {{"Accept", "application/json"}};
    call.timeout_ms = options.timeout_ms;
    return HttpSend(host, port, call, options);
}

Result<HttpResponse> HttpRequest(std::string_view host, uint16_t port, std::string_view method,
                                 std::string_view target, int timeout_ms) {
    HttpOptions options;
    options.timeout_ms = timeout_ms;
    return HttpRequest(host, port, method, target, options);
}

Result<HttpResponse> HttpGet(std::string_view host, uint16_t port, std::string_view target,
                             int timeout_ms) {
    return HttpRequest(host, port, "GET", target, timeout_ms);
}

}  // namespace rms
