#include "tests/support/rmsd_calls.h"

#include <gtest/gtest.h>

#include "tools/client.h"

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

}  // namespace rms
