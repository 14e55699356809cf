// Producer and HTTP authentication: bearer tokens and passwords stored only as SHA-256 hex
// digests, compared in constant time; per-producer rules on the events a producer may send
// (its `source`, event types, currencies) and a token-bucket rate limit.
//
// Secrets never leave this module: no function logs, and error messages never quote a token
// or a password.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.h"
#include "engine/status.h"

namespace rms {

// Lower-case hex SHA-256 of `data` (64 characters), computed with OpenSSL's EVP interface.
std::string Sha256Hex(std::string_view data);

// True when `a` and `b` are equal. The time taken depends only on the lengths, never on where
// the first difference is (CRYPTO_memcmp); inputs of different lengths are unequal at once.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True when `text` is 64 lower- or upper-case hex digits.
bool IsSha256Hex(std::string_view text);

// One producer allowed on the ingest port. Its name is the `source` its events must carry (an
// event without `source` has source "default").
struct ProducerPolicy {
    std::string name;
    std::string token_sha256;  // lower-case hex
    // Empty: every type (currency) is allowed.
    std::set<std::string, std::less<>> event_types;
    std::set<std::string, std::less<>> currencies;
    // Token bucket: `rate_per_second` events on average, up to `burst` at once. 0: no limit.
    double rate_per_second = 0;
    double burst = 0;
};

// A user of the HTTP query API and /metrics.
struct HttpUser {
    std::string name;
    std::string password_sha256;  // lower-case hex
    // When producers are configured: the producer this user writes as over HTTP (the console's
    // users), held to that producer's rules. Empty: the user only reads.
    std::string producer = {};
};

// A token bucket refilled continuously; the clock is passed in so that tests need no sleeps.
class TokenBucket {
public:
    using Clock = std::chrono::steady_clock;
    TokenBucket(double rate_per_second, double burst, Clock::time_point now);

    // Takes one token if there is one; false when the bucket is empty.
    bool Take(Clock::time_point now);

private:
    double rate_;
    double burst_;
    double tokens_;
    Clock::time_point last_;
};

// The producers of the ingest port and their shared rate limits. Not thread-safe: it lives on
// the ingest thread.
class ProducerAuth {
public:
    explicit ProducerAuth(std::vector<ProducerPolicy> producers);

    // Whether any producer is configured; if not, the ingest port needs no authentication.
    bool enabled() const { return !producers_.empty(); }

    // The producer whose token this is, or null. Every producer's digest is compared, so the
    // time does not tell which one matched or how close a wrong token came.
    const ProducerPolicy* Authenticate(std::string_view token) const;

    // The producer called `name`, or null.
    const ProducerPolicy* Find(std::string_view name) const;

    // Whether `producer` may send `event` now: "forbidden" for another source, an event type or
    // a currency it is not allowed; "rate_limited" when its bucket is empty. A refused event
    // takes nothing from the bucket.
    [[nodiscard]] Status Authorize(const ProducerPolicy& producer, const Event& event,
                                   TokenBucket::Clock::time_point now);

private:
    std::vector<ProducerPolicy> producers_;
    std::vector<std::unique_ptr<TokenBucket>> buckets_;  // one per producer, null: no limit
};

// What an ingest line asking to authenticate holds: `{"auth":{"token":"..."}}`.
struct AuthLine {
    std::string token;
};

// Reads an authentication line. Returns nullopt when `line` is not one (a JSON object whose
// only member is "auth"), so that it is parsed as an event; a malformed auth line (no string
// token, extra members) is an "invalid_field" error.
std::optional<Result<AuthLine>> ParseAuthLine(std::string_view line);

// Checks an HTTP Authorization header value ("Basic base64(user:password)") against `users`.
// True only for a known user with the right password.
bool BasicAuthAllows(std::string_view authorization, const std::vector<HttpUser>& users);
// The same check, giving the user who signed in (an element of `users`) when it passes, else
// null.
const HttpUser* BasicAuthUser(std::string_view authorization, const std::vector<HttpUser>& users);

}  // namespace rms
