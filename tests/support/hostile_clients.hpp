#pragma once
// Test support: hostile HTTP clients and a probe that times one correctly signed webhook.
//
// The crowd opens connections that never finish a request (idle, half a request line, one header
// byte every few seconds) or send oversized headers, from many loopback source addresses (all of
// 127.0.0.0/8 is loopback on Linux, so 127.1.x.y stands for as many distinct clients). Whatever
// the server closes is opened again, so the pressure lasts as long as the crowd does. The flood
// sends badly signed webhooks back to back on keep-alive connections.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace dunning::testing {

enum class Hostility { idle, half_line, trickle, huge_headers };

// The crowd needs more descriptors than the usual soft limit of 1,024: raise it to the hard one.
inline rlim_t raise_fd_limit() {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    return limit.rlim_cur;
}

// "127.1.0.0" + i → 127.1.(i / 250).(i % 250 + 1): distinct loopback clients.
inline std::string loopback_client(int i) {
    return "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
}

// A connection from `source` to 127.0.0.1:port, or -1. Waits at most `timeout` to connect.
inline int connect_from(const std::string& source, int port,
                        std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); // bounds connect() too
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline void send_all(int fd, const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        const auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return; // closed, or the send timeout: a hostile client does not care
        sent += static_cast<std::size_t>(n);
    }
}

struct ProbeResult {
    int status = 0; // 0: no answer within the timeout (or no connection)
    double ms = 0;  // connect to status line
};

// One request with Connection: close from `source`; the status of the answer and how long it
// took, or status 0 when nothing came within `timeout`.
inline ProbeResult probe(int port, const std::string& source, const std::string& request_head,
                         const std::string& body, std::chrono::milliseconds timeout) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    ProbeResult result;
    const int fd = connect_from(source, port, timeout);
    if (fd < 0) return result;
    send_all(fd, request_head + "Content-Length: " + std::to_string(body.size()) +
                     "\r\nConnection: close\r\n\r\n" + body);
    std::string answer;
    while (answer.find("\r\n") == std::string::npos) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[512];
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        answer.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (answer.starts_with("HTTP/1.1 ") && answer.size() >= 12) {
        result.status = std::stoi(answer.substr(9, 3));
        result.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
    return result;
}

class HostileCrowd {
  public:
    explicit HostileCrowd(int port,
                          std::chrono::milliseconds trickle_every = std::chrono::seconds(3))
        : port_(port), trickle_every_(trickle_every) {}
    HostileCrowd(const HostileCrowd&) = delete;
    HostileCrowd& operator=(const HostileCrowd&) = delete;
    ~HostileCrowd() { stop(); }

    // `count` connections of `kind`, from `clients` distinct source addresses (starting at the
    // crowd's next unused one); call before start().
    void add(Hostility kind, int count, int clients) {
        const int first = next_client_;
        next_client_ += clients;
        for (int i = 0; i < count; ++i) {
            Member m{kind, loopback_client(first + i % clients), -1};
            open(m);
            members_.push_back(m);
        }
    }
    void start() {
        thread_ = std::thread([this] { run(); });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        for (auto& m : members_)
            if (m.fd >= 0) ::close(m.fd), m.fd = -1;
    }
    int open_now() const { return open_.load(); }
    long reopened() const { return reopened_.load(); } // connections the server closed

  private:
    struct Member {
        Hostility kind;
        std::string source;
        int fd;
    };

    void open(Member& m) {
        m.fd = connect_from(m.source, port_);
        if (m.fd < 0) return;
        ++open_;
        const int flags = ::fcntl(m.fd, F_GETFL);
        ::fcntl(m.fd, F_SETFL, flags | O_NONBLOCK);
        const std::string line = "POST /webhooks/stripe/alpha HTTP/1.1\r\n";
        if (m.kind == Hostility::half_line) send_all(m.fd, "POST /webhooks/str");
        if (m.kind == Hostility::trickle) send_all(m.fd, line + "X");
        if (m.kind == Hostility::huge_headers)
            send_all(m.fd, line + "X-Pad: " + std::string(64 * 1024, 'a') + "\r\n\r\n");
    }

    // Reopens what the server closed (or answered: it closes after an error answer anyway).
    void reopen_closed() {
        for (auto& m : members_) {
            if (m.fd < 0) {
                open(m);
                continue;
            }
            pollfd p{m.fd, POLLIN, 0};
            if (::poll(&p, 1, 0) <= 0) continue;
            char buf[4096];
            if (::recv(m.fd, buf, sizeof buf, 0) > 0 && m.kind != Hostility::huge_headers) continue;
            ::close(m.fd);
            --open_;
            ++reopened_;
            open(m);
        }
    }

    void run() {
        auto next_trickle = std::chrono::steady_clock::now() + trickle_every_;
        while (!stop_) {
            reopen_closed();
            if (std::chrono::steady_clock::now() >= next_trickle) {
                for (auto& m : members_)
                    if (m.kind == Hostility::trickle && m.fd >= 0)
                        ::send(m.fd, "a", 1, MSG_NOSIGNAL);
                next_trickle += trickle_every_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }

    int port_;
    std::chrono::milliseconds trickle_every_;
    int next_client_ = 0;
    std::vector<Member> members_;
    std::atomic<bool> stop_{false};
    std::atomic<int> open_{0};
    std::atomic<long> reopened_{0};
    std::thread thread_;
};

// Badly signed webhooks, back to back, from `threads` keep-alive connections from `source`.
class BadSignatureFlood {
  public:
    BadSignatureFlood(int port, const std::string& source, int threads, std::string body) {
        for (int t = 0; t < threads; ++t)
            threads_.emplace_back([this, port, source, body] { run(port, source, body); });
    }
    ~BadSignatureFlood() {
        stop_ = true;
        for (auto& t : threads_)
            t.join();
    }
    long answered() const { return answered_.load(); }

  private:
    void run(int port, const std::string& source, const std::string& body) {
        const std::string request =
            "POST /webhooks/stripe/alpha HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nStripe-Signature: t=1,v1=00\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        int fd = -1;
        while (!stop_) {
            if (fd < 0) fd = connect_from(source, port);
            if (fd < 0) continue;
            send_all(fd, request);
            pollfd p{fd, POLLIN, 0};
            char buf[4096];
            if (::poll(&p, 1, 5000) <= 0 || ::recv(fd, buf, sizeof buf, 0) <= 0) {
                ::close(fd);
                fd = -1;
                continue;
            }
            ++answered_; // the answer is small: one recv holds it
        }
        if (fd >= 0) ::close(fd);
    }

    std::atomic<bool> stop_{false};
    std::atomic<long> answered_{0};
    std::vector<std::thread> threads_;
};

} // namespace dunning::testing
