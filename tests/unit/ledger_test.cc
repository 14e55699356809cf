// Hand-computed cases for each allocation rule of the ledger.
#include "engine/ledger.h"

#include <gtest/gtest.h>

#include "tests/support/ledger_driver.h"

namespace rms {
namespace {

using testing::LedgerDriver;

class LedgerTest : public ::testing::Test {
protected:
    void Send(const std::string& line) {
        Status s = driver_.Send(line);
        ASSERT_TRUE(s.ok()) << line << "\n" << s.code() << ": " << s.message();
    }
    std::string Reject(const std::string& line) {
        Status s = driver_.Send(line);
        EXPECT_FALSE(s.ok()) << line;
        return s.code();
    }
    const InvoiceRec& Invoice(const std::string& id) {
        const InvoiceRec* inv = driver_.ledger().FindInvoice(id);
        EXPECT_NE(inv, nullptr) << id;
        return *inv;
    }
    Figures Usd() { return driver_.ledger().CurrencyFiguresNow(Currency::FromCode("USD").value()); }
    Figures CustomerUsd(const std::string& id) {
        auto figures = driver_.ledger().CustomerFigures(*driver_.ledger().FindCustomer(id));
        return figures[Currency::FromCode("USD").value()];
    }
    void Customer(const std::string& id, const std::string& date = "2024-01-01") {
        Send(R"({"id":"c-)" + id + R"(","type":"customer.upserted","date":")" + date +
             R"(","customer":")" + id + R"("})");
    }

    LedgerDriver driver_;
};

TEST_F(LedgerTest, InstallmentsAgeByTheirOwnDueDates) {
    Customer("C1");
    Send(R"({"id":"e1","type":"invoice.issued","date":"2024-01-01","invoice":"I1","customer":"C1",
        "amount":"300.00","currency":"USD","installments":[{"due":"2024-03-01","amount":"100.00"},
        {"due":"2024-01-31","amount":"100.00"},{"due":"2024-02-29","amount":"100.00"}]})");
    Send(R"({"id":"e2","type":"clock.advanced","date":"2024-03-15"})");
    // Due 01-31: 44 days late; due 02-29: 15 days late; due 03-01: 14 days late.
    Figures f = Usd();
    EXPECT_EQ(f.aging[1], 20000);
    EXPECT_EQ(f.aging[2], 10000);
    EXPECT_EQ(f.open, 30000);
    EXPECT_EQ(Invoice("I1").installments[0].due.ToString(), "2024-01-31");
}

TEST_F(LedgerTest, PaymentWithoutAllocationsPaysOldestDueFirstThenLeavesCredit) {
    Customer("C1");
    Send(R"({"id":"e1","type":"invoice.issued","date":"2024-01-01","invoice":"NEW","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-03-01"})");
    Send(R"({"id":"e2","type":"invoice.issued","date":"2024-01-02","invoice":"OLD","customer":"C1",
        "amount":"50.00","currency":"USD","due":"2024-02-01"})");
    Send(R"({"id":"e3","type":"payment.received","date":"2024-01-10","payment":"P1",
        "customer":"C1","amount":"170.00","currency":"USD"})");
    // OLD (due first) 50.00, then NEW 100.00, 20.00 left as unapplied credit.
    EXPECT_EQ(Invoice("OLD").open(), 0);
    EXPECT_EQ(Invoice("NEW").open(), 0);
    EXPECT_EQ(CustomerUsd("C1").unapplied, 2000);
    EXPECT_EQ(Usd().unapplied, 2000);
    EXPECT_EQ(Invoice("OLD").status(), "paid");
}

TEST_F(LedgerTest, ExplicitAllocationsGoFirstAndTheRestSkipsDisputedItems) {
    Customer("C1");
    Send(R"({"id":"e1","type":"invoice.issued","date":"2024-01-01","invoice":"A","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-01-15"})");
    Send(R"({"id":"e2","type":"invoice.issued","date":"2024-01-01","invoice":"B","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-01-20"})");
    Send(R"({"id":"e3","type":"invoice.issued","date":"2024-01-01","invoice":"C","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-01-25"})");
    Send(R"({"id":"e4","type":"dispute.opened","date":"2024-01-02","invoice":"A"})");
    Send(R"({"id":"e5","type":"payment.received","date":"2024-01-05","payment":"P1",
        "customer":"C1","amount":"150.00","currency":"USD",
        "allocations":[{"invoice":"C","amount":"40.00"}]})");
    // C takes 40.00 first; the 110.00 left skips disputed A and goes to B (100.00), then C.
    EXPECT_EQ(Invoice("A").open(), 10000);
    EXPECT_EQ(Invoice("B").open(), 0);
    EXPECT_EQ(Invoice("C").open(), 5000);
    EXPECT_EQ(Usd().disputed, 10000);
}

TEST_F(LedgerTest, AllocationAboveWhatIsOpenIsRejectedAndChangesNothing) {
    Customer("C1");
    Send(R"({"id":"e1","type":"invoice.issued","date":"2024-01-01","invoice":"A","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-01-15"})");
    EXPECT_EQ(Reject(R"({"id":"e2","type":"payment.received","date":"2024-02-01","payment":"P1",
        "customer":"C1","amount":"150.00","currency":"USD",
        "allocations":[{"invoice":"A","amount":"60.00"},{"invoice":"A","amount":"60.00"}]})"),
              "invalid_amount");
    EXPECT_EQ(Invoice("A").open(), 10000);
    // The rejected event did not move the business date either.
    EXPECT_EQ(driver_.ledger().business_date()->ToString(), "2024-01-01");
}

TEST_F(LedgerTest, CreditAppliedUsesTheOldestLotAndReversalReopensWhatItFunded) {
    Customer("C1");
    Send(R"({"id":"e1","type":"payment.received","date":"2024-01-01","payment":"P1",
        "customer":"C1","amount":"30.00","currency":"USD"})");
    Send(R"({"id":"e2","type":"credit_note.issued","date":"2024-01-02","credit_note":"N1",
        "customer":"C1","amount":"50.00","currency":"USD"})");
    Send(R"({"id":"e3","type":"invoice.issued","date":"2024-01-03","invoice":"A","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-02-01"})");
    // Unapplied credit stays unapplied until an explicit credit.applied.
    EXPECT_EQ(Invoice("A").open(), 10000);
    EXPECT_EQ(CustomerUsd("C1").unapplied, 8000);
    Send(R"({"id":"e4","type":"credit.applied","date":"2024-01-04","customer":"C1","invoice":"A",
        "amount":"40.00","currency":"USD"})");
    // Oldest lot first: all 30.00 of P1, then 10.00 of N1.
    EXPECT_EQ(Invoice("A").open(), 6000);
    EXPECT_EQ(CustomerUsd("C1").unapplied, 4000);
    Send(R"({"id":"e5","type":"payment.reversed","date":"2024-01-05","payment":"P1"})");
    // The reversal gives back the 30.00 that P1's credit paid on A.
    EXPECT_EQ(Invoice("A").open(), 9000);
    EXPECT_EQ(CustomerUsd("C1").unapplied, 4000);
    EXPECT_EQ(Reject(R"({"id":"e6","type":"payment.reversed","date":"2024-01-05",
        "payment":"P1"})"),
              "already_reversed");
}

TEST_F(LedgerTest, CreditNoteAgainstAnInvoiceTakesTheOldestInstallment) {
    Customer("C1");
    Send(R"({"id":"e1","type":"invoice.issued","date":"2024-01-01","invoice":"A","customer":"C1",
        "amount":"100.00","currency":"USD","installments":[{"due":"2024-02-01","amount":"60.00"},
        {"due":"2024-03-01","amount":"40.00"}]})");
    Send(R"({"id":"e2","type":"credit_note.issued","date":"2024-01-05","credit_note":"N1",
        "customer":"C1","invoice":"A","amount":"70.00","currency":"USD"})");
    EXPECT_EQ(Invoice("A").installments[0].open, 0);
    EXPECT_EQ(Invoice("A").installments[1].open, 3000);
    EXPECT_EQ(Reject(R"({"id":"e3","type":"credit_note.issued","date":"2024-01-05",
        "credit_note":"N2","customer":"C1","invoice":"A","amount":"30.01","currency":"USD"})"),
              "invalid_amount");
}

TEST_F(LedgerTest, WriteOffClosesWithItsOwnStatusAndCountsInTheTotal) {
    Customer("C1");
    Send(R"({"id":"e1","type":"invoice.issued","date":"2024-01-01","invoice":"A","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-02-01"})");
    Send(R"({"id":"e2","type":"invoice.written_off","date":"2024-06-01","invoice":"A",
        "amount":"25.5"})");
    EXPECT_EQ(Invoice("A").open(), 7450);
    EXPECT_EQ(Invoice("A").status(), "open");
    Send(R"({"id":"e3","type":"invoice.written_off","date":"2024-06-02","invoice":"A"})");
    EXPECT_EQ(Invoice("A").open(), 0);
    EXPECT_EQ(Invoice("A").status(), "written_off");
    EXPECT_EQ(Usd().written_off, 10000);
    EXPECT_EQ(Reject(R"({"id":"e4","type":"invoice.written_off","date":"2024-06-02",
        "invoice":"A"})"),
              "invalid_amount");
}

TEST_F(LedgerTest, BackDatedInvoiceAgesFromItsOwnDueDateAndCountsOnItsOwnDay) {
    Customer("C1");
    Send(R"({"id":"e1","type":"clock.advanced","date":"2024-05-01"})");
    Send(R"({"id":"e2","type":"invoice.issued","date":"2024-01-10","invoice":"A","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-02-09"})");
    // 2024-05-01 - 2024-02-09 = 82 days: the 61-90 bucket. Issued 112 days ago: outside the
    // 90-day window, so no sales.
    EXPECT_EQ(Usd().aging[3], 10000);
    EXPECT_EQ(Usd().sales_window, 0);
}

TEST_F(LedgerTest, ClosedDaysKeepTheStateBeforeTheEventThatMovedTheDate) {
    Customer("C1");
    Send(R"({"id":"e1","type":"invoice.issued","date":"2024-01-01","invoice":"A","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-01-02"})");
    Send(R"({"id":"e2","type":"payment.received","date":"2024-01-04","payment":"P1",
        "customer":"C1","amount":"100.00","currency":"USD"})");
    const auto& history = driver_.ledger().history();
    ASSERT_EQ(history.size(), 3u);  // 01-01, 01-02, 01-03
    Currency usd = Currency::FromCode("USD").value();
    EXPECT_EQ(history.begin()->second.currencies.at(usd).aging[0], 10000);
    // On 01-03 the invoice is 1 day past due and still open: the payment came after.
    EXPECT_EQ(history.rbegin()->second.currencies.at(usd).aging[1], 10000);
    EXPECT_EQ(Usd().open, 0);
}

TEST_F(LedgerTest, PromiseIsKeptByPaymentsInItsWindowAndReopenedByAReversal) {
    Customer("C1");
    Send(R"({"id":"e1","type":"invoice.issued","date":"2024-01-01","invoice":"A","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-01-31"})");
    Send(R"({"id":"e2","type":"promise.made","date":"2024-02-01","promise":"PR","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-02-10"})");
    Send(R"({"id":"e3","type":"payment.received","date":"2024-02-05","payment":"P1",
        "customer":"C1","amount":"60.00","currency":"USD"})");
    EXPECT_EQ(driver_.ledger().FindPromise("PR")->status, PromiseStatus::kOpen);
    Send(R"({"id":"e4","type":"payment.received","date":"2024-02-06","payment":"P2",
        "customer":"C1","amount":"40.00","currency":"USD"})");
    EXPECT_EQ(driver_.ledger().FindPromise("PR")->status, PromiseStatus::kKept);
    Send(R"({"id":"e5","type":"payment.reversed","date":"2024-02-07","payment":"P2"})");
    EXPECT_EQ(driver_.ledger().FindPromise("PR")->status, PromiseStatus::kOpen);
    Send(R"({"id":"e6","type":"clock.advanced","date":"2024-02-11"})");
    EXPECT_EQ(driver_.ledger().FindPromise("PR")->status, PromiseStatus::kBroken);
    EXPECT_EQ(Reject(R"({"id":"e7","type":"promise.cancelled","date":"2024-02-11",
        "promise":"PR"})"),
              "invalid_state");
}

TEST_F(LedgerTest, StateErrorsNameTheRightCode) {
    Customer("C1");
    Customer("C2");
    Send(R"({"id":"e1","type":"invoice.issued","date":"2024-01-01","invoice":"A","customer":"C1",
        "amount":"100.00","currency":"USD","due":"2024-01-31"})");
    EXPECT_EQ(Reject(R"({"id":"x1","type":"invoice.issued","date":"2024-01-01","invoice":"B",
        "customer":"NOPE","amount":"1.00","currency":"USD","due":"2024-01-31"})"),
              "unknown_customer");
    EXPECT_EQ(Reject(R"({"id":"x2","type":"invoice.issued","date":"2024-01-01","invoice":"A",
        "customer":"C1","amount":"1.00","currency":"USD","due":"2024-01-31"})"),
              "already_exists");
    EXPECT_EQ(Reject(R"({"id":"x3","type":"payment.received","date":"2024-01-01","payment":"P",
        "customer":"C2","amount":"1.00","currency":"USD",
        "allocations":[{"invoice":"A","amount":"1.00"}]})"),
              "customer_mismatch");
    EXPECT_EQ(Reject(R"({"id":"x4","type":"payment.received","date":"2024-01-01","payment":"P",
        "customer":"C1","amount":"1.00","currency":"EUR",
        "allocations":[{"invoice":"A","amount":"1.00"}]})"),
              "currency_mismatch");
    EXPECT_EQ(Reject(R"({"id":"x5","type":"dispute.resolved","date":"2024-01-01",
        "invoice":"A"})"),
              "invalid_state");
    EXPECT_EQ(Reject(R"({"id":"x6","type":"dispute.opened","date":"2024-01-01",
        "invoice":"A","customer":"C2"})"),
              "customer_mismatch");
    EXPECT_EQ(Reject(R"({"id":"x7","type":"clock.advanced","date":"2035-01-01"})"), "invalid_date");
}

}  // namespace
}  // namespace rms

namespace rms {
namespace {

TEST(LedgerLimitsTest, RunningTotalsThatWouldOverflowAreRejected) {
    testing::LedgerDriver driver;
    ASSERT_TRUE(
        driver.Send(R"({"id":"c","type":"customer.upserted","date":"2024-01-01","customer":"C"})")
            .ok());
    // 4e18 minor units fit; another 1e18 would pass INT64_MAX / 2 (about 4.61e18).
    ASSERT_TRUE(driver
                    .Send(R"({"id":"a","type":"invoice.issued","date":"2024-01-01","invoice":"A",)"
                          R"("customer":"C","amount":"40000000000000000.00","currency":"USD",)"
                          R"("due":"2024-01-31"})")
                    .ok());
    Status s = driver.Send(R"({"id":"b","type":"invoice.issued","date":"2024-01-01",)"
                           R"("invoice":"B","customer":"C","amount":"10000000000000000.00",)"
                           R"("currency":"USD","due":"2024-01-31"})");
    EXPECT_EQ(s.code(), "invalid_amount");
    Figures f = driver.ledger().CurrencyFiguresNow(Currency::FromCode("USD").value());
    EXPECT_EQ(f.open, 4000000000000000000);
    EXPECT_EQ(f.aging[0], 4000000000000000000);
    Status p = driver.Send(R"({"id":"p","type":"payment.received","date":"2024-01-01",)"
                           R"("payment":"P","customer":"C","amount":"92233720368547758.07",)"
                           R"("currency":"USD"})");
    EXPECT_EQ(p.code(), "invalid_amount");
    EXPECT_EQ(driver.ledger().CurrencyFiguresNow(Currency::FromCode("USD").value()).unapplied, 0);
}

}  // namespace
}  // namespace rms
