// Hostile clients against the service on loopback: more than 1,000 connections that never finish
// a request (idle, half a request line, one header byte a second) from many client addresses,
// more from one address than it may open, oversized headers and a flood of badly signed webhooks,
// for several request deadlines; meanwhile every correctly signed webhook gets its 200 within
// the probe's 5 s client timeout. The crowd and the server share this process's descriptors:
// the test raises its soft RLIMIT_NOFILE to the hard limit (about 2,800 are used).
// bench/hostile/run measures the latencies.
#include "support/hostile_clients.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

namespace dunning::testing {
namespace {

using namespace std::chrono_literals;

const auto probe_timeout = 5s;

std::string signed_head(const std::string& body) {
    return "POST /webhooks/stripe/alpha HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Content-Type: application/json\r\nStripe-Signature: " +
           webhook::sign_payload(body, alpha_secret, plugin::SystemClock().now()) + "\r\n";
}

ProbeResult signed_webhook(int port) {
    const auto body = fixture("invoice.payment_failed").dump();
    return probe(port, "127.0.0.2", signed_head(body), body, probe_timeout);
}

// What the server answers on a connection that sent `data`, "" if it closed without a word.
std::string answer_to(int port, const std::string& source, const std::string& data) {
    const int fd = connect_from(source, port);
    if (fd < 0) return "no connection";
    send_all(fd, data);
    std::string answer;
    char buf[1024];
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(probe_timeout).count())) > 0) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        answer.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer.substr(0, answer.find("\r\n"));
}

TEST(HostileClients, SignedWebhooksAreAnsweredWhileTheCrowdStalls) {
    if (const auto allowed = raise_fd_limit(); allowed < 4000)
        GTEST_SKIP() << "the crowd needs 4,000 descriptors; the hard RLIMIT_NOFILE here is "
                     << allowed << " (raise it with ulimit -Hn)";
    TempDir dir;
    auto config = test_config(dir.path());
    config.server.request_deadline_seconds = 2; // the crowd outlasts several deadlines
    Service service(config);
    const int port = service.port();

    HostileCrowd crowd(port, 1s);
    crowd.add(Hostility::idle, 300, 60);
    crowd.add(Hostility::half_line, 300, 60);
    crowd.add(Hostility::trickle, 400, 80);
    crowd.add(Hostility::huge_headers, 20, 4);
    crowd.add(Hostility::half_line, 300, 1); // one address, over its cap of 256
    ASSERT_GE(crowd.open_now(), 1000);
    crowd.start();
    BadSignatureFlood flood(port, "127.0.0.3", 4, fixture("invoice.payment_failed").dump());

    // Probes for three deadlines: while the crowd stalls, expires and comes back.
    const auto until = std::chrono::steady_clock::now() + 6s;
    int probes = 0;
    while (probes < 10 || std::chrono::steady_clock::now() < until) {
        const auto r = signed_webhook(port);
        EXPECT_EQ(r.status, 200) << "probe " << probes << " (0: no answer within 5 s)";
        ++probes;
    }
    EXPECT_GT(crowd.reopened(), 500) << "stalled connections are closed at the deadline";
    EXPECT_GT(flood.answered(), 0);
}

TEST(HostileClients, StalledOversizedAndSurplusConnectionsGetClearAnswers) {
    ASSERT_GE(raise_fd_limit(), 256u);
    TempDir dir;
    auto config = test_config(dir.path());
    config.server.request_deadline_seconds = 1;
    config.server.max_connections_per_client = 4;
    Service service(config);
    const int port = service.port();

    EXPECT_EQ(answer_to(port, "127.0.0.5", "POST /webhooks/str"), "HTTP/1.1 408 Request Timeout");
    EXPECT_EQ(answer_to(port, "127.0.0.5",
                        "GET /healthz HTTP/1.1\r\nX-Pad: " + std::string(20000, 'a') + "\r\n\r\n"),
              "HTTP/1.1 431 Request Header Fields Too Large");

    std::vector<int> held;
    for (int i = 0; i < 4; ++i)
        held.push_back(connect_from("127.0.0.6", port));
    EXPECT_EQ(answer_to(port, "127.0.0.6", "GET /healthz HTTP/1.1\r\n\r\n"),
              "HTTP/1.1 503 Service Unavailable");
    EXPECT_EQ(answer_to(port, "127.0.0.7", "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"),
              "HTTP/1.1 200 OK");
    for (int fd : held)
        ::close(fd);
}

TEST(HostileClients, KeepAliveAndPipelinedRequestsAreServedInOrder) {
    TempDir dir;
    Service service(test_config(dir.path()));
    const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const int fd = connect_from("127.0.0.8", service.port());
    ASSERT_GE(fd, 0);
    send_all(fd, get + get + "GET /nothing HTTP/1.1\r\nConnection: close\r\n\r\n");
    std::string all;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        all.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    const auto first = all.find("HTTP/1.1 200");
    const auto second = all.find("HTTP/1.1 200", first + 1);
    const auto third = all.find("HTTP/1.1 404", second + 1);
    EXPECT_NE(first, std::string::npos) << all;
    EXPECT_NE(second, std::string::npos) << all;
    EXPECT_NE(third, std::string::npos) << all;
}

} // namespace
} // namespace dunning::testing
