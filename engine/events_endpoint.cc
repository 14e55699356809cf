#include "engine/events_endpoint.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "engine/event_input.h"

namespace rms {

namespace {

constexpr std::string_view kNdjson = "application/x-ndjson";

}  // namespace

std::string MediaType(std::string_view content_type) {
    std::string_view type = content_type.substr(0, content_type.find(';'));
    size_t first = type.find_first_not_of(" \t");
    size_t last = type.find_last_not_of(" \t");
    std::string out;
    if (first == std::string_view::npos) {
        return out;
    }
    for (char c : type.substr(first, last - first + 1)) {
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

namespace {

// The "error" code of an answer object, empty for an ok answer.
std::string ErrorCodeOf(const std::string& answer) {
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    std::string_view code;
    if (parser.parse(answer).get(object) != simdjson::SUCCESS ||
        object["error"].get_string().get(code) != simdjson::SUCCESS) {
        return "";
    }
    return std::string(code);
}

ApiResponse AnswerResponse(std::string answer) {
    ApiResponse r;
    r.status = HttpStatusOfAnswer(ErrorCodeOf(answer));
    r.body = std::move(answer);
    r.body.push_back('\n');
    return r;
}

Status LineTooLong(uint64_t line, std::string_view what) {
    return Status::Error("line_too_long", std::string(what) + " " + std::to_string(line) +
                                              " is longer than " +
                                              std::to_string(kMaxEventLineBytes) + " bytes");
}

}  // namespace

void EventsEndpoint::Submit(Submission sub) const {
    if (route_) {
        route_(std::move(sub));
        return;
    }
    engine_->Submit(std::move(sub));
}

int HttpStatusOfAnswer(std::string_view error_code) {
    if (error_code.empty()) {
        return 200;
    }
    if (error_code == "invalid_json" || error_code == "line_too_long") {
        return 400;
    }
    if (error_code == "conflict") {
        return 409;
    }
    if (error_code == "unauthorized") {
        return 401;
    }
    if (error_code == "forbidden") {
        return 403;
    }
    if (error_code == "rate_limited") {
        return 429;
    }
    if (error_code == "unavailable") {
        return 503;
    }
    return 422;
}

void EventsEndpoint::RequireProducers(std::vector<ProducerPolicy> producers) {
    if (producers.empty()) {
        producers_.reset();
        return;
    }
    producers_ = std::make_unique<ProducerAuth>(std::move(producers));
}

const ProducerPolicy* EventsEndpoint::Authenticate(std::string_view authorization) const {
    constexpr std::string_view kBearer = "Bearer ";
    if (producers_ == nullptr || authorization.size() <= kBearer.size() ||
        !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return nullptr;
    }
    std::string_view token = authorization.substr(kBearer.size());
    token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
    return producers_->Authenticate(token);
}

const ProducerPolicy* EventsEndpoint::ProducerNamed(std::string_view name) const {
    return producers_ == nullptr ? nullptr : producers_->Find(name);
}

Status EventsEndpoint::Authorize(const ProducerPolicy* producer, const Event& event) const {
    if (producers_ == nullptr) {
        return Status::Ok();
    }
    Status allowed = Status::Error("unauthorized", "no producer token was given");
    if (producer != nullptr) {
        std::lock_guard lock(producers_mu_);
        allowed = producers_->Authorize(*producer, event, std::chrono::steady_clock::now());
    }
    if (!allowed.ok()) {
        // Refused before the engine sees it: not applied, no idempotence marker.
        metrics_->CountEvents(EventTypeName(event.type), allowed.code());
        metrics_->CountAuthFailure(allowed.code());
    }
    return allowed;
}

void EventsEndpoint::Post(std::string_view content_type, std::string body,
                          const ProducerPolicy* producer,
                          std::function<void(ApiResponse)> done) const {
    std::string type = MediaType(content_type);
    if (type == "application/json") {
        PostOne(std::move(body), producer, std::move(done));
        return;
    }
    if (type == kNdjson) {
        PostLines(std::move(body), producer, std::move(done));
        return;
    }
    done(ApiError(415, "unsupported_media_type",
                  "Content-Type must be application/json (one event) or application/x-ndjson "
                  "(one event a line), not \"" +
                      std::string(content_type) + "\""));
}

void EventsEndpoint::PostOne(std::string body, const ProducerPolicy* producer,
                             std::function<void(ApiResponse)> done) const {
    if (body.size() > kMaxEventLineBytes) {
        metrics_->CountEvents("unknown", "line_too_long");
        done(AnswerResponse(ErrorAnswer(std::nullopt, 1, LineTooLong(1, "event"))));
        return;
    }
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
        metrics_->CountEvents("unknown", "invalid_json");
        Status empty = Status::Error("invalid_json", "the body holds no event");
        done(AnswerResponse(ErrorAnswer(std::nullopt, 1, empty)));
        return;
    }
    // The body is one JSON document: newlines inside it are whitespace, not line ends.
    ParsedLine parsed = *ParseInputLine(body, metrics_);
    if (!parsed.status.ok()) {
        done(AnswerResponse(ErrorAnswer(parsed.id, 1, parsed.status)));
        return;
    }
    if (Status allowed = Authorize(producer, parsed.event); !allowed.ok()) {
        done(AnswerResponse(ErrorAnswer(parsed.event.id, 1, allowed)));
        return;
    }
    Submission sub;
    sub.events.push_back(PendingEvent{std::move(parsed.event), 1});
    sub.done = [done = std::move(done)](std::vector<std::string> answers) {
        done(AnswerResponse(std::move(answers.front())));
    };
    Submit(std::move(sub));
}

void EventsEndpoint::PostLines(std::string body, const ProducerPolicy* producer,
                               std::function<void(ApiResponse)> done) const {
    // Answers in line order; the slots of the events the engine answers are filled in later.
    auto answers = std::make_shared<std::vector<std::string>>();
    std::vector<size_t> slots;
    std::vector<PendingEvent> events;
    std::string_view rest = body;
    uint64_t line_no = 0;
    while (!rest.empty()) {
        size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        ++line_no;
        if (line.size() > kMaxEventLineBytes) {
            metrics_->CountEvents("unknown", "line_too_long");
            answers->push_back(ErrorAnswer(std::nullopt, line_no, LineTooLong(line_no, "line")));
            continue;
        }
        std::optional<ParsedLine> parsed = ParseInputLine(line, metrics_);
        if (!parsed) {
            continue;
        }
        if (!parsed->status.ok()) {
            answers->push_back(ErrorAnswer(parsed->id, line_no, parsed->status));
            continue;
        }
        if (Status allowed = Authorize(producer, parsed->event); !allowed.ok()) {
            answers->push_back(ErrorAnswer(parsed->event.id, line_no, allowed));
            continue;
        }
        slots.push_back(answers->size());
        answers->emplace_back();
        events.push_back(PendingEvent{std::move(parsed->event), line_no});
    }
    auto respond = [answers, done = std::move(done)] {
        ApiResponse r;
        r.content_type = std::string(kNdjson);
        for (const std::string& a : *answers) {
            r.body.append(a).push_back('\n');
        }
        done(std::move(r));
    };
    if (events.empty()) {
        respond();
        return;
    }
    Submission sub;
    sub.events = std::move(events);
    sub.done = [answers, slots = std::move(slots),
                respond = std::move(respond)](std::vector<std::string> engine_answers) {
        for (size_t i = 0; i < engine_answers.size(); ++i) {
            (*answers)[slots[i]] = std::move(engine_answers[i]);
        }
        respond();
    };
    Submit(std::move(sub));
}

}  // namespace rms
