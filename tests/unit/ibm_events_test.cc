// The IBM sample mapping of protocol.md ("The IBM sample as events") on small hand-written CSVs.
#include "tools/ibm_events.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace rms {
namespace {

constexpr std::string_view kHeader =
    "countryCode,customerID,PaperlessDate,invoiceNumber,InvoiceDate,DueDate,InvoiceAmount,"
    "Disputed,SettledDate,PaperlessBill,DaysToSettle,DaysLate";

// Three invoices over three days. Customer A's first row in the file (row 1) is not its first
// InvoiceDate (row 3); row 3 is also disputed and settled on the day it was issued.
std::string SmallSample(std::string_view eol) {
    std::string csv;
    for (std::string_view line : {
             kHeader,
             std::string_view(
                 "391,A-1,1/1/2012,0001,1/5/2013,2/4/2013,10.5,No,1/20/2013,Paper,15,0"),
             std::string_view("406,B-2,1/1/2012,0002,1/3/2013,2/2/2013,20,Yes,1/5/2013,Paper,2,0"),
             std::string_view(
                 "770,A-1,1/1/2012,0003,1/3/2013,2/2/2013,7.25,Yes,1/3/2013,Paper,0,0"),
         }) {
        csv.append(line);
        csv.append(eol);
    }
    return csv;
}

std::vector<std::string> EventsOf(const std::string& csv) {
    Result<std::vector<std::string>> events = IbmSampleToEvents(csv);
    EXPECT_TRUE(events.ok()) << events.status().message();
    return events.ok() ? *events : std::vector<std::string>();
}

TEST(IbmEventsTest, OrdersByDateThenCustomersInvoicesDisputesOpenedResolvedPaymentsThenRow) {
    std::vector<std::string> events = EventsOf(SmallSample("\r\n"));

    std::vector<std::string> expected = {
        // 2013-01-03
        R"({"id":"ibm-cust-B-2","type":"customer.upserted","date":"2013-01-03",)"
        R"("customer":"B-2","country":"406"})",
        R"({"id":"ibm-cust-A-1","type":"customer.upserted","date":"2013-01-03",)"
        R"("customer":"A-1","country":"770"})",
        R"({"id":"ibm-inv-0002","type":"invoice.issued","date":"2013-01-03","invoice":"0002",)"
        R"("customer":"B-2","amount":"20","currency":"USD","due":"2013-02-02"})",
        R"({"id":"ibm-inv-0003","type":"invoice.issued","date":"2013-01-03","invoice":"0003",)"
        R"("customer":"A-1","amount":"7.25","currency":"USD","due":"2013-02-02"})",
        R"({"id":"ibm-dsp-0002","type":"dispute.opened","date":"2013-01-03","invoice":"0002",)"
        R"("customer":"B-2"})",
        R"({"id":"ibm-dsp-0003","type":"dispute.opened","date":"2013-01-03","invoice":"0003",)"
        R"("customer":"A-1"})",
        R"({"id":"ibm-res-0003","type":"dispute.resolved","date":"2013-01-03","invoice":"0003",)"
        R"("customer":"A-1"})",
        R"({"id":"ibm-pay-0003","type":"payment.received","date":"2013-01-03",)"
        R"("payment":"pay-0003","customer":"A-1","amount":"7.25","currency":"USD",)"
        R"("allocations":[{"invoice":"0003","amount":"7.25"}]})",
        // 2013-01-05
        R"({"id":"ibm-inv-0001","type":"invoice.issued","date":"2013-01-05","invoice":"0001",)"
        R"("customer":"A-1","amount":"10.5","currency":"USD","due":"2013-02-04"})",
        R"({"id":"ibm-res-0002","type":"dispute.resolved","date":"2013-01-05","invoice":"0002",)"
        R"("customer":"B-2"})",
        R"({"id":"ibm-pay-0002","type":"payment.received","date":"2013-01-05",)"
        R"("payment":"pay-0002","customer":"B-2","amount":"20","currency":"USD",)"
        R"("allocations":[{"invoice":"0002","amount":"20"}]})",
        // 2013-01-20
        R"({"id":"ibm-pay-0001","type":"payment.received","date":"2013-01-20",)"
        R"("payment":"pay-0001","customer":"A-1","amount":"10.5","currency":"USD",)"
        R"("allocations":[{"invoice":"0001","amount":"10.5"}]})",
    };
    ASSERT_EQ(events.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        SCOPED_TRACE("event " + std::to_string(i));
        EXPECT_EQ(events[i], expected[i]);
    }
}

TEST(IbmEventsTest, LfLinesGiveTheSameEventsAsCrlfLines) {
    EXPECT_EQ(EventsOf(SmallSample("\n")), EventsOf(SmallSample("\r\n")));
}

TEST(IbmEventsTest, NoEventContainsANewline) {
    for (const std::string& event : EventsOf(SmallSample("\r\n"))) {
        EXPECT_EQ(event.find_first_of("\r\n"), std::string::npos) << event;
    }
}

TEST(IbmEventsTest, SkipsBlankLinesAndAMissingFinalNewline) {
    std::string csv = SmallSample("\r\n");
    csv.insert(csv.find("406,B-2"), "\r\n");
    csv.pop_back();
    csv.pop_back();
    EXPECT_EQ(EventsOf(csv), EventsOf(SmallSample("\r\n")));
}

TEST(IbmEventsTest, FindsColumnsByHeaderName) {
    std::string csv =
        "InvoiceAmount,invoiceNumber,customerID,countryCode,Disputed,SettledDate,DueDate,"
        "InvoiceDate\n"
        "9.99,0042,C-3,897,No,3/1/2012,3/31/2012,2/29/2012\n";
    std::vector<std::string> events = EventsOf(csv);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[1], R"({"id":"ibm-inv-0042","type":"invoice.issued","date":"2012-02-29",)"
                         R"("invoice":"0042","customer":"C-3","amount":"9.99","currency":"USD",)"
                         R"("due":"2012-03-31"})");
}

TEST(IbmEventsTest, HeaderOnlyGivesNoEvents) {
    Result<std::vector<std::string>> events = IbmSampleToEvents(std::string(kHeader) + "\r\n");
    ASSERT_TRUE(events.ok()) << events.status().message();
    EXPECT_TRUE(events->empty());
}

struct MalformedCase {
    std::string name;
    std::string row;  // replaces the second data row (row 2, line 3) of SmallSample
    std::string code;
    std::string message;
};

TEST(IbmEventsTest, MalformedRowsAreRejectedNamingRowColumnAndValue) {
    const std::vector<MalformedCase> cases = {
        {"impossible date", "406,B-2,1/1/2012,0002,2/30/2013,2/2/2013,20,Yes,1/5/2013,Paper,2,0",
         "invalid_date",
         R"(row 2 (line 3), column InvoiceDate: "2/30/2013" is not a M/D/YYYY date)"},
        {"iso date", "406,B-2,1/1/2012,0002,1/3/2013,2013-02-02,20,Yes,1/5/2013,Paper,2,0",
         "invalid_date", R"(row 2 (line 3), column DueDate: "2013-02-02" is not a M/D/YYYY date)"},
        {"settled before issued",
         "406,B-2,1/1/2012,0002,1/3/2013,2/2/2013,20,Yes,1/2/2013,Paper,2,0", "invalid_date",
         R"(row 2 (line 3), column SettledDate: "1/2/2013" is before InvoiceDate "1/3/2013")"},
        {"three decimals", "406,B-2,1/1/2012,0002,1/3/2013,2/2/2013,12.345,Yes,1/5/2013,Paper,2,0",
         "invalid_amount",
         R"(row 2 (line 3), column InvoiceAmount: amount "12.345" has 3 decimals, USD allows 2)"},
        {"disputed maybe", "406,B-2,1/1/2012,0002,1/3/2013,2/2/2013,20,Maybe,1/5/2013,Paper,2,0",
         "invalid_field", R"(row 2 (line 3), column Disputed: "Maybe" is neither Yes nor No)"},
        {"empty customer", "406,,1/1/2012,0002,1/3/2013,2/2/2013,20,Yes,1/5/2013,Paper,2,0",
         "invalid_field", "row 2 (line 3), column customerID: is empty"},
        {"missing field", "406,B-2,1/1/2012,0002,1/3/2013,2/2/2013,20,Yes,1/5/2013,Paper,2",
         "invalid_csv", "row 2 (line 3): 11 fields, the header has 12"},
        {"quoted field", "406,\"B-2\",1/1/2012,0002,1/3/2013,2/2/2013,20,Yes,1/5/2013,Paper,2,0",
         "invalid_csv", "row 2 (line 3): quoted fields are not supported"},
        {"invoice used twice", "406,B-2,1/1/2012,0001,1/3/2013,2/2/2013,20,Yes,1/5/2013,Paper,2,0",
         "invalid_csv", R"(row 2 (line 3), column invoiceNumber: invoice "0001" is also on row 1)"},
    };
    for (const MalformedCase& c : cases) {
        SCOPED_TRACE(c.name);
        std::string csv = SmallSample("\r\n");
        size_t begin = csv.find("406,B-2");
        csv.replace(begin, csv.find("\r\n", begin) - begin, c.row);

        Result<std::vector<std::string>> events = IbmSampleToEvents(csv);
        ASSERT_FALSE(events.ok());
        EXPECT_EQ(events.status().code(), c.code);
        EXPECT_EQ(events.status().message(), c.message);
    }
}

TEST(IbmEventsTest, HeaderWithoutANeededColumnIsRejected) {
    Result<std::vector<std::string>> events = IbmSampleToEvents(
        "countryCode,customerID,invoiceNumber,InvoiceDate,DueDate,Disputed,"
        "SettledDate\r\n");
    ASSERT_FALSE(events.ok());
    EXPECT_EQ(events.status().code(), "invalid_csv");
    EXPECT_EQ(events.status().message(), "line 1: the header has no column InvoiceAmount");
}

TEST(IbmEventsTest, EmptyTextIsRejected) {
    Result<std::vector<std::string>> events = IbmSampleToEvents("");
    ASSERT_FALSE(events.ok());
    EXPECT_EQ(events.status().code(), "invalid_csv");
}

TEST(IbmEventsTest, ShippedSampleGivesOneEventPerCustomerInvoiceDisputeAndPayment) {
    Result<std::string> csv = ReadFile(RMS_SOURCE_DIR "/data/ibm-accounts-receivable.csv");
    ASSERT_TRUE(csv.ok()) << csv.status().message();
    std::vector<std::string> events = EventsOf(*csv);

    std::map<std::string, int> by_prefix;
    for (const std::string& event : events) {
        // Every event starts {"id":"ibm-<kind>-
        size_t begin = std::string_view(R"({"id":")").size();
        by_prefix[event.substr(begin, event.find('-', begin + 4) - begin)]++;
    }
    std::map<std::string, int> expected = {
        {"ibm-cust", 100}, {"ibm-inv", 2466}, {"ibm-dsp", 561}, {"ibm-res", 561}, {"ibm-pay", 2466},
    };
    EXPECT_EQ(by_prefix, expected);
    ASSERT_FALSE(events.empty());
    EXPECT_NE(events.front().find(R"("date":"2012-01-03")"), std::string::npos);
    EXPECT_NE(events.back().find(R"("date":"2014-01-09")"), std::string::npos);
}

TEST(IbmEventsTest, ReadFileOfAMissingPathIsAnIoError) {
    Result<std::string> text = ReadFile("/nonexistent/rms/ibm.csv");
    ASSERT_FALSE(text.ok());
    EXPECT_EQ(text.status().code(), "io_error");
    EXPECT_NE(text.status().message().find("/nonexistent/rms/ibm.csv"), std::string::npos);
}

}  // namespace
}  // namespace rms
