// GET /v1/customers/{id}/timeline on a real rmsd: newest first, every entry naming its cause,
// and pages that stay the same while new events arrive between them.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "tests/support/rmsd_calls.h"
#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"

namespace rms {
namespace {

struct Page {
    std::vector<std::string> entries;  // each entry's JSON
    std::vector<int64_t> seqs;
    std::string next;  // empty when null
};

class TimelineTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto dir = TempDir::Create("timeline");
        ASSERT_TRUE(dir.ok());
        dir_ = std::make_unique<TempDir>(std::move(dir).value());
        auto rmsd = RmsdProcess::Start(dir_->Path("data"));
        ASSERT_TRUE(rmsd.ok()) << rmsd.status().message();
        rmsd_ = std::move(rmsd).value();
    }

    void Send(const std::vector<std::string>& lines) {
        SendExpectingOk(rmsd_->ingest_port(), lines);
    }

    // Invoices I<from>..I<to-1> of customer C, each issued and paid on its own day.
    void SendInvoices(int from, int to) {
        std::vector<std::string> lines;
        for (int i = from; i < to; ++i) {
            std::string n = std::to_string(i);
            std::string day = "2024-02-" + std::string(i < 10 ? "0" : "") + n;
            lines.push_back(R"({"id":"i)" + n + R"(","type":"invoice.issued","date":")" + day +
                            R"(","invoice":"I)" + n +
                            R"(","customer":"C","amount":"10.00","currency":"USD","due":")" + day +
                            R"("})");
            lines.push_back(R"({"id":"p)" + n + R"(","type":"payment.received","date":")" + day +
                            R"(","payment":"P)" + n +
                            R"(","customer":"C","amount":"10.00","currency":"USD"})");
        }
        Send(lines);
    }

    Page Get(const std::string& query) {
        Page page;
        auto r = HttpGet("127.0.0.1", rmsd_->http_port(), "/v1/customers/C/timeline" + query);
        EXPECT_TRUE(r.ok());
        if (!r.ok()) {
            return page;
        }
        EXPECT_EQ(r->status, 200) << r->body;
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        EXPECT_EQ(parser.parse(r->body).get(root), simdjson::SUCCESS) << r->body;
        simdjson::dom::array entries;
        EXPECT_EQ(root["entries"].get(entries), simdjson::SUCCESS) << r->body;
        for (simdjson::dom::element e : entries) {
            page.entries.push_back(simdjson::minify(e));
            page.seqs.push_back(e["seq"].get_int64().value());
            std::string_view caused_by;
            EXPECT_EQ(e["caused_by"].get(caused_by), simdjson::SUCCESS) << simdjson::minify(e);
            EXPECT_FALSE(caused_by.empty()) << simdjson::minify(e);
        }
        std::string_view next;
        if (root["next_cursor"].get(next) == simdjson::SUCCESS) {
            page.next = std::string(next);
        }
        return page;
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<RmsdProcess> rmsd_;
};

TEST_F(TimelineTest, PagesStayTheSameWhileNewEventsArrive) {
    Send({R"({"id":"c","type":"customer.upserted","date":"2024-02-01","customer":"C",)"
          R"("email":"ap@example.test"})"});
    SendInvoices(1, 8);
    Page whole = Get("?limit=1000");
    ASSERT_GE(whole.entries.size(), 15u);
    EXPECT_TRUE(whole.next.empty());
    for (size_t i = 1; i < whole.seqs.size(); ++i) {
        EXPECT_EQ(whole.seqs[i], whole.seqs[i - 1] - 1) << "not newest first without gaps";
    }
    EXPECT_EQ(whole.seqs.back(), 1);

    // Page through in threes, with new events committed before every page after the first.
    std::vector<std::string> paged;
    Page page = Get("?limit=3");
    int next_invoice = 8;
    for (int guard = 0; guard < 100; ++guard) {
        ASSERT_LE(page.entries.size(), 3u);
        paged.insert(paged.end(), page.entries.begin(), page.entries.end());
        if (page.next.empty()) {
            break;
        }
        SendInvoices(next_invoice, next_invoice + 1);
        ++next_invoice;
        page = Get("?limit=3&cursor=" + page.next);
    }
    EXPECT_EQ(paged, whole.entries);

    // The newest entries are the invoices sent while paging.
    Page newest = Get("?limit=1");
    ASSERT_EQ(newest.entries.size(), 1u);
    EXPECT_GT(newest.seqs[0], whole.seqs[0]);
    EXPECT_NE(newest.entries[0].find(R"("type":"payment.received")"), std::string::npos)
        << newest.entries[0];
}

TEST_F(TimelineTest, UnknownCustomersAndForeignCursorsAreRefused) {
    auto r = HttpGet("127.0.0.1", rmsd_->http_port(), "/v1/customers/nobody/timeline");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 404);
    Send({R"({"id":"c","type":"customer.upserted","date":"2024-02-01","customer":"C"})"});
    r = HttpGet("127.0.0.1", rmsd_->http_port(), "/v1/customers/C/timeline?cursor=42");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(r->body.find("invalid_field"), std::string::npos) << r->body;
    r = HttpGet("127.0.0.1", rmsd_->http_port(), "/v1/customers/C/timeline?cursor=%zz");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << r->body;
    // A bad escape in a filter is refused too, not read as "no filter".
    r = HttpGet("127.0.0.1", rmsd_->http_port(), "/v1/actions?status=%zz");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << r->body;
    r = HttpGet("127.0.0.1", rmsd_->http_port(), "/v1/customers/C/timeline?limit=0");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400);
}

}  // namespace
}  // namespace rms
