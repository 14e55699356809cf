// The action's key holds the producer's invoice or customer id verbatim; put into the webhook's
// "Idempotency-Key:" header unencoded, an id holding "\r\n" added headers of the producer's
// choosing to the outbound request (header injection, request smuggling towards the receiver).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "engine/channels.h"

namespace rms {
namespace {

TEST(WebhookHeaderTest, HeaderSafeEncodesControlBytesAndPercentOnly) {
    EXPECT_EQ(HeaderSafe("default/first reminder/invoice/I-17"),
              "default/first reminder/invoice/I-17");
    EXPECT_EQ(HeaderSafe("a\r\nb%c\x7f\xc3\xa9"), "a%0D%0Ab%25c%7F%C3%A9");
}

TEST(WebhookHeaderTest, IdempotencyKeyWithCrLfAddsNoHeader) {
    int srv = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(srv, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(srv, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    ASSERT_EQ(::listen(srv, 1), 0);
    socklen_t len = sizeof(sa);
    ASSERT_EQ(::getsockname(srv, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    uint16_t port = ntohs(sa.sin_port);

    // Reads one request's head, answers 200.
    std::string head;
    std::thread receiver([&] {
        pollfd p{srv, POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1) {
            return;
        }
        int c = ::accept(srv, nullptr, nullptr);
        if (c < 0) {
            return;
        }
        char buf[4096];
        while (head.find("\r\n\r\n") == std::string::npos) {
            pollfd q{c, POLLIN, 0};
            if (::poll(&q, 1, 5000) != 1) {
                break;
            }
            ssize_t n = ::recv(c, buf, sizeof(buf), 0);
            if (n <= 0) {
                break;
            }
            head.append(buf, static_cast<size_t>(n));
        }
        static constexpr char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        (void)::send(c, kOk, sizeof(kOk) - 1, MSG_NOSIGNAL);
        ::close(c);
    });

    InitChannels();
    ChannelConfig channel;
    channel.name = "hook";
    channel.kind = ChannelKind::kWebhook;
    channel.url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
    channel.timeout_ms = 5000;
    OutgoingMessage m;
    // The key as the outbox builds it for invoice id "INV\r\nX-Injected: yes", which
    // invoice.issued accepts (ids are 1-128 characters, control characters included).
    m.idempotency_key = "default/pre-due reminder/invoice/INV\r\nX-Injected: yes";
    m.json = "{}";
    std::atomic<bool> stop{false};
    SendResult r = SendWebhook(channel, m, &stop);
    receiver.join();
    ::close(srv);

    ASSERT_FALSE(head.empty()) << "no request arrived; send result: " << r.error;
    EXPECT_EQ(head.find("\r\nX-Injected: yes\r\n"), std::string::npos)
        << "the id injected a header into the webhook request:\n"
        << head;
    EXPECT_NE(head.find("Idempotency-Key: default/pre-due reminder/invoice/INV%0D%0AX-Injected"),
              std::string::npos)
        << head;
}

}  // namespace
}  // namespace rms
