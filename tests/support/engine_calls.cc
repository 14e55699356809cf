#include "tests/support/engine_calls.h"

#include <gtest/gtest.h>

#include <future>

namespace rms::testing {

bool CommitEvents(Engine& engine, const std::vector<std::string>& lines) {
    Submission sub;
    for (size_t i = 0; i < lines.size(); ++i) {
        ParsedLine parsed = ParseEvent(lines[i]);
        EXPECT_TRUE(parsed.status.ok()) << lines[i];
        sub.events.push_back(PendingEvent{std::move(parsed.event), i + 1});
    }
    std::promise<std::vector<std::string>> answered;
    sub.done = [&](std::vector<std::string> a) { answered.set_value(std::move(a)); };
    engine.Submit(std::move(sub));
    bool ok = true;
    for (const std::string& answer : answered.get_future().get()) {
        ok = ok && answer.find(R"("ok":true)") != std::string::npos;
    }
    return ok;
}

}  // namespace rms::testing
