#include "rules/rules_config.h"

#include <gtest/gtest.h>

namespace rms::rules {
namespace {

constexpr char kExample[] = R"(
[score]
overdue_weight = 5.0
days_weight = 2.0

[segments]
slow_min_days = 7

[[strategy]]
name = "high risk"
risks = ["high"]
min_overdue = 1000

  [[strategy.step]]
  name = "call now"
  offset_days = 1
  action = "call"

  [[strategy.step]]
  name = "hold"
  offset_days = 30
  action = "credit_hold"
  scope = "customer"

[[strategy]]
name = "everyone"

  [[strategy.step]]
  name = "late"
  offset_days = 10
  action = "reminder"
  channel = "email"
  template = "late"

  [[strategy.step]]
  name = "early"
  offset_days = -5
  action = "reminder"
  channel = "sms"
  template = "soon"

  [[strategy.step]]
  name = "after a broken promise"
  on = "promise_broken"
  action = "escalation"
)";

TEST(RulesConfigTest, ParsesStrategiesStepsScoreAndSegments) {
    Result<RulesConfig> r = ParseRules(kExample, "example.toml");
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->strategies.size(), 2u);
    EXPECT_EQ(r->score.overdue, 5.0);
    EXPECT_EQ(r->score.days, 2.0);
    EXPECT_EQ(r->score.risk, ScoreWeights().risk);
    EXPECT_EQ(r->segments.slow_min_days, 7);
    const Strategy& s = r->strategies[1];
    // Steps are kept in offset order (a promise step counts as offset 0).
    EXPECT_EQ(s.steps[0].name, "early");
    EXPECT_EQ(s.steps[0].offset_days, -5);
    EXPECT_EQ(s.steps[0].channel, "sms");
    EXPECT_EQ(s.steps[1].trigger, StepTrigger::kPromiseBroken);
    EXPECT_EQ(s.steps[2].name, "late");
    EXPECT_EQ(r->strategies[0].steps[1].scope, StepScope::kCustomer);
    EXPECT_EQ(*r->strategies[0].min_overdue, 1000);
}

TEST(RulesConfigTest, ErrorsNameTheLineAndTheReason) {
    struct Case {
        const char* text;
        const char* expected;
    };
    for (Case c : {
             Case{"[[strategy]]\nname = \"a\"\ncolour = 1\n", "line 3: strategy 1: unknown key"},
             Case{"[[strategy]]\nname = \"a\"\n[[strategy.step]]\nname = \"s\"\noffset_days = 1\n"
                  "action = \"reminder\"\n",
                  "channel is required"},
             Case{"[[strategy]]\nname = \"a\"\n[[strategy.step]]\nname = \"s\"\noffset_days = 1\n"
                  "action = \"fax\"\n",
                  "line 6: strategy 1: step 1: action \"fax\" is not one of"},
             Case{"[[strategy]]\nname = \"a\"\nrisks = [\"extreme\"]\n",
                  "line 3: strategy 1: risks: \"extreme\" is not a known value"},
             Case{"[[strategy]]\nname = \"a\"\n[[strategy]]\nname = \"a\"\n",
                  "two strategies are named \"a\""},
             Case{"[score]\ndays_weight = \"x\"\n", "line 2: [score] days_weight must be a number"},
             Case{"name = \"a\"\nname = \"b\"\n", "line 2"},  // TOML refuses duplicate keys
         }) {
        SCOPED_TRACE(c.text);
        Result<RulesConfig> r = ParseRules(c.text, "rules.toml");
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.status().code(), "invalid_config");
        EXPECT_NE(r.status().message().find(c.expected), std::string::npos) << r.status().message();
    }
}

TEST(RulesConfigTest, FirstMatchingStrategyWins) {
    RulesConfig rules = ParseRules(kExample, "example.toml").value();
    CustomerFacts high;
    high.risk = "high";
    high.overdue_major = 5000;
    EXPECT_EQ(MatchStrategy(rules, high)->name, "high risk");
    high.overdue_major = 999;  // below min_overdue: falls through
    EXPECT_EQ(MatchStrategy(rules, high)->name, "everyone");
    CustomerFacts low;
    low.risk = "low";
    EXPECT_EQ(MatchStrategy(rules, low)->name, "everyone");
}

TEST(RulesConfigTest, ScoreAddsItsWeightedParts) {
    ScoreWeights w;  // defaults: 10, 1, 15, 20, -5, 25
    CustomerFacts f;
    f.overdue_exact_major = 999.0;  // log10(1000) = 3
    f.days_past_due = 12;
    f.risk = "medium";
    f.broken_promises = 2;
    f.open_disputes = 1;
    f.open_exact_major = 1500;
    f.credit_limit_major = 1000;  // exceeded by half the limit
    ScoreBreakdown b = Score(w, f);
    EXPECT_NEAR(b.overdue, 30.0, 1e-9);
    EXPECT_EQ(b.days, 12.0);
    EXPECT_EQ(b.risk, 15.0);
    EXPECT_EQ(b.broken_promises, 40.0);
    EXPECT_EQ(b.disputes, -5.0);
    EXPECT_NEAR(b.credit_limit, 12.5, 1e-9);
    EXPECT_NEAR(b.Total(), 30 + 12 + 15 + 40 - 5 + 12.5, 1e-9);
}

TEST(RulesConfigTest, SegmentsFollowTheirThresholdsInOrder) {
    SegmentRules r;
    BehaviourStats s;
    EXPECT_EQ(Classify(r, s).segment, "new");
    s.paid_invoices = 4;
    s.paid_on_time = 4;
    s.paid_weight = 1000;
    EXPECT_EQ(Classify(r, s).segment, "prompt");
    s.paid_on_time = 1;  // 25% on time
    EXPECT_EQ(Classify(r, s).segment, "slow");
    s.paid_weight_days_late = 1000 * 35;  // 35 days late on average
    EXPECT_EQ(Classify(r, s).segment, "chronic_late");
    EXPECT_EQ(Classify(r, s).reason, "paid on average 35.0 days late");
    s.promises_broken = 2;
    EXPECT_EQ(Classify(r, s).segment, "promise_breaker");
    s.disputes_180d = 2;
    EXPECT_EQ(Classify(r, s).segment, "disputing");
}

}  // namespace
}  // namespace rms::rules

namespace rms::rules {
namespace {

TEST(RulesConfigTest, ReportsEveryErrorNotOnlyTheFirst) {
    Result<RulesConfig> r = ParseRules(
        "[[strategy]]\nname = \"a\"\ncolour = 1\n"
        "[[strategy]]\nname = \"b\"\n[[strategy.step]]\nname = \"s\"\noffset_days = 1\naction = "
        "\"fax\"\n"
        "[score]\ndays_weight = \"x\"\n",
        "rules.toml");
    ASSERT_FALSE(r.ok());
    const std::string& m = r.status().message();
    EXPECT_NE(m.find("line 3: strategy 1: unknown key \"colour\""), std::string::npos) << m;
    EXPECT_NE(m.find("strategy 2: step 1: action \"fax\""), std::string::npos) << m;
    EXPECT_NE(m.find("[score] days_weight must be a number"), std::string::npos) << m;
}

}  // namespace
}  // namespace rms::rules

namespace rms::rules {
namespace {

TEST(RulesConfigTest, TheShippedExampleLoads) {
    Result<RulesConfig> r = LoadRulesFile(RMS_SOURCE_DIR "/rules/examples/strategies.toml");
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->strategies.size(), 3u);
    EXPECT_EQ(r->strategies[0].steps.front().name, "courtesy call");
    EXPECT_EQ(r->strategies[2].name, "standard");
}

}  // namespace
}  // namespace rms::rules

namespace rms::rules {
namespace {

TEST(RulesConfigTest, RefusesWhatCouldBreakTheEngine) {
    for (const char* text : {
             "[score]\noverdue_weight = 1e308\n",
             "[[strategy]]\nname = \"a/b\"\n",
             "[[strategy]]\nname = \"\"\n",
             "[[strategy]]\nname = \"a\"\nmin_open = 10\nmax_open = 5\n",
         }) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(ParseRules(text, "bad.toml").ok());
    }
    EXPECT_FALSE(LoadRulesFile("/tmp").ok());
}

TEST(RulesConfigTest, NoPaidInvoicesClassifyWithoutDividingByZero) {
    SegmentRules r;
    r.new_below_paid = 0;
    BehaviourStats s;
    EXPECT_EQ(Classify(r, s).segment, "prompt");
}

}  // namespace
}  // namespace rms::rules
