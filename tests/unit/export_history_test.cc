#include "tools/export_history.h"

#include <gtest/gtest.h>

#include <string>

namespace rms {
namespace {

// One currency's FIGURES as /v1/kpis/history writes them; `cei` is JSON text.
std::string Figures(const std::string& open, const std::string& overdue, const std::string& cei) {
    return "{\"open\":\"" + open + "\",\"overdue\":\"" + overdue +
           "\",\"disputed\":\"1.50\",\"unapplied\":\"0.00\",\"written_off\":\"0.00\","
           "\"aging\":{\"current\":\"" +
           open + "\",\"1-30\":\"" + overdue +
           "\",\"31-60\":\"0.00\",\"61-90\":\"0.00\",\"91-120\":\"0.00\",\"120+\":\"0.00\"},"
           "\"sales_90d\":\"100.00\",\"dso_standard\":25.657882,\"dso_countback\":null,"
           "\"dso_best_possible\":22.5,\"add\":3.157882,\"cei\":" +
           cei + "}";
}

// One page's OpenMetrics text, or its error.
Result<std::string> HistoryToOpenMetrics(const std::string& history_json) {
    HistoryExport history;
    if (Status s = history.AddPage(history_json); !s.ok()) {
        return s;
    }
    return history.OpenMetrics();
}

std::string Day(const std::string& date, const std::string& open) {
    return "{\"date\":\"" + date + "\",\"currencies\":{\"USD\":" + Figures(open, "0.00", "null") +
           "}}";
}

TEST(ExportHistoryTest, WritesEachSeriesInDateOrderAtMidnightUtc) {
    std::string history =
        "{\"days\":[{\"date\":\"2013-01-01\",\"currencies\":{\"USD\":" +
        Figures("10.00", "0.00", "null") +
        "}},{\"date\":\"2013-01-02\",\"currencies\":{\"USD\":" + Figures("12.34", "2.00", "97.5") +
        "}}]}";
    auto text = HistoryToOpenMetrics(history);
    ASSERT_TRUE(text.ok()) << text.status().message();
    // 2013-01-01T00:00:00Z is 1356998400.
    const std::string expected_start =
        "# TYPE rms_receivables_open_amount gauge\n"
        "# HELP rms_receivables_open_amount Open receivables by currency and aging bucket, major "
        "units\n"
        "rms_receivables_open_amount{bucket=\"1-30\",currency=\"USD\"} 0.00 1356998400\n"
        "rms_receivables_open_amount{bucket=\"1-30\",currency=\"USD\"} 2.00 1357084800\n";
    EXPECT_EQ(text->substr(0, expected_start.size()), expected_start);
    EXPECT_NE(text->find("rms_dso_days{currency=\"USD\",method=\"standard\"} 25.657882 "
                         "1356998400\n"),
              std::string::npos);
    EXPECT_NE(text->find("rms_dso_days{currency=\"USD\",method=\"best_possible\"} 22.5 "
                         "1357084800\n"),
              std::string::npos);
    EXPECT_NE(text->find("rms_business_date_timestamp_seconds 1357084800 1357084800\n"),
              std::string::npos);
    EXPECT_TRUE(text->ends_with("# EOF\n"));
}

TEST(ExportHistoryTest, UndefinedKpiGivesNoSample) {
    std::string history = "{\"days\":[{\"date\":\"2013-01-01\",\"currencies\":{\"USD\":" +
                          Figures("10.00", "0.00", "null") + "}}]}";
    auto text = HistoryToOpenMetrics(history);
    ASSERT_TRUE(text.ok()) << text.status().message();
    EXPECT_EQ(text->find("method=\"countback\""), std::string::npos);
    EXPECT_EQ(text->find("rms_cei_percent"), std::string::npos);
}

TEST(ExportHistoryTest, EmptyHistoryIsJustEof) {
    auto text = HistoryToOpenMetrics("{\"days\":[]}");
    ASSERT_TRUE(text.ok()) << text.status().message();
    EXPECT_EQ(*text, "# EOF\n");
}

TEST(ExportHistoryTest, MalformedAnswersNameTheProblem) {
    struct Case {
        std::string json;
        std::string message_part;
    };
    const Case cases[] = {
        {"not json", "not JSON"},
        {"{\"day\":[]}", "no \"days\" array"},
        {"{\"days\":[{\"date\":\"2013-02-30\",\"currencies\":{}}]}", "day 2013-02-30"},
        {"{\"days\":[{\"date\":\"2013-01-01\",\"currencies\":{\"USD\":" +
             Figures("1e3", "0.00", "null") + "}}]}",
         "aging.current \"1e3\" is not a decimal amount"},
        {"{\"days\":[{\"date\":\"2013-01-01\",\"currencies\":{\"USD\":{}}}]}",
         "day 2013-01-01 currency USD: no member aging.current"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.json);
        auto text = HistoryToOpenMetrics(c.json);
        ASSERT_FALSE(text.ok());
        EXPECT_EQ(text.status().code(), "invalid_json");
        EXPECT_NE(text.status().message().find(c.message_part), std::string::npos)
            << text.status().message();
    }
}

TEST(ExportHistoryTest, PagesJoinIntoOneSeriesPerLabelSet) {
    HistoryExport history;
    ASSERT_TRUE(history.AddPage("{\"days\":[" + Day("2013-01-01", "1.00") + "]}").ok());
    ASSERT_TRUE(history.AddPage("{\"days\":[" + Day("2013-01-02", "2.00") + "]}").ok());
    EXPECT_EQ(history.days(), 2u);
    std::string text = history.OpenMetrics();
    EXPECT_NE(text.find("rms_receivables_open_amount{bucket=\"current\",currency=\"USD\"} 1.00 "
                        "1356998400\nrms_receivables_open_amount{bucket=\"current\",currency="
                        "\"USD\"} 2.00 1357084800\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("# TYPE rms_receivables_open_amount"),
              text.rfind("# TYPE rms_receivables_open_amount"))
        << "one family header";
}

TEST(ExportHistoryTest, PageOutOfDateOrderIsRefusedAndLeavesNothing) {
    HistoryExport history;
    ASSERT_TRUE(history.AddPage("{\"days\":[" + Day("2013-01-02", "2.00") + "]}").ok());
    Status s = history.AddPage("{\"days\":[" + Day("2013-01-03", "3.00") + "," +
                               Day("2013-01-02", "9.00") + "]}");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), "invalid_json");
    EXPECT_NE(s.message().find("day 2013-01-02: not after the day before it"), std::string::npos)
        << s.message();
    EXPECT_EQ(history.days(), 1u);
    EXPECT_EQ(history.OpenMetrics().find(" 3.00 "), std::string::npos);
}

}  // namespace
}  // namespace rms
