#pragma once
// Test support: loopback ports come from the kernel and stay held. A port that was free a moment
// ago and was given back (bind, close, reuse) can be handed to another test in between.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace dunning::testing {

// A socket bound to a loopback port and not listening: connections to the port are refused,
// and the kernel hands the port to no other socket while this one holds it. Port 0 takes the
// kernel's pick. `shared` sets SO_REUSEPORT, as httplib's servers do, so that a server can bind
// the same port while this holds it (and this can hold the port of a server about to stop).
class ClosedPort {
  public:
    explicit ClosedPort(int port = 0, bool shared = false)
        : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        if (fd_ < 0) throw std::runtime_error("socket failed");
        const int yes = 1;
        if (shared) ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        socklen_t len = sizeof addr;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            ::close(fd_);
            throw std::runtime_error("cannot bind 127.0.0.1:" + std::to_string(port));
        }
        port_ = ntohs(addr.sin_port);
    }
    ~ClosedPort() { release(); }
    ClosedPort(const ClosedPort&) = delete;
    ClosedPort& operator=(const ClosedPort&) = delete;

    int port() const { return port_; }
    void release() {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

  private:
    int fd_ = -1;
    int port_ = 0;
};

} // namespace dunning::testing
