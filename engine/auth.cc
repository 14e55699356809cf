#include "engine/auth.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>

namespace rms {

namespace {

// The currencies an event names: its amount's, an fx rate's base, a customer's own.
std::vector<std::string_view> CurrenciesOf(const Event& event) {
    std::vector<std::string_view> out;
    if (event.currency.valid()) {
        out.push_back(event.currency.code());
    }
    if (event.base.valid()) {
        out.push_back(event.base.code());
    }
    if (event.attributes.currency) {
        out.push_back(*event.attributes.currency);
    }
    return out;
}

// Decodes standard base64 (with padding); nullopt when `text` is not that.
std::optional<std::string> DecodeBase64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out(text.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) {
        return std::nullopt;
    }
    // EVP_DecodeBlock counts padding as zero bytes; drop them.
    size_t padding = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    out.resize(static_cast<size_t>(n) - padding);
    return out;
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b));
           });
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (unsigned int i = 0; i < size; ++i) {
        out.push_back(kHex[digest[i] >> 4]);
        out.push_back(kHex[digest[i] & 0xf]);
    }
    return out;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool IsSha256Hex(std::string_view text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) != 0;
           });
}

TokenBucket::TokenBucket(double rate_per_second, double burst, Clock::time_point now)
    : rate_(rate_per_second), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

bool TokenBucket::Take(Clock::time_point now) {
    if (now > last_) {
        double seconds = std::chrono::duration<double>(now - last_).count();
        tokens_ = std::min(burst_, tokens_ + seconds * rate_);
        last_ = now;
    }
    if (tokens_ < 1.0) {
        return false;
    }
    tokens_ -= 1.0;
    return true;
}

ProducerAuth::ProducerAuth(std::vector<ProducerPolicy> producers)
    : producers_(std::move(producers)) {
    auto now = TokenBucket::Clock::now();
    for (const ProducerPolicy& p : producers_) {
        buckets_.push_back(p.rate_per_second > 0
                               ? std::make_unique<TokenBucket>(p.rate_per_second, p.burst, now)
                               : nullptr);
    }
}

const ProducerPolicy* ProducerAuth::Authenticate(std::string_view token) const {
    std::string digest = Sha256Hex(token);
    const ProducerPolicy* found = nullptr;
    for (const ProducerPolicy& p : producers_) {
        // No early exit: every digest is compared whatever matched before.
        if (ConstantTimeEquals(digest, p.token_sha256) && found == nullptr) {
            found = &p;
        }
    }
    return found;
}

const ProducerPolicy* ProducerAuth::Find(std::string_view name) const {
    auto it = std::find_if(producers_.begin(), producers_.end(),
                           [name](const ProducerPolicy& p) { return p.name == name; });
    return it == producers_.end() ? nullptr : &*it;
}

Status ProducerAuth::Authorize(const ProducerPolicy& producer, const Event& event,
                               TokenBucket::Clock::time_point now) {
    if (event.source != producer.name) {
        return Status::Error("forbidden", "producer \"" + producer.name +
                                              "\" may not send events of source \"" + event.source +
                                              "\"");
    }
    std::string_view type = EventTypeName(event.type);
    if (!producer.event_types.empty() && !producer.event_types.contains(type)) {
        return Status::Error(
            "forbidden",
            "producer \"" + producer.name + "\" may not send events of type " + std::string(type));
    }
    if (!producer.currencies.empty()) {
        for (std::string_view currency : CurrenciesOf(event)) {
            if (!producer.currencies.contains(currency)) {
                return Status::Error("forbidden", "producer \"" + producer.name +
                                                      "\" may not send amounts in " +
                                                      std::string(currency));
            }
        }
    }
    size_t index = static_cast<size_t>(&producer - producers_.data());
    TokenBucket* bucket = index < buckets_.size() ? buckets_[index].get() : nullptr;
    if (bucket != nullptr && !bucket->Take(now)) {
        return Status::Error("rate_limited", "producer \"" + producer.name +
                                                 "\" is over its rate limit of " +
                                                 fmt::format("{:g}", producer.rate_per_second) +
                                                 " events/s; resend later");
    }
    return Status::Ok();
}

std::optional<Result<AuthLine>> ParseAuthLine(std::string_view line) {
    // Cheap test first: an event line rarely holds the word at all.
    if (line.find("\"auth\"") == std::string_view::npos) {
        return std::nullopt;
    }
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(line.data(), line.size()).get_object().get(obj) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    simdjson::dom::element auth;
    if (obj.at_key("auth").get(auth) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    auto invalid = [] {
        return Result<AuthLine>(Status::Error(
            "invalid_field", "an auth line is {\"auth\":{\"token\":\"...\"}} and nothing else"));
    };
    simdjson::dom::object inner;
    std::string_view token;
    if (obj.size() != 1 || auth.get_object().get(inner) != simdjson::SUCCESS || inner.size() != 1 ||
        inner.at_key("token").get_string().get(token) != simdjson::SUCCESS) {
        return invalid();
    }
    return Result<AuthLine>(AuthLine{std::string(token)});
}

bool BasicAuthAllows(std::string_view authorization, const std::vector<HttpUser>& users) {
    return BasicAuthUser(authorization, users) != nullptr;
}

const HttpUser* BasicAuthUser(std::string_view authorization, const std::vector<HttpUser>& users) {
    constexpr std::string_view kScheme = "Basic ";
    if (!StartsWithIgnoreCase(authorization, kScheme)) {
        return nullptr;
    }
    std::string_view encoded = authorization.substr(kScheme.size());
    while (!encoded.empty() && encoded.front() == ' ') {
        encoded.remove_prefix(1);
    }
    std::optional<std::string> decoded = DecodeBase64(encoded);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
        return nullptr;
    }
    std::string_view name = std::string_view(*decoded).substr(0, colon);
    std::string digest = Sha256Hex(std::string_view(*decoded).substr(colon + 1));
    const HttpUser* found = nullptr;
    for (const HttpUser& user : users) {
        // Both comparisons run for every user, so the time does not tell which part was wrong.
        bool name_ok = ConstantTimeEquals(name, user.name);
        bool password_ok = ConstantTimeEquals(digest, user.password_sha256);
        if (name_ok && password_ok && found == nullptr) {
            found = &user;
        }
    }
    return found;
}

}  // namespace rms
