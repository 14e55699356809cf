// Runs every scenario file of $RMS_SHARED_DIR/scenarios against a real rmsd, one test per file,
// exactly as scenarios/README.md says: a fresh engine and data dir per file, one connection per
// step written in the step's write mode, one answer per event, then the query API compared with
// the step's expectations. A file whose events get unsupported_type is skipped as pending.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/rmsd_process.h"
#include "tests/support/shared_data.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"

namespace rms {
namespace {

using simdjson::dom::element;

constexpr int kAnswerTimeoutMs = 15000;
constexpr size_t kPipelineWindow = 64;

struct ScenarioFile {
    std::string name;  // The file name without ".json".
    std::string path;  // Empty when the shared folder or its scenarios are missing.
};

// Names the file in gtest's messages instead of dumping its bytes.
void PrintTo(const ScenarioFile& file, std::ostream* os) {
    *os << file.name;
}

std::vector<ScenarioFile> ListScenarioFiles() {
    std::vector<ScenarioFile> files;
    if (std::optional<std::string> shared = SharedDir()) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(*shared + "/scenarios", ec)) {
            if (entry.path().extension() == ".json") {
                files.push_back({entry.path().stem().string(), entry.path().string()});
            }
        }
    }
    std::sort(files.begin(), files.end(),
              [](const ScenarioFile& a, const ScenarioFile& b) { return a.name < b.name; });
    if (files.empty()) {
        // One placeholder test says why nothing ran.
        files.push_back({"no_scenario_files", ""});
    }
    return files;
}

std::string TestName(const testing::TestParamInfo<ScenarioFile>& info) {
    std::string name = info.param.name;
    std::replace_if(
        name.begin(), name.end(),
        [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    return name;
}

// "0040.50" -> "40.5", "-0.00" -> "0"; nullopt when `text` is not [-]digits[.digits].
std::optional<std::string> CanonicalDecimal(std::string_view text) {
    bool negative = text.starts_with('-');
    if (negative) {
        text.remove_prefix(1);
    }
    size_t point = text.find('.');
    std::string_view whole = text.substr(0, point);
    std::string_view fraction =
        point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
    auto all_digits = [](std::string_view s) {
        return !s.empty() &&
               std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (!all_digits(whole) || (point != std::string_view::npos && !all_digits(fraction))) {
        return std::nullopt;
    }
    whole.remove_prefix(std::min(whole.find_first_not_of('0'), whole.size()));
    fraction = fraction.substr(0, fraction.find_last_not_of('0') + 1);
    std::string canonical = whole.empty() ? "0" : std::string(whole);
    if (!fraction.empty()) {
        canonical.append(".").append(fraction);
    }
    if (negative && canonical != "0") {
        canonical.insert(0, "-");
    }
    return canonical;
}

// The `error` of an answer line; empty when it has none or does not parse.
std::string ErrorCode(const std::string& answer) {
    simdjson::dom::parser parser;
    element root;
    std::string_view code;
    if (parser.parse(answer).get(root) != simdjson::SUCCESS ||
        root["error"].get_string().get(code) != simdjson::SUCCESS) {
        return "";
    }
    return std::string(code);
}

std::string Show(element value) {
    return simdjson::minify(value);
}

std::string PercentEncode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(c);
        } else {
            out.append({'%', kHex[u >> 4], kHex[u & 15]});
        }
    }
    return out;
}

// The differences found in one step, reported together.
class Diff {
public:
    void Add(std::string key, std::string expected, std::string got) {
        lines_.push_back("  " + key + ": expected " + expected + ", got " + got);
    }
    bool empty() const { return lines_.empty(); }
    std::string Report() const {
        std::string out;
        for (const std::string& line : lines_) {
            out.append(line).append("\n");
        }
        return out;
    }

private:
    std::vector<std::string> lines_;
};

// Compares `got` with `expected` member by member: strings that are decimals by value (amounts),
// other strings, booleans and null exactly, numbers within `tolerance` (KPIs). Members of `got`
// that `expected` does not name are not checked.
void CompareValue(const std::string& key, element expected, std::optional<element> got,
                  double tolerance, Diff* diff) {
    if (!got) {
        diff->Add(key, Show(expected), "(absent)");
        return;
    }
    switch (expected.type()) {
        case simdjson::dom::element_type::OBJECT: {
            if (!got->is_object()) {
                diff->Add(key, "an object", Show(*got));
                return;
            }
            for (auto [name, value] : expected.get_object()) {
                element member;
                bool present = got->get_object()[name].get(member) == simdjson::SUCCESS;
                CompareValue(key + "." + std::string(name), value,
                             present ? std::optional<element>(member) : std::nullopt, tolerance,
                             diff);
            }
            return;
        }
        case simdjson::dom::element_type::STRING: {
            std::string_view want = expected.get_string().value_unsafe();
            std::string_view have;
            if (got->get_string().get(have) != simdjson::SUCCESS) {
                diff->Add(key, Show(expected), Show(*got));
                return;
            }
            std::optional<std::string> want_value = CanonicalDecimal(want);
            bool same = want_value ? want_value == CanonicalDecimal(have) : want == have;
            if (!same) {
                diff->Add(key, Show(expected), Show(*got));
            }
            return;
        }
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE: {
            double want = expected.get_double().value_unsafe();
            double have = 0;
            if (!got->is_number() || got->get_double().get(have) != simdjson::SUCCESS ||
                std::fabs(want - have) > tolerance + 1e-9) {
                std::ostringstream within;
                within << Show(expected) << " (within " << tolerance << ")";
                diff->Add(key, within.str(), Show(*got));
            }
            return;
        }
        default:
            if (Show(expected) != Show(*got)) {
                diff->Add(key, Show(expected), Show(*got));
            }
            return;
    }
}

std::optional<element> Member(element object, std::string_view name) {
    element value;
    if (!object.is_object() || object.get_object()[name].get(value) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    return value;
}

std::optional<std::string_view> StringMember(element object, std::string_view name) {
    std::optional<element> value = Member(object, name);
    std::string_view text;
    if (!value || value->get_string().get(text) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    return text;
}

bool BoolMember(element object, std::string_view name) {
    std::optional<element> value = Member(object, name);
    bool flag = false;
    return value && value->get_bool().get(flag) == simdjson::SUCCESS && flag;
}

// The writes of the "straddle" mode: each line, its '\n' included, is cut at byte
// floor(length / 2); a write holds the second half of one line and the first half of the next.
std::vector<std::string> StraddleWrites(const std::vector<std::string>& lines) {
    std::vector<std::string> writes;
    std::string carry;
    for (const std::string& line : lines) {
        std::string full = line + "\n";
        size_t cut = full.size() / 2;
        writes.push_back(carry + full.substr(0, cut));
        carry = full.substr(cut);
    }
    writes.push_back(carry);
    return writes;
}

// Writes the lines, each ended by '\n', as the step's `write` mode says. An unknown mode is
// "not_run".
Status WriteInMode(LineClient& client, const std::vector<std::string>& lines,
                   std::string_view mode) {
    std::string bytes;
    for (const std::string& line : lines) {
        bytes.append(line).append("\n");
    }
    if (mode == "whole") {
        return client.WriteAll(bytes);
    }
    if (mode == "bytewise") {
        client.SetNoDelay(true);
        for (size_t i = 0; i < bytes.size(); ++i) {
            Status written = client.WriteAll(std::string_view(bytes).substr(i, 1));
            if (!written.ok()) {
                return written;
            }
            // The mode asks for a short pause between writes, so that the bytes arrive apart;
            // nothing is waited for.
            std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
        return Status::Ok();
    }
    if (mode == "straddle") {
        client.SetNoDelay(true);
        for (const std::string& piece : StraddleWrites(lines)) {
            Status written = client.WriteAll(piece);
            if (!written.ok()) {
                return written;
            }
        }
        return Status::Ok();
    }
    return Status::Error("not_run", "unknown write mode \"" + std::string(mode) + "\"");
}

class ScenarioTest : public testing::TestWithParam<ScenarioFile> {
protected:
    // Writes the step's lines in `mode` and reads one answer per line.
    Result<std::vector<std::string>> SendStep(LineClient& client,
                                              const std::vector<std::string>& lines,
                                              std::string_view mode) {
        std::vector<std::string> answers;
        if (mode.empty()) {
            Status sent = SendPipelined(
                client, lines, kPipelineWindow,
                [&](size_t, std::string_view answer) { answers.emplace_back(answer); });
            if (!sent.ok()) {
                return sent;
            }
            return answers;
        }

        Status written = WriteInMode(client, lines, mode);
        if (!written.ok()) {
            return written;
        }
        for (size_t i = 0; i < lines.size(); ++i) {
            Result<std::string> answer = client.ReadLine(kAnswerTimeoutMs);
            if (!answer.ok()) {
                return Status::Error(answer.status().code(), "answer " + std::to_string(i + 1) +
                                                                 " of " +
                                                                 std::to_string(lines.size()) +
                                                                 ": " + answer.status().message());
            }
            answers.push_back(std::move(answer).value());
        }
        return answers;
    }

    // GETs `target` and parses the body into `parser`; records a diff line when that fails.
    std::optional<element> Query(const std::string& target, simdjson::dom::parser* parser,
                                 Diff* diff) {
        Result<HttpResponse> response = HttpGet("127.0.0.1", rmsd_->http_port(), target);
        if (!response.ok()) {
            diff->Add("GET " + target, "200", "no answer: " + response.status().message());
            return std::nullopt;
        }
        if (response->status != 200) {
            diff->Add("GET " + target, "200",
                      std::to_string(response->status) + " " + response->body);
            return std::nullopt;
        }
        element root;
        if (parser->parse(response->body).get(root) != simdjson::SUCCESS) {
            diff->Add("GET " + target, "a JSON body", "\"" + response->body + "\"");
            return std::nullopt;
        }
        return root;
    }

    void CheckAnswers(element expect, const std::vector<element>& events,
                      const std::vector<std::string>& answers, Diff* diff) {
        std::map<std::string, std::deque<element>, std::less<>> named;
        if (std::optional<element> list = Member(expect, "answers")) {
            for (element entry : list->get_array()) {
                named[std::string(StringMember(entry, "id").value_or(""))].push_back(entry);
            }
        }
        simdjson::dom::parser parser;
        for (size_t k = 0; k < events.size(); ++k) {
            std::optional<std::string_view> id = StringMember(events[k], "id");
            std::string key =
                "answer " + std::to_string(k + 1) + " (" + std::string(id.value_or("no id")) + ")";
            element answer;
            if (parser.parse(answers[k]).get(answer) != simdjson::SUCCESS || !answer.is_object()) {
                diff->Add(key, "a JSON object", "\"" + answers[k] + "\"");
                continue;
            }
            std::optional<element> got_id = Member(answer, "id");
            bool id_ok = id ? StringMember(answer, "id") == id : (got_id && got_id->is_null());
            if (!id_ok) {
                diff->Add(key + " id", id ? "\"" + std::string(*id) + "\"" : "null", answers[k]);
            }

            std::optional<element> want;
            if (id) {
                auto it = named.find(*id);
                if (it != named.end() && !it->second.empty()) {
                    want = it->second.front();
                    it->second.pop_front();
                }
            }
            if (!want) {
                if (!BoolMember(answer, "ok") || BoolMember(answer, "duplicate")) {
                    diff->Add(key, "{\"ok\":true} without duplicate", answers[k]);
                }
                continue;
            }
            bool match = true;
            if (std::optional<element> ok = Member(*want, "ok")) {
                bool want_ok = false;
                match = match && ok->get_bool().get(want_ok) == simdjson::SUCCESS &&
                        want_ok == BoolMember(answer, "ok");
            }
            if (std::optional<std::string_view> error = StringMember(*want, "error")) {
                match = match && StringMember(answer, "error") == error;
            }
            if (std::optional<element> duplicate = Member(*want, "duplicate")) {
                bool want_duplicate = false;
                match = match && duplicate->get_bool().get(want_duplicate) == simdjson::SUCCESS &&
                        want_duplicate == BoolMember(answer, "duplicate");
            }
            if (!match) {
                diff->Add(key, Show(*want), answers[k]);
            }
        }
    }

    void CheckQueries(element expect, double tolerance, Diff* diff) {
        static const std::vector<std::string_view> kKnown = {
            "answers", "business_date", "totals", "customers", "invoices", "promises", "kpis"};
        for (auto [name, value] : expect.get_object()) {
            if (std::find(kKnown.begin(), kKnown.end(), name) == kKnown.end()) {
                diff->Add("expect." + std::string(name), "a key this harness knows",
                          "an unknown key; the file cannot be checked fully");
            }
        }

        simdjson::dom::parser kpis_parser;
        std::optional<element> business_date = Member(expect, "business_date");
        std::optional<element> totals = Member(expect, "totals");
        std::optional<element> kpis = Member(expect, "kpis");
        if (business_date || totals || kpis) {
            std::optional<element> got = Query("/v1/kpis", &kpis_parser, diff);
            if (got) {
                if (business_date) {
                    CompareValue("business_date", *business_date, Member(*got, "business_date"), 0,
                                 diff);
                }
                std::optional<element> currencies = Member(*got, "currencies");
                for (auto [section, expected] :
                     {std::pair{"totals", totals}, std::pair{"kpis", kpis}}) {
                    if (!expected) {
                        continue;
                    }
                    for (auto [currency, figures] : expected->get_object()) {
                        CompareValue(std::string(section) + "." + std::string(currency), figures,
                                     currencies ? Member(*currencies, currency) : std::nullopt,
                                     section == std::string_view("kpis") ? tolerance : 0, diff);
                    }
                }
            }
        }

        if (std::optional<element> customers = Member(expect, "customers")) {
            for (auto [id, figures] : customers->get_object()) {
                simdjson::dom::parser parser;
                std::string key = "customers." + std::string(id);
                std::optional<element> got =
                    Query("/v1/customers/" + PercentEncode(id), &parser, diff);
                if (!got) {
                    continue;
                }
                // The figures are those under currencies[currency] of the answer.
                std::string_view currency = StringMember(figures, "currency").value_or("");
                std::optional<element> currencies = Member(*got, "currencies");
                std::optional<element> in_currency =
                    currencies ? Member(*currencies, currency) : std::nullopt;
                if (!in_currency) {
                    diff->Add(key + ".currencies." + std::string(currency), "figures",
                              "(absent) in " + Show(*got));
                    continue;
                }
                for (auto [name, value] : figures.get_object()) {
                    if (name != "currency") {
                        CompareValue(key + "." + std::string(name), value,
                                     Member(*in_currency, name), 0, diff);
                    }
                }
            }
        }

        for (std::string_view section : {"invoices", "promises"}) {
            std::optional<element> items = Member(expect, section);
            if (!items) {
                continue;
            }
            for (auto [id, fields] : items->get_object()) {
                simdjson::dom::parser parser;
                std::string target = "/v1/" + std::string(section) + "/" + PercentEncode(id);
                if (std::optional<element> got = Query(target, &parser, diff)) {
                    CompareValue(std::string(section) + "." + std::string(id), fields, got, 0,
                                 diff);
                }
            }
        }
    }

    std::unique_ptr<RmsdProcess> rmsd_;
};

TEST_P(ScenarioTest, MatchesEveryStepsExpectations) {
    RMS_REQUIRE_SHARED_DIR(shared);
    const ScenarioFile& file = GetParam();
    ASSERT_FALSE(file.path.empty()) << "no *.json in " << shared << "/scenarios";

    simdjson::dom::parser file_parser;
    element scenario;
    simdjson::error_code parsed = file_parser.load(file.path).get(scenario);
    ASSERT_EQ(parsed, simdjson::SUCCESS) << file.path << ": " << simdjson::error_message(parsed);
    double tolerance = 0;
    if (std::optional<element> t = Member(scenario, "tolerance")) {
        ASSERT_EQ(t->get_double().get(tolerance), simdjson::SUCCESS) << file.path;
    }
    std::optional<element> steps = Member(scenario, "steps");
    ASSERT_TRUE(steps && steps->is_array()) << file.path << ": no \"steps\" array";

    Result<TempDir> dir = TempDir::Create("scenario");
    ASSERT_TRUE(dir.ok()) << dir.status().message();
    Result<std::unique_ptr<RmsdProcess>> started =
        RmsdProcess::Start({.data_dir = dir->Path("data")});
    ASSERT_TRUE(started.ok()) << started.status().message();
    rmsd_ = std::move(started).value();

    size_t step_count = steps->get_array().size();
    size_t step_number = 0;
    for (element step : steps->get_array()) {
        ++step_number;
        std::string where = file.name + ".json, step " + std::to_string(step_number) + " of " +
                            std::to_string(step_count);
        std::vector<element> events;
        std::vector<std::string> lines;
        std::optional<element> send = Member(step, "send");
        ASSERT_TRUE(send && send->is_array()) << where << ": no \"send\" array";
        for (element event : send->get_array()) {
            events.push_back(event);
            lines.push_back(simdjson::minify(event));
        }
        std::string_view mode = StringMember(step, "write").value_or("");
        std::optional<element> expect = Member(step, "expect");
        ASSERT_TRUE(expect && expect->is_object()) << where << ": no \"expect\" object";

        Result<LineClient> client = LineClient::Connect("127.0.0.1", rmsd_->ingest_port());
        ASSERT_TRUE(client.ok()) << where << ": " << client.status().message() << "\n"
                                 << rmsd_->LogTail();
        Result<std::vector<std::string>> answers = SendStep(client.value(), lines, mode);
        if (!answers.ok() && answers.status().code() == "not_run") {
            GTEST_SKIP() << "not run: " << where << ": " << answers.status().message();
        }
        ASSERT_TRUE(answers.ok()) << where << ": " << answers.status().message() << "\n"
                                  << rmsd_->LogTail();

        std::string pending;
        for (size_t k = 0; k < answers->size(); ++k) {
            if (ErrorCode((*answers)[k]) == "unsupported_type") {
                pending += " " + std::string(StringMember(events[k], "id").value_or("?")) + " (" +
                           std::string(StringMember(events[k], "type").value_or("?")) + ")";
            }
        }
        if (!pending.empty()) {
            GTEST_SKIP() << "pending: " << where << ": unsupported_type for" << pending;
        }

        Diff diff;
        CheckAnswers(*expect, events, *answers, &diff);
        CheckQueries(*expect, tolerance, &diff);
        if (!diff.empty()) {
            FAIL() << "scenario " << where << " (" << file.path << ") differs:\n"
                   << diff.Report() << "later steps not run";
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioTest, testing::ValuesIn(ListScenarioFiles()), TestName);

}  // namespace
}  // namespace rms
