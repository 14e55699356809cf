// Property tests: random event sequences over a few customers and currencies. After every event
// the ledger's invariants hold; a rejected event changes nothing; rebuilding from the applied
// events gives the identical state; the stored records load back to the identical state; and
// interleaving different customers' events in another order gives the same totals.
//
// RMS_PROPERTY_SEQUENCES sets how many sequences run (default 2000).
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>

#include "engine/json_writer.h"
#include "engine/ledger.h"
#include "engine/ledger_codec.h"
#include "storage/store.h"
#include "tests/support/ledger_driver.h"
#include "tests/support/temp_dir.h"

namespace rms {
namespace {

using testing::LedgerDriver;

const Currency kUsd = Currency::FromCode("USD").value();
const Currency kJpy = Currency::FromCode("JPY").value();

int Sequences() {
    const char* env = std::getenv("RMS_PROPERTY_SEQUENCES");
    return env ? std::atoi(env) : 2000;
}

// Builds random protocol lines for one or more customers. Ids are unique per customer, so each
// customer's stream can be interleaved freely with the others'.
class Generator {
public:
    Generator(uint64_t seed, bool with_promises) : rng_(seed), with_promises_(with_promises) {}

    // The next line for `customer` (0-based), at a date that mostly moves forward.
    std::string Next(int customer) {
        CustomerState& c = State(customer);
        if (!c.upserted) {
            c.upserted = true;
            return Line("customer.upserted", c, [](JsonWriter&) {});
        }
        c.day += Pick(0, 4);
        int back = Pick(0, 9) == 0 ? Pick(1, 20) : 0;
        int roll = Pick(0, 99);
        if (roll < 28) {
            return Invoice(c, back);
        }
        if (roll < 52) {
            return Payment(c, back);
        }
        if (roll < 60) {
            return CreditNote(c);
        }
        if (roll < 67) {
            return CreditApplied(c);
        }
        if (roll < 72 && !c.payments.empty()) {
            std::string p = c.payments[Pick(0, c.payments.size() - 1)];
            return Line("payment.reversed", c, [&](JsonWriter& w) { Str(w, "payment", p); });
        }
        if (roll < 77 && !c.invoices.empty()) {
            const auto& inv = c.invoices[Pick(0, c.invoices.size() - 1)];
            return Line("invoice.written_off", c, [&](JsonWriter& w) {
                Str(w, "invoice", inv.first);
                if (Pick(0, 1) == 0) {
                    Str(w, "amount", FormatAmount(Amount(inv.second) / 4 + 1, inv.second));
                }
            });
        }
        if (roll < 85 && !c.invoices.empty()) {
            const auto& inv = c.invoices[Pick(0, c.invoices.size() - 1)];
            bool open = Pick(0, 1) == 0;
            return Line(open ? "dispute.opened" : "dispute.resolved", c,
                        [&](JsonWriter& w) { Str(w, "invoice", inv.first); });
        }
        if (roll < 93 && with_promises_) {
            return Promise(c);
        }
        return Line(
            "clock.advanced", c, [](JsonWriter&) {}, /*with_customer=*/false);
    }

    int Pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

private:
    struct CustomerState {
        int index = 0;
        bool upserted = false;
        int day = 0;
        int next = 0;
        std::vector<std::pair<std::string, Currency>> invoices;
        std::vector<std::string> payments;
        std::vector<std::string> promises;
    };

    CustomerState& State(int customer) {
        while (static_cast<int>(customers_.size()) <= customer) {
            customers_.emplace_back();
            customers_.back().index = static_cast<int>(customers_.size()) - 1;
        }
        return customers_[customer];
    }

    Currency AnyCurrency() { return Pick(0, 3) == 0 ? kJpy : kUsd; }
    int64_t Amount(Currency c) { return c == kJpy ? Pick(1, 500) : Pick(1, 50000); }

    static void Str(JsonWriter& w, std::string_view key, std::string_view value) {
        w.Key(key);
        w.String(value);
    }

    static std::string DateText(int day) { return Date(19723 + day).ToString(); }  // 2024-01-01

    std::string NewId(CustomerState& c, std::string_view kind) {
        return std::string(kind) + std::to_string(c.index) + "-" + std::to_string(c.next++);
    }

    template <typename Fn>
    std::string Line(std::string_view type, CustomerState& c, Fn&& body, bool with_customer = true,
                     int back = 0) {
        std::string out;
        JsonWriter w(&out);
        w.BeginObject();
        Str(w, "id", NewId(c, "e"));
        Str(w, "type", type);
        Str(w, "date", DateText(c.day - back));
        if (with_customer) {
            Str(w, "customer", "C" + std::to_string(c.index));
        }
        body(w);
        w.EndObject();
        return out;
    }

    std::string Invoice(CustomerState& c, int back) {
        Currency cur = AnyCurrency();
        std::string id = NewId(c, "I");
        c.invoices.emplace_back(id, cur);
        int64_t amount = Amount(cur) + 2;
        return Line(
            "invoice.issued", c,
            [&](JsonWriter& w) {
                Str(w, "invoice", id);
                Str(w, "currency", cur.code());
                Str(w, "amount", FormatAmount(amount, cur));
                int due = c.day - back + Pick(0, 60);
                if (Pick(0, 2) != 0) {
                    Str(w, "due", DateText(due));
                    return;
                }
                int64_t first = amount / 2;
                w.Key("installments");
                w.BeginArray();
                for (auto [d, a] : {std::pair{due + 30, amount - first}, std::pair{due, first}}) {
                    w.BeginObject();
                    Str(w, "due", DateText(d));
                    Str(w, "amount", FormatAmount(a, cur));
                    w.EndObject();
                }
                w.EndArray();
            },
            true, back);
    }

    std::string Payment(CustomerState& c, int back) {
        Currency cur = AnyCurrency();
        std::string id = NewId(c, "P");
        c.payments.push_back(id);
        int64_t amount = Amount(cur);
        return Line(
            "payment.received", c,
            [&](JsonWriter& w) {
                Str(w, "payment", id);
                Str(w, "currency", cur.code());
                Str(w, "amount", FormatAmount(amount, cur));
                if (!c.invoices.empty() && Pick(0, 1) == 0) {
                    const auto& inv = c.invoices[Pick(0, c.invoices.size() - 1)];
                    w.Key("allocations");
                    w.BeginArray();
                    w.BeginObject();
                    Str(w, "invoice", inv.first);
                    Str(w, "amount", FormatAmount(std::max<int64_t>(1, amount / 2), cur));
                    w.EndObject();
                    w.EndArray();
                }
            },
            true, back);
    }

    std::string CreditNote(CustomerState& c) {
        Currency cur = AnyCurrency();
        std::string id = NewId(c, "N");
        return Line("credit_note.issued", c, [&](JsonWriter& w) {
            Str(w, "credit_note", id);
            Str(w, "currency", cur.code());
            Str(w, "amount", FormatAmount(Amount(cur) / 3 + 1, cur));
            if (!c.invoices.empty() && Pick(0, 1) == 0) {
                Str(w, "invoice", c.invoices[Pick(0, c.invoices.size() - 1)].first);
            }
        });
    }

    std::string CreditApplied(CustomerState& c) {
        if (c.invoices.empty()) {
            return Line(
                "clock.advanced", c, [](JsonWriter&) {}, false);
        }
        const auto& inv = c.invoices[Pick(0, c.invoices.size() - 1)];
        return Line("credit.applied", c, [&](JsonWriter& w) {
            Str(w, "invoice", inv.first);
            Str(w, "currency", inv.second.code());
            Str(w, "amount", FormatAmount(Amount(inv.second) / 5 + 1, inv.second));
        });
    }

    std::string Promise(CustomerState& c) {
        if (!c.promises.empty() && Pick(0, 2) == 0) {
            std::string p = c.promises[Pick(0, c.promises.size() - 1)];
            return Line("promise.cancelled", c, [&](JsonWriter& w) { Str(w, "promise", p); });
        }
        Currency cur = AnyCurrency();
        std::string id = NewId(c, "R");
        c.promises.push_back(id);
        return Line("promise.made", c, [&](JsonWriter& w) {
            Str(w, "promise", id);
            Str(w, "currency", cur.code());
            Str(w, "amount", FormatAmount(Amount(cur), cur));
            Str(w, "due", DateText(c.day + Pick(0, 10)));
        });
    }

    std::mt19937_64 rng_;
    bool with_promises_;
    std::vector<CustomerState> customers_;
};

// Checks the ledger's invariants from its records, independently of its incremental books.
void ExpectInvariants(const Ledger& ledger, const std::string& context) {
    struct Sums {
        int64_t issued = 0, credited = 0, paid = 0, written_off = 0, open = 0, unapplied = 0;
        int64_t disputed = 0;
    };
    std::map<std::pair<uint32_t, Currency>, Sums> by_customer;
    std::map<Currency, Sums> by_currency;
    for (const InvoiceRec& inv : ledger.invoices()) {
        Sums& s = by_customer[{inv.customer, inv.currency}];
        s.issued += inv.amount;
        s.written_off += inv.written_off;
        for (const InstallmentRec& i : inv.installments) {
            ASSERT_GE(i.open, 0) << context;
            ASSERT_LE(i.open, i.amount) << context;
            s.open += i.open;
            if (inv.disputed) {
                s.disputed += i.open;
            }
        }
    }
    auto add_credit = [&](const CreditRec& c, bool payment) {
        Sums& s = by_customer[{c.customer, c.currency}];
        int64_t used = 0;
        for (const auto* apps : {&c.applied, &c.from_credit}) {
            for (const Application& a : *apps) {
                used += a.amount;
            }
        }
        ASSERT_GE(c.unapplied, 0) << context;
        if (payment && c.reversed) {
            EXPECT_EQ(c.unapplied, 0) << context;
            return;
        }
        EXPECT_EQ(used + c.unapplied, c.amount) << context << " credit " << c.id;
        (payment ? s.paid : s.credited) += used;
        s.unapplied += c.unapplied;
    };
    for (const CreditRec& p : ledger.payments()) {
        add_credit(p, true);
    }
    for (const CreditRec& n : ledger.credit_notes()) {
        add_credit(n, false);
    }
    for (const auto& [key, s] : by_customer) {
        SCOPED_TRACE(context + " customer " + ledger.customers()[key.first].id + " " +
                     std::string(key.second.code()));
        EXPECT_EQ(s.open, s.issued - s.credited - s.paid - s.written_off);
        Figures f = ledger.CustomerFigures(ledger.customers()[key.first])[key.second];
        int64_t buckets = 0;
        for (int64_t b : f.aging) {
            buckets += b;
        }
        EXPECT_EQ(buckets, s.open);
        EXPECT_EQ(f.open, s.open);
        EXPECT_EQ(f.unapplied, s.unapplied);
        Sums& total = by_currency[key.second];
        total.open += s.open;
        total.unapplied += s.unapplied;
        total.disputed += s.disputed;
    }
    for (const auto& [currency, book] : ledger.books()) {
        SCOPED_TRACE(context + " book " + std::string(currency.code()));
        Figures f = ledger.CurrencyFiguresNow(currency);
        EXPECT_EQ(f.open, by_currency[currency].open);
        EXPECT_EQ(f.unapplied, by_currency[currency].unapplied);
        EXPECT_EQ(f.disputed, by_currency[currency].disputed);
        EXPECT_EQ(f.overdue, f.open - f.aging[0]);
    }
    // The promise tallies the KPIs read, against a count over every promise.
    struct PromiseCount {
        std::array<int64_t, 4> by_status{};
        int64_t kept = 0, broken = 0;  // in the 90 days to the business date
    };
    std::map<Currency, PromiseCount> promises;
    for (const PromiseRec& p : ledger.promises()) {
        PromiseCount& n = promises[p.currency];
        ++n.by_status[static_cast<size_t>(p.status)];
        if (ledger.business_date() && *ledger.business_date() - p.status_date < kWindowDays) {
            n.kept += p.status == PromiseStatus::kKept ? 1 : 0;
            n.broken += p.status == PromiseStatus::kBroken ? 1 : 0;
        }
    }
    ASSERT_EQ(ledger.promise_tallies().size(), promises.size()) << context;
    for (const auto& [currency, n] : promises) {
        SCOPED_TRACE(context + " promises in " + std::string(currency.code()));
        EXPECT_EQ(ledger.promise_tallies().at(currency).by_status, n.by_status);
        std::optional<double> rate;
        if (n.kept + n.broken > 0) {
            rate = static_cast<double>(n.kept) / static_cast<double>(n.kept + n.broken);
        }
        EXPECT_EQ(ledger.PromiseKeptRate(currency), rate);
    }
}

TEST(LedgerPropertyTest, InvariantsHoldAfterEveryEventAndRejectionsLeaveNoTrace) {
    int sequences = Sequences();
    std::map<std::string, int> applied_by_type;
    int sent = 0;
    for (int seq = 0; seq < sequences; ++seq) {
        Generator gen(1000 + seq, /*with_promises=*/true);
        LedgerDriver driver;
        for (int i = 0; i < 40; ++i) {
            std::string line = gen.Next(gen.Pick(0, 2));
            std::string before = DumpState(driver.ledger());
            Status s = driver.Send(line);
            ++sent;
            if (s.ok()) {
                ++applied_by_type[ParseEvent(line).event.type == EventType::kClockAdvanced
                                      ? "clock.advanced"
                                      : std::string(EventTypeName(ParseEvent(line).event.type))];
            }
            std::string context =
                "seed " + std::to_string(1000 + seq) + " event " + std::to_string(i) + ": " + line;
            if (!s.ok()) {
                ASSERT_EQ(DumpState(driver.ledger()), before) << context << " -> " << s.code();
                ASSERT_NE(s.code(), "invalid_json") << context;
            }
            ExpectInvariants(driver.ledger(), context);
            if (::testing::Test::HasFailure()) {
                return;
            }
        }
        LedgerDriver rebuilt;
        for (const std::string& line : driver.applied()) {
            ASSERT_TRUE(rebuilt.Send(line).ok()) << line;
        }
        ASSERT_EQ(DumpState(rebuilt.ledger()), DumpState(driver.ledger()))
            << "seed " << 1000 + seq << ": replaying the applied events gave another state";
    }
    // The generator must exercise every ledger type, mostly with events that apply.
    int applied = 0;
    for (const auto& [type, n] : applied_by_type) {
        applied += n;
    }
    EXPECT_GT(applied * 2, sent);
    for (const char* type :
         {"invoice.issued", "payment.received", "credit_note.issued", "credit.applied",
          "payment.reversed", "invoice.written_off", "dispute.opened", "dispute.resolved",
          "promise.made", "promise.cancelled"}) {
        EXPECT_GT(applied_by_type[type], sequences / 20) << type;
    }
}

TEST(LedgerPropertyTest, StoredRecordsLoadBackToTheSameState) {
    for (int seq = 0; seq < 20; ++seq) {
        Generator gen(5000 + seq, /*with_promises=*/true);
        LedgerDriver driver;
        Result<TempDir> dir = TempDir::Create("property");
        ASSERT_TRUE(dir.ok());
        Result<std::unique_ptr<storage::Store>> store =
            storage::Store::Open(dir->path(), storage::StoreOptions{false, 0, 1 << 20});
        ASSERT_TRUE(store.ok()) << store.status().message();
        // Commit after every few events, as the engine would, writing only dirty records.
        for (int i = 0; i < 60; ++i) {
            static_cast<void>(driver.Send(gen.Next(gen.Pick(0, 2))));
            if (i % 7 == 6 || i == 59) {
                storage::Batch batch;
                EncodeDirty(driver.ledger(), driver.ledger().TakeDirty(), i + 1, &batch);
                ASSERT_TRUE((*store)->Commit(batch).ok());
            }
        }
        Result<LoadedState> loaded = LoadState(**store, LedgerOptions());
        ASSERT_TRUE(loaded.ok()) << loaded.status().message();
        EXPECT_EQ(DumpState(*loaded->ledger), DumpState(driver.ledger())) << "seed " << 5000 + seq;
        for (const auto& [currency, book] : driver.ledger().books()) {
            Figures a = driver.ledger().CurrencyFiguresNow(currency);
            Figures b = loaded->ledger->CurrencyFiguresNow(currency);
            EXPECT_EQ(a.aging, b.aging);
            EXPECT_EQ(a.sales_window, b.sales_window);
            EXPECT_EQ(a.disputed, b.disputed);
        }
    }
}

// A restart sizes its vectors from each kind's last key and trusts records to be numbered 0, 1,
// ... (a record's number is its index, which other records refer to). A store missing one is
// damaged and says so, naming the kind and the number, rather than loading with every later
// record shifted; an invoice whose customer record is gone is refused too.
TEST(LedgerPropertyTest, AStoreMissingANumberedRecordIsReportedDamaged) {
    auto big_endian = [](char kind, uint32_t n) {
        std::string key(1, kind);
        for (int shift = 24; shift >= 0; shift -= 8) {
            key.push_back(static_cast<char>((n >> shift) & 0xff));
        }
        return key;
    };
    for (const auto& [kind, number, message] :
         {std::tuple{'i', 1u, std::string("stored records of kind 'i' miss number 1")},
          std::tuple{'c', 1u, std::string("names a customer that is not stored")},
          std::tuple{'i', 9u, std::string()}}) {
        LedgerDriver driver;
        for (std::string c : {"C0", "C1"}) {
            ASSERT_TRUE(driver
                            .Send(R"({"id":"c-)" + c + R"(","type":"customer.upserted",)" +
                                  R"("date":"2024-01-01","customer":")" + c + R"("})")
                            .ok());
        }
        for (int i = 0; i < 3; ++i) {
            std::string n = std::to_string(i);
            ASSERT_TRUE(driver
                            .Send(R"({"id":"i-)" + n + R"(","type":"invoice.issued",)" +
                                  R"("date":"2024-01-0)" + std::to_string(i + 1) +
                                  R"(","invoice":"I)" + n + R"(","customer":"C)" +
                                  std::to_string(i == 0 ? 0 : 1) +
                                  R"(","amount":"10.00","currency":"USD","due":"2024-02-01"})")
                            .ok());
        }
        Result<TempDir> dir = TempDir::Create("damaged");
        ASSERT_TRUE(dir.ok());
        Result<std::unique_ptr<storage::Store>> store =
            storage::Store::Open(dir->path(), storage::StoreOptions{false, 0, 1 << 20});
        ASSERT_TRUE(store.ok()) << store.status().message();
        storage::Batch batch;
        EncodeDirty(driver.ledger(), driver.ledger().TakeDirty(), 6, &batch);
        batch.Delete(big_endian(kind, number));  // for 'i' 9: a record that never was
        if (kind ==
            'c') {  // the segment changes name the customer too: they go, to reach the invoices
            for (uint32_t g = 0; g < driver.ledger().segment_changes().size(); ++g) {
                batch.Delete(big_endian('g', g));
            }
        }
        ASSERT_TRUE((*store)->Commit(batch).ok());
        Result<LoadedState> loaded = LoadState(**store, LedgerOptions());
        if (message.empty()) {
            ASSERT_TRUE(loaded.ok()) << loaded.status().message();
            EXPECT_EQ(DumpState(*loaded->ledger), DumpState(driver.ledger()));
            continue;
        }
        ASSERT_FALSE(loaded.ok()) << kind << number;
        EXPECT_EQ(loaded.status().code(), "unavailable");
        EXPECT_NE(loaded.status().message().find(message), std::string::npos)
            << loaded.status().message();
    }
}

TEST(LedgerPropertyTest, InterleavingCustomersInAnotherOrderGivesTheSameTotals) {
    int sequences = Sequences() / 4;
    for (int seq = 0; seq < sequences; ++seq) {
        Generator gen(9000 + seq, /*with_promises=*/false);
        std::vector<std::vector<std::string>> streams(3);
        for (int c = 0; c < 3; ++c) {
            for (int i = 0; i < 25; ++i) {
                streams[c].push_back(gen.Next(c));
            }
        }
        auto run = [&](uint64_t order_seed) {
            auto driver = std::make_unique<LedgerDriver>();
            std::mt19937_64 rng(order_seed);
            std::vector<size_t> pos(3, 0);
            for (;;) {
                std::vector<int> live;
                for (int c = 0; c < 3; ++c) {
                    if (pos[c] < streams[c].size()) {
                        live.push_back(c);
                    }
                }
                if (live.empty()) {
                    break;
                }
                int c = live[rng() % live.size()];
                static_cast<void>(driver->Send(streams[c][pos[c]++]));
            }
            static_cast<void>(
                driver->Send(R"({"id":"end","type":"clock.advanced","date":"2026-01-01"})"));
            return driver;
        };
        auto a = run(1);
        auto b = run(2);
        SCOPED_TRACE("seed " + std::to_string(9000 + seq));
        ASSERT_EQ(a->ledger().books().size(), b->ledger().books().size());
        for (const auto& [currency, book] : a->ledger().books()) {
            Figures fa = a->ledger().CurrencyFiguresNow(currency);
            Figures fb = b->ledger().CurrencyFiguresNow(currency);
            EXPECT_EQ(fa.aging, fb.aging);
            EXPECT_EQ(fa.disputed, fb.disputed);
            EXPECT_EQ(fa.unapplied, fb.unapplied);
            EXPECT_EQ(fa.written_off, fb.written_off);
            EXPECT_EQ(fa.sales_window, fb.sales_window);
        }
        for (const CustomerRec& c : a->ledger().customers()) {
            auto fa = a->ledger().CustomerFigures(c);
            auto fb = b->ledger().CustomerFigures(*b->ledger().FindCustomer(c.id));
            for (const auto& [currency, f] : fa) {
                EXPECT_EQ(f.aging, fb[currency].aging) << c.id;
                EXPECT_EQ(f.unapplied, fb[currency].unapplied) << c.id;
            }
        }
        if (::testing::Test::HasFailure()) {
            return;
        }
    }
}

}  // namespace
}  // namespace rms
