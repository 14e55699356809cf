// Replays the shipped IBM sample through a real rmsd and checks its daily KPI history against
// figures this test computes straight from the CSV, with a deliberately simple model: a loop over
// the rows for every figure, sharing no code with the engine or with the event mapping.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/rmsd_process.h"
#include "tests/support/temp_dir.h"
#include "tools/client.h"
#include "tools/ibm_events.h"

namespace rms {
namespace {

constexpr char kSamplePath[] = RMS_SOURCE_DIR "/data/ibm-accounts-receivable.csv";
// The first InvoiceDate, the last InvoiceDate and the last SettledDate of the sample.
constexpr char kFirstDay[] = "2012-01-03";
constexpr char kLastInvoiceDay[] = "2013-12-02";
constexpr char kLastDay[] = "2014-01-09";
// The last closed day: the business date ends on kLastDay, which stays open.
constexpr char kLastClosedDay[] = "2014-01-08";
constexpr int64_t kSampleTotalCents = 14770318;
constexpr double kDayFigureTolerance = 0.01;

// ---- The model: plain arithmetic over the CSV rows. ----

bool IsLeap(int year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

// Days since 1970-01-01, counted the long way.
int64_t DayNumber(int year, int month, int day) {
    static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days = 0;
    for (int y = 1970; y < year; ++y) {
        days += IsLeap(y) ? 366 : 365;
    }
    for (int m = 1; m < month; ++m) {
        days += kMonthDays[m - 1] + (m == 2 && IsLeap(year) ? 1 : 0);
    }
    return days + day - 1;
}

int64_t IsoDay(const std::string& text) {
    int y = 0, m = 0, d = 0;
    EXPECT_EQ(std::sscanf(text.c_str(), "%4d-%2d-%2d", &y, &m, &d), 3) << text;
    return DayNumber(y, m, d);
}

int64_t UsDay(const std::string& text) {
    int y = 0, m = 0, d = 0;
    EXPECT_EQ(std::sscanf(text.c_str(), "%d/%d/%d", &m, &d, &y), 3) << text;
    return DayNumber(y, m, d);
}

// "68.8" → 6880, "94" → 9400, "-1.5" → -150.
int64_t Cents(const std::string& text) {
    bool negative = !text.empty() && text[0] == '-';
    std::string digits = negative ? text.substr(1) : text;
    size_t point = digits.find('.');
    std::string whole = digits.substr(0, point);
    std::string fraction = point == std::string::npos ? "" : digits.substr(point + 1);
    EXPECT_LE(fraction.size(), 2u) << text;
    fraction.resize(2, '0');
    int64_t cents = std::stoll(whole) * 100 + std::stoll(fraction);
    return negative ? -cents : cents;
}

struct ModelInvoice {
    int64_t issued;
    int64_t due;
    int64_t settled;
    int64_t cents;
    bool disputed;
};

std::vector<ModelInvoice> LoadModel(const std::string& csv) {
    std::vector<ModelInvoice> invoices;
    std::istringstream in(csv);
    std::string line;
    std::map<std::string, size_t> column;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        std::vector<std::string> fields;
        std::istringstream split(line);
        for (std::string field; std::getline(split, field, ',');) {
            fields.push_back(field);
        }
        if (column.empty()) {
            for (size_t i = 0; i < fields.size(); ++i) {
                column[fields[i]] = i;
            }
            continue;
        }
        invoices.push_back({
            .issued = UsDay(fields.at(column.at("InvoiceDate"))),
            .due = UsDay(fields.at(column.at("DueDate"))),
            .settled = UsDay(fields.at(column.at("SettledDate"))),
            .cents = Cents(fields.at(column.at("InvoiceAmount"))),
            .disputed = fields.at(column.at("Disputed")) == "Yes",
        });
    }
    return invoices;
}

// The figures of one currency on one day, amounts in cents.
struct Figures {
    int64_t open = 0;
    int64_t overdue = 0;
    int64_t disputed = 0;
    int64_t unapplied = 0;
    std::array<int64_t, 6> aging{};
    int64_t sales_90d = 0;
    std::optional<double> dso_standard;
    std::optional<double> dso_countback;
    std::optional<double> dso_best_possible;
    std::optional<double> add;
    std::optional<double> cei;
};

bool OpenAtEndOf(const ModelInvoice& invoice, int64_t day) {
    return invoice.issued <= day && day < invoice.settled;
}

int64_t OpenAtEndOf(const std::vector<ModelInvoice>& invoices, int64_t day) {
    int64_t open = 0;
    for (const ModelInvoice& invoice : invoices) {
        if (OpenAtEndOf(invoice, day)) {
            open += invoice.cents;
        }
    }
    return open;
}

int64_t SalesOn(const std::vector<ModelInvoice>& invoices, int64_t day) {
    int64_t sales = 0;
    for (const ModelInvoice& invoice : invoices) {
        if (invoice.issued == day) {
            sales += invoice.cents;
        }
    }
    return sales;
}

int BucketOf(int64_t days_past_due) {
    if (days_past_due <= 0) {
        return 0;
    }
    return days_past_due > 120 ? 5 : static_cast<int>((days_past_due - 1) / 30) + 1;
}

double Countback(const std::vector<ModelInvoice>& invoices, int64_t day, int64_t open) {
    double days = 0;
    int64_t left = open;
    for (int64_t d = day; left > 0 && d >= day - 100000; --d) {
        int64_t sales = SalesOn(invoices, d);
        if (sales < left) {
            left -= sales;
            days += 1;
        } else {
            return days + static_cast<double>(left) / static_cast<double>(sales);
        }
    }
    return days;
}

// The state at the end of `day`: every event dated `day` or earlier, aged as of `day`.
Figures ModelAt(const std::vector<ModelInvoice>& invoices, int64_t day) {
    Figures f;
    for (const ModelInvoice& invoice : invoices) {
        if (day - 89 <= invoice.issued && invoice.issued <= day) {
            f.sales_90d += invoice.cents;
        }
        if (!OpenAtEndOf(invoice, day)) {
            continue;
        }
        f.open += invoice.cents;
        f.aging[BucketOf(day - invoice.due)] += invoice.cents;
        if (invoice.disputed) {
            f.disputed += invoice.cents;
        }
    }
    f.overdue = f.open - f.aging[0];

    double sales = static_cast<double>(f.sales_90d);
    if (f.sales_90d > 0) {
        f.dso_standard = static_cast<double>(f.open) / sales * 90;
        f.dso_best_possible = static_cast<double>(f.aging[0]) / sales * 90;
        f.add = *f.dso_standard - *f.dso_best_possible;
    }
    f.dso_countback = f.open == 0 ? 0.0 : Countback(invoices, day, f.open);
    int64_t start = OpenAtEndOf(invoices, day - 90);
    int64_t denominator = start + f.sales_90d - f.aging[0];
    if (denominator > 0) {
        f.cei = static_cast<double>(start + f.sales_90d - f.open) /
                static_cast<double>(denominator) * 100;
    }
    return f;
}

// ---- The engine's answers, read into the same shape. ----

using simdjson::dom::element;

std::string ReadAmount(element figures, const char* group, const char* key, int64_t* cents,
                       const std::string& where) {
    std::string_view text;
    auto value = group == nullptr ? figures[key] : figures[group][key];
    if (value.get_string().get(text)) {
        return where + ": " + key + " is not a string\n";
    }
    *cents = Cents(std::string(text));
    return "";
}

std::string ReadDayFigure(element figures, const char* key, std::optional<double>* number,
                          const std::string& where) {
    element value;
    if (figures[key].get(value)) {
        return where + ": no " + key + "\n";
    }
    double d = 0;
    if (value.is_null()) {
        number->reset();
    } else if (value.get_double().get(d) == simdjson::SUCCESS) {
        *number = d;
    } else {
        return where + ": " + key + " is neither a number nor null\n";
    }
    return "";
}

// Reads FIGURES; returns what was malformed, or "" when nothing was.
std::string ReadFigures(element json, Figures* f, const std::string& where) {
    static constexpr const char* kBuckets[] = {"current", "1-30",   "31-60",
                                               "61-90",   "91-120", "120+"};
    std::string errors;
    errors += ReadAmount(json, nullptr, "open", &f->open, where);
    errors += ReadAmount(json, nullptr, "overdue", &f->overdue, where);
    errors += ReadAmount(json, nullptr, "disputed", &f->disputed, where);
    errors += ReadAmount(json, nullptr, "unapplied", &f->unapplied, where);
    for (size_t i = 0; i < f->aging.size(); ++i) {
        errors += ReadAmount(json, "aging", kBuckets[i], &f->aging[i], where);
    }
    errors += ReadAmount(json, nullptr, "sales_90d", &f->sales_90d, where);
    errors += ReadDayFigure(json, "dso_standard", &f->dso_standard, where);
    errors += ReadDayFigure(json, "dso_countback", &f->dso_countback, where);
    errors += ReadDayFigure(json, "dso_best_possible", &f->dso_best_possible, where);
    errors += ReadDayFigure(json, "add", &f->add, where);
    errors += ReadDayFigure(json, "cei", &f->cei, where);
    return errors;
}

std::string Show(const std::optional<double>& value) {
    return value ? std::to_string(*value) : "null";
}

// Lists every figure where `actual` differs from `expected`: amounts to the cent, day figures
// within kDayFigureTolerance, null only where null is expected.
std::string Differences(const Figures& expected, const Figures& actual) {
    static constexpr const char* kBuckets[] = {"current", "1-30",   "31-60",
                                               "61-90",   "91-120", "120+"};
    std::ostringstream out;
    auto amount = [&](const char* name, int64_t e, int64_t a) {
        if (e != a) {
            out << " " << name << ": expected " << e << " cents, engine " << a << ";";
        }
    };
    auto day_figure = [&](const char* name, const std::optional<double>& e,
                          const std::optional<double>& a) {
        bool same =
            e.has_value() == a.has_value() && (!e || std::fabs(*e - *a) <= kDayFigureTolerance);
        if (!same) {
            out << " " << name << ": expected " << Show(e) << ", engine " << Show(a) << ";";
        }
    };
    amount("open", expected.open, actual.open);
    amount("overdue", expected.overdue, actual.overdue);
    amount("disputed", expected.disputed, actual.disputed);
    amount("unapplied", expected.unapplied, actual.unapplied);
    for (size_t i = 0; i < expected.aging.size(); ++i) {
        amount(kBuckets[i], expected.aging[i], actual.aging[i]);
    }
    amount("sales_90d", expected.sales_90d, actual.sales_90d);
    day_figure("dso_standard", expected.dso_standard, actual.dso_standard);
    day_figure("dso_countback", expected.dso_countback, actual.dso_countback);
    day_figure("dso_best_possible", expected.dso_best_possible, actual.dso_best_possible);
    day_figure("add", expected.add, actual.add);
    day_figure("cei", expected.cei, actual.cei);
    return out.str();
}

// ---- One replay of the sample, shared by the tests of this file. ----

struct Replayed {
    std::vector<std::string> events;
    std::vector<std::string> answers;
    std::map<int64_t, Figures> history;  // day number → USD figures
    std::vector<std::string> history_dates;
    std::map<int64_t, std::string> date_of;  // day number → its date
    std::string history_errors;              // malformed parts of the history answer
    std::string kpis_body;
};

class IbmCheckTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { setup_error_ = Replay(); }

    static void TearDownTestSuite() {
        rmsd_.reset();
        dir_.reset();
    }

    void SetUp() override { ASSERT_EQ(setup_error_, "") << "replay of the sample failed"; }

    // Starts rmsd, sends the events, reads the history and the KPIs; returns what went wrong.
    static std::string Replay() {
        Result<std::string> csv = ReadFile(kSamplePath);
        if (!csv.ok()) {
            return csv.status().message();
        }
        model_ = LoadModel(*csv);
        Result<std::vector<std::string>> events = IbmSampleToEvents(*csv);
        if (!events.ok()) {
            return events.status().message();
        }
        replayed_->events = std::move(events).value();

        Result<TempDir> dir = TempDir::Create("ibm-check");
        if (!dir.ok()) {
            return dir.status().message();
        }
        dir_ = std::make_unique<TempDir>(std::move(dir).value());
        auto rmsd = RmsdProcess::Start(dir_->Path("data"));
        if (!rmsd.ok()) {
            return rmsd.status().message();
        }
        rmsd_ = std::move(rmsd).value();

        auto client = LineClient::Connect("127.0.0.1", rmsd_->ingest_port());
        if (!client.ok()) {
            return client.status().message();
        }
        Status sent = SendPipelined(
            *client, replayed_->events, 1000,
            [](size_t, std::string_view answer) { replayed_->answers.emplace_back(answer); });
        if (!sent.ok()) {
            return sent.message() + "\n" + rmsd_->LogTail();
        }

        std::string target =
            std::string("/v1/kpis/history?from=") + kFirstDay + "&to=" + kLastClosedDay;
        auto history = HttpGet("127.0.0.1", rmsd_->http_port(), target);
        if (!history.ok() || history->status != 200) {
            return "GET " + target + " failed: " +
                   (history.ok() ? std::to_string(history->status) + " " + history->body
                                 : history.status().message());
        }
        if (std::string error = ReadHistory(history->body); !error.empty()) {
            return error;
        }
        auto kpis = HttpGet("127.0.0.1", rmsd_->http_port(), "/v1/kpis");
        if (!kpis.ok() || kpis->status != 200) {
            return "GET /v1/kpis failed";
        }
        replayed_->kpis_body = kpis->body;
        return "";
    }

    static std::string ReadHistory(const std::string& body) {
        simdjson::dom::parser parser;
        element root;
        simdjson::dom::array days;
        if (parser.parse(simdjson::padded_string(body)).get(root) ||
            root["days"].get_array().get(days)) {
            return "the history is not {\"days\": [...]}: " + body.substr(0, 500);
        }
        for (element day : days) {
            std::string_view date;
            element usd;
            if (day["date"].get_string().get(date)) {
                replayed_->history_errors += "a day without a date\n";
                continue;
            }
            replayed_->history_dates.emplace_back(date);
            if (day["currencies"]["USD"].get(usd)) {
                replayed_->history_errors += std::string(date) + ": no USD figures\n";
                continue;
            }
            Figures figures;
            replayed_->history_errors += ReadFigures(usd, &figures, std::string(date));
            replayed_->history[IsoDay(std::string(date))] = figures;
            replayed_->date_of[IsoDay(std::string(date))] = date;
        }
        return "";
    }

    // The engine's USD figures on `date`, or a failure when the history has no such day.
    static const Figures* EngineAt(const std::string& date) {
        auto it = replayed_->history.find(IsoDay(date));
        return it == replayed_->history.end() ? nullptr : &it->second;
    }

    static inline std::unique_ptr<Replayed> replayed_ = std::make_unique<Replayed>();
    static inline std::string setup_error_;
    static inline std::vector<ModelInvoice> model_;
    static inline std::unique_ptr<TempDir> dir_;
    static inline std::unique_ptr<RmsdProcess> rmsd_;
};

TEST_F(IbmCheckTest, EveryEventOfTheSampleIsApplied) {
    ASSERT_EQ(replayed_->answers.size(), replayed_->events.size());
    int failures = 0;
    for (size_t i = 0; i < replayed_->answers.size() && failures < 10; ++i) {
        const std::string& answer = replayed_->answers[i];
        bool applied = answer.find(R"("ok":true)") != std::string::npos &&
                       answer.find("duplicate") == std::string::npos;
        if (!applied) {
            ++failures;
            ADD_FAILURE() << "event " << replayed_->events[i] << "\nanswered " << answer;
        }
    }
}

TEST_F(IbmCheckTest, HistoryHasOneWellFormedDayPerClosedDay) {
    EXPECT_EQ(replayed_->history_errors, "");
    int64_t first = IsoDay(kFirstDay);
    int64_t last = IsoDay(kLastClosedDay);
    ASSERT_EQ(replayed_->history_dates.size(), static_cast<size_t>(last - first + 1));
    for (size_t i = 0; i < replayed_->history_dates.size(); ++i) {
        EXPECT_EQ(IsoDay(replayed_->history_dates[i]), first + static_cast<int64_t>(i))
            << replayed_->history_dates[i];
    }
}

TEST_F(IbmCheckTest, ChosenDaysMatchTheModel) {
    for (const char* date : {"2012-06-30", "2012-12-31", "2013-06-30", kLastInvoiceDay}) {
        SCOPED_TRACE(date);
        const Figures* engine = EngineAt(date);
        ASSERT_NE(engine, nullptr) << "no history entry";
        EXPECT_EQ(Differences(ModelAt(model_, IsoDay(date)), *engine), "");
    }
}

TEST_F(IbmCheckTest, EveryClosedDayMatchesTheModel) {
    int mismatches = 0;
    for (const auto& [day, engine] : replayed_->history) {
        std::string differences = Differences(ModelAt(model_, day), engine);
        if (!differences.empty() && ++mismatches <= 10) {
            ADD_FAILURE() << replayed_->date_of[day] << ":" << differences;
        }
    }
    EXPECT_EQ(mismatches, 0);
}

TEST(IbmModelTest, AgreesWithTheSampleDescription) {
    Result<std::string> csv = ReadFile(kSamplePath);
    ASSERT_TRUE(csv.ok()) << csv.status().message();
    std::vector<ModelInvoice> model = LoadModel(*csv);
    int64_t total = 0;
    int disputed = 0;
    int late = 0;
    for (const ModelInvoice& invoice : model) {
        total += invoice.cents;
        disputed += invoice.disputed ? 1 : 0;
        late += invoice.settled > invoice.due ? 1 : 0;
        EXPECT_EQ(invoice.due - invoice.issued, 30);
    }
    EXPECT_EQ(model.size(), 2466u);
    EXPECT_EQ(total, kSampleTotalCents);
    EXPECT_EQ(disputed, 561);
    EXPECT_EQ(late, 877);
}

// The model's countback walk on three days of sales: 100 on day 10, none on day 9, 300 on day 8.
TEST(IbmModelTest, CountbackWalksBackOverDaysWithoutSales) {
    std::vector<ModelInvoice> model = {
        {.issued = 8, .due = 38, .settled = 100, .cents = 300, .disputed = false},
        {.issued = 10, .due = 40, .settled = 100, .cents = 100, .disputed = false},
    };
    EXPECT_DOUBLE_EQ(Countback(model, 10, 250), 2.5);  // 1 (day 10) + 1 (day 9) + 150 / 300
    EXPECT_DOUBLE_EQ(Countback(model, 10, 100), 1.0);
    EXPECT_DOUBLE_EQ(Countback(model, 10, 40), 0.4);
    EXPECT_DOUBLE_EQ(*ModelAt(model, 10).dso_countback, 3.0);  // 400 open: 100, 0, then 300
}

// Windows of 90 days ending on the last InvoiceDate, and every 90 days before it, tile all the
// InvoiceDates, so their sales_90d add up to the sum of all invoices: 147,703.18.
TEST_F(IbmCheckTest, SalesOfTilingWindowsSumToAllInvoices) {
    int64_t first = IsoDay(kFirstDay);
    int64_t total = 0;
    int64_t end = IsoDay(kLastInvoiceDay);
    for (; end - 89 > first; end -= 90) {
        ASSERT_EQ(replayed_->history.count(end), 1u) << "no day " << end;
        total += replayed_->history.at(end).sales_90d;
    }
    ASSERT_EQ(replayed_->history.count(end), 1u) << "no day " << end;
    total += replayed_->history.at(end).sales_90d;
    EXPECT_EQ(total, kSampleTotalCents);
}

TEST_F(IbmCheckTest, NothingIsOpenAfterTheLastPayment) {
    simdjson::dom::parser parser;
    element root;
    ASSERT_FALSE(parser.parse(simdjson::padded_string(replayed_->kpis_body)).get(root))
        << replayed_->kpis_body;
    std::string_view business_date;
    ASSERT_FALSE(root["business_date"].get_string().get(business_date)) << replayed_->kpis_body;
    EXPECT_EQ(business_date, kLastDay);

    element usd;
    ASSERT_FALSE(root["currencies"]["USD"].get(usd)) << replayed_->kpis_body;
    Figures engine;
    ASSERT_EQ(ReadFigures(usd, &engine, "GET /v1/kpis"), "");
    EXPECT_EQ(engine.open, 0);
    EXPECT_EQ(engine.overdue, 0);
    EXPECT_EQ(engine.disputed, 0);
    EXPECT_EQ(engine.unapplied, 0);
    EXPECT_EQ(Differences(ModelAt(model_, IsoDay(kLastDay)), engine), "");
}

// The busiest figures of the sample, checked by hand against the CSV: on the last InvoiceDate
// (2013-12-02), the open invoices are those issued on or before it and settled after it.
TEST_F(IbmCheckTest, LastInvoiceDayIsOpenForExactlyTheUnsettledInvoices) {
    const Figures* engine = EngineAt(kLastInvoiceDay);
    ASSERT_NE(engine, nullptr);
    int64_t day = IsoDay(kLastInvoiceDay);
    int64_t open = 0;
    for (const ModelInvoice& invoice : model_) {
        open += invoice.settled > day ? invoice.cents : 0;
    }
    EXPECT_GT(open, 0);
    EXPECT_EQ(engine->open, open);
    EXPECT_EQ(engine->open, engine->overdue + engine->aging[0]);
}

}  // namespace
}  // namespace rms
