#include "engine/outbox.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <future>

#include "engine/json_writer.h"
#include "engine/money.h"

namespace rms {

namespace {

using Clock = std::chrono::steady_clock;

// What a step without a template sends.
const Template kDefaultTemplate{"", "{action}: {step}",
                                "{action} for customer {customer} ({customer_name}), "
                                "invoice {invoice}: {open} {currency} open, due {due}.\n"
                                "Overdue in all: {overdue}.\n"};

int64_t WallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string Join(const std::map<Currency, Figures>& figures, int64_t Figures::*member) {
    std::string out;
    for (const auto& [currency, f] : figures) {
        if (f.*member > 0) {
            out += (out.empty() ? "" : ", ") + FormatAmount(f.*member, currency) + " " +
                   std::string(currency.code());
        }
    }
    return out.empty() ? "0" : out;
}

// The template fields of an action, from the ledger as it is now.
std::map<std::string, std::string> FieldsOf(const Ledger& ledger, const ActionRec& a) {
    const CustomerRec& c = ledger.customers()[a.customer];
    std::map<Currency, Figures> figures = ledger.CustomerFigures(c);
    std::map<std::string, std::string> v = {
        {"customer", c.id},
        {"customer_name", c.attributes.name.value_or(c.id)},
        {"email", c.attributes.email.value_or("")},
        {"phone", c.attributes.phone.value_or("")},
        {"overdue", Join(figures, &Figures::overdue)},
        {"open", Join(figures, &Figures::open)},
        {"business_date", ledger.business_date() ? ledger.business_date()->ToString() : ""},
        {"step_date", a.step_date.ToString()},
        {"strategy", a.strategy},
        {"step", a.step},
        {"action", std::string(rules::ActionKindName(a.kind))},
        {"action_key", a.key},
        {"action_id", std::to_string(a.id)},
        {"caused_by", a.caused_by},
    };
    if (const InvoiceRec* inv = a.invoice.empty() ? nullptr : ledger.FindInvoice(a.invoice)) {
        const InstallmentRec* oldest = inv->OldestOpen();
        Date due = oldest ? oldest->due : inv->installments.back().due;
        v["invoice"] = inv->id;
        v["currency"] = std::string(inv->currency.code());
        v["amount"] = FormatAmount(inv->amount, inv->currency);
        v["open"] = FormatAmount(inv->open(), inv->currency);
        v["due"] = due.ToString();
        v["days_past_due"] = std::to_string(ledger.DaysPastDue(due));
    }
    return v;
}

std::string WebhookJson(const ActionRec& a, const std::string& route,
                        const std::map<std::string, std::string>& v, const OutgoingMessage& m,
                        uint32_t attempt) {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("action_id");
    w.Int(static_cast<int64_t>(a.id));
    w.Key("key");
    w.String(a.key);
    w.Key("attempt");
    w.Int(attempt);
    w.Key("channel");
    w.String(route);
    for (const char* name :
         {"action", "strategy", "step", "customer", "customer_name", "email", "phone", "invoice",
          "currency", "amount", "open", "due", "step_date", "caused_by"}) {
        auto it = v.find(name);
        if (it != v.end() && !it->second.empty()) {
            w.Key(name);
            w.String(it->second);
        }
    }
    w.Key("to");
    w.String(m.to);
    w.Key("subject");
    w.String(m.subject);
    w.Key("text");
    w.String(m.body);
    w.EndObject();
    return out;
}

}  // namespace

Outbox::Outbox(Engine* engine, DeliveryConfig config)
    : engine_(engine), config_(std::move(config)) {}

Outbox::~Outbox() {
    Stop();
}

void Outbox::Start() {
    InitChannels();
    engine_->SetActionListener([this] { Wake(); });
    engine_->SetRedeliveryListener([this](uint32_t index) { Redriven(index); });
    std::string routes;
    for (const auto& [name, c] : config_.channels) {
        routes += (routes.empty() ? "" : ", ") + name;
    }
    spdlog::info("outbox: {} delivery threads, channels: {}", config_.threads,
                 routes.empty() ? "none" : routes);
    for (int i = 0; i < config_.threads; ++i) {
        threads_.emplace_back([this] { Worker(); });
    }
}

void Outbox::Stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    abort_ = true;
    cv_.notify_all();
    for (std::thread& t : threads_) {
        t.join();
    }
    threads_.clear();
}

void Outbox::Wake() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        rescan_ = true;
    }
    cv_.notify_one();
}

void Outbox::Redriven(uint32_t index) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!known_.insert(index).second) {
            redriven_.insert(index);
            return;
        }
        Schedule(index, 0);
    }
    cv_.notify_one();
}

void Outbox::Release(uint32_t index) {
    if (redriven_.erase(index) > 0) {
        Schedule(index, 0);
        cv_.notify_one();
        return;
    }
    known_.erase(index);
}

void Outbox::Schedule(uint32_t index, int64_t delay_ms) {
    schedule_.emplace(Clock::now() + std::chrono::milliseconds(std::max<int64_t>(0, delay_ms)),
                      index);
}

void Outbox::Scan() {
    size_t scanned = 0;
    {
        // Under the lock: another worker may be scanning too, and writes scanned_ when done.
        std::lock_guard<std::mutex> lock(mu_);
        scanned = scanned_;
    }
    std::vector<std::pair<uint32_t, int64_t>> found;
    std::set<std::string> missing;
    size_t end = engine_->Read([&](const Ledger& ledger) {
        const auto& actions = ledger.actions();
        size_t from = scanned <= actions.size() ? scanned : 0;  // a reload may have shrunk it
        int64_t now = WallMs();
        for (size_t i = from; i < actions.size(); ++i) {
            const ActionRec& a = actions[i];
            if (a.status != "pending") {
                continue;
            }
            std::string route = ActionRoute(a);
            if (config_.channels.count(route) == 0) {
                missing.insert(route);
                continue;
            }
            found.emplace_back(static_cast<uint32_t>(i), a.next_attempt_ms - now);
        }
        return actions.size();
    });
    std::lock_guard<std::mutex> lock(mu_);
    scanned_ = end;
    for (auto [index, delay] : found) {
        if (known_.insert(index).second) {
            Schedule(index, delay);
        }
    }
    for (const std::string& route : missing) {
        if (unrouted_.insert(route).second) {
            spdlog::warn("outbox: no channel \"{}\" in the delivery file; its actions stay pending",
                         route);
        }
    }
}

void Outbox::Worker() {
    std::mt19937_64 random(std::random_device{}());
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
        if (rescan_) {
            rescan_ = false;
            lock.unlock();
            Scan();
            lock.lock();
            continue;
        }
        if (schedule_.empty()) {
            cv_.wait(lock, [this] { return stopping_ || rescan_ || !schedule_.empty(); });
            continue;
        }
        auto first = schedule_.begin();
        if (first->first > Clock::now()) {
            // A copy: wait_until reads its deadline while the lock is released, and another
            // worker may take (erase) this entry meanwhile.
            const Clock::time_point due = first->first;
            cv_.wait_until(lock, due);
            continue;
        }
        uint32_t index = first->second;
        schedule_.erase(first);
        lock.unlock();
        Deliver(index, random);
        lock.lock();
    }
}

Outbox::Prepared Outbox::Prepare(uint32_t index) const {
    return engine_->Read([&](const Ledger& ledger) {
        Prepared p;
        if (index >= ledger.actions().size() || ledger.actions()[index].status != "pending") {
            p.drop = true;
            return p;
        }
        const ActionRec& a = ledger.actions()[index];
        p.action_id = a.id;
        p.key = a.key;
        p.route = ActionRoute(a);
        p.attempt = a.attempts + 1;
        auto channel = config_.channels.find(p.route);
        if (channel == config_.channels.end()) {
            p.drop = true;
            return p;
        }
        std::string name =
            a.template_name.empty() ? channel->second.template_name : a.template_name;
        const Template* tpl = &kDefaultTemplate;
        if (!name.empty()) {
            auto it = config_.templates.find(name);
            if (it == config_.templates.end()) {
                p.template_error = "template \"" + name + "\" is not in the delivery file";
                return p;
            }
            tpl = &it->second;
        }
        std::map<std::string, std::string> values = FieldsOf(ledger, a);
        const CustomerRec& c = ledger.customers()[a.customer];
        bool mail = channel->second.kind == ChannelKind::kSmtp;
        p.message.idempotency_key = a.key;
        p.message.to = mail ? c.attributes.email.value_or("")
                            : c.attributes.phone.value_or(c.attributes.email.value_or(""));
        p.message.subject = RenderTemplate(tpl->subject, values);
        p.message.body = RenderTemplate(tpl->body, values);
        if (!mail) {
            p.message.json = WebhookJson(a, p.route, values, p.message, p.attempt);
        }
        return p;
    });
}

void Outbox::Deliver(uint32_t index, std::mt19937_64& random) {
    Prepared p = Prepare(index);
    if (p.drop) {
        std::lock_guard<std::mutex> lock(mu_);
        Release(index);
        return;
    }
    SendResult sent;
    if (!p.template_error.empty()) {
        sent.permanent = true;
        sent.error = p.template_error;
    } else {
        const ChannelConfig& channel = config_.channels.at(p.route);
        sent = channel.kind == ChannelKind::kSmtp ? SendSmtp(channel, p.message, &abort_)
                                                  : SendWebhook(channel, p.message, &abort_);
    }
    if (sent.aborted) {
        return;  // shutting down: it stays pending and goes out after the restart
    }
    DeliveryOutcome o;
    o.action_id = p.action_id;
    o.key = p.key;
    o.attempt = p.attempt;
    o.error = sent.error;
    int64_t delay = BackoffMs(static_cast<int>(p.attempt), config_.backoff_initial_ms,
                              config_.backoff_max_ms, random());
    if (sent.ok) {
        o.result = "delivered";
    } else if (sent.permanent || static_cast<int>(p.attempt) >= config_.max_attempts) {
        o.result = "dead_letter";
    } else {
        o.result = "retry";
        o.next_attempt_ms = WallMs() + delay;
    }
    spdlog::debug("outbox: action {} attempt {} on {}: {} {}", p.action_id, p.attempt, p.route,
                  o.result, o.error);
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> recorded = done->get_future();
    engine_->RecordDelivery(o, [done](Status s) { done->set_value(std::move(s)); });
    Status s = recorded.get();

    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok()) {
        // Not recorded (the store refused the commit): the attempt is as if it never happened.
        spdlog::warn("outbox: the result of action {} attempt {} was not recorded: {}", p.action_id,
                     p.attempt, s.message());
        if (s.code() == "unavailable") {
            Schedule(index, delay);
            cv_.notify_one();
        } else {
            Release(index);
        }
        return;
    }
    if (o.result == "retry") {
        Schedule(index, delay);
        cv_.notify_one();
        return;
    }
    Release(index);
    if (o.result == "dead_letter") {
        spdlog::error("outbox: action {} ({}) dead-lettered after {} attempts: {}", p.action_id,
                      p.key, p.attempt, o.error);
    }
}

}  // namespace rms
