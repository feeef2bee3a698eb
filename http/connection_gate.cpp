#include "http/connection_gate.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>

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

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The value of header `name` (lower case) in a head whose names are lower-cased; "" if absent.
std::string header_value(const std::string& head, const std::string& name) {
    const auto at = head.find("\r\n" + name + ":");
    if (at == std::string::npos) return {};
    const auto begin = head.find_first_not_of(" \t", at + name.size() + 3);
    const auto end = head.find("\r\n", at + 2);
    return begin < end ? head.substr(begin, head.find_last_not_of(" \t", end - 1) + 1 - begin) : "";
}

std::string client_of(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
    char text[INET6_ADDRSTRLEN] = "?";
    if (addr.ss_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text, sizeof text);
    else if (addr.ss_family == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, text,
                    sizeof text);
    return text;
}

// Best effort: the socket is non-blocking and the connection is about to be closed.
void send_now(int fd, const std::string* answer) {
    if (answer) [[maybe_unused]]
        auto n = ::send(fd, answer->data(), answer->size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

} // namespace

RequestExtent request_extent(const std::string& buffer, const GateLimits& limits) {
    RequestExtent extent;
    const auto end = buffer.find("\r\n\r\n");
    if (end == std::string::npos || end + 4 > limits.max_head_bytes) {
        extent.head_too_large = buffer.size() >= limits.max_head_bytes;
        return extent;
    }
    const std::size_t head = end + 4;
    const auto names = lower(std::string_view(buffer).substr(0, head));
    if (header_value(names, "transfer-encoding").find("chunked") != std::string::npos) {
        // The last chunk and an empty trailer end the body; a chunk's data could contain the
        // same bytes, in which case httplib sees a short body and answers 400.
        const auto last = buffer.find("0\r\n\r\n", head);
        if (last != std::string::npos && (last == head || buffer.compare(last - 2, 2, "\r\n") == 0))
            extent.size = last + 5;
        else if (buffer.size() - head > limits.max_body_bytes)
            extent.size = head, extent.body_too_large = true;
        return extent;
    }
    const auto length_text = header_value(names, "content-length");
    std::size_t length = 0;
    try {
        length = length_text.empty() ? 0 : std::stoull(length_text);
    } catch (const std::exception&) {
        length = 0; // httplib answers 400 for the malformed header
    }
    if (length > limits.max_body_bytes) {
        extent.size = head;
        extent.body_too_large = true;
    } else if (buffer.size() >= head + length) {
        extent.size = head + length;
    }
    return extent;
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
    std::string client = client_of(fd);
    std::lock_guard lock(mutex_);
    const bool full = static_cast<int>(clients_.size()) >= limits_.max_connections ||
                      (limits_.max_connections_per_client > 0 &&
                       per_client_[client] >= limits_.max_connections_per_client);
    if (full || stopping_) {
        send_now(fd, &too_many);
        ::close(fd);
        if (per_client_[client] == 0) per_client_.erase(client);
        return;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ++per_client_[client];
    clients_.emplace(fd, std::move(client));
    wait_for(fd, {});
}

void ConnectionGate::wait_for(int fd, std::string buffer) {
    const auto extent = request_extent(buffer, limits_);
    if (extent.size > 0) return hand_over(fd, std::move(buffer), extent); // pipelined
    auto& p = pending_[fd];
    p.buffer = std::move(buffer);
    p.serial = ++next_serial_;
    deadlines_.push_back({SteadyClock::now() + limits_.request_deadline, fd, p.serial});
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
}

void ConnectionGate::hand_over(int fd, std::string buffer, const RequestExtent& extent) {
    if (pending_.erase(fd)) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ReadyConnection c{fd, buffer.substr(0, extent.size), buffer.substr(extent.size),
                      extent.body_too_large};
    ready_.push_back(std::move(c));
    ready_cv_.notify_one();
}

void ConnectionGate::close_connection(int fd, const std::string* answer) {
    if (pending_.erase(fd)) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    send_now(fd, answer);
    ::close(fd);
    const auto it = clients_.find(fd);
    if (it == clients_.end()) return;
    if (--per_client_[it->second] <= 0) per_client_.erase(it->second);
    clients_.erase(it);
}

void ConnectionGate::read_from(int fd) {
    auto it = pending_.find(fd);
    if (it == pending_.end()) return;
    auto& buffer = it->second.buffer;
    char chunk[16 * 1024];
    for (;;) {
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            return close_connection(fd, nullptr); // the client went away
        if (n < 0) break;
        buffer.append(chunk, static_cast<std::size_t>(n));
        if (buffer.size() > limits_.max_head_bytes + limits_.max_body_bytes) break;
    }
    const auto extent = request_extent(buffer, limits_);
    if (extent.head_too_large) return close_connection(fd, &head_too_large);
    if (extent.size > 0) hand_over(fd, std::move(buffer), extent);
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
        std::lock_guard lock(mutex_);
        if (keep && !stopping_)
            wait_for(c.fd, std::move(c.rest));
        else
            close_connection(c.fd, nullptr);
    }
}

} // namespace dunning::http
