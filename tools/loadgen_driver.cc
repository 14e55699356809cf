#include "tools/loadgen_driver.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>

#include "tools/client.h"
#include "tools/loadgen_stream.h"

namespace rms::loadgen {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadBytes = 256 << 10;
constexpr std::string_view kCustomerKey = "\"customer\":\"";

double CpuSeconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto secs = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
    };
    return secs(ru.ru_utime) + secs(ru.ru_stime);
}

double Micros(Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

// The connection a line belongs to: a hash of its customer, so one customer's events stay in
// order. Lines without a customer go to the first connection.
size_t RouteOf(std::string_view line, size_t connections) {
    size_t at = line.find(kCustomerKey);
    if (at == std::string_view::npos) {
        return 0;
    }
    std::string_view id = line.substr(at + kCustomerKey.size());
    id = id.substr(0, id.find('"'));
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : id) {
        h = (h ^ c) * 0x100000001b3ull;
    }
    return Mix64(h) % connections;
}

struct Connection {
    LineClient client;
    std::vector<uint64_t> starts;  // offsets of this connection's lines in the stream
    size_t next = 0;               // the next line to stage
    uint64_t answered = 0;
    std::string out;  // staged bytes; written up to out_pos
    size_t out_pos = 0;
    // Staged chunks: the line index after each, and when it was staged.
    std::deque<std::pair<uint64_t, Clock::time_point>> chunks;
    std::string partial;  // an answer line cut by a read
    double rate = 0;      // lines per second, open loop only

    explicit Connection(LineClient c) : client(std::move(c)) {}
    bool done() const { return answered == starts.size(); }
    // Ends the connection's stream after the lines staged so far.
    void Truncate() { starts.resize(next); }
};

class Driver {
public:
    Driver(std::string_view stream, const DriveOptions& options)
        : stream_(stream), options_(options) {}

    Result<DriveReport> Run();

private:
    Status Connect();
    void Partition();
    // Stages and writes what the window and the rate allow. Fails on a socket error.
    Status Pump(Connection& c, Clock::time_point now);
    Status ReadAnswers(Connection& c);
    void TakeAnswer(Connection& c, std::string_view answer, Clock::time_point now);
    Clock::time_point DueTime(const Connection& c, uint64_t line) const {
        return start_ + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(line) / c.rate));
    }

    std::string_view stream_;
    DriveOptions options_;
    std::vector<std::unique_ptr<Connection>> conns_;
    std::vector<uint32_t> latencies_;
    std::vector<uint64_t> per_second_;
    DriveReport report_;
    Clock::time_point start_;
    Clock::time_point last_answer_;
    std::vector<char> read_buf_;
};

Status Driver::Connect() {
    for (int i = 0; i < std::max(options_.connections, 1); ++i) {
        Result<LineClient> client = LineClient::Connect(options_.host, options_.port);
        if (!client.ok()) {
            return client.status();
        }
        client.value().SetNoDelay(true);
        int fd = client->fd();
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
            return Status::Error("io_error", std::string("fcntl: ") + std::strerror(errno));
        }
        conns_.push_back(std::make_unique<Connection>(std::move(client).value()));
    }
    return Status::Ok();
}

void Driver::Partition() {
    size_t pos = 0;
    while (pos < stream_.size()) {
        size_t nl = stream_.find('\n', pos);
        size_t end = nl == std::string_view::npos ? stream_.size() : nl;
        if (end > pos) {
            std::string_view line = stream_.substr(pos, end - pos);
            conns_[RouteOf(line, conns_.size())]->starts.push_back(pos);
            ++report_.lines;
        }
        pos = end + 1;
    }
    for (auto& c : conns_) {
        c->rate = options_.rate * static_cast<double>(c->starts.size()) /
                  static_cast<double>(std::max<uint64_t>(report_.lines, 1));
    }
    latencies_.reserve(report_.lines);
}

Status Driver::Pump(Connection& c, Clock::time_point now) {
    for (;;) {
        if (c.out_pos == c.out.size()) {
            c.out.clear();
            c.out_pos = 0;
            size_t limit = std::min(c.starts.size(), c.answered + options_.window);
            if (options_.rate > 0) {
                double elapsed = std::chrono::duration<double>(now - start_).count();
                limit = std::min(limit, static_cast<size_t>(elapsed * c.rate) + 1);
            }
            while (c.next < limit && c.out.size() < options_.chunk_bytes) {
                size_t begin = c.starts[c.next];
                size_t nl = stream_.find('\n', begin);
                size_t end = nl == std::string_view::npos ? stream_.size() : nl;
                c.out.append(stream_.data() + begin, end - begin);
                c.out.push_back('\n');
                ++c.next;
            }
            if (c.out.empty()) {
                return Status::Ok();
            }
            c.chunks.emplace_back(c.next, now);
        }
        ssize_t n =
            ::send(c.client.fd(), c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return Status::Ok();
            }
            return Status::Error("io_error", std::string("send: ") + std::strerror(errno));
        }
        c.out_pos += static_cast<size_t>(n);
    }
}

void Driver::TakeAnswer(Connection& c, std::string_view answer, Clock::time_point now) {
    if (answer.starts_with("{\"ok\":true")) {
        ++report_.ok;
        if (answer.find("\"duplicate\":true") != std::string_view::npos) {
            ++report_.duplicate;
        }
    } else {
        ++report_.errors;
        std::string code = "unreadable_answer";
        size_t at = answer.find("\"error\":\"");
        if (at != std::string_view::npos) {
            std::string_view rest = answer.substr(at + 9);
            code = std::string(rest.substr(0, rest.find('"')));
        }
        ++report_.error_codes[code];
        if (report_.first_error.empty()) {
            report_.first_error = std::string(answer);
        }
    }
    while (!c.chunks.empty() && c.chunks.front().first <= c.answered) {
        c.chunks.pop_front();
    }
    Clock::time_point sent = options_.rate > 0 ? DueTime(c, c.answered) : c.chunks.front().second;
    double us = std::max(0.0, Micros(now - sent));
    latencies_.push_back(static_cast<uint32_t>(std::min(us, 4e9)));
    ++c.answered;
}

Status Driver::ReadAnswers(Connection& c) {
    for (;;) {
        ssize_t n = ::recv(c.client.fd(), read_buf_.data(), read_buf_.size(), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return Status::Ok();
            }
            return Status::Error("io_error", std::string("recv: ") + std::strerror(errno));
        }
        if (n == 0) {
            return c.done() ? Status::Ok()
                            : Status::Error("connection_closed",
                                            "rmsd closed a connection with " +
                                                std::to_string(c.starts.size() - c.answered) +
                                                " answers owed");
        }
        Clock::time_point now = Clock::now();
        last_answer_ = now;
        uint64_t before = c.answered;
        std::string_view bytes(read_buf_.data(), static_cast<size_t>(n));
        while (!bytes.empty()) {
            size_t nl = bytes.find('\n');
            if (nl == std::string_view::npos) {
                c.partial.append(bytes);
                break;
            }
            if (c.partial.empty()) {
                TakeAnswer(c, bytes.substr(0, nl), now);
            } else {
                c.partial.append(bytes.substr(0, nl));
                TakeAnswer(c, c.partial, now);
                c.partial.clear();
            }
            bytes.remove_prefix(nl + 1);
        }
        size_t second = static_cast<size_t>(std::chrono::duration<double>(now - start_).count());
        if (per_second_.size() <= second) {
            per_second_.resize(second + 1);
        }
        per_second_[second] += c.answered - before;
        if (static_cast<size_t>(n) < read_buf_.size()) {
            return Status::Ok();
        }
    }
}

Result<DriveReport> Driver::Run() {
    Status connected = Connect();
    if (!connected.ok()) {
        return connected;
    }
    Partition();
    read_buf_.resize(kReadBytes);
    double cpu_start = CpuSeconds();
    start_ = Clock::now();
    last_answer_ = start_;
    Clock::time_point last_progress = start_;
    std::vector<pollfd> fds(conns_.size());
    bool truncated = false;
    for (;;) {
        Clock::time_point now = Clock::now();
        if (options_.duration > 0 && !truncated &&
            now - start_ > std::chrono::duration<double>(options_.duration)) {
            for (auto& c : conns_) {
                c->Truncate();
            }
            truncated = true;
        }
        bool all_done = true;
        for (size_t i = 0; i < conns_.size(); ++i) {
            Connection& c = *conns_[i];
            Status pumped = Pump(c, now);
            if (!pumped.ok()) {
                return pumped;
            }
            fds[i] = pollfd{c.client.fd(), 0, 0};
            if (!c.done()) {
                all_done = false;
                fds[i].events = POLLIN;
            }
            if (c.out_pos < c.out.size()) {
                fds[i].events |= POLLOUT;
            }
        }
        if (all_done) {
            break;
        }
        timespec tick{0, options_.rate > 0 ? 200000 : 100000000};
        int ready = ::ppoll(fds.data(), fds.size(), &tick, nullptr);
        if (ready < 0 && errno != EINTR) {
            return Status::Error("io_error", std::string("poll: ") + std::strerror(errno));
        }
        uint64_t answered_before = report_.ok + report_.errors;
        for (size_t i = 0; i < conns_.size(); ++i) {
            if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                Status read = ReadAnswers(*conns_[i]);
                if (!read.ok()) {
                    return read;
                }
            }
        }
        now = Clock::now();
        if (report_.ok + report_.errors != answered_before) {
            last_progress = now;
        } else if (now - last_progress > std::chrono::milliseconds(options_.idle_timeout_ms)) {
            return Status::Error(
                "timeout", "no answer for " + std::to_string(options_.idle_timeout_ms) + " ms");
        }
    }
    report_.client_cpu_seconds = CpuSeconds() - cpu_start;
    report_.lines = 0;
    for (const auto& c : conns_) {
        report_.lines += c->starts.size();
    }
    report_.seconds = std::chrono::duration<double>(last_answer_ - start_).count();
    report_.events_per_second =
        report_.seconds > 0 ? static_cast<double>(report_.lines) / report_.seconds : 0;
    if (per_second_.size() > 2) {
        report_.per_second.assign(per_second_.begin() + 1, per_second_.end() - 1);
        std::vector<uint64_t> sorted = report_.per_second;
        std::sort(sorted.begin(), sorted.end());
        report_.median_second = static_cast<double>(sorted[sorted.size() / 2]);
    }
    report_.latency = ComputePercentiles(&latencies_);
    return report_;
}

}  // namespace

Percentiles ComputePercentiles(std::vector<uint32_t>* samples) {
    Percentiles p;
    p.count = samples->size();
    if (samples->empty()) {
        return p;
    }
    auto at = [&](double q) {
        size_t k = std::min(samples->size() - 1,
                            static_cast<size_t>(q * static_cast<double>(samples->size())));
        std::nth_element(samples->begin(), samples->begin() + static_cast<ptrdiff_t>(k),
                         samples->end());
        return static_cast<double>((*samples)[k]);
    };
    p.p50 = at(0.50);
    p.p99 = at(0.99);
    p.p999 = at(0.999);
    p.max = static_cast<double>(*std::max_element(samples->begin(), samples->end()));
    return p;
}

Result<DriveReport> Drive(std::string_view stream, const DriveOptions& options) {
    Driver driver(stream, options);
    return driver.Run();
}

Result<std::vector<double>> TimeSingleEvents(const std::string& host, uint16_t port,
                                             const std::vector<std::string>& lines) {
    Result<LineClient> connected = LineClient::Connect(host, port);
    if (!connected.ok()) {
        return connected.status();
    }
    LineClient client = std::move(connected).value();
    client.SetNoDelay(true);
    std::vector<double> out;
    for (const std::string& line : lines) {
        Clock::time_point start = Clock::now();
        Status written = client.WriteAll(line + "\n");
        if (!written.ok()) {
            return written;
        }
        Result<std::string> answer = client.ReadLine(60000);
        if (!answer.ok()) {
            return answer.status();
        }
        out.push_back(Micros(Clock::now() - start));
        if (!answer->starts_with("{\"ok\":true")) {
            return Status::Error("bad_response", "event answered " + *answer);
        }
    }
    return out;
}

Result<std::vector<double>> TimeGets(const std::string& host, uint16_t port,
                                     const std::string& target, int count) {
    std::vector<double> out;
    for (int i = 0; i < count; ++i) {
        Clock::time_point start = Clock::now();
        Result<HttpResponse> r = HttpGet(host, port, target, 30000);
        if (!r.ok()) {
            return r.status();
        }
        out.push_back(Micros(Clock::now() - start));
        if (r->status != 200) {
            return Status::Error("bad_response",
                                 "GET " + target + " answered " + std::to_string(r->status));
        }
    }
    return out;
}

ProcessMemory ReadProcessMemory(int pid) {
    ProcessMemory m;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (in >> key) {
        uint64_t kb = 0;
        if (key == "VmHWM:" && in >> kb) {
            m.peak_rss = kb << 10;
        } else if (key == "VmRSS:" && in >> kb) {
            m.rss = kb << 10;
        }
    }
    return m;
}

}  // namespace rms::loadgen
