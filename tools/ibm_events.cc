#include "tools/ibm_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>

#include "engine/currency.h"
#include "engine/date.h"
#include "engine/json_writer.h"
#include "engine/money.h"

namespace rms {
namespace {

enum Column {
    kCountry,
    kCustomer,
    kInvoice,
    kInvoiceDate,
    kDueDate,
    kAmount,
    kDisputed,
    kSettledDate,
    kColumnCount,
};

constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "countryCode", "customerID",    "invoiceNumber", "InvoiceDate",
    "DueDate",     "InvoiceAmount", "Disputed",      "SettledDate",
};

// An event id is a prefix ("ibm-cust-" the longest) and a CSV value; the protocol caps ids.
constexpr size_t kLongestIdPrefix = std::string_view("ibm-cust-").size();
constexpr size_t kMaxIdLength = 128;

// The event groups of a day, in sending order.
enum Phase { kCustomers, kInvoices, kDisputesOpened, kDisputesResolved, kPayments };

struct Line {
    size_t number;  // from 1, the header included
    std::string_view text;
};

struct Row {
    size_t row;   // data row, from 1
    size_t line;  // file line, from 1
    std::string_view country;
    std::string_view customer;
    std::string_view invoice;
    std::string_view amount;
    Date invoice_date;
    Date due_date;
    Date settled_date;
    bool disputed = false;
};

struct PendingEvent {
    Date date;
    Phase phase;
    size_t row;
    std::string json;
};

// The non-blank lines of `text`, without their "\r\n" or "\n".
std::vector<Line> SplitLines(std::string_view text) {
    std::vector<Line> lines;
    size_t number = 0;
    while (!text.empty()) {
        ++number;
        size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (!line.empty()) {
            lines.push_back({number, line});
        }
    }
    return lines;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
    std::vector<std::string_view> fields;
    while (true) {
        size_t comma = line.find(',');
        fields.push_back(line.substr(0, comma));
        if (comma == std::string_view::npos) {
            return fields;
        }
        line.remove_prefix(comma + 1);
    }
}

std::string Where(const Row& row) {
    return fmt::format("row {} (line {})", row.row, row.line);
}

Status FieldError(std::string_view code, const Row& row, Column column, std::string_view what) {
    return Status::Error(code,
                         fmt::format("{}, column {}: {}", Where(row), kColumnNames[column], what));
}

// Finds each needed column in the header; the index of column c is (*indexes)[c].
Status FindColumns(const Line& header, std::array<size_t, kColumnCount>* indexes) {
    std::vector<std::string_view> names = SplitFields(header.text);
    for (size_t c = 0; c < kColumnCount; ++c) {
        auto it = std::find(names.begin(), names.end(), kColumnNames[c]);
        if (it == names.end()) {
            return Status::Error("invalid_csv", fmt::format("line {}: the header has no column {}",
                                                            header.number, kColumnNames[c]));
        }
        (*indexes)[c] = static_cast<size_t>(it - names.begin());
    }
    return Status::Ok();
}

Status ParseId(const Row& row, Column column, std::string_view text) {
    if (text.empty()) {
        return FieldError("invalid_field", row, column, "is empty");
    }
    if (text.size() + kLongestIdPrefix > kMaxIdLength) {
        return FieldError(
            "invalid_field", row, column,
            fmt::format("\"{}\" is too long for an event id ({} characters)", text, text.size()));
    }
    return Status::Ok();
}

Status ParseUsDateField(const Row& row, Column column, std::string_view text, Date* date) {
    std::optional<Date> parsed = ParseUsDate(text);
    if (!parsed) {
        return FieldError("invalid_date", row, column,
                          fmt::format("\"{}\" is not a M/D/YYYY date", text));
    }
    *date = *parsed;
    return Status::Ok();
}

Result<Row> ParseRow(const Line& line, size_t row_number, size_t header_fields,
                     const std::array<size_t, kColumnCount>& indexes) {
    Row row;
    row.row = row_number;
    row.line = line.number;
    std::vector<std::string_view> fields = SplitFields(line.text);
    if (fields.size() != header_fields) {
        return Status::Error("invalid_csv", fmt::format("{}: {} fields, the header has {}",
                                                        Where(row), fields.size(), header_fields));
    }
    if (line.text.find('"') != std::string_view::npos) {
        return Status::Error("invalid_csv",
                             fmt::format("{}: quoted fields are not supported", Where(row)));
    }
    auto field = [&](Column c) { return fields[indexes[c]]; };

    row.country = field(kCountry);
    row.customer = field(kCustomer);
    row.invoice = field(kInvoice);
    row.amount = field(kAmount);
    for (Column c : {kCountry, kCustomer, kInvoice}) {
        if (Status s = ParseId(row, c, field(c)); !s.ok()) {
            return s;
        }
    }
    for (auto [c, date] :
         {std::pair{kInvoiceDate, &row.invoice_date}, std::pair{kDueDate, &row.due_date},
          std::pair{kSettledDate, &row.settled_date}}) {
        if (Status s = ParseUsDateField(row, c, field(c), date); !s.ok()) {
            return s;
        }
    }
    if (row.settled_date < row.invoice_date) {
        return FieldError("invalid_date", row, kSettledDate,
                          fmt::format("\"{}\" is before InvoiceDate \"{}\"", field(kSettledDate),
                                      field(kInvoiceDate)));
    }
    if (auto amount = ParseAmount(row.amount, *Currency::FromCode("USD")); !amount.ok()) {
        return FieldError("invalid_amount", row, kAmount, amount.status().message());
    }
    if (field(kDisputed) != "Yes" && field(kDisputed) != "No") {
        return FieldError("invalid_field", row, kDisputed,
                          fmt::format("\"{}\" is neither Yes nor No", field(kDisputed)));
    }
    row.disputed = field(kDisputed) == "Yes";
    return row;
}

// Starts an event object with its common fields; the caller adds the rest and closes it.
void BeginEvent(JsonWriter& w, std::string_view id_prefix, std::string_view id_value,
                std::string_view type, Date date) {
    w.BeginObject();
    w.Key("id");
    w.String(fmt::format("{}{}", id_prefix, id_value));
    w.Key("type");
    w.String(type);
    w.Key("date");
    w.String(date.ToString());
}

void Member(JsonWriter& w, std::string_view key, std::string_view value) {
    w.Key(key);
    w.String(value);
}

std::string CustomerUpserted(const Row& row) {
    std::string out;
    JsonWriter w(&out);
    BeginEvent(w, "ibm-cust-", row.customer, "customer.upserted", row.invoice_date);
    Member(w, "customer", row.customer);
    Member(w, "country", row.country);
    w.EndObject();
    return out;
}

std::string InvoiceIssued(const Row& row) {
    std::string out;
    JsonWriter w(&out);
    BeginEvent(w, "ibm-inv-", row.invoice, "invoice.issued", row.invoice_date);
    Member(w, "invoice", row.invoice);
    Member(w, "customer", row.customer);
    Member(w, "amount", row.amount);
    Member(w, "currency", "USD");
    Member(w, "due", row.due_date.ToString());
    w.EndObject();
    return out;
}

std::string DisputeEvent(const Row& row, bool opened) {
    std::string out;
    JsonWriter w(&out);
    if (opened) {
        BeginEvent(w, "ibm-dsp-", row.invoice, "dispute.opened", row.invoice_date);
    } else {
        BeginEvent(w, "ibm-res-", row.invoice, "dispute.resolved", row.settled_date);
    }
    Member(w, "invoice", row.invoice);
    Member(w, "customer", row.customer);
    w.EndObject();
    return out;
}

std::string PaymentReceived(const Row& row) {
    std::string out;
    JsonWriter w(&out);
    BeginEvent(w, "ibm-pay-", row.invoice, "payment.received", row.settled_date);
    Member(w, "payment", fmt::format("pay-{}", row.invoice));
    Member(w, "customer", row.customer);
    Member(w, "amount", row.amount);
    Member(w, "currency", "USD");
    w.Key("allocations");
    w.BeginArray();
    w.BeginObject();
    Member(w, "invoice", row.invoice);
    Member(w, "amount", row.amount);
    w.EndObject();
    w.EndArray();
    w.EndObject();
    return out;
}

Result<std::vector<Row>> ParseRows(std::string_view csv_text) {
    if (csv_text.substr(0, 3) == "\xEF\xBB\xBF") {
        csv_text.remove_prefix(3);
    }
    std::vector<Line> lines = SplitLines(csv_text);
    if (lines.empty()) {
        return Status::Error("invalid_csv", "the file has no header line");
    }
    std::array<size_t, kColumnCount> indexes{};
    if (Status s = FindColumns(lines[0], &indexes); !s.ok()) {
        return s;
    }
    size_t header_fields = SplitFields(lines[0].text).size();

    std::vector<Row> rows;
    std::map<std::string_view, size_t> row_of_invoice;
    for (size_t i = 1; i < lines.size(); ++i) {
        Result<Row> row = ParseRow(lines[i], i, header_fields, indexes);
        if (!row.ok()) {
            return row.status();
        }
        auto [it, inserted] = row_of_invoice.emplace(row->invoice, row->row);
        if (!inserted) {
            return FieldError(
                "invalid_csv", *row, kInvoice,
                fmt::format("invoice \"{}\" is also on row {}", row->invoice, it->second));
        }
        rows.push_back(std::move(row).value());
    }
    return rows;
}

}  // namespace

Result<std::vector<std::string>> IbmSampleToEvents(std::string_view csv_text) {
    Result<std::vector<Row>> rows = ParseRows(csv_text);
    if (!rows.ok()) {
        return rows.status();
    }

    // Each customer is upserted from its earliest row: the first InvoiceDate, ties to the
    // earlier row.
    std::map<std::string_view, const Row*> first_row;
    for (const Row& row : *rows) {
        auto [it, inserted] = first_row.emplace(row.customer, &row);
        if (!inserted && row.invoice_date < it->second->invoice_date) {
            it->second = &row;
        }
    }

    std::vector<PendingEvent> pending;
    for (const auto& [customer, row] : first_row) {
        pending.push_back({row->invoice_date, kCustomers, row->row, CustomerUpserted(*row)});
    }
    for (const Row& row : *rows) {
        pending.push_back({row.invoice_date, kInvoices, row.row, InvoiceIssued(row)});
        if (row.disputed) {
            pending.push_back(
                {row.invoice_date, kDisputesOpened, row.row, DisputeEvent(row, true)});
            pending.push_back(
                {row.settled_date, kDisputesResolved, row.row, DisputeEvent(row, false)});
        }
        pending.push_back({row.settled_date, kPayments, row.row, PaymentReceived(row)});
    }
    std::sort(pending.begin(), pending.end(), [](const PendingEvent& a, const PendingEvent& b) {
        return std::tie(a.date, a.phase, a.row) < std::tie(b.date, b.phase, b.row);
    });

    std::vector<std::string> events;
    events.reserve(pending.size());
    for (PendingEvent& event : pending) {
        events.push_back(std::move(event.json));
    }
    return events;
}

Result<std::string> ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Status::Error("io_error",
                             fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    }
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) {
        return Status::Error("io_error", fmt::format("cannot read {}", path));
    }
    return content.str();
}

}  // namespace rms
