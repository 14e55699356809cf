#include "bench/pg_baseline.h"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>

#include "engine/event.h"

namespace rms::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kSchema = R"sql(
SET client_min_messages = warning;
DROP TABLE IF EXISTS allocations, payments, credit_notes, promises, contacts, invoices, customers,
  events CASCADE;
CREATE TABLE events (source text NOT NULL, id text NOT NULL, type text NOT NULL,
  date date NOT NULL, body text NOT NULL, PRIMARY KEY (source, id));
CREATE TABLE customers (id text PRIMARY KEY, name text, country text, currency char(3),
  terms_days int, risk text, created date NOT NULL);
CREATE TABLE invoices (id text PRIMARY KEY, customer_id text NOT NULL REFERENCES customers,
  currency char(3) NOT NULL, amount bigint NOT NULL, open_amount bigint NOT NULL,
  issued date NOT NULL, due date NOT NULL, disputed boolean NOT NULL DEFAULT false);
CREATE INDEX invoices_customer ON invoices (customer_id);
CREATE TABLE payments (id text PRIMARY KEY, customer_id text NOT NULL REFERENCES customers,
  currency char(3) NOT NULL, amount bigint NOT NULL, received date NOT NULL);
CREATE TABLE allocations (payment_id text NOT NULL REFERENCES payments,
  invoice_id text NOT NULL REFERENCES invoices, amount bigint NOT NULL);
CREATE TABLE credit_notes (id text PRIMARY KEY, customer_id text NOT NULL REFERENCES customers,
  invoice_id text REFERENCES invoices, currency char(3) NOT NULL, amount bigint NOT NULL,
  issued date NOT NULL);
CREATE TABLE promises (id text PRIMARY KEY, customer_id text NOT NULL REFERENCES customers,
  currency char(3) NOT NULL, amount bigint NOT NULL, made date NOT NULL, due date NOT NULL,
  status text NOT NULL);
CREATE TABLE contacts (customer_id text NOT NULL REFERENCES customers, date date NOT NULL,
  channel text NOT NULL, direction text NOT NULL);
)sql";

struct Statement {
    const char* name;
    const char* sql;
    int params;
};

constexpr std::array<Statement, 10> kStatements = {{
    {"event", "INSERT INTO events VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", 5},
    {"customer",
     "INSERT INTO customers VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET "
     "name = COALESCE(EXCLUDED.name, customers.name), "
     "country = COALESCE(EXCLUDED.country, customers.country), "
     "currency = COALESCE(EXCLUDED.currency, customers.currency), "
     "terms_days = COALESCE(EXCLUDED.terms_days, customers.terms_days), "
     "risk = COALESCE(EXCLUDED.risk, customers.risk)",
     7},
    {"invoice",
     "INSERT INTO invoices (id, customer_id, currency, amount, open_amount, issued, due) "
     "VALUES ($1, $2, $3, $4, $4, $5, $6)",
     6},
    {"payment", "INSERT INTO payments VALUES ($1, $2, $3, $4, $5)", 5},
    {"allocation", "INSERT INTO allocations VALUES ($1, $2, $3)", 3},
    {"take",
     "UPDATE invoices SET open_amount = open_amount - $2 WHERE id = $1 AND customer_id = $3 "
     "AND open_amount >= $2",
     3},
    {"credit_note", "INSERT INTO credit_notes VALUES ($1, $2, $3, $4, $5, $6)", 6},
    {"dispute", "UPDATE invoices SET disputed = $2 WHERE id = $1 AND disputed <> $2", 2},
    {"promise", "INSERT INTO promises VALUES ($1, $2, $3, $4, $5, $6, 'open')", 6},
    {"contact", "INSERT INTO contacts VALUES ($1, $2, $3, $4)", 4},
}};

// Aging buckets and standard DSO per currency at the business date $1, from the tables alone.
constexpr const char* kAgingDso = R"sql(
WITH open_items AS (
  SELECT currency, open_amount, $1::date - due AS dpd FROM invoices WHERE open_amount > 0),
aging AS (
  SELECT currency, sum(open_amount) AS open,
    coalesce(sum(open_amount) FILTER (WHERE dpd <= 0), 0) AS current,
    coalesce(sum(open_amount) FILTER (WHERE dpd BETWEEN 1 AND 30), 0) AS d1_30,
    coalesce(sum(open_amount) FILTER (WHERE dpd BETWEEN 31 AND 60), 0) AS d31_60,
    coalesce(sum(open_amount) FILTER (WHERE dpd BETWEEN 61 AND 90), 0) AS d61_90,
    coalesce(sum(open_amount) FILTER (WHERE dpd BETWEEN 91 AND 120), 0) AS d91_120,
    coalesce(sum(open_amount) FILTER (WHERE dpd > 120), 0) AS d120_plus
  FROM open_items GROUP BY currency),
sales AS (
  SELECT currency, sum(amount) AS sales_90d FROM invoices
  WHERE issued > $1::date - 90 AND issued <= $1::date GROUP BY currency)
SELECT a.*, s.sales_90d, round(a.open::numeric * 90 / NULLIF(s.sales_90d, 0), 2) AS dso
FROM aging a LEFT JOIN sales s USING (currency) ORDER BY currency
)sql";

double Since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

Status PgError(std::string_view what, PGconn* conn) {
    return Status::Error("unavailable", std::string(what) + ": " + PQerrorMessage(conn));
}

// One connection, running prepared statements either one round trip each or pipelined.
class Pg {
public:
    explicit Pg(PGconn* conn, bool pipeline) : conn_(conn), pipeline_(pipeline) {}
    ~Pg() { PQfinish(conn_); }

    Status Exec(const char* sql) {
        std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn_, sql), &PQclear);
        ExecStatusType st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            return PgError("statement failed", conn_);
        }
        return Status::Ok();
    }

    Status Prepare() {
        for (const Statement& s : kStatements) {
            std::unique_ptr<PGresult, decltype(&PQclear)> r(
                PQprepare(conn_, s.name, s.sql, s.params, nullptr), &PQclear);
            if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
                return PgError(std::string("prepare ") + s.name, conn_);
            }
        }
        if (pipeline_ && PQenterPipelineMode(conn_) != 1) {
            return PgError("pipeline mode", conn_);
        }
        return Status::Ok();
    }

    // Runs a prepared statement. Returns the rows it changed (sync) or 1 (pipelined: counted at
    // Commit()).
    Result<int64_t> Run(const char* name, const std::vector<std::string>& params) {
        std::array<const char*, 8> values{};
        // An empty text is SQL NULL: ids are never empty, absent attributes are.
        for (size_t i = 0; i < params.size(); ++i) {
            values[i] = params[i].empty() ? nullptr : params[i].c_str();
        }
        int n = static_cast<int>(params.size());
        ++statements_;
        if (pipeline_) {
            if (PQsendQueryPrepared(conn_, name, n, values.data(), nullptr, nullptr, 0) != 1) {
                return PgError(std::string("send ") + name, conn_);
            }
            return int64_t{1};
        }
        std::unique_ptr<PGresult, decltype(&PQclear)> r(
            PQexecPrepared(conn_, name, n, values.data(), nullptr, nullptr, 0), &PQclear);
        ExecStatusType st = PQresultStatus(r.get());
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            return PgError(std::string("run ") + name, conn_);
        }
        const char* rows = PQcmdTuples(r.get());
        return static_cast<int64_t>(rows[0] == '\0' ? 0 : std::atoll(rows));
    }

    Status Begin() { return Simple("BEGIN"); }

    Status Commit() {
        Status s = Simple("COMMIT");
        if (!s.ok() || !pipeline_) {
            return s;
        }
        if (PQpipelineSync(conn_) != 1) {
            return PgError("pipeline sync", conn_);
        }
        std::string error;
        for (;;) {
            PGresult* r = PQgetResult(conn_);
            if (r == nullptr) {
                continue;
            }
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                break;
            }
            if ((st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED) && error.empty()) {
                error = PQresultErrorMessage(r);
            }
            PQclear(r);
        }
        if (!error.empty()) {
            return Status::Error("unavailable", "pipelined transaction failed: " + error);
        }
        return Status::Ok();
    }

    uint64_t statements() const { return statements_; }

private:
    Status Simple(const char* sql) {
        if (pipeline_) {
            if (PQsendQueryParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
                return PgError(sql, conn_);
            }
            return Status::Ok();
        }
        return Exec(sql);
    }

    PGconn* conn_;
    bool pipeline_;
    uint64_t statements_ = 0;
};

std::string Opt(const std::optional<std::string>& s) {
    return s.value_or("");
}

// Applies one event. Returns false when the events table already held it (a duplicate).
Result<bool> ApplyEvent(Pg& pg, const Event& e, uint64_t* mismatches) {
    std::string date = e.date.ToString();
    Result<int64_t> fresh =
        pg.Run("event", {e.source, e.id, std::string(EventTypeName(e.type)), date, e.canonical});
    if (!fresh.ok()) {
        return fresh.status();
    }
    if (*fresh == 0) {
        return false;
    }
    std::string cur(e.currency.code());
    std::string amount = std::to_string(e.amount);
    auto run = [&](const char* name, std::vector<std::string> params) -> Status {
        Result<int64_t> r = pg.Run(name, params);
        if (!r.ok()) {
            return r.status();
        }
        if (*r == 0) {
            ++*mismatches;
        }
        return Status::Ok();
    };
    Status s = Status::Ok();
    switch (e.type) {
        case EventType::kCustomerUpserted: {
            const CustomerAttributes& a = e.attributes;
            std::string terms = a.terms_days ? std::to_string(*a.terms_days) : "";
            s = run("customer", {e.customer, Opt(a.name), Opt(a.country), Opt(a.currency), terms,
                                 Opt(a.risk), date});
            break;
        }
        case EventType::kInvoiceIssued: {
            Date due = e.due ? *e.due : e.installments.front().due;
            for (const InstallmentSpec& i : e.installments) {
                due = std::min(due, i.due);
            }
            s = run("invoice", {e.invoice, e.customer, cur, amount, date, due.ToString()});
            break;
        }
        case EventType::kPaymentReceived:
            s = run("payment", {e.payment, e.customer, cur, amount, date});
            for (const AllocationSpec& a : e.allocations) {
                if (!s.ok()) {
                    break;
                }
                std::string part = std::to_string(a.amount);
                s = run("allocation", {e.payment, a.invoice, part});
                if (s.ok()) {
                    s = run("take", {a.invoice, part, e.customer});
                }
            }
            break;
        case EventType::kCreditNoteIssued:
            s = run("credit_note", {e.credit_note, e.customer, e.invoice, cur, amount, date});
            if (s.ok() && !e.invoice.empty()) {
                s = run("take", {e.invoice, amount, e.customer});
            }
            break;
        case EventType::kDisputeOpened:
        case EventType::kDisputeResolved:
            s = run("dispute", {e.invoice, e.type == EventType::kDisputeOpened ? "true" : "false"});
            break;
        case EventType::kPromiseMade:
            s = run("promise", {e.promise, e.customer, cur, amount, date, e.due->ToString()});
            break;
        case EventType::kContactLogged:
            s = run("contact", {e.customer, date, e.channel, e.direction});
            break;
        default:
            break;
    }
    if (!s.ok()) {
        return s;
    }
    return true;
}

}  // namespace

Result<Report> RunPostgres(const std::string& stream_path, const std::string& conninfo,
                           size_t txn_events, bool pipeline, const std::string& label) {
    MappedFile file;
    Status opened = file.Open(stream_path);
    if (!opened.ok()) {
        return opened;
    }
    PGconn* conn = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        Status s = PgError("cannot connect", conn);
        PQfinish(conn);
        return s;
    }
    Pg pg(conn, pipeline);
    Status s = pg.Exec(kSchema);
    if (s.ok()) {
        s = pg.Prepare();
    }
    if (!s.ok()) {
        return s;
    }

    uint64_t events = 0;
    uint64_t in_txn = 0;
    uint64_t duplicates = 0;
    uint64_t mismatches = 0;
    uint64_t parse_errors = 0;
    Date business_date;
    auto start = Clock::now();
    ForEachLine(file.view(), [&](std::string_view line) {
        if (!s.ok()) {
            return;
        }
        ParsedLine p = ParseEvent(line);
        ++events;
        if (!p.status.ok()) {
            ++parse_errors;
            return;
        }
        if (in_txn == 0) {
            s = pg.Begin();
        }
        business_date = std::max(business_date, p.event.date);
        Result<bool> applied = ApplyEvent(pg, p.event, &mismatches);
        if (!applied.ok()) {
            s = applied.status();
            return;
        }
        duplicates += *applied ? 0 : 1;
        if (++in_txn == txn_events) {
            s = pg.Commit();
            in_txn = 0;
        }
    });
    if (s.ok() && in_txn > 0) {
        s = pg.Commit();
    }
    double secs = Since(start);
    if (!s.ok()) {
        return s;
    }

    Report r;
    r.AddInt(label + ".events", events);
    r.AddInt(label + ".txn_events", txn_events);
    r.AddInt(label + ".pipeline", pipeline ? 1 : 0);
    r.AddInt(label + ".statements", pg.statements());
    r.AddInt(label + ".parse_errors", parse_errors);
    r.AddInt(label + ".duplicates", duplicates);
    r.AddInt(label + ".rows_unchanged", mismatches);
    r.Add(label + ".seconds", secs);
    r.Add(label + ".events_per_second", static_cast<double>(events) / secs);

    // The query runs on a plain connection: pipeline mode has no place for it.
    PGconn* q = PQconnectdb(conninfo.c_str());
    if (PQstatus(q) != CONNECTION_OK) {
        Status e = PgError("cannot connect", q);
        PQfinish(q);
        return e;
    }
    std::string bd = business_date.ToString();
    const char* params[1] = {bd.c_str()};
    std::vector<double> times;
    int rows = 0;
    for (int i = 0; i < 3; ++i) {
        auto t = Clock::now();
        PGresult* res = PQexecParams(q, kAgingDso, 1, nullptr, params, nullptr, nullptr, 0);
        times.push_back(Since(t));
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            Status e = PgError("aging and DSO query", q);
            PQclear(res);
            PQfinish(q);
            return e;
        }
        rows = PQntuples(res);
        PQclear(res);
    }
    PGresult* size = PQexec(q, "SELECT pg_database_size(current_database())");
    if (PQresultStatus(size) == PGRES_TUPLES_OK && PQntuples(size) == 1) {
        r.AddInt(label + ".database_bytes", std::strtoull(PQgetvalue(size, 0, 0), nullptr, 10));
    }
    PQclear(size);
    PQfinish(q);
    std::sort(times.begin(), times.end());
    r.Add(label + ".aging_dso_query_ms", times[1] * 1e3);
    r.AddInt(label + ".aging_dso_rows", static_cast<uint64_t>(rows));
    return r;
}

}  // namespace rms::bench
