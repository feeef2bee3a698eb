#include "http/connection_gate.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <stdexcept>

namespace dunning::http {

namespace {

using SteadyClock = std::chrono::steady_clock;

// The gate's own answers, each followed by closing the connection.
std::string canned(const char* status, const char* message) {
    const std::string body = std::string("{\"error\":\"") + message + "\"}";
    return std::string("HTTP/1.1 ") + status +
           "\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
}
const std::string too_many = canned("503 Service Unavailable", "too many connections");
const std::string too_slow = canned("408 Request Timeout", "request not complete in time");
const std::string head_too_large =
    canned("431 Request Header Fields Too Large", "request head too large");
const std::string bad_framing = canned("400 Bad Request", "malformed request framing");
const std::string overloaded = canned("503 Service Unavailable", "too many bytes waiting");
// The interim answer to a client that waits for it before sending its body (RFC 9110 10.1.1).
const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";

Endpoint endpoint_of(const sockaddr_storage& address) {
    Endpoint end;
    char text[INET6_ADDRSTRLEN] = "";
    if (address.ss_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        end.port = ntohs(in->sin_port);
    } else if (address.ss_family == AF_INET6) {
        const auto* in = reinterpret_cast<const sockaddr_in6*>(&address);
        ::inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof text);
        end.port = ntohs(in->sin6_port);
    }
    end.ip = text;
    return end;
}

// Best effort: the socket is non-blocking and the connection is about to be closed.
// After refusing a body too large, the client is usually still sending it: closing at once would
// reset the connection and could destroy the answer before the client reads it. Stop sending,
// then read and drop what comes for at most a second (and at most `most` bytes), so the client
// can finish writing and read the 413.
void linger_briefly(int fd, std::size_t most) {
    ::shutdown(fd, SHUT_WR);
    const auto until = SteadyClock::now() + std::chrono::seconds{1};
    char sink[16384];
    std::size_t drained = 0;
    while (drained < most) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now());
        if (left.count() <= 0) return;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
        const auto n = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n <= 0) return; // EOF: the client is done; or an error
        drained += static_cast<std::size_t>(n);
    }
}

void send_now(int fd, const std::string* answer) {
    if (answer) [[maybe_unused]]
        auto n = ::send(fd, answer->data(), answer->size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

} // namespace

std::string client_key(const sockaddr_storage& address) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (address.ss_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, text,
                    sizeof text);
        return text;
    }
    if (address.ss_family != AF_INET6) return text;
    in6_addr ip = reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&ip)) {
        ::inet_ntop(AF_INET, &ip.s6_addr[12], text, sizeof text);
        return text;
    }
    std::fill(std::begin(ip.s6_addr) + 8, std::end(ip.s6_addr), 0);
    ::inet_ntop(AF_INET6, &ip, text, sizeof text);
    return std::string(text) + "/64";
}

ConnectionGate::ConnectionGate(GateLimits limits, Serve serve)
    : limits_(limits), serve_(std::move(serve)) {}

ConnectionGate::~ConnectionGate() {
    stop();
}

void ConnectionGate::start() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) throw std::runtime_error("epoll_create1/eventfd failed");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    stopping_ = false;
    events_ = std::thread([this] { run_events(); });
    for (int i = 0; i < limits_.threads; ++i)
        workers_.emplace_back([this] { run_worker(); });
}

void ConnectionGate::stop() {
    {
        std::lock_guard lock(mutex_);
        if (epoll_fd_ < 0) return;
        stopping_ = true;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    ready_cv_.notify_all();
    events_.join();
    for (auto& worker : workers_)
        worker.join();
    workers_.clear();
    std::lock_guard lock(mutex_);
    while (!pending_.empty())
        close_connection(pending_.begin()->first, nullptr);
    for (auto& c : ready_)
        close_connection(c.fd, nullptr);
    ready_.clear();
    deadlines_.clear();
    ::close(epoll_fd_);
    ::close(wake_fd_);
    epoll_fd_ = wake_fd_ = -1;
}

bool ConnectionGate::stopping() const {
    std::lock_guard lock(const_cast<std::mutex&>(mutex_));
    return stopping_;
}

void ConnectionGate::admit(int fd) {
    Open open;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        open.client = client_key(address);
        open.remote = endpoint_of(address);
    } else {
        open.client = "?";
    }
    length = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
        open.local = endpoint_of(address);
    std::lock_guard lock(mutex_);
    const bool full = static_cast<int>(clients_.size()) >= limits_.max_connections ||
                      (limits_.max_connections_per_client > 0 &&
                       per_client_[open.client] >= limits_.max_connections_per_client);
    if (full || stopping_) {
        send_now(fd, &too_many);
        ::close(fd);
        if (per_client_[open.client] == 0) per_client_.erase(open.client);
        return;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ++per_client_[open.client];
    clients_.emplace(fd, std::move(open));
    wait_for(fd, {}, EPOLL_CTL_ADD);
}

std::size_t ConnectionGate::buffered_bytes() {
    std::lock_guard lock(mutex_);
    return buffered_;
}

void ConnectionGate::wait_for(int fd, std::string buffer, int op) {
    auto& p = pending_[fd];
    p.buffer = std::move(buffer);
    p.scan = {};
    p.continued = false;
    p.serial = ++next_serial_;
    deadlines_.push_back({SteadyClock::now() + limits_.request_deadline, fd, p.serial});
    if (!p.buffer.empty()) check_request(fd, false); // pipelined
    if (pending_.contains(fd)) arm(fd, op);
}

// One event at a time: epoll reports a connection once (EPOLLONESHOT), then not again until it
// is armed anew, so a connection being served costs no epoll call to take out of the set.
void ConnectionGate::arm(int fd, int op) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, op, fd, &ev) != 0)
        close_connection(fd, nullptr); // epoll cannot watch it (out of memory or watches)
}

// Hands a whole request over, refuses a malformed or oversized one; `client_done`: the client
// will send nothing more (it may still read the answer).
void ConnectionGate::check_request(int fd, bool client_done) {
    auto& p = pending_.at(fd);
    const auto extent = request_extent(p.buffer, limits_, p.scan);
    if (extent.bad) return close_connection(fd, &bad_framing);
    if (extent.head_too_large) return close_connection(fd, &head_too_large);
    if (extent.size > 0) return hand_over(fd, extent, client_done);
    if (client_done) return close_connection(fd, nullptr);
    if (p.scan.expects_continue && !p.continued) {
        p.continued = true;
        const auto n = ::send(fd, go_on.data(), go_on.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n != static_cast<ssize_t>(go_on.size())) close_connection(fd, nullptr); // not reading
    }
}

void ConnectionGate::hand_over(int fd, const RequestExtent& extent, bool client_done) {
    auto node = pending_.extract(fd);
    auto& buffer = node.mapped().buffer;
    const auto& open = clients_.at(fd);
    ReadyConnection c{fd,
                      open.remote,
                      open.local,
                      buffer.substr(0, extent.size),
                      buffer.substr(extent.size),
                      extent.body_too_large || client_done,
                      extent.body_too_large && !client_done};
    ready_.push_back(std::move(c));
    ready_cv_.notify_one();
}

// Sheds connections, the one holding most first, until `more` bytes fit in max_buffered_bytes;
// false if `fd` itself was shed.
bool ConnectionGate::make_room(int fd, std::size_t more) {
    while (buffered_ + more > limits_.max_buffered_bytes) {
        const auto largest =
            std::max_element(pending_.begin(), pending_.end(), [](auto& a, auto& b) {
                return a.second.buffer.size() < b.second.buffer.size();
            });
        if (largest->first == fd ||
            largest->second.buffer.size() <= pending_.at(fd).buffer.size()) {
            close_connection(fd, &overloaded);
            return false;
        }
        close_connection(largest->first, &overloaded);
    }
    return true;
}

void ConnectionGate::close_connection(int fd, const std::string* answer) {
    if (const auto it = pending_.find(fd); it != pending_.end()) {
        buffered_ -= it->second.buffer.size();
        pending_.erase(it);
    }
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); // armed or not, it stays in the set
    send_now(fd, answer);
    ::close(fd);
    const auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    if (--per_client_[it->second.client] <= 0) per_client_.erase(it->second.client);
    clients_.erase(it);
}

void ConnectionGate::read_from(int fd) {
    const auto it = pending_.find(fd);
    if (it == pending_.end()) return;
    auto& buffer = it->second.buffer;
    const auto most = limits_.max_head_bytes + 2 * limits_.max_body_bytes;
    bool client_done = false;
    char chunk[16 * 1024];
    while (buffer.size() <= most) {
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n == 0) {
            client_done = true; // shutdown(SHUT_WR) after a whole request still gets its answer
            break;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return close_connection(fd, nullptr); // the client went away
        if (n < 0) break;
        if (!make_room(fd, static_cast<std::size_t>(n))) return;
        buffer.append(chunk, static_cast<std::size_t>(n));
        buffered_ += static_cast<std::size_t>(n);
        // A short read took what there was; epoll reports more (or the end) once armed again.
        if (static_cast<std::size_t>(n) < sizeof chunk) break;
    }
    check_request(fd, client_done);
    if (pending_.contains(fd)) arm(fd, EPOLL_CTL_MOD);
}

void ConnectionGate::expire_due() {
    const auto now = SteadyClock::now();
    while (!deadlines_.empty() && deadlines_.front().at <= now) {
        const auto d = deadlines_.front();
        deadlines_.pop_front();
        const auto it = pending_.find(d.fd);
        if (it == pending_.end() || it->second.serial != d.serial) continue; // moved on since
        // An idle keep-alive connection is closed silently; a started request is told why.
        close_connection(d.fd, it->second.buffer.empty() ? nullptr : &too_slow);
    }
}

int ConnectionGate::next_timeout_ms() {
    if (deadlines_.empty()) return 1000;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadlines_.front().at -
                                                                            SteadyClock::now());
    return static_cast<int>(std::clamp<std::int64_t>(left.count() + 1, 0, 1000));
}

void ConnectionGate::run_events() {
    std::vector<epoll_event> events(256);
    int timeout = 0;
    for (;;) {
        const int n =
            ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        for (int i = 0; i < n; ++i)
            if (events[i].data.fd != wake_fd_) read_from(events[i].data.fd);
        expire_due();
        timeout = next_timeout_ms();
    }
}

void ConnectionGate::run_worker() {
    for (;;) {
        ReadyConnection c;
        {
            std::unique_lock lock(mutex_);
            ready_cv_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
            if (stopping_) return;
            c = std::move(ready_.front());
            ready_.pop_front();
        }
        const bool keep = serve_(c) && !c.close_after;
        if (c.linger) linger_briefly(c.fd, 4 * limits_.max_body_bytes);
        std::lock_guard lock(mutex_);
        buffered_ -= c.request.size();
        if (keep && !stopping_) {
            wait_for(c.fd, std::move(c.rest), EPOLL_CTL_MOD);
        } else {
            buffered_ -= c.rest.size();
            close_connection(c.fd, nullptr);
        }
    }
}

} // namespace dunning::http
