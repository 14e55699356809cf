#include "tests/support/rmsd_calls.h"

#include <gtest/gtest.h>

namespace rms {

void SendExpectingOk(uint16_t ingest_port, const std::vector<std::string>& lines) {
    auto client = LineClient::Connect("127.0.0.1", ingest_port);
    ASSERT_TRUE(client.ok()) << client.status().message();
    Status s = SendPipelined(*client, lines, 100, [](size_t, std::string_view answer) {
        EXPECT_NE(answer.find(R"("ok":true)"), std::string_view::npos) << answer;
    });
    ASSERT_TRUE(s.ok()) << s.message();
}

std::string GetBody(uint16_t http_port, const std::string& target) {
    auto r = HttpGet("127.0.0.1", http_port, target);
    EXPECT_TRUE(r.ok()) << target << ": " << r.status().message();
    return r.ok() ? r->body : "";
}

std::optional<HttpResponse> Post(uint16_t http_port, const std::string& target, std::string body,
                                 const std::string& content_type, const std::string& authorization,
                                 const HttpOptions& options) {
    HttpCall call{.method = "POST", .target = target, .body = std::move(body)};
    if (!content_type.empty()) {
        call.headers.emplace_back("Content-Type", content_type);
    }
    if (!authorization.empty()) {
        call.headers.emplace_back("Authorization", authorization);
    }
    auto r = HttpSend("127.0.0.1", http_port, call, options);
    EXPECT_TRUE(r.ok()) << "POST " << target << ": " << r.status().message();
    return r.ok() ? std::optional<HttpResponse>(std::move(r).value()) : std::nullopt;
}

}  // namespace rms
