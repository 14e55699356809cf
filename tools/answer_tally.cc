#include "tools/answer_tally.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <vector>

#include "tools/text_table.h"

namespace rms {

std::string EventTypeOf(std::string_view event_line) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::string_view type;
    if (parser.parse(simdjson::padded_string(event_line)).get(root) ||
        root["type"].get_string().get(type)) {
        return "?";
    }
    return std::string(type);
}

void AnswerTally::Add(std::string_view type, std::string_view answer_line) {
    Counts& counts = by_type_[std::string(type)];
    ++counts.events;
    ++answered_;

    simdjson::dom::parser parser;
    simdjson::dom::element root;
    bool ok = false;
    if (parser.parse(simdjson::padded_string(answer_line)).get(root) ||
        root["ok"].get_bool().get(ok)) {
        CountError(&counts, "unreadable_answer", fmt::format("answer {:?}", answer_line));
        return;
    }

    bool duplicate = false;
    std::string_view code;
    if (ok) {
        if (root["duplicate"].get_bool().get(duplicate) == simdjson::SUCCESS && duplicate) {
            ++counts.duplicate;
        } else {
            ++counts.ok;
        }
        return;
    }
    if (root["error"].get_string().get(code)) {
        code = "unreadable_answer";
    }
    if (code == "duplicate") {
        ++counts.duplicate;
        return;
    }
    std::string_view id;
    std::string_view message;
    if (root["id"].get_string().get(id)) {
        id = "(no id)";
    }
    if (root["message"].get_string().get(message)) {
        message = "(no message)";
    }
    CountError(&counts, std::string(code), fmt::format("{}: {}", id, message));
}

void AnswerTally::AddUnanswered(std::string_view type) {
    Counts& counts = by_type_[std::string(type)];
    ++counts.events;
    CountError(&counts, "unanswered", "the connection ended before the answer");
}

void AnswerTally::CountError(Counts* counts, const std::string& code, std::string first) {
    ++counts->errors;
    ++errors_;
    ErrorCode& entry = by_code_[code];
    if (entry.count++ == 0) {
        entry.first = std::move(first);
    }
}

std::string AnswerTally::Summary() const {
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"type", "events", "ok", "duplicate", "errors"});
    Counts total;
    for (const auto& [type, counts] : by_type_) {
        rows.push_back({type, std::to_string(counts.events), std::to_string(counts.ok),
                        std::to_string(counts.duplicate), std::to_string(counts.errors)});
        total.events += counts.events;
        total.ok += counts.ok;
        total.duplicate += counts.duplicate;
        total.errors += counts.errors;
    }
    rows.push_back({"total", std::to_string(total.events), std::to_string(total.ok),
                    std::to_string(total.duplicate), std::to_string(total.errors)});
    std::string out = RenderTable(rows);

    if (by_code_.empty()) {
        return out;
    }
    size_t code_width = 0;
    size_t count_width = 0;
    for (const auto& [code, entry] : by_code_) {
        code_width = std::max(code_width, code.size());
        count_width = std::max(count_width, std::to_string(entry.count).size());
    }
    out.append("errors by code:\n");
    for (const auto& [code, entry] : by_code_) {
        out.append(fmt::format("  {:<{}}  {:>{}}  first: {}\n", code, code_width, entry.count,
                               count_width, entry.first));
    }
    return out;
}

}  // namespace rms
