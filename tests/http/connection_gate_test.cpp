// The connection gate over socketpairs: half-closed clients, refused framing, the memory budget,
// and how connections count against the per-client cap.
#include "http/connection_gate.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

using namespace dunning::http;

namespace {

const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

// A gate whose workers record each request and answer 200.
class Gate {
  public:
    explicit Gate(GateLimits limits)
        : gate_(limits, [this](ReadyConnection& c) {
              std::lock_guard lock(mutex_);
              served_.push_back(c.request);
              [[maybe_unused]] auto n = ::send(c.fd, answer.data(), answer.size(), MSG_NOSIGNAL);
              return true;
          }) {
        gate_.start();
    }
    // The client's end of a new connection.
    int connect() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return -1;
        gate_.admit(fds[1]);
        return fds[0];
    }
    std::vector<std::string> served() {
        std::lock_guard lock(mutex_);
        return served_;
    }
    // Waits (without a bound on the time it takes) until `done` holds.
    template <typename Done> void until(Done done) {
        while (!done())
            std::this_thread::yield();
    }
    ConnectionGate& gate() { return gate_; }

  private:
    std::mutex mutex_;
    std::vector<std::string> served_;
    ConnectionGate gate_;
};

GateLimits test_limits() {
    GateLimits limits;
    limits.threads = 2;
    limits.max_connections_per_client = 0;
    limits.request_deadline = std::chrono::hours(1);
    return limits;
}

// False once the gate closed the connection.
bool send_all(int fd, const std::string& data) {
    for (std::size_t sent = 0; sent < data.size();) {
        const auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

// Everything the gate sends until it closes the connection.
std::string read_to_close(int fd) {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        out.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return out;
}

std::string status_of(const std::string& answer) {
    return answer.substr(0, answer.find("\r\n"));
}

TEST(ConnectionGate, AnswersAWholeRequestFromAClientThatClosedItsSendingSide) {
    Gate gate(test_limits());
    const int fd = gate.connect();
    ASSERT_TRUE(send_all(fd, "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"));
    ::shutdown(fd, SHUT_WR);
    EXPECT_EQ(read_to_close(fd), answer);
    ASSERT_EQ(gate.served().size(), 1u);
    EXPECT_EQ(gate.served()[0], "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi");

    const int partial = gate.connect();
    ASSERT_TRUE(send_all(partial, "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nh"));
    ::shutdown(partial, SHUT_WR);
    EXPECT_EQ(read_to_close(partial), "");
    EXPECT_EQ(gate.served().size(), 1u);
}

TEST(ConnectionGate, RefusesAmbiguousFramingWith400) {
    Gate gate(test_limits());
    const int fd = gate.connect();
    send_all(fd, "POST /a HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "0\r\n\r\n");
    EXPECT_EQ(status_of(read_to_close(fd)), "HTTP/1.1 400 Bad Request");
    // A pipelined request after a good one is refused the same way.
    const int piped = gate.connect();
    ASSERT_TRUE(
        send_all(piped, "GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n"));
    const auto answers = read_to_close(piped);
    ASSERT_TRUE(answers.starts_with(answer)) << answers;
    EXPECT_EQ(status_of(answers.substr(answer.size())), "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(gate.served().size(), 1u);
}

TEST(ConnectionGate, ChunkedBodySentInSmallPiecesIsHandedOverWhole) {
    Gate gate(test_limits());
    const int fd = gate.connect();
    std::string request = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 512; ++i)
        request += "3FB\r\n0\r\n\r\n" + std::string(0x3FB - 5, 'x') + "\r\n";
    request += "0\r\n\r\n";
    for (std::size_t at = 0; at < request.size(); at += 1024)
        ASSERT_TRUE(send_all(fd, request.substr(at, 1024)));
    ::shutdown(fd, SHUT_WR);
    EXPECT_EQ(read_to_close(fd), answer);
    ASSERT_EQ(gate.served().size(), 1u);
    EXPECT_EQ(gate.served()[0], request);
}

// The gate holds at most max_buffered_bytes; over it, the connection holding most gets 503.
struct Budget : ::testing::Test {
    static GateLimits limits() {
        auto l = test_limits();
        l.max_body_bytes = 64 * 1024;
        l.max_buffered_bytes = 64 * 1024;
        return l;
    }
    static std::string head(std::size_t length) {
        return "POST /a HTTP/1.1\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
    }
    Gate gate{limits()};
};

TEST_F(Budget, ShedsTheLargestWaitingRequestForANewOne) {
    const int large = gate.connect();
    const auto large_part = head(60'000) + std::string(48'000, 'a');
    ASSERT_TRUE(send_all(large, large_part));
    gate.until([&] { return gate.gate().buffered_bytes() == large_part.size(); });
    const int small = gate.connect();
    const auto small_request = head(30'000) + std::string(30'000, 'b');
    ASSERT_TRUE(send_all(small, small_request));
    EXPECT_EQ(status_of(read_to_close(large)), "HTTP/1.1 503 Service Unavailable");
    gate.until([&] { return gate.served().size() == 1; });
    EXPECT_EQ(gate.served()[0], small_request);
    gate.until([&] { return gate.gate().buffered_bytes() == 0; });
    ::close(small);
}

TEST_F(Budget, ShedsTheNewcomerWhenItHoldsMost) {
    const int first = gate.connect();
    const auto first_part = head(60'000) + std::string(20'000, 'a');
    ASSERT_TRUE(send_all(first, first_part));
    gate.until([&] { return gate.gate().buffered_bytes() == first_part.size(); });
    const int second = gate.connect();
    send_all(second, head(60'000) + std::string(50'000, 'b')); // fails once shed
    EXPECT_EQ(status_of(read_to_close(second)), "HTTP/1.1 503 Service Unavailable");
    EXPECT_EQ(gate.gate().buffered_bytes(), first_part.size());
    ASSERT_TRUE(send_all(first, std::string(40'000, 'a')));
    ::shutdown(first, SHUT_WR);
    EXPECT_EQ(read_to_close(first), answer);
    EXPECT_EQ(gate.served().size(), 1u);
}

sockaddr_storage address(int family, const char* text) {
    sockaddr_storage out{};
    out.ss_family = static_cast<sa_family_t>(family);
    void* ip = family == AF_INET ? static_cast<void*>(&reinterpret_cast<sockaddr_in&>(out).sin_addr)
                                 : &reinterpret_cast<sockaddr_in6&>(out).sin6_addr;
    EXPECT_EQ(::inet_pton(family, text, ip), 1) << text;
    return out;
}

TEST(ClientKey, IPv6ClientsCountByTheirSlash64) {
    EXPECT_EQ(client_key(address(AF_INET, "192.0.2.7")), "192.0.2.7");
    EXPECT_EQ(client_key(address(AF_INET6, "::ffff:192.0.2.7")), "192.0.2.7");
    EXPECT_EQ(client_key(address(AF_INET6, "2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
    EXPECT_EQ(client_key(address(AF_INET6, "2001:db8:1:2:ffff:1:2:3")), "2001:db8:1:2::/64");
    EXPECT_EQ(client_key(address(AF_INET6, "2001:db8:1:3::1")), "2001:db8:1:3::/64");
}

} // namespace
