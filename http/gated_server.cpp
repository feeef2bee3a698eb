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

// A request the gate has read whole: httplib reads it from memory and never waits for the
// client; the answer goes to the (non-blocking) socket, all of it within `answer_deadline`. A
// client that does not take it by then is not reading: the write fails and the connection is
// closed, so requests pipelined behind unread answers cost a worker that long once.
class GateStream final : public httplib::Stream {
  public:
    GateStream(const ReadyConnection& connection, std::chrono::milliseconds answer_deadline)
        : connection_(connection), deadline_(std::chrono::steady_clock::now() + answer_deadline) {}

    bool is_readable() const override { return read_ < connection_.request.size(); }
    bool is_writable() const override { return true; }
    ssize_t read(char* ptr, size_t size) override {
        const auto n = std::min(size, connection_.request.size() - read_);
        std::memcpy(ptr, connection_.request.data() + read_, n);
        read_ += n;
        return static_cast<ssize_t>(n);
    }
    // httplib writes an answer's head and body separately: they are held and sent together (one
    // send, one segment for a small answer), up to `hold_at` bytes; larger ones go out as written.
    ssize_t write(const char* ptr, size_t size) override {
        const std::string_view data(ptr, size);
        // httplib answers `Expect: 100-continue` before it reads the body; here the body is read
        // already, and the gate sent "100 Continue" itself if the client was waiting for it.
        if (!written_ && data == continue_line) return static_cast<ssize_t>(size);
        written_ = true;
        if (held_.size() + size <= hold_at) {
            held_.append(data);
            return static_cast<ssize_t>(size);
        }
        if (!flush() || !send_all(data)) return -1;
        return static_cast<ssize_t>(size);
    }
    // What is held goes out; false once the client has not taken an answer in time.
    bool flush() {
        const bool ok = send_all(held_);
        held_.clear();
        return ok;
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip = connection_.remote.ip;
        port = connection_.remote.port;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ip = connection_.local.ip;
        port = connection_.local.port;
    }
    socket_t socket() const override { return connection_.fd; }

  private:
    static constexpr std::size_t hold_at = 64 * 1024;
    static constexpr std::string_view continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

    bool send_all(std::string_view data) {
        for (size_t sent = 0; sent < data.size() && !failed_;) {
            const auto n =
                ::send(connection_.fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                failed_ = true;
                break;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline_ - std::chrono::steady_clock::now());
            pollfd p{connection_.fd, POLLOUT, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                failed_ = true;
        }
        return !failed_;
    }

    const ReadyConnection& connection_;
    size_t read_ = 0;
    std::chrono::steady_clock::time_point deadline_;
    std::string held_;
    bool written_ = false;
    bool failed_ = false;
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
    // httplib's default on Linux is SO_REUSEPORT, with which a second server on a port already
    // in use binds without an error and the kernel splits the connections between the two.
    // SO_REUSEADDR alone lets a restarted server bind over its predecessor's closed connections
    // (TIME_WAIT) and still fails with "address in use" while another one listens.
    set_socket_options([](socket_t sock) {
        const int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
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
    GateStream stream(c, gate_.limits().answer_deadline);
    bool closed = false;
    const bool ok = process_request(stream, gate_.stopping() || c.close_after, closed, nullptr);
    return stream.flush() && ok && !closed;
}

} // namespace dunning::http
