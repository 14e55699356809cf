// Delivery channels: the delivery file (channels, templates, retry policy), template rendering,
// and the connectors that hand one action to an SMTP relay or a webhook.
//
// The file is TOML:
//   [delivery]            max_attempts, backoff_initial_ms, backoff_max_ms, threads
//   [channels.NAME]       kind = "smtp" | "webhook", url, and per kind: from, username, password
//                         (smtp); headers (webhook); template, timeout_ms (both)
//   [templates.NAME]      subject, body: plain text with {field} placeholders ({{ and }} are
//                         literal braces); a field not in kTemplateFields is an error
// A channel NAME is an action's channel (email, whatsapp, sms, phone, ...) or, for actions
// without one, the action kind (call, escalation, credit_hold). docs/channels.md has examples.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "rules/rules_config.h"

namespace rms {

inline constexpr std::string_view kTemplateFields[] = {
    "customer", "customer_name", "email",     "phone",    "invoice",
    "currency", "amount",        "open",      "due",      "days_past_due",
    "overdue",  "business_date", "step_date", "strategy", "step",
    "action",   "action_key",    "action_id", "caused_by"};

struct Template {
    std::string name;
    std::string subject;
    std::string body;
};

enum class ChannelKind : uint8_t { kSmtp, kWebhook };

struct ChannelConfig {
    std::string name;
    ChannelKind kind = ChannelKind::kWebhook;
    std::string url;
    std::string from;  // smtp: the envelope and header sender
    std::string username;
    std::string password;                                      // "env:NAME" reads $NAME
    std::vector<std::pair<std::string, std::string>> headers;  // webhook; values may be env:NAME
    std::string template_name;  // used when the action's step names none
    int timeout_ms = 10000;
    // smtp:// only: require the STARTTLS upgrade before anything else is sent ("required", the
    // default); starttls = "off" allows plain SMTP to a relay on a trusted network, never with
    // a username.
    bool starttls = true;
};

// `s` as one HTTP header value: bytes below 0x20, 0x7f and up, and '%' become %XX, so no id a
// producer chose can end the header or start another.
std::string HeaderSafe(std::string_view s);

struct DeliveryConfig {
    int max_attempts = 8;
    int64_t backoff_initial_ms = 1000;
    int64_t backoff_max_ms = 600000;
    int threads = 2;
    std::map<std::string, ChannelConfig, std::less<>> channels;
    std::map<std::string, Template, std::less<>> templates;
};

// Parses a delivery file's text; every error is reported, one a line, each with its line.
Result<DeliveryConfig> ParseDelivery(std::string_view toml_text, std::string_view origin);
Result<DeliveryConfig> LoadDeliveryFile(const std::string& path);

// invalid_config when a step of `rules` or a channel names a template the file does not define.
Status CheckTemplateNames(const DeliveryConfig& delivery, const rules::RulesConfig& rules,
                          std::string_view origin);

// The field names `text` uses, or invalid_config naming the first unknown field or a brace
// that is not closed.
Result<std::vector<std::string>> TemplateFieldsOf(std::string_view text);

// Fills the placeholders of a checked template; a field without a value renders empty.
std::string RenderTemplate(std::string_view text, const std::map<std::string, std::string>& values);

// The delay before retry number `attempt` (1 after the first failure): the exponential step
// min(max, initial * 2^(attempt-1)), jittered down to somewhere in [step/2, step] by `random`.
int64_t BackoffMs(int attempt, int64_t initial_ms, int64_t max_ms, uint64_t random);

// One action ready to go out: the rendered text and where it goes.
struct OutgoingMessage {
    std::string idempotency_key;  // the action's key
    std::string to;               // e-mail address or phone number; may be empty for webhooks
    std::string subject;
    std::string body;
    std::string json;  // webhooks: the whole JSON body
};

// What one attempt came to. `permanent` failures are not retried (a 4xx answer, a rejected
// recipient); `aborted` ones were cut short by shutdown and are not recorded at all.
struct SendResult {
    bool ok = false;
    bool permanent = false;
    bool aborted = false;
    std::string error;  // no secrets: codes and server status lines only
};

// Sends over libcurl. `stop` is polled during the transfer; when it turns true the transfer is
// aborted. Thread-safe: each call uses its own handle.
SendResult SendSmtp(const ChannelConfig& channel, const OutgoingMessage& m,
                    const std::atomic<bool>* stop);
SendResult SendWebhook(const ChannelConfig& channel, const OutgoingMessage& m,
                       const std::atomic<bool>* stop);

// curl_global_init, once per process, before any thread sends.
void InitChannels();

}  // namespace rms
