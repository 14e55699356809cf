// The collections rules: strategies (what to do next, and when), the priority score, and the
// segment rules. Loaded from a TOML file; every error names its line.
//
// Nothing here knows the ledger: the engine describes a customer with CustomerFacts and asks
// which strategy matches, what its score is and which segment it falls in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace rms::rules {

enum class ActionKind : uint8_t { kReminder, kCall, kEscalation, kCreditHold };
std::string_view ActionKindName(ActionKind k);

// What a step reacts to.
enum class StepTrigger : uint8_t {
    kDueOffset,      // the business date reaches the item's due date + offset_days
    kPromiseBroken,  // one of the customer's promises breaks
};

enum class StepScope : uint8_t { kInvoice, kCustomer };

struct Step {
    std::string name;
    StepTrigger trigger = StepTrigger::kDueOffset;
    StepScope scope = StepScope::kInvoice;
    int32_t offset_days = 0;
    ActionKind action = ActionKind::kReminder;
    std::string channel;  // reminders: email, phone, whatsapp, sms, letter, portal, other
    std::string template_name;
};

enum class DisputeFilter : uint8_t { kAny, kNone, kSome };
enum class PromiseFilter : uint8_t { kAny, kNone, kOpen, kBroken };

struct Strategy {
    std::string name;
    std::vector<std::string> kinds;                   // empty: any
    std::vector<std::string> risks;                   // empty: any
    std::vector<std::string> segments;                // empty: any
    std::optional<int64_t> min_open, max_open;        // major units, summed over currencies
    std::optional<int64_t> min_overdue, max_overdue;  // major units, summed over currencies
    std::optional<int32_t> min_days_past_due, max_days_past_due;
    DisputeFilter disputes = DisputeFilter::kAny;
    PromiseFilter promises = PromiseFilter::kAny;
    std::vector<Step> steps;  // due-offset steps sorted by offset
};

// The priority score: higher is chased first. See docs/rules.md for the formula.
struct ScoreWeights {
    double overdue = 10.0;         // per decade of overdue major units: w * log10(1 + overdue)
    double days = 1.0;             // per day the oldest overdue item is past due
    double risk = 15.0;            // low 0, medium 1, high 2 (unknown 0)
    double broken_promise = 20.0;  // per broken promise
    double dispute = -5.0;         // per open dispute
    double credit_limit = 25.0;    // per whole limit exceeded: w * max(0, open - limit) / limit
};

struct SegmentRules {
    int new_below_paid = 3;              // fewer paid invoices than this: "new"
    int disputing_min_180d = 2;          // disputes opened in the last 180 days
    int promise_breaker_min_broken = 2;  // and more broken than kept
    int chronic_late_min_days = 30;      // amount-weighted average days late
    int slow_min_days = 10;
    int slow_max_on_time_percent = 50;  // or an on-time share below this
};

inline constexpr std::string_view kSegments[] = {"new",          "prompt",    "slow",
                                                 "chronic_late", "disputing", "promise_breaker"};

struct RulesConfig {
    std::vector<Strategy> strategies;  // ordered: the first match wins
    ScoreWeights score;
    SegmentRules segments;
};

// What the engine knows about a customer when it asks the rules.
struct CustomerFacts {
    std::string_view kind;
    std::string_view risk;
    std::string_view segment;
    int64_t open_major = 0;
    int64_t overdue_major = 0;
    double overdue_exact_major = 0;  // for the score's logarithm
    int32_t days_past_due = 0;       // of the oldest overdue item; 0 when nothing is overdue
    int open_disputes = 0;
    bool has_open_promise = false;
    bool last_promise_broken = false;
    int broken_promises = 0;
    std::optional<double> credit_limit_major;
    double open_exact_major = 0;
};

// Parses rules from TOML text; `origin` names the file in messages.
Result<RulesConfig> ParseRules(std::string_view toml_text, std::string_view origin);
Result<RulesConfig> LoadRulesFile(const std::string& path);
// The rules used when no file is given: one default strategy, default score and segments.
RulesConfig DefaultRules();

// The first strategy matching `facts`, or nullptr.
const Strategy* MatchStrategy(const RulesConfig& rules, const CustomerFacts& facts);

// The score's parts; the total is their sum.
struct ScoreBreakdown {
    double overdue = 0, days = 0, risk = 0, broken_promises = 0, disputes = 0, credit_limit = 0;
    double Total() const {
        return overdue + days + risk + broken_promises + disputes + credit_limit;
    }
};
ScoreBreakdown Score(const ScoreWeights& w, const CustomerFacts& facts);

// Behaviour statistics of one customer.
struct BehaviourStats {
    int paid_invoices = 0;
    int paid_on_time = 0;
    // Weights in ten-thousandths of a major unit, so that currencies with other exponents add up
    // exactly (no exchange rates: a weight, not money).
    int64_t paid_weight = 0;
    __int128 paid_weight_days_late = 0;  // sum of weight x days late (0 when paid on time)
    int disputes_180d = 0;
    int promises_kept = 0;
    int promises_broken = 0;
};

struct SegmentDecision {
    std::string_view segment;
    std::string reason;
};
SegmentDecision Classify(const SegmentRules& rules, const BehaviourStats& stats);

}  // namespace rms::rules
