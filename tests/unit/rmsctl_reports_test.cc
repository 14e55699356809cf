// rmsctl's reports: KPI tables, the answer summary and the progress bar.
#include <gtest/gtest.h>

#include <string>

#include "tools/answer_tally.h"
#include "tools/kpi_table.h"
#include "tools/progress_bar.h"
#include "tools/text_table.h"

namespace rms {
namespace {

constexpr char kUsdFigures[] =
    R"({"open":"1250.00","overdue":"250.00","disputed":"0.00","unapplied":"5.00",)"
    R"("aging":{"current":"1000.00","1-30":"250.00","31-60":"0.00","61-90":"0.00",)"
    R"("91-120":"0.00","120+":"0.00"},"sales_90d":"4500.00","dso_standard":25,)"
    R"("dso_countback":24.123456,"dso_best_possible":20.0,"add":5.0,"cei":null})";

TEST(TextTableTest, AlignsTheFirstColumnLeftAndTheOthersRight) {
    EXPECT_EQ(RenderTable({{"name", "n"}, {"a", "100"}, {"long name", "7"}}),
              "name         n\n"
              "a          100\n"
              "long name    7\n");
}

TEST(KpiTableTest, ShowsOneRowPerFigureAndOneColumnPerCurrency) {
    std::string json =
        std::string(R"({"business_date":"2024-03-31","currencies":{"USD":)") + kUsdFigures + "}}";
    Result<std::string> table = FormatKpiTable(json);
    ASSERT_TRUE(table.ok()) << table.status().message();
    EXPECT_EQ(*table,
              "business date 2024-03-31\n"
              "figure             USD\n"
              "open           1250.00\n"
              "overdue         250.00\n"
              "disputed          0.00\n"
              "unapplied         5.00\n"
              "current        1000.00\n"
              "1-30            250.00\n"
              "31-60             0.00\n"
              "61-90             0.00\n"
              "91-120            0.00\n"
              "120+              0.00\n"
              "sales_90d      4500.00\n"
              "dso              25.00\n"
              "dso_countback    24.12\n"
              "dso_best         20.00\n"
              "add               5.00\n"
              "cei                  -\n");
}

TEST(KpiTableTest, SaysSoBeforeAnyEvent) {
    Result<std::string> table = FormatKpiTable(R"({"business_date":null,"currencies":{}})");
    ASSERT_TRUE(table.ok()) << table.status().message();
    EXPECT_EQ(*table, "business date -\nno figures yet\n");
}

TEST(KpiTableTest, RejectsAnAnswerWithoutCurrencies) {
    Result<std::string> table = FormatKpiTable(R"({"error":"unavailable"})");
    ASSERT_FALSE(table.ok());
    EXPECT_EQ(table.status().code(), "invalid_json");
}

TEST(KpiHistoryTableTest, ShowsOneRowPerDayAndCurrency) {
    std::string json = std::string(R"({"days":[{"date":"2024-03-30","currencies":{}},)") +
                       R"({"date":"2024-03-31","currencies":{"USD":)" + kUsdFigures + "}}]}";
    Result<std::string> table = FormatKpiHistoryTable(json);
    ASSERT_TRUE(table.ok()) << table.status().message();
    EXPECT_EQ(*table,
              "date        currency     open  overdue  disputed  "
              "unapplied  current    1-30  "
              "31-60  61-90  91-120  120+  sales_90d    dso  "
              "dso_countback  dso_best   add  cei\n"
              "2024-03-30\n"
              "2024-03-31       USD  1250.00   250.00      0.00       "
              "5.00  1000.00  250.00   "
              "0.00   0.00    0.00  0.00    4500.00  25.00          "
              "24.12     20.00  5.00    -\n");
}

TEST(AnswerTallyTest, CountsOutcomesByTypeAndErrorsByCode) {
    AnswerTally tally;
    tally.Add("invoice.issued", R"({"ok":true,"id":"I-1"})");
    tally.Add("invoice.issued", R"({"ok":true,"id":"I-2","duplicate":true})");
    tally.Add("invoice.issued",
              R"({"ok":false,"id":"I-3","line":3,"error":"unknown_customer","message":"no C-9"})");
    tally.Add("payment.received", R"({"ok":false,"id":"P-1","line":4,"error":"duplicate"})");
    tally.AddUnanswered("payment.received");

    EXPECT_TRUE(tally.HasErrors());
    EXPECT_EQ(tally.answered(), 4);
    EXPECT_EQ(tally.Summary(),
              "type              events  ok  duplicate  errors\n"
              "invoice.issued         3   1          1       1\n"
              "payment.received       2   0          1       1\n"
              "total                  5   1          2       2\n"
              "errors by code:\n"
              "  unanswered        1  first: the connection ended before the answer\n"
              "  unknown_customer  1  first: I-3: no C-9\n");
}

TEST(AnswerTallyTest, DuplicatesAreNoErrors) {
    AnswerTally tally;
    tally.Add("customer.upserted", R"({"ok":true,"id":"C-1","duplicate":true})");
    tally.Add("customer.upserted", R"({"ok":true,"id":"C-2"})");
    EXPECT_FALSE(tally.HasErrors());
}

TEST(AnswerTallyTest, AnUnreadableAnswerIsAnError) {
    AnswerTally tally;
    tally.Add("?", "not json");
    EXPECT_TRUE(tally.HasErrors());
}

TEST(EventTypeOfTest, ReadsTheTypeMember) {
    EXPECT_EQ(EventTypeOf(R"({"id":"x","type":"clock.advanced","date":"2024-01-01"})"),
              "clock.advanced");
    EXPECT_EQ(EventTypeOf(R"({"id":"x"})"), "?");
    EXPECT_EQ(EventTypeOf("{"), "?");
}

TEST(ProgressBarTest, FillsInProportion) {
    EXPECT_EQ(RenderProgressBar(0, 4, 8), "[--------] 0/4   0%");
    EXPECT_EQ(RenderProgressBar(1, 4, 8), "[##------] 1/4  25%");
    EXPECT_EQ(RenderProgressBar(5, 4, 8), "[########] 4/4 100%");
    EXPECT_EQ(RenderProgressBar(0, 0, 4), "[####] 1/1 100%");
}

}  // namespace
}  // namespace rms
