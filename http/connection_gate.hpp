#pragma once
// The gate between accepted connections and the HTTP worker threads.
//
// httplib gives each connection a worker from accept to close, and its read timeout is per
// recv(): a client that sends half a request line, or one header byte every few seconds, holds
// a worker as long as it likes, and 64 such clients stop the service. The gate reads requests
// instead, for every connection at once from one epoll thread, and hands a connection to a
// worker only once its whole request (head and body) is in memory, so a worker never waits for
// a client. Every connection must deliver its request within `request_deadline` of being
// accepted (or of its previous answer, on keep-alive), however it trickles; it is closed
// otherwise. A client that asks for "100 Continue" (and waits for it before sending its body)
// gets it from the gate once its head is in. Connections are capped in total and per client
// address; over a cap, a new connection gets a canned 503 and is closed at once. The bytes waiting
// in the gate (and in the requests being served) are capped in total: over it, the connection
// holding the most gets a 503 and is closed.
#include "http/request_extent.hpp"

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace dunning::http {

struct GateLimits {
    int threads = 64;                                   // workers: requests served at once
    std::chrono::milliseconds request_deadline{10'000}; // accept (or last answer) → whole request
    int max_connections = 4096;                         // open connections, all clients
    int max_connections_per_client = 256;               // per client address; 0: no cap
    std::size_t max_head_bytes = 16 * 1024;             // request line and headers; 431 above
    std::size_t max_body_bytes = 1024 * 1024;           // longer bodies are not read (413)
    std::size_t max_buffered_bytes = 256 * 1024 * 1024; // requests held, all connections
    // A worker waits at most this, in all, for the client to take an answer; it then closes the
    // connection (a client that sends requests but never reads the answers).
    std::chrono::milliseconds answer_deadline{5'000};
};

// One end of a connection, as text (an IP address) and port.
struct Endpoint {
    std::string ip;
    int port = 0;
};

// A connection whose request is complete: `request` holds its head and body (the body only if
// it is within max_body_bytes), `rest` what the client sent after it (pipelining). The
// addresses are read once, when the connection is admitted.
struct ReadyConnection {
    int fd = -1;
    Endpoint remote;
    Endpoint local;
    std::string request;
    std::string rest;
    bool close_after = false; // body too large to read, or the client is done: answer, close
    bool linger = false;      // the client may still be sending the body refused: drain a little
};

// The key a connection counts against max_connections_per_client: an IPv4 address, or an IPv6
// address's /64 (one subscriber's network, where every host may pick any address).
std::string client_key(const sockaddr_storage& address);

class ConnectionGate {
  public:
    // Serves one request on a worker thread; true keeps the connection open for the next.
    using Serve = std::function<bool(ReadyConnection&)>;

    ConnectionGate(GateLimits limits, Serve serve);
    ~ConnectionGate();
    ConnectionGate(const ConnectionGate&) = delete;
    ConnectionGate& operator=(const ConnectionGate&) = delete;

    void start();          // the epoll thread and the workers
    void stop();           // closes every connection; waits for requests being served
    void admit(int fd);    // a freshly accepted connection (from the accept thread)
    bool stopping() const; // true once stop() began: answers should close their connection
    const GateLimits& limits() const { return limits_; }
    std::size_t buffered_bytes(); // held in requests waiting or being served

  private:
    struct Pending {
        std::string buffer;
        RequestScan scan;         // how far `buffer` has been parsed
        std::uint64_t serial = 0; // which deadline entry is current
        bool continued = false;   // "100 Continue" sent for this request
    };
    struct Open {           // every open connection
        std::string client; // the key it counts against in per_client_
        Endpoint remote;
        Endpoint local;
    };
    struct Deadline {
        std::chrono::steady_clock::time_point at;
        int fd;
        std::uint64_t serial;
    };

    void run_events();
    void run_worker();
    void read_from(int fd);
    void expire_due();
    // The methods below run with mutex_ held.
    // Back to waiting for a request: the descriptor is armed again in epoll (`op`: added, for a
    // new connection, or modified), unless `buffer` already holds a whole request (handed over)
    // or one refused (closed).
    void wait_for(int fd, std::string buffer, int op);
    void arm(int fd, int op); // closes the connection if epoll cannot take it
    void check_request(int fd, bool client_done);
    bool make_room(int fd, std::size_t more);
    void hand_over(int fd, const RequestExtent& extent, bool client_done);
    void close_connection(int fd, const std::string* answer);
    int next_timeout_ms();

    GateLimits limits_;
    Serve serve_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::mutex mutex_;
    std::condition_variable ready_cv_;
    bool stopping_ = false;
    std::unordered_map<int, Pending> pending_; // waiting for their request
    std::unordered_map<int, Open> clients_;    // every open connection
    std::map<std::string, int> per_client_;    // open connections per client
    std::deque<Deadline> deadlines_;           // in deadline order: one constant added
    std::deque<ReadyConnection> ready_;
    std::uint64_t next_serial_ = 0;
    std::size_t buffered_ = 0; // bytes in pending_, ready_ and requests being served
    std::thread events_;
    std::vector<std::thread> workers_;
};

} // namespace dunning::http
