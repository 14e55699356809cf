#include "tools/loadgen_stream.h"

#include <algorithm>
#include <array>
#include <map>

#include "engine/event.h"
#include "engine/money.h"

namespace rms::loadgen {

namespace {

constexpr std::array<std::string_view, 3> kCurrencies = {"USD", "EUR", "GBP"};
constexpr std::array<std::string_view, 6> kCountries = {"US", "DE", "GB", "FR", "NL", "CA"};
constexpr std::array<std::string_view, 3> kRisks = {"low", "medium", "high"};

std::vector<std::string_view> SplitCsvLine(std::string_view line) {
    std::vector<std::string_view> fields;
    for (;;) {
        size_t comma = line.find(',');
        fields.push_back(line.substr(0, comma));
        if (comma == std::string_view::npos) {
            return fields;
        }
        line.remove_prefix(comma + 1);
    }
}

Status CsvError(size_t line, std::string_view column, std::string_view value) {
    return Status::Error("invalid_csv", "line " + std::to_string(line) + ", column " +
                                            std::string(column) + ": \"" + std::string(value) +
                                            "\" does not read");
}

void AppendPadded(std::string* out, uint64_t n, int width) {
    char buf[24];
    int len = 0;
    do {
        buf[len++] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    for (int i = len; i < width; ++i) {
        out->push_back('0');
    }
    while (len > 0) {
        out->push_back(buf[--len]);
    }
}

// Cents as a protocol money string: "55.94", "0.07".
void AppendMoney(std::string* out, uint64_t cents) {
    out->push_back('"');
    AppendPadded(out, cents / 100, 1);
    out->push_back('.');
    AppendPadded(out, cents % 100, 2);
    out->push_back('"');
}

void AppendField(std::string* out, std::string_view key, std::string_view quoted_value) {
    out->append(",\"");
    out->append(key);
    out->append("\":");
    out->append(quoted_value);
}

void AppendText(std::string* out, std::string_view key, std::string_view text) {
    out->append(",\"");
    out->append(key);
    out->append("\":\"");
    out->append(text);
    out->push_back('"');
}

void AppendId(std::string* out, std::string_view key, char prefix, uint64_t n, int width) {
    out->append(",\"");
    out->append(key);
    out->append("\":\"");
    out->push_back(prefix);
    AppendPadded(out, n, width);
    out->push_back('"');
}

constexpr int kCustomerWidth = 7;
constexpr int kItemWidth = 9;

}  // namespace

uint64_t Mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

Result<IbmProfile> IbmProfileFromCsv(std::string_view csv_text) {
    IbmProfile profile;
    std::map<std::string_view, size_t> columns;
    size_t line_no = 0;
    size_t disputed = 0;
    while (!csv_text.empty()) {
        size_t nl = csv_text.find('\n');
        std::string_view line = csv_text.substr(0, nl);
        csv_text.remove_prefix(nl == std::string_view::npos ? csv_text.size() : nl + 1);
        ++line_no;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            continue;
        }
        std::vector<std::string_view> fields = SplitCsvLine(line);
        if (columns.empty()) {
            for (size_t i = 0; i < fields.size(); ++i) {
                columns[fields[i]] = i;
            }
            for (std::string_view c :
                 {"InvoiceDate", "DueDate", "InvoiceAmount", "Disputed", "SettledDate"}) {
                if (columns.count(c) == 0) {
                    return Status::Error("invalid_csv",
                                         "the header has no column " + std::string(c));
                }
            }
            continue;
        }
        auto field = [&](std::string_view c) -> std::string_view {
            size_t i = columns[c];
            return i < fields.size() ? fields[i] : std::string_view();
        };
        std::optional<Date> issued = ParseUsDate(field("InvoiceDate"));
        std::optional<Date> due = ParseUsDate(field("DueDate"));
        std::optional<Date> settled = ParseUsDate(field("SettledDate"));
        Result<int64_t> amount = ParseAmount(field("InvoiceAmount"), *Currency::FromCode("USD"));
        if (!issued) {
            return CsvError(line_no, "InvoiceDate", field("InvoiceDate"));
        }
        if (!due || *due < *issued) {
            return CsvError(line_no, "DueDate", field("DueDate"));
        }
        if (!settled || *settled < *issued) {
            return CsvError(line_no, "SettledDate", field("SettledDate"));
        }
        if (!amount.ok()) {
            return CsvError(line_no, "InvoiceAmount", field("InvoiceAmount"));
        }
        profile.amounts.push_back(*amount);
        profile.terms_days.push_back(*due - *issued);
        profile.settle_days.push_back(*settled - *issued);
        disputed += field("Disputed") == "Yes" ? 1 : 0;
    }
    if (profile.amounts.empty()) {
        return Status::Error("invalid_csv", "the sample has no data rows");
    }
    profile.disputed_share =
        static_cast<double>(disputed) / static_cast<double>(profile.amounts.size());
    return profile;
}

StreamGenerator::StreamGenerator(const IbmProfile& profile, const StreamOptions& options)
    : profile_(profile), options_(options), state_(Mix64(options.seed ^ 0x5eed)) {
    options_.days = std::max<int32_t>(options_.days, 1);
    calendar_.resize(static_cast<size_t>(options_.days));
    invoice_customer_.reserve(options_.invoices);
    summary_.last_date = options_.start.AddDays(options_.days - 1);
}

uint64_t StreamGenerator::Random() {
    state_ += 0x9e3779b97f4a7c15ull;
    return Mix64(state_);
}

uint64_t StreamGenerator::Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Random()) * n) >> 64);
}

bool StreamGenerator::Percent(int percent) {
    return static_cast<int>(Below(100)) < percent;
}

void StreamGenerator::Schedule(int32_t day, Action action) {
    if (day < options_.days) {
        calendar_[static_cast<size_t>(day)].push_back(action);
    }
}

const std::string& StreamGenerator::DayText(int32_t day) {
    while (day_texts_.size() <= static_cast<size_t>(day)) {
        day_texts_.push_back(
            options_.start.AddDays(static_cast<int32_t>(day_texts_.size())).ToString());
    }
    return day_texts_[static_cast<size_t>(day)];
}

void StreamGenerator::Head(std::string_view id_prefix, uint64_t n, std::string_view type,
                           std::string_view source, int32_t day, std::string* out) {
    out->append("{\"id\":\"");
    out->append(id_prefix);
    AppendPadded(out, n, kItemWidth);
    out->push_back('"');
    AppendText(out, "type", type);
    AppendText(out, "source", source);
    AppendText(out, "date", DayText(day));
}

bool StreamGenerator::Next(std::string* out) {
    size_t start = out->size();
    EventType type;
    if (next_customer_ < options_.customers) {
        WriteCustomer(next_customer_++, out);
        type = EventType::kCustomerUpserted;
    } else {
        for (;;) {
            if (day_ >= options_.days) {
                summary_.invoices = invoice_customer_.size();
                summary_.open_invoices = summary_.invoices - settled_;
                return false;
            }
            uint64_t n = options_.invoices;
            uint64_t d = static_cast<uint64_t>(day_);
            uint64_t due_today = n * (d + 1) / static_cast<uint64_t>(options_.days) -
                                 n * d / static_cast<uint64_t>(options_.days);
            if (issued_today_ < due_today) {
                ++issued_today_;
                WriteInvoice(out);
                type = EventType::kInvoiceIssued;
                break;
            }
            std::vector<Action>& today = calendar_[static_cast<size_t>(day_)];
            if (!actions_sorted_) {
                std::stable_sort(today.begin(), today.end(),
                                 [](const Action& a, const Action& b) { return a.step < b.step; });
                actions_sorted_ = true;
            }
            if (action_ < today.size()) {
                const Action& a = today[action_++];
                WriteAction(a, out);
                static constexpr std::array<EventType, 6> kTypes = {
                    EventType::kCreditNoteIssued, EventType::kDisputeOpened,
                    EventType::kContactLogged,    EventType::kPromiseMade,
                    EventType::kDisputeResolved,  EventType::kPaymentReceived,
                };
                type = kTypes[static_cast<size_t>(a.step)];
                break;
            }
            std::vector<Action>().swap(today);
            ++day_;
            issued_today_ = 0;
            action_ = 0;
            actions_sorted_ = false;
        }
    }
    ++summary_.events;
    summary_.bytes += out->size() - start + 1;
    ++summary_.by_type[static_cast<size_t>(type)];
    return true;
}

uint64_t StreamGenerator::CustomerTraits(uint32_t customer) const {
    return Mix64(options_.seed ^ (uint64_t{customer} << 8));
}

// 80 % of customers bill in USD, 15 % in EUR, 5 % in GBP.
std::string_view StreamGenerator::CurrencyOf(uint32_t customer) const {
    uint64_t c = (CustomerTraits(customer) >> 8) % 100;
    return kCurrencies[c < 80 ? 0 : c < 95 ? 1 : 2];
}

void StreamGenerator::WriteCustomer(uint32_t customer, std::string* out) {
    uint64_t h = CustomerTraits(customer);
    Head("cust-", customer, "customer.upserted", "crm", 0, out);
    AppendId(out, "customer", 'C', customer, kCustomerWidth);
    out->append(",\"name\":\"Customer ");
    AppendPadded(out, customer, 1);
    out->push_back('"');
    AppendText(out, "country", kCountries[h % kCountries.size()]);
    AppendText(out, "currency", CurrencyOf(customer));
    AppendField(out, "terms_days", "30");
    AppendText(out, "risk", kRisks[(h >> 16) % kRisks.size()]);
    out->push_back('}');
}

void StreamGenerator::WriteInvoice(std::string* out) {
    uint32_t n = static_cast<uint32_t>(invoice_customer_.size());
    uint32_t customer = static_cast<uint32_t>(Below(options_.customers));
    invoice_customer_.push_back(customer);
    size_t row = Below(profile_.amounts.size());
    uint64_t amount = static_cast<uint64_t>(profile_.amounts[row]);
    int32_t terms = profile_.terms_days[Below(profile_.terms_days.size())];
    int32_t settle = profile_.settle_days[Below(profile_.settle_days.size())];
    bool disputed = Below(1000000) < static_cast<uint64_t>(profile_.disputed_share * 1e6);
    bool partial = Percent(options_.partial_percent) && amount >= 100 && settle >= 2;
    bool credit = Percent(options_.credit_note_percent) && amount >= 100;
    bool installments = Percent(options_.installment_percent) && amount >= 2;
    bool promise = settle > terms && Percent(options_.promise_percent);

    Head("inv-", n, "invoice.issued", "billing", day_, out);
    AppendId(out, "customer", 'C', customer, kCustomerWidth);
    AppendId(out, "invoice", 'I', n, kItemWidth);
    AppendText(out, "currency", CurrencyOf(customer));
    out->append(",\"amount\":");
    AppendMoney(out, amount);
    if (installments) {
        out->append(",\"installments\":[{\"due\":\"");
        out->append(DayText(day_ + terms));
        out->append("\",\"amount\":");
        AppendMoney(out, amount / 2);
        out->append("},{\"due\":\"");
        out->append(DayText(day_ + terms + 30));
        out->append("\",\"amount\":");
        AppendMoney(out, amount - amount / 2);
        out->append("}]");
    } else {
        AppendText(out, "due", DayText(day_ + terms));
    }
    out->push_back('}');

    int32_t settle_day = day_ + settle;
    uint64_t rest = amount;
    if (partial) {
        uint32_t part = static_cast<uint32_t>(amount * 40 / 100);
        rest -= part;
        Schedule(day_ + settle / 2, Action{n, part, Step::kPayment, 0, 0});
    }
    if (credit) {
        uint32_t part = static_cast<uint32_t>(amount / 10);
        rest -= part;
        Schedule(day_ + static_cast<int32_t>(Below(static_cast<uint64_t>(settle) + 1)),
                 Action{n, part, Step::kCreditNote, 0, 0});
    }
    if (disputed) {
        int32_t opened = day_ + static_cast<int32_t>(Below(static_cast<uint64_t>(settle / 3) + 1));
        Schedule(opened, Action{n, 0, Step::kDisputeOpened, 0, 0});
        Schedule(settle_day, Action{n, 0, Step::kDisputeResolved, 0, 0});
    }
    if (promise) {
        int32_t call = day_ + terms + 1;
        int32_t due = settle_day;
        if (Percent(25)) {
            due = std::max(call, settle_day - 1 - static_cast<int32_t>(Below(3)));
        }
        uint16_t offset = static_cast<uint16_t>(due - call);
        Schedule(call, Action{n, 0, Step::kContact, 0, 0});
        Schedule(call, Action{n, static_cast<uint32_t>(rest), Step::kPromise, 0, offset});
    }
    Schedule(settle_day, Action{n, static_cast<uint32_t>(rest), Step::kPayment, 1, 0});
    if (settle_day < options_.days) {
        ++settled_;
    }
}

void StreamGenerator::WriteAction(const Action& a, std::string* out) {
    uint32_t customer = invoice_customer_[a.invoice];
    std::string_view currency = CurrencyOf(customer);
    switch (a.step) {
        case Step::kCreditNote:
            Head("cn-", credit_notes_, "credit_note.issued", "billing", day_, out);
            AppendId(out, "credit_note", 'N', credit_notes_++, kItemWidth);
            AppendId(out, "customer", 'C', customer, kCustomerWidth);
            AppendId(out, "invoice", 'I', a.invoice, kItemWidth);
            AppendText(out, "currency", currency);
            out->append(",\"amount\":");
            AppendMoney(out, a.amount);
            break;
        case Step::kDisputeOpened:
            Head("dsp-", a.invoice, "dispute.opened", "crm", day_, out);
            AppendId(out, "invoice", 'I', a.invoice, kItemWidth);
            AppendId(out, "customer", 'C', customer, kCustomerWidth);
            AppendText(out, "reason", "pricing");
            break;
        case Step::kDisputeResolved:
            Head("res-", a.invoice, "dispute.resolved", "crm", day_, out);
            AppendId(out, "invoice", 'I', a.invoice, kItemWidth);
            AppendId(out, "customer", 'C', customer, kCustomerWidth);
            AppendText(out, "outcome", "upheld");
            break;
        case Step::kContact:
            Head("call-", contacts_++, "contact.logged", "crm", day_, out);
            AppendId(out, "customer", 'C', customer, kCustomerWidth);
            AppendText(out, "channel", "phone");
            AppendText(out, "direction", "outbound");
            AppendText(out, "outcome", "promise");
            break;
        case Step::kPromise:
            Head("prm-", promises_, "promise.made", "crm", day_, out);
            AppendId(out, "promise", 'R', promises_++, kItemWidth);
            AppendId(out, "customer", 'C', customer, kCustomerWidth);
            AppendText(out, "currency", currency);
            out->append(",\"amount\":");
            AppendMoney(out, a.amount);
            AppendText(out, "due", DayText(day_ + a.promise_due));
            out->append(",\"invoices\":[\"I");
            AppendPadded(out, a.invoice, kItemWidth);
            out->append("\"]");
            break;
        case Step::kPayment:
            Head("pay-", payments_, "payment.received", "bank", day_, out);
            AppendId(out, "payment", 'P', payments_++, kItemWidth);
            AppendId(out, "customer", 'C', customer, kCustomerWidth);
            AppendText(out, "currency", currency);
            out->append(",\"amount\":");
            AppendMoney(out, a.amount);
            out->append(",\"allocations\":[{\"invoice\":\"I");
            AppendPadded(out, a.invoice, kItemWidth);
            out->append("\",\"amount\":");
            AppendMoney(out, a.amount);
            out->append("}]");
            break;
    }
    out->push_back('}');
}

}  // namespace rms::loadgen
