#include "engine/ingest_server.h"

#include <spdlog/spdlog.h>

#include "engine/event_input.h"
#include "engine/json_writer.h"
#include "engine/listener.h"

#include <deque>
#include <optional>
#include <vector>

namespace rms {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
// After a line timeout: how long what the client still sends is read and dropped after its
// answer, before the close (closing with unread bytes would reset the connection, which can
// destroy the answer before the client has read it).
constexpr auto kCutLinger = std::chrono::seconds(2);

}  // namespace

// One producer connection. Everything runs on the io_context thread except the engine's
// completion, which posts back to it.
class IngestConnection : public std::enable_shared_from_this<IngestConnection> {
public:
    IngestConnection(IngestServer* server, tcp::socket socket, uint64_t id)
        : server_(server),
          socket_(std::move(socket), server->tls_),
          timer_(socket_.get_executor()),
          line_timer_(socket_.get_executor()),
          id_(id) {
        read_buf_.resize(kReadChunk);
    }

    void Start() {
        server_->metrics_->AddConnections(1);
        // The idle timer also bounds the handshake.
        ArmIdleTimer();
        socket_.AsyncHandshake([self = shared_from_this()](boost::system::error_code ec) {
            if (ec) {
                // A plaintext client on a TLS port ends here: nothing it sent is read as lines.
                spdlog::debug("ingest: connection {} TLS handshake failed: {}", self->id_,
                              ec.message());
                self->server_->metrics_->CountAuthFailure("tls_handshake");
                self->Close();
                return;
            }
            self->Read();
        });
    }

    void Drain() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            self->draining_ = true;
            self->MaybeClose();
        });
    }

    // Closes at once, answered or not (used when a drain's grace period is over).
    void ForceClose() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
    }

    ~IngestConnection() { server_->metrics_->AddConnections(-1); }

private:
    // The answers of one read, in line order; `waiting` counts the engine's still to come.
    struct Chunk {
        std::vector<std::optional<std::string>> answers;
        std::vector<size_t> engine_slots;
        bool ready = false;
    };

    void Read() {
        // Read on only while fewer than max_unanswered lines wait for their answers and every
        // byte read so far has been cut into lines: memory per connection stays bounded.
        if (reading_ || closed_ || eof_) {
            return;
        }
        if (!cut_ && (draining_ || unanswered_ >= limits().max_unanswered || blocked_)) {
            return;
        }
        reading_ = true;
        socket_.async_read_some(asio::buffer(read_buf_),
                                [self = shared_from_this()](boost::system::error_code ec,
                                                            size_t n) { self->OnRead(ec, n); });
    }

    void OnRead(boost::system::error_code ec, size_t n) {
        reading_ = false;
        if (closed_) {
            return;
        }
        if (ec) {
            if (ec == asio::error::eof) {
                eof_ = true;
                if (!cut_) {
                    Process();
                    FinishLastLine();
                }
                MaybeClose();
            } else {
                Close();
            }
            return;
        }
        if (cut_) {
            Read();  // after a line timeout: dropped, until the client goes or the linger ends
            return;
        }
        ArmIdleTimer();
        backlog_.append(read_buf_.data(), n);
        Process();
        Read();
    }

    // Cuts the backlog into lines while the read-ahead limit allows; what is left waits.
    void Process() {
        Chunk chunk;
        std::vector<PendingEvent> events;
        std::string_view bytes(backlog_);
        size_t used = 0;
        blocked_ = false;
        while (used < bytes.size()) {
            size_t nl = bytes.find('\n', used);
            if (discarding_) {
                if (nl == std::string_view::npos) {
                    used = bytes.size();
                    break;
                }
                discarding_ = false;
                line_started_ = false;
                used = nl + 1;
                continue;
            }
            if (unanswered_ + chunk.answers.size() >= limits().max_unanswered) {
                blocked_ = true;
                break;
            }
            size_t end = nl == std::string_view::npos ? bytes.size() : nl;
            if (end - used > limits().max_line_bytes) {
                ++line_no_;
                Status s = Status::Error("line_too_long",
                                         "line " + std::to_string(line_no_) + " is longer than " +
                                             std::to_string(limits().max_line_bytes) +
                                             " bytes; skipped up to its newline");
                chunk.answers.push_back(ErrorAnswer(std::nullopt, line_no_, s));
                server_->metrics_->CountEvents("unknown", "line_too_long");
                if (nl == std::string_view::npos) {
                    discarding_ = true;
                    used = bytes.size();
                    break;
                }
                used = nl + 1;
                continue;
            }
            if (nl == std::string_view::npos) {
                break;  // a partial line: wait for the rest
            }
            HandleLine(bytes.substr(used, nl - used), &chunk, &events);
            line_started_ = false;
            used = nl + 1;
        }
        backlog_.erase(0, used);
        WatchLine();
        Enqueue(std::move(chunk), std::move(events));
    }

    // The line deadline runs while a line has begun and not ended. Time during which rmsd does
    // not read (the read-ahead limit) is rmsd's doing, not the client's: the deadline of the line
    // then in progress starts again when reading resumes.
    void WatchLine() {
        bool partial = !blocked_ && (discarding_ || !backlog_.empty());
        if (!partial) {
            line_started_ = false;
            line_timer_.cancel();
            return;
        }
        if (line_started_) {
            return;
        }
        line_started_ = true;
        // A wait that had already expired when its line ended still runs: the count tells it.
        uint64_t line = ++lines_watched_;
        line_timer_.expires_after(std::chrono::seconds(limits().line_timeout_seconds));
        line_timer_.async_wait([weak = weak_from_this(), line](boost::system::error_code ec) {
            auto self = weak.lock();
            if (!ec && self && !self->closed_ && !self->cut_ && !self->draining_ &&
                self->line_started_ && self->lines_watched_ == line) {
                self->CutLine();
            }
        });
    }

    // The line in progress missed its deadline: the lines before it are answered, then this one
    // with line_timeout, and the connection closes. Its bytes, and all that follow, are dropped.
    void CutLine() {
        ++line_no_;
        spdlog::debug("ingest: connection {} line {} not whole after {} s, closing", id_, line_no_,
                      limits().line_timeout_seconds);
        Status s = Status::Error(
            "line_timeout", "line " + std::to_string(line_no_) + " did not arrive whole within " +
                                std::to_string(limits().line_timeout_seconds) +
                                " s (line_timeout_seconds); the connection is closed");
        server_->metrics_->CountEvents("unknown", "line_timeout");
        cut_ = true;
        line_started_ = false;
        backlog_.clear();
        discarding_ = false;
        Chunk chunk;
        chunk.answers.push_back(ErrorAnswer(std::nullopt, line_no_, s));
        Enqueue(std::move(chunk), {});
        Read();
    }

    // At end of input, a last line without its newline is still a line.
    void FinishLastLine() {
        if (backlog_.empty() || discarding_ || blocked_ || cut_) {
            return;
        }
        Chunk chunk;
        std::vector<PendingEvent> events;
        std::string line = std::move(backlog_);
        backlog_.clear();
        HandleLine(line, &chunk, &events);
        Enqueue(std::move(chunk), std::move(events));
    }

    void HandleLine(std::string_view line, Chunk* chunk, std::vector<PendingEvent>* events) {
        ++line_no_;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (IsBlankLine(line)) {
            return;
        }
        if (std::optional<Result<AuthLine>> auth = ParseAuthLine(line)) {
            chunk->answers.push_back(Authenticate(*auth));
            return;
        }
        std::optional<ParsedLine> parsed = ParseInputLine(line, server_->metrics_);
        if (!parsed->status.ok()) {
            chunk->answers.push_back(ErrorAnswer(parsed->id, line_no_, parsed->status));
            return;
        }
        if (Status allowed = Authorize(parsed->event); !allowed.ok()) {
            // Refused before the engine sees it: not applied, no idempotence marker.
            server_->metrics_->CountEvents(EventTypeName(parsed->event.type), allowed.code());
            server_->metrics_->CountAuthFailure(allowed.code());
            chunk->answers.push_back(ErrorAnswer(parsed->event.id, line_no_, allowed));
            return;
        }
        chunk->engine_slots.push_back(chunk->answers.size());
        chunk->answers.emplace_back();
        events->push_back(PendingEvent{std::move(parsed->event), line_no_});
    }

    // Answers an auth line. The token is never logged nor echoed.
    std::string Authenticate(const Result<AuthLine>& auth) {
        if (!auth.ok()) {
            server_->metrics_->CountAuthFailure("unauthorized");
            return ErrorAnswer(std::nullopt, line_no_, auth.status());
        }
        std::string out;
        JsonWriter w(&out);
        w.BeginObject();
        w.Key("ok");
        w.Bool(true);
        w.Key("auth");
        if (!server_->auth_.enabled()) {
            w.String("not_required");
            w.EndObject();
            return out;
        }
        // A failed attempt also ends an earlier authentication on this connection.
        producer_ = server_->auth_.Authenticate(auth->token);
        if (producer_ == nullptr) {
            // Debug only: a client guessing tokens must not flood the log; the metric counts.
            spdlog::debug("ingest: connection {} sent a token no producer has", id_);
            server_->metrics_->CountAuthFailure("unauthorized");
            return ErrorAnswer(std::nullopt, line_no_,
                               Status::Error("unauthorized", "the token is not known"));
        }
        spdlog::debug("ingest: connection {} is producer {}", id_, producer_->name);
        w.String("ok");
        w.Key("producer");
        w.String(producer_->name);
        w.EndObject();
        return out;
    }

    Status Authorize(const Event& event) {
        if (!server_->auth_.enabled()) {
            return Status::Ok();
        }
        if (producer_ == nullptr) {
            return Status::Error("unauthorized",
                                 "authenticate first: send {\"auth\":{\"token\":...}}");
        }
        return server_->auth_.Authorize(*producer_, event, std::chrono::steady_clock::now());
    }

    void Enqueue(Chunk chunk, std::vector<PendingEvent> events) {
        if (chunk.answers.empty()) {
            return;
        }
        unanswered_ += chunk.answers.size();
        chunk.ready = events.empty();
        chunks_.push_back(std::move(chunk));
        if (events.empty()) {
            Flush();
            return;
        }
        uint64_t chunk_no = first_chunk_no_ + chunks_.size() - 1;
        auto self = shared_from_this();
        Submission sub;
        sub.events = std::move(events);
        sub.done = [self, chunk_no](std::vector<std::string> answers) {
            asio::post(self->socket_.get_executor(),
                       [self, chunk_no, answers = std::move(answers)]() mutable {
                           self->OnAnswers(chunk_no, std::move(answers));
                       });
        };
        if (server_->submit_) {
            server_->submit_(std::move(sub));
        } else {
            server_->engine_->Submit(std::move(sub));
        }
    }

    void OnAnswers(uint64_t chunk_no, std::vector<std::string> answers) {
        Chunk& chunk = chunks_[chunk_no - first_chunk_no_];
        for (size_t i = 0; i < answers.size(); ++i) {
            chunk.answers[chunk.engine_slots[i]] = std::move(answers[i]);
        }
        chunk.ready = true;
        Flush();
    }

    void Flush() {
        if (writing_ || closed_) {
            return;
        }
        out_.clear();
        size_t lines = 0;
        while (!chunks_.empty() && chunks_.front().ready) {
            for (std::optional<std::string>& a : chunks_.front().answers) {
                out_.append(*a);
                out_.push_back('\n');
                ++lines;
            }
            chunks_.pop_front();
            ++first_chunk_no_;
        }
        if (lines == 0) {
            MaybeClose();
            return;
        }
        writing_ = true;
        write_started_ = std::chrono::steady_clock::now();
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this(), lines](boost::system::error_code ec, size_t) {
                              self->writing_ = false;
                              if (ec) {
                                  self->Close();
                                  return;
                              }
                              self->unanswered_ -= lines;
                              self->ArmIdleTimer();
                              if (self->blocked_ && !self->cut_) {
                                  self->Process();
                                  if (self->eof_) {
                                      self->FinishLastLine();
                                  }
                              }
                              self->Read();
                              self->Flush();
                          });
    }

    // Closes once nothing is owed to the producer and it has finished or we are draining. After
    // a line timeout, the answers written, rmsd stops sending and lingers (see kCutLinger).
    void MaybeClose() {
        if (!chunks_.empty() || writing_) {
            return;
        }
        if (eof_ || draining_) {
            Close();
        } else if (cut_ && !lingering_) {
            lingering_ = true;
            socket_.ShutdownSend();
            line_timer_.expires_after(kCutLinger);
            line_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
                if (auto self = weak.lock(); !ec && self) {
                    self->Close();
                }
            });
        }
    }

    void ArmIdleTimer() {
        timer_.expires_after(std::chrono::seconds(limits().idle_timeout_seconds));
        timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || self->closed_) {
                return;
            }
            auto stuck = std::chrono::steady_clock::now() - self->write_started_;
            if (self->writing_ &&
                stuck >= std::chrono::seconds(self->limits().idle_timeout_seconds)) {
                spdlog::warn("ingest: connection {} has not read its answers for {} s, closing",
                             self->id_, self->limits().idle_timeout_seconds);
                self->Close();
            } else if (self->chunks_.empty() && !self->writing_) {
                spdlog::debug("ingest: connection {} idle, closing", self->id_);
                self->Close();
            } else {
                self->ArmIdleTimer();
            }
        });
    }

    void Close() {
        if (closed_) {
            return;
        }
        closed_ = true;
        timer_.cancel();
        line_timer_.cancel();
        socket_.Close();
        server_->Forget(id_);
    }

    const IngestLimits& limits() const { return server_->limits_; }

    IngestServer* server_;
    MaybeTlsStream socket_;
    const ProducerPolicy* producer_ = nullptr;  // set by a good auth line
    asio::steady_timer timer_;
    asio::steady_timer line_timer_;  // the line deadline, then the linger after a line timeout
    uint64_t id_;
    std::vector<char> read_buf_;
    std::string backlog_;  // bytes read but not yet cut into lines
    std::chrono::steady_clock::time_point write_started_;
    std::string out_;
    std::deque<Chunk> chunks_;
    uint64_t first_chunk_no_ = 0;
    uint64_t line_no_ = 0;
    size_t unanswered_ = 0;
    bool discarding_ = false;
    bool line_started_ = false;  // the backlog ends in a line whose deadline runs
    uint64_t lines_watched_ = 0;
    bool cut_ = false;  // a line timed out: nothing more is taken
    bool lingering_ = false;
    bool blocked_ = false;  // the read-ahead limit stopped Process() with bytes left
    bool reading_ = false;
    bool writing_ = false;
    bool eof_ = false;
    bool draining_ = false;
    bool closed_ = false;
};

IngestServer::IngestServer(asio::io_context& io, Engine* engine, metrics::EngineMetrics* metrics,
                           IngestLimits limits)
    : io_(io),
      acceptor_(io),
      accept_retry_(io, "ingest"),
      drain_timer_(io),
      engine_(engine),
      metrics_(metrics),
      limits_(limits) {}

IngestServer::~IngestServer() = default;

void IngestServer::Secure(asio::ssl::context* tls, std::vector<ProducerPolicy> producers) {
    tls_ = tls;
    auth_ = ProducerAuth(std::move(producers));
}

Status IngestServer::Listen(const std::string& host, uint16_t port) {
    Result<uint16_t> bound = OpenListener(acceptor_, host, port, "ingest");
    if (!bound.ok()) {
        return bound.status();
    }
    port_ = *bound;
    Accept();
    return Status::Ok();
}

void IngestServer::Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec != asio::error::operation_aborted && acceptor_.is_open()) {
                accept_retry_.Failed(ec, [this] { Accept(); });
            }
            return;
        }
        accept_retry_.Succeeded();
        std::shared_ptr<IngestConnection> conn;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (draining_ || connections_.size() >= limits_.max_connections) {
                // Counted before the close: a client that sees the close may read the metric next.
                metrics_->CountEvents("connection", "refused");
                boost::system::error_code ignored;
                socket.close(ignored);
                Accept();
                return;
            }
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            uint64_t id = next_id_++;
            conn = std::make_shared<IngestConnection>(this, std::move(socket), id);
            connections_.emplace(id, conn);
        }
        conn->Start();
        Accept();
    });
}

void IngestServer::Forget(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    connections_.erase(id);
    if (draining_ && connections_.empty()) {
        // The last connection is done: the grace timer need not keep the loop alive.
        drain_timer_.cancel();
    }
}

size_t IngestServer::connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_.size();
}

void IngestServer::Drain() {
    if (engine_ != nullptr) {
        engine_->SetDraining();
    }
    asio::post(io_, [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        accept_retry_.Cancel();
        std::vector<std::shared_ptr<IngestConnection>> live = Live(/*start_draining=*/true);
        for (auto& c : live) {
            c->Drain();
        }
        if (live.empty()) {
            return;
        }
        // Producers that do not read their answers must not hold the shutdown up for ever.
        drain_timer_.expires_after(std::chrono::seconds(limits_.drain_grace_seconds));
        drain_timer_.async_wait([this](boost::system::error_code ec) {
            if (ec) {
                return;
            }
            std::vector<std::shared_ptr<IngestConnection>> live = Live(false);
            if (!live.empty()) {
                spdlog::warn("ingest: closing {} connections still open after {} s of draining",
                             live.size(), limits_.drain_grace_seconds);
            }
            for (auto& c : live) {
                c->ForceClose();
            }
        });
    });
}

std::vector<std::shared_ptr<IngestConnection>> IngestServer::Live(bool start_draining) {
    std::vector<std::shared_ptr<IngestConnection>> live;
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = draining_ || start_draining;
    for (auto& [id, weak] : connections_) {
        if (auto c = weak.lock()) {
            live.push_back(std::move(c));
        }
    }
    return live;
}

}  // namespace rms
