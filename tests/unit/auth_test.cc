// engine/auth: digests, the constant-time compare, the token bucket, producer rules, the auth
// line and HTTP basic auth, without sockets; and the security keys of the TOML config.
#include "engine/auth.h"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/config.h"
#include "tests/support/temp_dir.h"

namespace rms {
namespace {

using Clock = TokenBucket::Clock;

Event MakeEvent(std::string_view line) {
    ParsedLine parsed = ParseEvent(line);
    EXPECT_TRUE(parsed.status.ok()) << parsed.status.message();
    return parsed.event;
}

ProducerPolicy Erp() {
    ProducerPolicy p;
    p.name = "erp";
    p.token_sha256 = Sha256Hex("erp-token");
    p.event_types = {"customer.upserted", "fx.rate"};
    p.currencies = {"USD", "EUR"};
    return p;
}

TEST(AuthTest, Sha256HexMatchesTheStandardVectors) {
    EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuthTest, ConstantTimeEqualsIsEqualityOfBytes) {
    struct Case {
        std::string a, b;
        bool equal;
    };
    const Case cases[] = {
        {"", "", true},
        {"abc", "abc", true},
        {"abc", "abd", false},   // last byte
        {"xbc", "abc", false},   // first byte
        {"abc", "abcd", false},  // a prefix
        {"abcd", "abc", false},  // longer
        {"", "a", false},
        {std::string("a\0b", 3), std::string("a\0c", 3), false},  // past a NUL
        {std::string("a\0b", 3), std::string("a\0b", 3), true},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE("\"" + c.a + "\" vs \"" + c.b + "\"");
        EXPECT_EQ(ConstantTimeEquals(c.a, c.b), c.equal);
    }
}

TEST(AuthTest, IsSha256HexWantsSixtyFourHexDigits) {
    EXPECT_TRUE(IsSha256Hex(Sha256Hex("x")));
    EXPECT_TRUE(IsSha256Hex(std::string(64, 'F')));
    EXPECT_FALSE(IsSha256Hex(std::string(63, 'a')));
    EXPECT_FALSE(IsSha256Hex(std::string(63, 'a') + "g"));
}

TEST(AuthTest, TokenBucketAllowsTheBurstThenRefillsAtTheRate) {
    Clock::time_point t0{};
    TokenBucket bucket(2.0, 3, t0);
    EXPECT_TRUE(bucket.Take(t0));
    EXPECT_TRUE(bucket.Take(t0));
    EXPECT_TRUE(bucket.Take(t0));
    EXPECT_FALSE(bucket.Take(t0));
    EXPECT_FALSE(bucket.Take(t0 + std::chrono::milliseconds(400)));  // 0.8 of a token
    EXPECT_TRUE(bucket.Take(t0 + std::chrono::milliseconds(500)));   // 1.0
    EXPECT_FALSE(bucket.Take(t0 + std::chrono::milliseconds(500)));
    // A long pause refills up to the burst only.
    Clock::time_point later = t0 + std::chrono::hours(1);
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(bucket.Take(later)) << i;
    }
    EXPECT_FALSE(bucket.Take(later));
}

TEST(AuthTest, AuthenticateFindsTheProducerOfAToken) {
    ProducerPolicy bank;
    bank.name = "bank";
    bank.token_sha256 = Sha256Hex("bank-token");
    ProducerAuth auth({Erp(), bank});
    ASSERT_TRUE(auth.enabled());
    ASSERT_NE(auth.Authenticate("bank-token"), nullptr);
    EXPECT_EQ(auth.Authenticate("bank-token")->name, "bank");
    EXPECT_EQ(auth.Authenticate("erp-token")->name, "erp");
    EXPECT_EQ(auth.Authenticate("erp-token "), nullptr);
    EXPECT_EQ(auth.Authenticate(""), nullptr);
    EXPECT_EQ(auth.Authenticate(Sha256Hex("erp-token")), nullptr);  // the digest is no token
    EXPECT_FALSE(ProducerAuth({}).enabled());
    // By name (a user writing as a producer): the same policy, so the same rate limit.
    EXPECT_EQ(auth.Find("bank"), auth.Authenticate("bank-token"));
    EXPECT_EQ(auth.Find("ban"), nullptr);
}

TEST(AuthTest, AuthorizeChecksSourceTypeAndEveryCurrency) {
    ProducerAuth auth({Erp()});
    const ProducerPolicy& erp = *auth.Authenticate("erp-token");
    struct Case {
        std::string line;
        const char* code;  // "" for allowed
    };
    // An event dated 2024-03-01 with id 1: `fields` are the rest of its members.
    auto line = [](std::string_view fields) {
        return R"({"id":"1","date":"2024-03-01",)" + std::string(fields) + "}";
    };
    const std::string customer = R"("type":"customer.upserted","customer":"C")";
    const std::string fx = R"("type":"fx.rate","source":"erp","currency":"EUR","rate":"1.1",)";
    const Case cases[] = {
        {line(customer + R"(,"source":"erp")"), ""},
        {line(customer), "forbidden"},  // source "default"
        {line(customer + R"(,"source":"bank")"), "forbidden"},
        {line(R"("type":"clock.advanced","source":"erp")"), "forbidden"},
        {line(customer + R"(,"source":"erp","currency":"JPY")"), "forbidden"},
        {line(fx + R"("base":"USD")"), ""},
        {line(fx + R"("base":"GBP")"), "forbidden"},  // the base counts too
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.line);
        Status s = auth.Authorize(erp, MakeEvent(c.line), Clock::now());
        EXPECT_EQ(s.code(), c.code) << s.message();
    }
}

TEST(AuthTest, RefusedEventsTakeNothingFromTheRateLimit) {
    ProducerPolicy p = Erp();
    p.rate_per_second = 0.001;
    p.burst = 1;
    ProducerAuth auth({p});
    const ProducerPolicy& erp = *auth.Authenticate("erp-token");
    Event ok = MakeEvent(R"({"id":"1","type":"customer.upserted","source":"erp",)"
                         R"("date":"2024-03-01","customer":"C"})");
    Event wrong =
        MakeEvent(R"({"id":"2","type":"clock.advanced","source":"erp","date":"2024-03-01"})");
    auto now = Clock::now();
    EXPECT_EQ(auth.Authorize(erp, wrong, now).code(), "forbidden");
    EXPECT_TRUE(auth.Authorize(erp, ok, now).ok());
    Status limited = auth.Authorize(erp, ok, now);
    EXPECT_EQ(limited.code(), "rate_limited");
    EXPECT_NE(limited.message().find("0.001 events/s"), std::string::npos) << limited.message();
}

TEST(AuthTest, ParseAuthLineTellsAuthLinesFromEvents) {
    auto good = ParseAuthLine(R"({"auth":{"token":"t-1"}})");
    ASSERT_TRUE(good.has_value());
    ASSERT_TRUE(good->ok());
    EXPECT_EQ((*good)->token, "t-1");

    EXPECT_FALSE(ParseAuthLine(R"({"id":"1","type":"clock.advanced","date":"2024-03-01"})"));
    EXPECT_FALSE(ParseAuthLine(R"({"id":"1","note":"\"auth\""})"));  // the word, not the key
    EXPECT_FALSE(ParseAuthLine(R"(["auth"])"));
    for (const char* bad :
         {R"({"auth":{"token":7}})", R"({"auth":"t"})", R"({"auth":{"token":"t"},"id":"1"})",
          R"({"auth":{"token":"t","user":"u"}})"}) {
        SCOPED_TRACE(bad);
        auto parsed = ParseAuthLine(bad);
        ASSERT_TRUE(parsed.has_value());
        EXPECT_EQ(parsed->status().code(), "invalid_field");
        EXPECT_EQ(parsed->status().message().find("\"t\""), std::string::npos);
    }
}

TEST(AuthTest, BasicAuthAllowsOnlyAKnownUserWithItsPassword) {
    std::vector<HttpUser> users = {{"ops", Sha256Hex("s3cret")}, {"grafana", Sha256Hex("g")}};
    EXPECT_TRUE(BasicAuthAllows("Basic b3BzOnMzY3JldA==", users));       // ops:s3cret
    EXPECT_TRUE(BasicAuthAllows("basic  b3BzOnMzY3JldA==", users));      // scheme case, spaces
    EXPECT_TRUE(BasicAuthAllows("Basic Z3JhZmFuYTpn", users));           // grafana:g
    EXPECT_FALSE(BasicAuthAllows("Basic b3BzOnMzY3JldDE=", users));      // ops:s3cret1
    EXPECT_FALSE(BasicAuthAllows("Basic Z3JhZmFuYTpzM2NyZXQ=", users));  // grafana:s3cret
    EXPECT_FALSE(BasicAuthAllows("Basic b3Bz", users));                  // no colon
    EXPECT_FALSE(BasicAuthAllows("Bearer b3BzOnMzY3JldA==", users));
    EXPECT_FALSE(BasicAuthAllows("Basic !!!!", users));
    EXPECT_FALSE(BasicAuthAllows("", users));
    EXPECT_FALSE(BasicAuthAllows("Basic b3BzOnMzY3JldA==", {}));
}

TEST(AuthTest, BasicAuthUserNamesTheUserWhoSignedIn) {
    std::vector<HttpUser> users = {{"ops", Sha256Hex("s3cret")}, {"grafana", Sha256Hex("g")}};
    EXPECT_EQ(BasicAuthUser("Basic b3BzOnMzY3JldA==", users), &users[0]);  // ops:s3cret
    EXPECT_EQ(BasicAuthUser("Basic Z3JhZmFuYTpn", users), &users[1]);      // grafana:g
    EXPECT_EQ(BasicAuthUser("Basic Z3JhZmFuYTpzM2NyZXQ=", users), nullptr);
    EXPECT_EQ(BasicAuthUser("", users), nullptr);
}

Status LoadToml(const std::string& toml, Config* config) {
    auto dir = TempDir::Create("auth-config");
    EXPECT_TRUE(dir.ok());
    std::string path = dir->Path("rms.toml");
    std::ofstream(path) << toml;
    return LoadConfigFile(path, config);
}

TEST(AuthConfigTest, ListenersDefaultToLoopbackWithoutTlsOrAuth) {
    Config config;
    EXPECT_EQ(config.listen, "127.0.0.1:7400");
    EXPECT_EQ(config.http, "127.0.0.1:8080");
    EXPECT_FALSE(config.security.tls.enabled());
    EXPECT_TRUE(config.security.producers.empty());
    EXPECT_TRUE(config.security.http_users.empty());
}

TEST(AuthConfigTest, ReadsProducersUsersAndTls) {
    Config config;
    std::string digest = Sha256Hex("t");
    Status s = LoadToml(
        "tls_cert_file = \"c.pem\"\ntls_key_file = \"k.pem\"\ntls_http = false\n"
        "[[producers]]\nname = \"erp\"\ntoken_sha256 = \"" +
            digest +
            "\"\nevent_types = [\"invoice.issued\"]\ncurrencies = [\"USD\"]\n"
            "rate_per_second = 50\n[[producers]]\nname = \"bank\"\n"
            "token_sha256 = \"" +
            Sha256Hex("u") + "\"\nrate_per_second = 2.5\nburst = 10\n" +
            "[[http_users]]\nname = \"ops\"\npassword_sha256 = \"" + digest + "\"\n" +
            "[[http_users]]\nname = \"anna\"\npassword_sha256 = \"" + digest +
            "\"\nproducer = \"bank\"\n",
        &config);
    ASSERT_TRUE(s.ok()) << s.message();
    const SecurityConfig& sec = config.security;
    EXPECT_EQ(sec.tls.cert_file, "c.pem");
    EXPECT_TRUE(sec.tls_ingest);
    EXPECT_FALSE(sec.tls_http);
    ASSERT_EQ(sec.producers.size(), 2u);
    EXPECT_EQ(sec.producers[0].name, "erp");
    EXPECT_EQ(sec.producers[0].token_sha256, digest);
    EXPECT_TRUE(sec.producers[0].event_types.contains("invoice.issued"));
    EXPECT_EQ(sec.producers[0].burst, 50);  // defaults to one second's worth
    EXPECT_EQ(sec.producers[1].rate_per_second, 2.5);
    EXPECT_EQ(sec.producers[1].burst, 10);
    ASSERT_EQ(sec.http_users.size(), 2u);
    EXPECT_EQ(sec.http_users[0].producer, "");  // reads only
    EXPECT_EQ(sec.http_users[1].producer, "bank");
    EXPECT_TRUE(CheckSecurityConfig(sec).ok());
}

TEST(AuthConfigTest, RefusesBadSecurityKeys) {
    std::string digest = Sha256Hex("t");
    const std::pair<std::string, std::string> cases[] = {
        {"[[producers]]\nname = \"erp\"\ntoken_sha256 = \"t\"\n", "SHA-256"},
        {"[[producers]]\nname = \"erp\"\n", "token_sha256"},
        {"[[producers]]\nname = \"erp\"\ntoken_sha256 = \"" + digest +
             "\"\nevent_types = [\"invoice.paid\"]\n",
         "not a known name"},
        {"[[producers]]\nname = \"erp\"\ntoken_sha256 = \"" + digest +
             "\"\ncurrencies = [\"usd\"]\n",
         "not a known name"},
        {"[[producers]]\nname = \"erp\"\ntoken_sha256 = \"" + digest + "\"\nevent_types = []\n",
         "is empty"},
        {"[[producers]]\nname = \"erp\"\ntoken_sha256 = \"" + digest + "\"\ncurrencies = []\n",
         "is empty"},
        {"[[producers]]\nname = \"erp\"\ntoken_sha256 = \"" + digest + "\"\nrate_per_second = 0\n",
         "above 0"},
        {"[[producers]]\nname = \"a\"\ntoken_sha256 = \"" + digest +
             "\"\n[[producers]]\nname = \"b\"\ntoken_sha256 = \"" + digest + "\"\n",
         "own token"},
        {"[[producers]]\nname = \"a\"\ntoken_sha256 = \"" + digest + "\"\ntoken = \"t\"\n",
         "unknown key"},
        {"[producers]\nname = \"a\"\n", "[[producers]]"},
        {"[[http_users]]\nname = \"a:b\"\npassword_sha256 = \"" + digest + "\"\n", "':'"},
    };
    for (const auto& [toml, expected] : cases) {
        SCOPED_TRACE(toml);
        Config config;
        Status s = LoadToml(toml, &config);
        EXPECT_EQ(s.code(), "invalid_config");
        EXPECT_NE(s.message().find(expected), std::string::npos) << s.message();
    }
    SecurityConfig sec;
    sec.tls.cert_file = "c.pem";
    EXPECT_EQ(CheckSecurityConfig(sec).code(), "invalid_config");  // no key
}

TEST(AuthConfigTest, AUserWritesOnlyAsAConfiguredProducer) {
    std::string digest = Sha256Hex("t");
    Config config;
    ASSERT_TRUE(LoadToml("[[producers]]\nname = \"console\"\ntoken_sha256 = \"" + digest +
                             "\"\n[[http_users]]\nname = \"anna\"\npassword_sha256 = \"" + digest +
                             "\"\nproducer = \"consol\"\n",
                         &config)
                    .ok());
    Status s = CheckSecurityConfig(config.security);
    EXPECT_EQ(s.code(), "invalid_config");
    EXPECT_NE(s.message().find("\"anna\" writes as producer \"consol\""), std::string::npos)
        << s.message();
    config.security.http_users[0].producer = "console";
    EXPECT_TRUE(CheckSecurityConfig(config.security).ok());
    config.security.producers.clear();  // no producers at all: nothing to write as
    EXPECT_EQ(CheckSecurityConfig(config.security).code(), "invalid_config");
}

}  // namespace
}  // namespace rms
