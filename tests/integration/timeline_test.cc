// GET /v1/customers/{id}/timeline on a real rmsd: newest first, every entry naming its cause,
// pages that stay the same while new events arrive between them, seqs that keep rising across
// customers and a kill -9; promises, disputes, actions and contacts among the entries, and the
// effectiveness figures those contacts make in GET /v1/kpis.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <utility>
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

    // The `caused_by` of every entry of `page` (newest first) whose string members equal all of
    // `fields`.
    static std::vector<std::string> Causes(
        const Page& page, const std::vector<std::pair<std::string, std::string>>& fields) {
        std::vector<std::string> out;
        simdjson::dom::parser parser;
        for (const std::string& entry : page.entries) {
            simdjson::dom::element e = parser.parse(entry).value();
            bool match = true;
            for (const auto& [name, value] : fields) {
                std::string_view got;
                match = match && e[name].get(got) == simdjson::SUCCESS && got == value;
            }
            if (match) {
                out.emplace_back(e["caused_by"].get_string().value());
            }
        }
        return out;
    }

    std::unique_ptr<TempDir> dir_;
    std::unique_ptr<RmsdProcess> rmsd_;
};

// Effectiveness per channel as GET /v1/kpis shows it: contacts, payments_7d, promises,
// promises_kept.
std::map<std::string, std::vector<int64_t>> EffectsByChannel(const std::string& kpis) {
    std::map<std::string, std::vector<int64_t>> out;
    simdjson::dom::parser parser;
    simdjson::dom::object channels;
    if (parser.parse(kpis)["effectiveness"]["channels"].get(channels) != simdjson::SUCCESS) {
        ADD_FAILURE() << kpis;
        return out;
    }
    for (auto [channel, n] : channels) {
        for (const char* figure : {"contacts", "payments_7d", "promises", "promises_kept"}) {
            out[std::string(channel)].push_back(n[figure].get_int64().value());
        }
    }
    return out;
}

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

// All customers draw seqs from one clock kept in the meta record: C's seqs skip those D took,
// and after a kill -9 new entries still get higher seqs than every stored one, so none
// overwrites an older entry.
TEST_F(TimelineTest, SeqsKeepRisingAcrossCustomersAndAKill9) {
    auto invoice = [](std::string customer, int n) {
        std::string id = customer + std::to_string(n);
        return R"({"id":"i)" + id + R"(","type":"invoice.issued","date":"2024-02-01","invoice":")" +
               id + R"(","customer":")" + customer +
               R"(","amount":"10.00","currency":"USD","due":"2024-03-01"})";
    };
    auto strictly_falling = [](const Page& p) {
        for (size_t i = 1; i < p.seqs.size(); ++i) {
            if (p.seqs[i] >= p.seqs[i - 1]) {
                return false;
            }
        }
        return true;
    };
    Send({R"({"id":"c","type":"customer.upserted","date":"2024-02-01","customer":"C"})",
          R"({"id":"d","type":"customer.upserted","date":"2024-02-01","customer":"D"})",
          invoice("C", 1), invoice("D", 1), invoice("C", 2), invoice("D", 2)});
    Page before = Get("?limit=1000");
    ASSERT_GE(before.entries.size(), 3u);
    EXPECT_TRUE(strictly_falling(before));
    EXPECT_GT(before.seqs.front() - before.seqs.back() + 1,
              static_cast<int64_t>(before.entries.size()))
        << "D's entries took no seqs between C's";

    rmsd_->Kill9();
    auto again = RmsdProcess::Start(rmsd_->options());
    ASSERT_TRUE(again.ok()) << again.status().message();
    rmsd_ = std::move(again).value();
    Send({invoice("D", 3), invoice("C", 3)});

    Page after = Get("?limit=1000");
    EXPECT_TRUE(strictly_falling(after));
    ASSERT_EQ(after.entries.size(), before.entries.size() + 1) << "an entry was overwritten";
    EXPECT_GT(after.seqs.front(), before.seqs.front());
    EXPECT_NE(after.entries.front().find(R"("invoice":"C3")"), std::string::npos)
        << after.entries.front();
    EXPECT_EQ(std::vector<std::string>(after.entries.begin() + 1, after.entries.end()),
              before.entries);
}

TEST_F(TimelineTest, PromisesDisputesActionsAndContactsNameTheEventThatCausedThem) {
    Send({
        R"({"id":"c","type":"customer.upserted","date":"2024-03-01","customer":"C",)"
        R"("email":"ap@example.test"})",
        R"({"id":"i1","type":"invoice.issued","date":"2024-03-01","invoice":"I1",)"
        R"("customer":"C","amount":"300.00","currency":"USD","due":"2024-03-10"})",
        R"({"id":"i2","type":"invoice.issued","date":"2024-03-01","invoice":"I2",)"
        R"("customer":"C","amount":"100.00","currency":"USD","due":"2024-03-10"})",
        R"({"id":"d1","type":"dispute.opened","date":"2024-03-02","invoice":"I2",)"
        R"("customer":"C","reason":"damaged"})",
        // The default strategy's pre-due reminder of I1 falls due on 03-07.
        R"({"id":"k1","type":"clock.advanced","date":"2024-03-07"})",
        R"({"id":"x1","type":"contact.logged","date":"2024-03-08","customer":"C",)"
        R"("channel":"phone","direction":"outbound","agent":"ana","outcome":"promise"})",
        // A day after the call: a promise of the phone, kept by P1 three days later, itself a
        // payment within 7 days of the call.
        R"({"id":"m1","type":"promise.made","date":"2024-03-09","promise":"M1",)"
        R"("customer":"C","amount":"120.00","currency":"USD","due":"2024-03-13"})",
        R"({"id":"p1","type":"payment.received","date":"2024-03-12","payment":"P1",)"
        R"("customer":"C","amount":"120.00","currency":"USD"})",
        // The latest contact from now on: a promise of the e-mail, broken on 03-25 (nothing
        // paid by its due date), and P2 twelve days after the mail, too late to count.
        R"({"id":"x2","type":"contact.logged","date":"2024-03-14","customer":"C",)"
        R"("channel":"email","direction":"inbound"})",
        R"({"id":"m2","type":"promise.made","date":"2024-03-15","promise":"M2",)"
        R"("customer":"C","amount":"50.00","currency":"USD","due":"2024-03-18"})",
        R"({"id":"k2","type":"clock.advanced","date":"2024-03-25"})",
        R"({"id":"p2","type":"payment.received","date":"2024-03-26","payment":"P2",)"
        R"("customer":"C","amount":"30.00","currency":"USD"})",
    });
    Page page = Get("?limit=1000");
    ASSERT_TRUE(page.next.empty());
    using Fields = std::vector<std::pair<std::string, std::string>>;
    using Ids = std::vector<std::string>;

    EXPECT_EQ(Causes(page, Fields{{"kind", "event"}, {"type", "dispute.opened"}}), Ids{"d1"});
    EXPECT_EQ(Causes(page, Fields{{"kind", "promise"}, {"promise", "M1"}}), (Ids{"p1", "m1"}));
    EXPECT_EQ(Causes(page, Fields{{"kind", "promise"}, {"promise", "M1"}, {"status", "kept"}}),
              Ids{"p1"});
    EXPECT_EQ(Causes(page, Fields{{"kind", "promise"}, {"promise", "M2"}, {"status", "broken"}}),
              Ids{"k2"});
    EXPECT_EQ(Causes(page, Fields{{"kind", "action"},
                                  {"step", "pre-due reminder"},
                                  {"invoice", "I1"},
                                  {"channel", "email"}}),
              Ids{"k1"});
    EXPECT_EQ(Causes(page, Fields{{"kind", "action"}, {"step", "broken promise call"}}), Ids{"k2"});
    EXPECT_EQ(Causes(page, Fields{{"kind", "contact"},
                                  {"type", "contact.logged"},
                                  {"channel", "phone"},
                                  {"direction", "outbound"},
                                  {"agent", "ana"},
                                  {"source", "event"}}),
              Ids{"x1"});
    EXPECT_EQ(Causes(page, Fields{{"kind", "contact"}, {"channel", "email"}}), Ids{"x2"});

    // Worked out by hand from the events above: the call made P1 (day 4 after it) and M1 (day
    // 1), kept; the mail made M2 (day 1), broken, and P2 came on day 12. No action was
    // delivered (this rmsd has no outbox), so the logged contacts are the only ones.
    std::map<std::string, std::vector<int64_t>> expected = {
        {"email", {1, 0, 1, 0}},
        {"phone", {1, 1, 1, 1}},
    };
    EXPECT_EQ(EffectsByChannel(GetBody(rmsd_->http_port(), "/v1/kpis")), expected);
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
