#include "engine/ingest_server.h"

#include <spdlog/spdlog.h>

#include <deque>
#include <optional>
#include <vector>

namespace rms {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr size_t kReadChunk = 64 * 1024;

bool IsBlank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

// One producer connection. Everything runs on the io_context thread except the engine's
// completion, which posts back to it.
class IngestConnection : public std::enable_shared_from_this<IngestConnection> {
public:
    IngestConnection(IngestServer* server, tcp::socket socket, uint64_t id)
        : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()), id_(id) {
        read_buf_.resize(kReadChunk);
    }

    void Start() {
        server_->metrics_->AddConnections(1);
        ArmIdleTimer();
        Read();
    }

    void Drain() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            self->draining_ = true;
            self->MaybeClose();
        });
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
        if (reading_ || closed_ || draining_ || eof_ || unanswered_ >= limits().max_unanswered) {
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
                FinishPartialLine();
                MaybeClose();
            } else {
                Close();
            }
            return;
        }
        ArmIdleTimer();
        Consume(std::string_view(read_buf_.data(), n));
        Read();
    }

    // Splits bytes into lines; complete lines join the current chunk.
    void Consume(std::string_view bytes) {
        Chunk chunk;
        std::vector<PendingEvent> events;
        while (!bytes.empty()) {
            size_t nl = bytes.find('\n');
            std::string_view piece = bytes.substr(0, nl);
            if (discarding_) {
                if (nl == std::string_view::npos) {
                    break;
                }
                discarding_ = false;
            } else if (partial_.size() + piece.size() > limits().max_line_bytes) {
                ++line_no_;
                partial_.clear();
                Status s = Status::Error("line_too_long",
                                         "line " + std::to_string(line_no_) + " is longer than " +
                                             std::to_string(limits().max_line_bytes) +
                                             " bytes; skipped up to its newline");
                chunk.answers.push_back(ErrorAnswer(std::nullopt, line_no_, s));
                server_->metrics_->CountEvents("unknown", "line_too_long");
                discarding_ = nl == std::string_view::npos;
            } else if (nl == std::string_view::npos) {
                partial_.append(piece);
            } else if (partial_.empty()) {
                HandleLine(piece, &chunk, &events);
            } else {
                partial_.append(piece);
                std::string line = std::move(partial_);
                partial_.clear();
                HandleLine(line, &chunk, &events);
            }
            if (nl == std::string_view::npos) {
                break;
            }
            bytes.remove_prefix(nl + 1);
        }
        Enqueue(std::move(chunk), std::move(events));
    }

    void FinishPartialLine() {
        if (partial_.empty() || discarding_) {
            return;
        }
        Chunk chunk;
        std::vector<PendingEvent> events;
        std::string line = std::move(partial_);
        partial_.clear();
        HandleLine(line, &chunk, &events);
        Enqueue(std::move(chunk), std::move(events));
    }

    void HandleLine(std::string_view line, Chunk* chunk, std::vector<PendingEvent>* events) {
        ++line_no_;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (IsBlank(line)) {
            return;
        }
        ParsedLine parsed = ParseEvent(line);
        if (!parsed.status.ok()) {
            std::string_view type = parsed.status.code() == "invalid_json" ? "unknown" : "invalid";
            server_->metrics_->CountEvents(type, parsed.status.code());
            chunk->answers.push_back(ErrorAnswer(parsed.id, line_no_, parsed.status));
            return;
        }
        chunk->engine_slots.push_back(chunk->answers.size());
        chunk->answers.emplace_back();
        events->push_back(PendingEvent{std::move(parsed.event), line_no_});
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
        server_->engine_->Submit(std::move(sub));
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
        asio::async_write(socket_, asio::buffer(out_),
                          [self = shared_from_this(), lines](boost::system::error_code ec, size_t) {
                              self->writing_ = false;
                              if (ec) {
                                  self->Close();
                                  return;
                              }
                              self->unanswered_ -= lines;
                              self->ArmIdleTimer();
                              self->Read();
                              self->Flush();
                          });
    }

    // Closes once nothing is owed to the producer and it has finished or we are draining.
    void MaybeClose() {
        if ((eof_ || draining_) && chunks_.empty() && !writing_) {
            Close();
        }
    }

    void ArmIdleTimer() {
        timer_.expires_after(std::chrono::seconds(limits().idle_timeout_seconds));
        timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || self->closed_) {
                return;
            }
            if (self->chunks_.empty() && !self->writing_) {
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
        boost::system::error_code ignored;
        timer_.cancel();
        socket_.shutdown(tcp::socket::shutdown_both, ignored);
        socket_.close(ignored);
        server_->Forget(id_);
    }

    const IngestLimits& limits() const { return server_->limits_; }

    IngestServer* server_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    uint64_t id_;
    std::vector<char> read_buf_;
    std::string partial_;
    std::string out_;
    std::deque<Chunk> chunks_;
    uint64_t first_chunk_no_ = 0;
    uint64_t line_no_ = 0;
    size_t unanswered_ = 0;
    bool discarding_ = false;
    bool reading_ = false;
    bool writing_ = false;
    bool eof_ = false;
    bool draining_ = false;
    bool closed_ = false;
};

IngestServer::IngestServer(asio::io_context& io, Engine* engine, metrics::EngineMetrics* metrics,
                           IngestLimits limits)
    : io_(io), acceptor_(io), engine_(engine), metrics_(metrics), limits_(limits) {}

IngestServer::~IngestServer() = default;

Status IngestServer::Listen(const std::string& host, uint16_t port) {
    boost::system::error_code ec;
    asio::ip::address address = asio::ip::make_address(host, ec);
    if (ec) {
        return Status::Error("invalid_field",
                             "ingest address \"" + host + "\" is not an IP address");
    }
    tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
        acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return Status::Error("unavailable", "cannot listen on " + host + ":" +
                                                std::to_string(port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    return Status::Ok();
}

void IngestServer::Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec != asio::error::operation_aborted) {
                spdlog::warn("ingest: accept failed: {}", ec.message());
                Accept();
            }
            return;
        }
        std::shared_ptr<IngestConnection> conn;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (draining_ || connections_.size() >= limits_.max_connections) {
                boost::system::error_code ignored;
                socket.close(ignored);
                metrics_->CountEvents("connection", "refused");
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
}

size_t IngestServer::connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_.size();
}

void IngestServer::Drain() {
    asio::post(io_, [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        std::vector<std::shared_ptr<IngestConnection>> live;
        {
            std::lock_guard<std::mutex> lock(mu_);
            draining_ = true;
            for (auto& [id, weak] : connections_) {
                if (auto c = weak.lock()) {
                    live.push_back(std::move(c));
                }
            }
        }
        for (auto& c : live) {
            c->Drain();
        }
    });
}

}  // namespace rms
