#include "http/gated_server.hpp"

#include "telemetry/log.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace dunning::http {

namespace {

void address_of(int fd, bool peer, std::string& ip, int& port) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    const int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                        : ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    if (rc != 0) return;
    char text[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<sockaddr_in*>(&addr);
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
        const auto* in = reinterpret_cast<sockaddr_in6*>(&addr);
        ::inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof text);
        port = ntohs(in->sin6_port);
    }
    ip = text;
}

// A request the gate has read whole: httplib reads it from memory and never waits for the
// client; the answer goes to the (non-blocking) socket, all of it within `answer_deadline`. A
// client that does not take it by then is not reading: the write fails and the connection is
// closed, so requests pipelined behind unread answers cost a worker that long once.
class GateStream final : public httplib::Stream {
  public:
    GateStream(int fd, const std::string& request, std::chrono::milliseconds answer_deadline)
        : fd_(fd), request_(request),
          deadline_(std::chrono::steady_clock::now() + answer_deadline) {}

    bool is_readable() const override { return read_ < request_.size(); }
    bool is_writable() const override { return true; }
    ssize_t read(char* ptr, size_t size) override {
        const auto n = std::min(size, request_.size() - read_);
        std::memcpy(ptr, request_.data() + read_, n);
        read_ += n;
        return static_cast<ssize_t>(n);
    }
    ssize_t write(const char* ptr, size_t size) override {
        size_t sent = 0;
        while (sent < size) {
            const auto n = ::send(fd_, ptr + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline_ - std::chrono::steady_clock::now());
            pollfd p{fd_, POLLOUT, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return -1;
        }
        return static_cast<ssize_t>(size);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        address_of(fd_, true, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        address_of(fd_, false, ip, port);
    }
    socket_t socket() const override { return fd_; }

  private:
    int fd_;
    const std::string& request_;
    size_t read_ = 0;
    std::chrono::steady_clock::time_point deadline_;
};

class GateQueue final : public httplib::TaskQueue {
  public:
    explicit GateQueue(ConnectionGate& gate) : gate_(gate) { gate_.start(); }
    void enqueue(std::function<void()> fn) override { fn(); }
    void shutdown() override { gate_.stop(); }

  private:
    ConnectionGate& gate_;
};

// Every connection is a descriptor: the soft limit (often 1,024) goes up to the hard one, and
// the connection cap down to what the hard limit allows beside the database and log files.
GateLimits fit_descriptor_limit(GateLimits limits) {
    constexpr int reserve = 64;
    rlimit fds{};
    if (::getrlimit(RLIMIT_NOFILE, &fds) != 0) return limits;
    if (fds.rlim_cur < fds.rlim_max) {
        fds.rlim_cur = fds.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &fds);
    }
    const auto allowed = fds.rlim_cur == RLIM_INFINITY
                             ? static_cast<rlim_t>(limits.max_connections)
                             : std::max<rlim_t>(fds.rlim_cur, 2 * reserve) - reserve;
    if (static_cast<rlim_t>(limits.max_connections) > allowed) {
        telemetry::log_warn("server.max_connections " + std::to_string(limits.max_connections) +
                            " is above what the descriptor limit allows (" +
                            std::to_string(fds.rlim_cur) + "): " + std::to_string(allowed) +
                            " connections at most; raise LimitNOFILE / ulimit -n");
        limits.max_connections = static_cast<int>(allowed);
    }
    return limits;
}

} // namespace

GateLimits gate_limits(const config::ServerConfig& server) {
    GateLimits limits;
    limits.threads = server.threads;
    limits.request_deadline = std::chrono::seconds(server.request_deadline_seconds);
    limits.max_connections = server.max_connections;
    limits.max_connections_per_client = server.max_connections_per_client;
    limits.max_body_bytes = server.max_body_bytes;
    limits.max_buffered_bytes = server.max_buffered_bytes;
    limits.answer_deadline =
        std::min<std::chrono::milliseconds>(limits.request_deadline, std::chrono::seconds(5));
    return limits;
}

GatedServer::GatedServer(GateLimits limits)
    : gate_(fit_descriptor_limit(limits), [this](ReadyConnection& c) { return serve(c); }) {
    // Answers advertise how long an idle connection is kept: the gate's request deadline.
    set_keep_alive_timeout(std::max<time_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(limits.request_deadline).count()));
    new_task_queue = [this] {
        // httplib listens with a backlog of 5: a burst of connections (a crowd reconnecting)
        // would drop others' SYNs, and a dropped SYN costs its client a second or more. Calling
        // listen() again on the bound socket widens the backlog to the system's maximum.
        ::listen(svr_sock_, SOMAXCONN);
        return new GateQueue(gate_);
    };
}

GatedServer::~GatedServer() {
    stop();
}

bool GatedServer::process_and_close_socket(socket_t sock) {
    gate_.admit(sock);
    return true;
}

bool GatedServer::serve(ReadyConnection& c) {
    GateStream stream(c.fd, c.request, gate_.limits().answer_deadline);
    bool closed = false;
    const bool ok = process_request(stream, gate_.stopping() || c.close_after, closed, nullptr);
    return ok && !closed;
}

} // namespace dunning::http
