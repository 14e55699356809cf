#include "engine/channels.h"

#include <curl/curl.h>
#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "engine/event.h"

namespace rms {

namespace {

constexpr std::string_view kRouteNames[] = {"email",      "phone",       "whatsapp", "sms",
                                            "letter",     "portal",      "other",    "call",
                                            "escalation", "credit_hold", "reminder"};

std::string Line(const toml::node& n) {
    return "line " + std::to_string(n.source().begin.line);
}

// Collects the errors of one file, each as "origin: line N: where: message".
class Errors {
public:
    explicit Errors(std::string_view origin) : origin_(origin) {}
    void Add(const toml::node& n, std::string_view where, const std::string& message) {
        list_.push_back(origin_ + ": " + Line(n) + ": " + std::string(where) + ": " + message);
    }
    bool empty() const { return list_.empty(); }
    Status ToStatus() const {
        std::string all;
        for (const std::string& e : list_) {
            all += (all.empty() ? "" : "\n") + e;
        }
        return Status::Error("invalid_config", all);
    }

private:
    std::string origin_;
    std::vector<std::string> list_;
};

bool IsKnownField(std::string_view name) {
    return std::find(std::begin(kTemplateFields), std::end(kTemplateFields), name) !=
           std::end(kTemplateFields);
}

void ReadInt(const toml::table& t, std::string_view key, int64_t lo, int64_t hi, int64_t* out,
             std::string_view where, Errors* errors) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return;
    }
    std::optional<int64_t> v = n->is_integer() ? n->value<int64_t>() : std::nullopt;
    if (!v || *v < lo || *v > hi) {
        errors->Add(*n, where,
                    std::string(key) + " must be a whole number from " + std::to_string(lo) +
                        " to " + std::to_string(hi));
        return;
    }
    *out = *v;
}

void ReadString(const toml::table& t, std::string_view key, std::string* out,
                std::string_view where, Errors* errors) {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
        return;
    }
    std::optional<std::string> v = n->value<std::string>();
    if (!v) {
        errors->Add(*n, where, std::string(key) + " must be a string");
        return;
    }
    *out = *v;
}

void RejectUnknown(const toml::table& t, std::initializer_list<std::string_view> known,
                   std::string_view where, Errors* errors) {
    for (const auto& [key, node] : t) {
        if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
            errors->Add(node, where, "unknown key \"" + std::string(key.str()) + "\"");
        }
    }
}

// "env:NAME" is the value of $NAME, so that secrets need not sit in the file.
std::string Resolve(const std::string& value) {
    if (!value.starts_with("env:")) {
        return value;
    }
    const char* v = std::getenv(value.c_str() + 4);
    return v == nullptr ? std::string() : std::string(v);
}

bool HasControl(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

void ParseChannel(const std::string& name, const toml::table& t, DeliveryConfig* config,
                  Errors* errors) {
    std::string where = "channels." + name;
    RejectUnknown(t,
                  {"kind", "url", "from", "username", "password", "headers", "template",
                   "timeout_ms", "starttls"},
                  where, errors);
    ChannelConfig c;
    c.name = name;
    std::string kind;
    ReadString(t, "kind", &kind, where, errors);
    ReadString(t, "url", &c.url, where, errors);
    ReadString(t, "from", &c.from, where, errors);
    ReadString(t, "username", &c.username, where, errors);
    ReadString(t, "password", &c.password, where, errors);
    ReadString(t, "template", &c.template_name, where, errors);
    std::string starttls = "required";
    ReadString(t, "starttls", &starttls, where, errors);
    if (starttls == "off") {
        c.starttls = false;
    } else if (starttls != "required") {
        errors->Add(t, where, "starttls must be \"required\" or \"off\"");
    }
    int64_t timeout = c.timeout_ms;
    ReadInt(t, "timeout_ms", 1, 600000, &timeout, where, errors);
    c.timeout_ms = static_cast<int>(timeout);
    if (std::find(std::begin(kRouteNames), std::end(kRouteNames), name) == std::end(kRouteNames)) {
        errors->Add(t, where, "\"" + name + "\" is neither a channel nor an action kind");
    }
    if (kind == "smtp") {
        c.kind = ChannelKind::kSmtp;
        if (!c.url.starts_with("smtp://") && !c.url.starts_with("smtps://")) {
            errors->Add(t, where, "an smtp channel's url must start with smtp:// or smtps://");
        }
        if (c.from.empty() || c.from.find('@') == std::string::npos || HasControl(c.from)) {
            errors->Add(t, where, "an smtp channel needs from, an e-mail address");
        }
        if (!c.starttls && c.url.starts_with("smtp://") && !c.username.empty()) {
            errors->Add(t, where,
                        "starttls = \"off\" with a username would send the password in clear; "
                        "use smtps:// or STARTTLS");
        }
    } else if (kind == "webhook") {
        c.kind = ChannelKind::kWebhook;
        if (!c.url.starts_with("http://") && !c.url.starts_with("https://")) {
            errors->Add(t, where, "a webhook's url must start with http:// or https://");
        }
    } else {
        errors->Add(t, where, "kind must be \"smtp\" or \"webhook\"");
    }
    if (const toml::node* h = t.get("headers")) {
        const toml::table* ht = h->as_table();
        if (ht == nullptr) {
            errors->Add(*h, where, "headers must be a table of strings");
        } else {
            for (const auto& [key, node] : *ht) {
                std::optional<std::string> v = node.value<std::string>();
                std::string_view k = key.str();
                bool bad_name = k.empty() || HasControl(k) || k.find(':') != std::string::npos ||
                                k.find(' ') != std::string::npos;
                if (!v || bad_name || HasControl(*v)) {
                    errors->Add(node, where,
                                "header \"" + std::string(k) +
                                    "\" must be a name without ':' or spaces and a string value");
                    continue;
                }
                c.headers.emplace_back(std::string(k), *v);
            }
        }
    }
    config->channels.emplace(name, std::move(c));
}

void ParseTemplate(const std::string& name, const toml::table& t, DeliveryConfig* config,
                   Errors* errors) {
    std::string where = "templates." + name;
    RejectUnknown(t, {"subject", "body"}, where, errors);
    Template tpl;
    tpl.name = name;
    ReadString(t, "subject", &tpl.subject, where, errors);
    ReadString(t, "body", &tpl.body, where, errors);
    if (t.get("body") == nullptr) {
        errors->Add(t, where, "body is required");
    }
    for (auto [part, text] : {std::pair{"subject", &tpl.subject}, std::pair{"body", &tpl.body}}) {
        Result<std::vector<std::string>> fields = TemplateFieldsOf(*text);
        if (!fields.ok()) {
            const toml::node* n = t.get(part);
            errors->Add(n ? *n : static_cast<const toml::node&>(t), where,
                        std::string(part) + ": " + fields.status().message());
        }
    }
    if (HasControl(tpl.subject)) {
        errors->Add(t, where, "subject must be one line");
    }
    config->templates.emplace(name, std::move(tpl));
}

}  // namespace

Result<std::vector<std::string>> TemplateFieldsOf(std::string_view text) {
    std::vector<std::string> fields;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            ++i;  // a doubled brace is a literal one
            continue;
        }
        if (c == '}') {
            return Status::Error("invalid_config", "a lone '}' (write }} for a literal one)");
        }
        if (c != '{') {
            continue;
        }
        size_t close = text.find('}', i + 1);
        if (close == std::string_view::npos) {
            return Status::Error("invalid_config", "a '{' is not closed (write {{ for a literal)");
        }
        std::string name(text.substr(i + 1, close - i - 1));
        if (!IsKnownField(name)) {
            std::string known;
            for (std::string_view f : kTemplateFields) {
                known += (known.empty() ? "" : ", ") + std::string(f);
            }
            return Status::Error("invalid_config",
                                 "unknown field {" + name + "}; the fields are " + known);
        }
        fields.push_back(std::move(name));
        i = close;
    }
    return fields;
}

std::string RenderTemplate(std::string_view text,
                           const std::map<std::string, std::string>& values) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            out.push_back(c);
            ++i;
            continue;
        }
        size_t close = c == '{' ? text.find('}', i + 1) : std::string_view::npos;
        if (close == std::string_view::npos) {
            out.push_back(c);
            continue;
        }
        auto it = values.find(std::string(text.substr(i + 1, close - i - 1)));
        if (it != values.end()) {
            out += it->second;
        }
        i = close;
    }
    return out;
}

Result<DeliveryConfig> ParseDelivery(std::string_view toml_text, std::string_view origin) {
    toml::table table;
    try {
        table = toml::parse(toml_text, std::string(origin));
    } catch (const toml::parse_error& e) {
        return Status::Error("invalid_config", std::string(origin) + ": line " +
                                                   std::to_string(e.source().begin.line) + ": " +
                                                   std::string(e.description()));
    }
    DeliveryConfig config;
    Errors errors(origin);
    RejectUnknown(table, {"delivery", "channels", "templates"}, "top level", &errors);
    if (const toml::table* d = table["delivery"].as_table()) {
        RejectUnknown(*d, {"max_attempts", "backoff_initial_ms", "backoff_max_ms", "threads"},
                      "delivery", &errors);
        int64_t attempts = config.max_attempts;
        int64_t threads = config.threads;
        ReadInt(*d, "max_attempts", 1, 100, &attempts, "delivery", &errors);
        ReadInt(*d, "threads", 1, 16, &threads, "delivery", &errors);
        ReadInt(*d, "backoff_initial_ms", 1, 3600000, &config.backoff_initial_ms, "delivery",
                &errors);
        ReadInt(*d, "backoff_max_ms", 1, 86400000, &config.backoff_max_ms, "delivery", &errors);
        config.max_attempts = static_cast<int>(attempts);
        config.threads = static_cast<int>(threads);
        if (config.backoff_max_ms < config.backoff_initial_ms) {
            errors.Add(*d, "delivery", "backoff_max_ms is below backoff_initial_ms");
        }
    }
    for (std::string_view section : {"channels", "templates"}) {
        const toml::node* n = table.get(section);
        if (n == nullptr) {
            continue;
        }
        const toml::table* t = n->as_table();
        if (t == nullptr) {
            errors.Add(*n, section, "must be a table of tables");
            continue;
        }
        for (const auto& [key, node] : *t) {
            const toml::table* entry = node.as_table();
            std::string name(key.str());
            if (entry == nullptr) {
                errors.Add(node, std::string(section) + "." + name, "must be a table");
            } else if (section == "channels") {
                ParseChannel(name, *entry, &config, &errors);
            } else {
                ParseTemplate(name, *entry, &config, &errors);
            }
        }
    }
    for (const auto& [name, c] : config.channels) {
        if (!c.template_name.empty() && config.templates.count(c.template_name) == 0) {
            errors.Add(*table["channels"][name]["template"].node(), "channels." + name,
                       "template \"" + c.template_name + "\" is not defined");
        }
    }
    if (!errors.empty()) {
        return errors.ToStatus();
    }
    for (auto& [name, c] : config.channels) {
        c.password = Resolve(c.password);
        for (auto& [header, value] : c.headers) {
            value = Resolve(value);
        }
    }
    return config;
}

Result<DeliveryConfig> LoadDeliveryFile(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return Status::Error("invalid_config", path + ": not a regular file");
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
        return Status::Error("invalid_config", path + ": cannot be read");
    }
    return ParseDelivery(text.str(), path);
}

Status CheckTemplateNames(const DeliveryConfig& delivery, const rules::RulesConfig& rules,
                          std::string_view origin) {
    std::string all;
    for (const rules::Strategy& s : rules.strategies) {
        for (const rules::Step& step : s.steps) {
            if (!step.template_name.empty() && delivery.templates.count(step.template_name) == 0) {
                all += (all.empty() ? "" : "\n") + std::string(origin) + ": strategy \"" + s.name +
                       "\" step \"" + step.name + "\" names template \"" + step.template_name +
                       "\", which the delivery file does not define";
            }
        }
    }
    return all.empty() ? Status::Ok() : Status::Error("invalid_config", all);
}

int64_t BackoffMs(int attempt, int64_t initial_ms, int64_t max_ms, uint64_t random) {
    int64_t step = initial_ms;
    for (int i = 1; i < attempt && step < max_ms; ++i) {
        step *= 2;
    }
    step = std::min(step, max_ms);
    int64_t half = step / 2;
    return step - half + static_cast<int64_t>(random % static_cast<uint64_t>(half + 1));
}

// ---------------------------------------------------------------------------------------------
// Connectors

namespace {

std::once_flag curl_once;

struct Upload {
    std::string data;
    size_t pos = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
    Upload* u = static_cast<Upload*>(user);
    size_t n = std::min(size * count, u->data.size() - u->pos);
    std::copy_n(u->data.data() + u->pos, n, buffer);
    u->pos += n;
    return n;
}

size_t Discard(char*, size_t size, size_t count, void*) {
    return size * count;
}

int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const std::atomic<bool>* stop = static_cast<const std::atomic<bool>*>(user);
    return stop != nullptr && stop->load() ? 1 : 0;
}

// A curl easy handle and the lists it borrows, freed together.
struct Transfer {
    CURL* curl = curl_easy_init();
    curl_slist* list = nullptr;
    ~Transfer() {
        curl_slist_free_all(list);
        curl_easy_cleanup(curl);
    }
};

void CommonOptions(CURL* curl, const ChannelConfig& c, const std::atomic<bool>* stop) {
    curl_easy_setopt(curl, CURLOPT_URL, c.url.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(c.timeout_ms));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(c.timeout_ms));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(stop));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
    // Only the schemes the file allows: no redirect may take a request elsewhere.
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
}

SendResult Finish(CURL* curl, CURLcode code, bool smtp) {
    SendResult r;
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (code == CURLE_ABORTED_BY_CALLBACK) {
        r.aborted = true;
        r.error = "aborted at shutdown";
        return r;
    }
    if (code != CURLE_OK) {
        r.error = std::string(curl_easy_strerror(code));
        if (status != 0) {
            r.error += " (server answered " + std::to_string(status) + ")";
        }
        // An SMTP 5xx is a refusal for good (unknown recipient, policy); 4xx is "try later".
        r.permanent = smtp && status >= 500 && status < 600;
        return r;
    }
    if (smtp || (status >= 200 && status < 300)) {
        r.ok = true;
        return r;
    }
    r.error = "HTTP " + std::to_string(status);
    // 408 and 429 ask to come back; other 4xx say the request itself is wrong.
    r.permanent = status >= 400 && status < 500 && status != 408 && status != 429;
    return r;
}

std::string Base64(std::string_view in) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t v = static_cast<uint8_t>(in[i]) << 16;
        if (i + 1 < in.size()) {
            v |= static_cast<uint8_t>(in[i + 1]) << 8;
        }
        if (i + 2 < in.size()) {
            v |= static_cast<uint8_t>(in[i + 2]);
        }
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
        out.push_back(i + 2 < in.size() ? kAlphabet[v & 63] : '=');
    }
    return out;
}

// A header value as RFC 5322 wants it: plain when ASCII, else an RFC 2047 encoded word.
std::string HeaderText(std::string_view s) {
    bool ascii = std::all_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
    return ascii ? std::string(s) : "=?UTF-8?B?" + Base64(s) + "?=";
}

}  // namespace

std::string HeaderSafe(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f || c == '%') {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        } else {
            out.push_back(ch);
        }
    }
    return out;
}

namespace {

std::string CrLf(std::string_view body) {
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\n' && (i == 0 || body[i - 1] != '\r')) {
            out.push_back('\r');
        }
        out.push_back(body[i]);
    }
    return out;
}

std::string MailDate() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

}  // namespace

void InitChannels() {
    std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

SendResult SendSmtp(const ChannelConfig& c, const OutgoingMessage& m,
                    const std::atomic<bool>* stop) {
    if (m.to.empty()) {
        return SendResult{false, true, false, "the customer has no e-mail address"};
    }
    Transfer t;
    if (t.curl == nullptr) {
        return SendResult{false, false, false, "curl_easy_init failed"};
    }
    CommonOptions(t.curl, c, stop);
    Upload upload;
    upload.data = "From: " + c.from + "\r\nTo: " + m.to + "\r\nSubject: " + HeaderText(m.subject) +
                  "\r\nDate: " + MailDate() + "\r\nMessage-ID: <" +
                  std::to_string(StableHash(m.idempotency_key)) + "@rms>\r\n" +
                  "Idempotency-Key: " + HeaderText(m.idempotency_key) +
                  "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                  "Content-Transfer-Encoding: 8bit\r\n\r\n" +
                  CrLf(m.body) + "\r\n";
    t.list = curl_slist_append(t.list, m.to.c_str());
    curl_easy_setopt(t.curl, CURLOPT_MAIL_FROM, c.from.c_str());
    curl_easy_setopt(t.curl, CURLOPT_MAIL_RCPT, t.list);
    if (c.starttls && c.url.starts_with("smtp://")) {
        // Without it libcurl speaks plain SMTP even when the relay offers STARTTLS, and would
        // send AUTH in clear. Required: a relay that cannot upgrade fails the attempt.
        curl_easy_setopt(t.curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    }
    if (!c.username.empty()) {
        curl_easy_setopt(t.curl, CURLOPT_USERNAME, c.username.c_str());
        curl_easy_setopt(t.curl, CURLOPT_PASSWORD, c.password.c_str());
    }
    curl_easy_setopt(t.curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(t.curl, CURLOPT_READFUNCTION, &ReadUpload);
    curl_easy_setopt(t.curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(t.curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload.data.size()));
    return Finish(t.curl, curl_easy_perform(t.curl), true);
}

SendResult SendWebhook(const ChannelConfig& c, const OutgoingMessage& m,
                       const std::atomic<bool>* stop) {
    Transfer t;
    if (t.curl == nullptr) {
        return SendResult{false, false, false, "curl_easy_init failed"};
    }
    CommonOptions(t.curl, c, stop);
    t.list = curl_slist_append(t.list, "Content-Type: application/json");
    t.list =
        curl_slist_append(t.list, ("Idempotency-Key: " + HeaderSafe(m.idempotency_key)).c_str());
    for (const auto& [name, value] : c.headers) {
        t.list = curl_slist_append(t.list, (name + ": " + value).c_str());
    }
    curl_easy_setopt(t.curl, CURLOPT_HTTPHEADER, t.list);
    curl_easy_setopt(t.curl, CURLOPT_POST, 1L);
    curl_easy_setopt(t.curl, CURLOPT_POSTFIELDS, m.json.c_str());
    curl_easy_setopt(t.curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(m.json.size()));
    return Finish(t.curl, curl_easy_perform(t.curl), false);
}

}  // namespace rms
