// Worked examples of the collections rules inside the ledger: step cadence, catch-up, pauses,
// the worklist's order and segment transitions.
#include <gtest/gtest.h>

#include "engine/ledger.h"
#include "rules/rules_config.h"
#include "tests/support/ledger_driver.h"

namespace rms {
namespace {

using testing::LedgerDriver;

constexpr char kRules[] = R"(
[[strategy]]
name = "std"
  [[strategy.step]]
  name = "soon"
  offset_days = -3
  action = "reminder"
  channel = "email"
  template = "soon"
  [[strategy.step]]
  name = "late"
  offset_days = 7
  action = "reminder"
  channel = "email"
  template = "late"
  [[strategy.step]]
  name = "call"
  offset_days = 21
  action = "call"
  [[strategy.step]]
  name = "hold"
  offset_days = 30
  action = "credit_hold"
  scope = "customer"
  [[strategy.step]]
  name = "broken"
  on = "promise_broken"
  action = "escalation"
)";

class CollectionsTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto rules = rules::ParseRules(kRules, "test.toml");
        ASSERT_TRUE(rules.ok()) << rules.status().message();
        driver_.ledger().SetRules(std::make_shared<rules::RulesConfig>(std::move(rules).value()));
    }
    void Send(const std::string& line) {
        Status s = driver_.Send(line);
        ASSERT_TRUE(s.ok()) << line << "\n" << s.code() << ": " << s.message();
    }
    void Clock(const std::string& date) {
        Send(R"({"id":"clock-)" + date + R"(","type":"clock.advanced","date":")" + date + "\"}");
    }
    void Customer(const std::string& id, const std::string& extra = "") {
        Send(R"({"id":"c-)" + id + R"(","type":"customer.upserted","date":"2024-01-01",)" +
             R"("customer":")" + id + "\"" + extra + "}");
    }
    void Invoice(const std::string& id, const std::string& customer, const std::string& amount,
                 const std::string& date, const std::string& due) {
        Send(R"({"id":"i-)" + id + R"(","type":"invoice.issued","date":")" + date +
             R"(","invoice":")" + id + R"(","customer":")" + customer + R"(","amount":")" + amount +
             R"(","currency":"USD","due":")" + due + "\"}");
    }
    // "step@created" for every action, in decision order.
    std::vector<std::string> Actions() {
        std::vector<std::string> out;
        for (const ActionRec& a : driver_.ledger().actions()) {
            out.push_back(a.step + (a.invoice.empty() ? "" : ":" + a.invoice) + "@" +
                          a.created.ToString());
        }
        return out;
    }

    LedgerDriver driver_;
};

TEST_F(CollectionsTest, StepsFireOnTheirDaysOnceEach) {
    Customer("C1");
    Invoice("A", "C1", "100.00", "2024-01-01", "2024-02-01");
    Clock("2024-01-28");
    EXPECT_TRUE(Actions().empty());
    Clock("2024-01-29");  // due - 3
    Clock("2024-01-29");
    Clock("2024-02-08");  // due + 7
    Clock("2024-02-22");  // due + 21
    EXPECT_EQ(Actions(), (std::vector<std::string>{"soon:A@2024-01-29", "late:A@2024-02-08",
                                                   "call:A@2024-02-22"}));
    const ActionRec& first = driver_.ledger().actions()[0];
    EXPECT_EQ(first.key, "std/soon/invoice/A");
    EXPECT_EQ(first.step_date.ToString(), "2024-01-29");
    EXPECT_EQ(first.caused_by, "clock-2024-01-29");
    EXPECT_EQ(first.channel, "email");
    EXPECT_EQ(first.template_name, "soon");
}

TEST_F(CollectionsTest, ClockJumpCatchesUpEveryStepOnItsOwnDay) {
    Customer("C1");
    Invoice("A", "C1", "100.00", "2024-01-01", "2024-02-01");
    Clock("2024-03-15");  // one event jumps over every step's day
    EXPECT_EQ(Actions(), (std::vector<std::string>{"soon:A@2024-01-29", "late:A@2024-02-08",
                                                   "call:A@2024-02-22", "hold@2024-03-02"}));
    for (const ActionRec& a : driver_.ledger().actions()) {
        EXPECT_EQ(a.caused_by, "clock-2024-03-15");
    }
}

TEST_F(CollectionsTest, PaymentStopsTheCadence) {
    Customer("C1");
    Invoice("A", "C1", "100.00", "2024-01-01", "2024-02-01");
    Send(R"({"id":"p","type":"payment.received","date":"2024-02-05","payment":"P",
        "customer":"C1","amount":"100.00","currency":"USD"})");
    Clock("2024-04-01");
    EXPECT_EQ(Actions(), (std::vector<std::string>{"soon:A@2024-01-29"}));
}

TEST_F(CollectionsTest, OpenPromiseHoldsStepsAndABrokenOneResumesAtTheRightStep) {
    Customer("C1");
    Invoice("A", "C1", "100.00", "2024-01-01", "2024-02-01");
    Clock("2024-02-03");  // "soon" fired on 01-29
    Send(R"({"id":"pr","type":"promise.made","date":"2024-02-03","promise":"PR","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-02-25"})");
    // While the promise is open, "late" (02-08) and "call" (02-22) come due but wait.
    Clock("2024-02-25");
    EXPECT_EQ(Actions(), (std::vector<std::string>{"soon:A@2024-01-29"}));
    // It breaks on 02-26: the cadence resumes with the step due now ("call"); "late" is
    // skipped, and the promise step escalates.
    Clock("2024-02-27");
    std::vector<std::string> actions = Actions();
    EXPECT_EQ(actions, (std::vector<std::string>{"soon:A@2024-01-29", "broken@2024-02-26",
                                                 "call:A@2024-02-26"}));
    EXPECT_EQ(driver_.ledger().actions()[1].key, "std/broken/promise/PR");
    EXPECT_EQ(driver_.ledger().FindPromise("PR")->status, PromiseStatus::kBroken);
    // The breach is recorded with the event that moved the date past the deadline.
    EXPECT_EQ(driver_.ledger().FindPromise("PR")->status_event, "clock-2024-02-27");
    EXPECT_EQ(driver_.ledger().FindPromise("PR")->status_date.ToString(), "2024-02-26");
}

// Promises of several customers breaking at one day close: each customer escalates its own
// (found among all that broke that day), customers in ascending order, a customer's promises in
// the order they broke, whatever order the promises were made in.
TEST_F(CollectionsTest, PromisesBrokenTogetherEscalateEachForItsOwnCustomer) {
    for (std::string c : {"C1", "C2", "C3"}) {
        Customer(c);
        Invoice("A" + c, c, "100.00", "2024-01-01", "2024-03-01");
    }
    // Made in the order C3, C2, C1, C2: all due 02-10, so all break on 02-11.
    int n = 0;
    for (std::string c : {"C3", "C2", "C1", "C2"}) {
        std::string id = "P" + std::to_string(++n) + c;
        Send(R"({"id":"pm-)" + id + R"(","type":"promise.made","date":"2024-02-01","promise":")" +
             id + R"(","customer":")" + c +
             R"(","amount":"10.00","currency":"USD","due":"2024-02-10"})");
    }
    Clock("2024-02-12");
    std::vector<std::string> keys;
    for (const ActionRec& a : driver_.ledger().actions()) {
        if (a.step == "broken") {
            keys.push_back(driver_.ledger().customers()[a.customer].id + " " + a.key);
        }
    }
    EXPECT_EQ(keys, (std::vector<std::string>{
                        "C1 std/broken/promise/P3C1", "C2 std/broken/promise/P2C2",
                        "C2 std/broken/promise/P4C2", "C3 std/broken/promise/P1C3"}));
}

TEST_F(CollectionsTest, DisputeHoldsOnlyThatInvoice) {
    Customer("C1");
    Invoice("A", "C1", "100.00", "2024-01-01", "2024-02-01");
    Invoice("B", "C1", "100.00", "2024-01-01", "2024-02-01");
    Send(R"({"id":"d","type":"dispute.opened","date":"2024-01-02","invoice":"A"})");
    Clock("2024-02-10");
    EXPECT_EQ(Actions(), (std::vector<std::string>{"soon:B@2024-01-29", "late:B@2024-02-08"}));
    Send(R"({"id":"r","type":"dispute.resolved","date":"2024-02-12","invoice":"A"})");
    // Resolved on 02-12: A resumes at the step due now, "late", once.
    EXPECT_EQ(Actions().back(), "late:A@2024-02-12");
    EXPECT_EQ(Actions().size(), 3u);
}

TEST_F(CollectionsTest, WorklistOrdersByScoreAndFollowsTheClock) {
    Customer("A", R"(,"owner":"ann")");
    Customer("B", R"(,"owner":"bob")");
    Customer("C", R"(,"risk":"high","owner":"ann")");
    Customer("D");  // nothing overdue: not listed
    Invoice("a", "A", "1000.00", "2024-01-01", "2024-01-21");
    Invoice("b", "B", "100000.00", "2024-01-01", "2024-02-25");
    Invoice("c", "C", "1000.00", "2024-01-01", "2024-02-18");
    Invoice("d", "D", "500.00", "2024-01-01", "2024-06-01");
    Clock("2024-03-01");
    // Default weights: 10 x log10(1 + overdue) + 1 x days + 15 x risk level.
    // A: 10 log10(1001) + 40 = 70.004; B: 10 log10(100001) + 5 = 55.000;
    // C: 10 log10(1001) + 12 + 30 = 72.004.
    auto list = driver_.ledger().Worklist(10, "", "");
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(driver_.ledger().customers()[list[0].customer].id, "C");
    EXPECT_EQ(driver_.ledger().customers()[list[1].customer].id, "A");
    EXPECT_EQ(driver_.ledger().customers()[list[2].customer].id, "B");
    EXPECT_NEAR(list[0].score, 72.0043, 1e-3);
    EXPECT_NEAR(list[1].score, 70.0043, 1e-3);
    EXPECT_NEAR(list[2].score, 55.0000, 1e-3);
    EXPECT_EQ(list[0].breakdown.risk, 30.0);
    auto anns = driver_.ledger().Worklist(10, "ann", "");
    ASSERT_EQ(anns.size(), 2u);
    EXPECT_EQ(driver_.ledger().customers()[anns[1].customer].id, "A");
    // Ten days later every score has gained ten: same order, no re-sort needed.
    Clock("2024-03-11");
    list = driver_.ledger().Worklist(1, "", "");
    EXPECT_NEAR(list[0].score, 82.0043, 1e-3);
}

TEST_F(CollectionsTest, SegmentsChangeWithBehaviourAndRecordTheirReason) {
    Customer("C1");
    // Three invoices paid on time: "new" becomes "prompt".
    for (int i = 1; i <= 3; ++i) {
        std::string n = std::to_string(i);
        Invoice("I" + n, "C1", "100.00", "2024-01-0" + n, "2024-02-0" + n);
        Send(R"({"id":"p)" + n + R"(","type":"payment.received","date":"2024-01-2)" + n +
             R"(","payment":"P)" + n + R"(","customer":"C1","amount":"100.00","currency":"USD"})");
    }
    EXPECT_EQ(driver_.ledger().FindCustomer("C1")->segment, "prompt");
    // A large invoice paid 60 days late pulls the weighted average to 60 x 600 / 900 = 40.
    Invoice("I4", "C1", "600.00", "2024-02-01", "2024-03-01");
    Send(R"({"id":"p4","type":"payment.received","date":"2024-04-30","payment":"P4",
        "customer":"C1","amount":"600.00","currency":"USD"})");
    EXPECT_EQ(driver_.ledger().FindCustomer("C1")->segment, "chronic_late");
    const auto& changes = driver_.ledger().segment_changes();
    ASSERT_EQ(changes.size(), 3u);  // "" -> new -> prompt -> chronic_late
    EXPECT_EQ(changes[1].to, "prompt");
    EXPECT_EQ(changes[2].from, "prompt");
    EXPECT_EQ(changes[2].to, "chronic_late");
    EXPECT_EQ(changes[2].reason, "paid on average 40.0 days late");
    EXPECT_EQ(changes[2].caused_by, "p4");
    // Reversing the late payment re-opens the invoice and takes its lateness back out.
    Send(R"({"id":"r4","type":"payment.reversed","date":"2024-05-01","payment":"P4"})");
    EXPECT_EQ(driver_.ledger().FindCustomer("C1")->segment, "prompt");
}

TEST_F(CollectionsTest, CustomerStepsReArmOnlyAfterNothingIsOverdue) {
    Customer("C1");
    Invoice("A", "C1", "100.00", "2024-01-01", "2024-02-01");
    Clock("2024-03-05");  // hold at due + 30 = 03-02
    Send(R"({"id":"p","type":"payment.received","date":"2024-03-06","payment":"P",
        "customer":"C1","amount":"100.00","currency":"USD"})");
    Invoice("B", "C1", "100.00", "2024-03-06", "2024-04-01");
    Clock("2024-05-10");
    size_t holds = 0;
    for (const ActionRec& a : driver_.ledger().actions()) {
        holds += a.step == "hold" ? 1 : 0;
    }
    EXPECT_EQ(holds, 2u);
    EXPECT_EQ(driver_.ledger().actions().back().key.substr(0, 25), "std/hold/customer/C1/1");
}

}  // namespace
}  // namespace rms

namespace rms {
namespace {

TEST_F(CollectionsTest, AReloadedStrategyKeepsItsPlaceInTheCadence) {
    Customer("C1");
    Invoice("A", "C1", "100.00", "2024-01-01", "2024-02-01");
    Clock("2024-02-09");  // "soon" and "late" fired
    // The same strategy reloaded without its first two steps and with a new one at 10 days.
    auto rules = rules::ParseRules(R"(
[[strategy]]
name = "std"
  [[strategy.step]]
  name = "ten"
  offset_days = 10
  action = "call"
)",
                                   "reload.toml");
    ASSERT_TRUE(rules.ok()) << rules.status().message();
    driver_.ledger().SetRules(std::make_shared<rules::RulesConfig>(std::move(rules).value()));
    Clock("2024-02-12");
    EXPECT_EQ(Actions(), (std::vector<std::string>{"soon:A@2024-01-29", "late:A@2024-02-08",
                                                   "ten:A@2024-02-11"}));
}

TEST_F(CollectionsTest, ADisputeDoesNotEndTheCustomerEpisode) {
    Customer("C1");
    Invoice("A", "C1", "100.00", "2024-01-01", "2024-02-01");
    Clock("2024-03-05");  // hold fired on 03-02
    Send(R"({"id":"d","type":"dispute.opened","date":"2024-03-06","invoice":"A"})");
    Send(R"({"id":"r","type":"dispute.resolved","date":"2024-03-10","invoice":"A"})");
    Clock("2024-04-01");
    size_t holds = 0;
    for (const ActionRec& a : driver_.ledger().actions()) {
        holds += a.step == "hold" ? 1 : 0;
    }
    EXPECT_EQ(holds, 1u);
}

TEST_F(CollectionsTest, BackDatedPaymentsCountByTheirOwnDate) {
    Customer("C1");
    for (int i = 1; i <= 3; ++i) {
        std::string n = std::to_string(i);
        Invoice("I" + n, "C1", "100.00", "2024-01-01", "2024-03-15");
    }
    Clock("2024-04-01");
    for (int i = 1; i <= 3; ++i) {
        std::string n = std::to_string(i);
        Send(R"({"id":"p)" + n + R"(","type":"payment.received","date":"2024-03-10",)" +
             R"("payment":"P)" + n + R"(","customer":"C1","amount":"100.00","currency":"USD"})");
    }
    EXPECT_EQ(driver_.ledger().StatsOf(0).paid_on_time, 3);
    EXPECT_EQ(driver_.ledger().FindCustomer("C1")->segment, "prompt");
}

}  // namespace
}  // namespace rms
