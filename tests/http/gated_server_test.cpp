// httplib behind the gate on loopback: a client that never reads its answers costs a worker at
// most the answer deadline, answers advertise the gate's idle timeout, a client waiting for
// "100 Continue" gets it, and requests see their connection's addresses.
#include "http/gated_server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

using namespace dunning::http;

namespace {

// Longer than what the server holds back to send with the head (64 KiB).
std::string medium_body() {
    std::string body;
    for (int i = 0; body.size() < 100'000; ++i)
        body += std::to_string(i) + ",";
    return body;
}

class Running {
  public:
    explicit Running(GateLimits limits) : server_(limits) {
        server_.set_payload_max_length(limits.max_body_bytes); // as http/server.cpp does
        server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(16 * 1024 * 1024, 'x'), "text/plain");
        });
        server_.Get("/small", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("ok", "text/plain");
        });
        server_.Get("/medium", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(medium_body(), "text/plain");
        });
        server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
            res.set_content(req.body + " from " + req.remote_addr + ":" +
                                std::to_string(req.remote_port) + " to " + req.local_addr + ":" +
                                std::to_string(req.local_port),
                            "text/plain");
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running())
            std::this_thread::yield();
    }
    ~Running() {
        server_.stop();
        thread_.join();
    }
    int port() const { return port_; }
    // A connection to the server; `receive_buffer` > 0 shrinks the client's receive window.
    int connect(int receive_buffer = 0) const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (receive_buffer > 0)
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port_));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
        return fd;
    }

  private:
    GatedServer server_;
    int port_ = 0;
    std::thread thread_;
};

void send_all(int fd, const std::string& data) {
    for (std::size_t sent = 0; sent < data.size();) {
        const auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        ASSERT_GT(n, 0);
        sent += static_cast<std::size_t>(n);
    }
}

// What arrives until the server closes the connection (or nothing comes for a minute, which
// only a hung server would cause).
std::string read_to_close(int fd, std::size_t enough = std::string::npos) {
    std::string out;
    char buf[64 * 1024];
    pollfd p{fd, POLLIN, 0};
    while (out.size() < enough && ::poll(&p, 1, 60'000) > 0) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// One whole answer with a Content-Length body (and nothing after it).
std::string read_answer(int fd) {
    std::string out = read_to_close(fd, 1);
    for (;;) {
        const auto head_end = out.find("\r\n\r\n");
        const auto length_at = out.find("Content-Length: ");
        if (head_end != std::string::npos && length_at != std::string::npos) {
            const auto length = std::stoul(out.substr(length_at + 16));
            if (out.size() >= head_end + 4 + length) return out;
        }
        const auto more = read_to_close(fd, 1);
        if (more.empty()) return out;
        out += more;
    }
}

GateLimits one_worker() {
    GateLimits limits;
    limits.threads = 1;
    limits.request_deadline = std::chrono::seconds(7);
    limits.answer_deadline = std::chrono::milliseconds(200);
    return limits;
}

// One worker with time to spare for answers: for tests of what arrives, not of the deadline.
GateLimits patient() {
    GateLimits limits = one_worker();
    limits.answer_deadline = std::chrono::seconds(5);
    return limits;
}

// A port is one server's: a second one cannot bind it while the first listens (httplib's own
// default, SO_REUSEPORT, would let it and split the connections between the two). Once the first
// has stopped, a new server binds the port at once, although the connection the first closed is
// still in TIME_WAIT on it.
TEST(GatedServer, APortInUseIsNotSharedAndIsFreeAgainOnceItsServerStopped) {
    int port = 0;
    {
        Running first(patient());
        port = first.port();
        GatedServer second(patient());
        errno = 0;
        EXPECT_FALSE(second.bind_to_port("127.0.0.1", port));
        EXPECT_EQ(errno, EADDRINUSE);

        // The server closes this connection first, so the closed connection's TIME_WAIT is on
        // the server's side of the port.
        const int fd = first.connect();
        ASSERT_GE(fd, 0);
        send_all(fd, "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_NE(read_to_close(fd).find("ok"), std::string::npos);
        ::close(fd);
    }
    GatedServer again(patient());
    EXPECT_TRUE(again.bind_to_port("127.0.0.1", port));
}

TEST(GatedServer, AClientThatNeverReadsLosesItsConnectionAndFreesTheWorker) {
    Running server(one_worker());
    const int greedy = server.connect(4096);
    std::string pipelined;
    for (int i = 0; i < 50; ++i)
        pipelined += "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(greedy, pipelined);

    // The only worker is stuck writing to `greedy` until the answer deadline closes it.
    const int other = server.connect();
    send_all(other, "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const auto answer = read_to_close(other);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK")) << answer.substr(0, 100);
    EXPECT_TRUE(answer.ends_with("\r\n\r\nok"));
    ::close(other);

    // `greedy` gets what the sockets held, then the end of the connection: not one whole answer.
    const auto taken = read_to_close(greedy);
    EXPECT_GT(taken.size(), 0u);
    EXPECT_LT(taken.size(), 16u * 1024 * 1024);
    ::close(greedy);
}

TEST(GatedServer, AnswersAdvertiseTheRequestDeadlineAsKeepAliveTimeout) {
    Running server(one_worker());
    const int fd = server.connect();
    send_all(fd, "GET /small HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto answer = read_to_close(fd, 1);
    EXPECT_NE(answer.find("Keep-Alive: timeout=7"), std::string::npos) << answer;
    ::close(fd);
}

// `Expect: 100-continue`: the client sends its body only after the interim answer (curl waits a
// second for it, others longer), and gets that answer once, before the final one.
// Each request of a kept-alive connection that asks gets its own.
TEST(GatedServer, AClientWaitingForContinueGetsItBeforeSendingItsBody) {
    Running server(patient());
    const int fd = server.connect();
    for (const std::string body : {"hello", "again"}) {
        send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     "Content-Length: 5\r\n\r\n");
        const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
        EXPECT_EQ(read_to_close(fd, go_on.size()), go_on);
        send_all(fd, body);
        const auto answer = read_answer(fd);
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK")) << answer;
        EXPECT_NE(answer.find("\r\n\r\n" + body + " from 127.0.0.1:"), std::string::npos) << answer;
        EXPECT_EQ(answer.find("100 Continue"), std::string::npos) << answer;
    }
    ::close(fd);
}

// A body announced over max_body_bytes is refused at once, without inviting it.
TEST(GatedServer, AClientAnnouncingTooLargeABodyGets413InsteadOfContinue) {
    Running server(patient());
    const int fd = server.connect();
    send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                 "Content-Length: 2000000\r\n\r\n");
    ::shutdown(fd, SHUT_WR); // the server need not wait for a body that is not coming
    const auto answer = read_to_close(fd);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
    EXPECT_EQ(answer.find("100 Continue"), std::string::npos) << answer;
    ::close(fd);
}

// Each request of a kept-alive connection sees both its ends, read when it was accepted.
TEST(GatedServer, RequestsSeeTheAddressesOfTheirConnection) {
    Running server(patient());
    const int fd = server.connect();
    sockaddr_in self{};
    socklen_t length = sizeof self;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &length), 0);
    const auto expected = " from 127.0.0.1:" + std::to_string(ntohs(self.sin_port)) +
                          " to 127.0.0.1:" + std::to_string(server.port());
    for (const char* body : {"one", "two"}) {
        send_all(fd,
                 std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n") + body);
        const auto answer = read_answer(fd);
        EXPECT_TRUE(answer.ends_with("\r\n\r\n" + (body + expected))) << answer;
    }
    ::close(fd);
}

// An answer longer than what is held back for one send arrives whole, head first.
TEST(GatedServer, ALongAnswerArrivesWhole) {
    Running server(patient());
    const int fd = server.connect();
    send_all(fd, "GET /medium HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const auto answer = read_to_close(fd);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK")) << answer.substr(0, 100);
    EXPECT_TRUE(answer.ends_with("\r\n\r\n" + medium_body()));
    ::close(fd);
}

} // namespace
