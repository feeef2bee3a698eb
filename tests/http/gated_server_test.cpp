// httplib behind the gate on loopback: a client that never reads its answers costs a worker at
// most the answer deadline, and answers advertise the gate's idle timeout.
#include "http/gated_server.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

using namespace dunning::http;

namespace {

class Running {
  public:
    explicit Running(GateLimits limits) : server_(limits) {
        server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(16 * 1024 * 1024, 'x'), "text/plain");
        });
        server_.Get("/small", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("ok", "text/plain");
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

GateLimits one_worker() {
    GateLimits limits;
    limits.threads = 1;
    limits.request_deadline = std::chrono::seconds(7);
    limits.answer_deadline = std::chrono::milliseconds(200);
    return limits;
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

} // namespace
