// Counts the engine's answers to a stream of events, by event type and outcome, so that rmsctl
// can end a replay with a summary and an exit code.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace rms {

// Returns the "type" member of an event line, or "?" when the line is not a JSON object with a
// string "type".
std::string EventTypeOf(std::string_view event_line);

class AnswerTally {
public:
    // Counts `answer_line`, the engine's answer to an event of type `type`. An answer is "ok",
    // "duplicate" (ok with "duplicate":true, or the error code "duplicate"), or its error code;
    // one that does not parse counts as the error "unreadable_answer".
    void Add(std::string_view type, std::string_view answer_line);

    // Counts an event that was sent or due to be sent but got no answer.
    void AddUnanswered(std::string_view type);

    // True when any event got an answer other than ok or duplicate, or no answer.
    bool HasErrors() const { return errors_ > 0; }

    int64_t answered() const { return answered_; }

    // A table with one row per event type (events, ok, duplicate, errors) and a total, then one
    // line per error code with its count and the first such answer's event id and message.
    std::string Summary() const;

private:
    struct Counts {
        int64_t events = 0;
        int64_t ok = 0;
        int64_t duplicate = 0;
        int64_t errors = 0;
    };
    struct ErrorCode {
        int64_t count = 0;
        std::string first;  // "<event id>: <message>" of the first answer with this code
    };

    void CountError(Counts* counts, const std::string& code, std::string first);

    std::map<std::string, Counts> by_type_;
    std::map<std::string, ErrorCode> by_code_;
    int64_t answered_ = 0;
    int64_t errors_ = 0;
};

}  // namespace rms
