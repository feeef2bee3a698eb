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
// otherwise. Connections are capped in total and per client address; over a cap, a new
// connection gets a canned 503 and is closed at once.
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
};

// A connection whose request is complete: `request` holds its head and body (the body only if
// it is within max_body_bytes), `rest` what the client sent after it (pipelining).
struct ReadyConnection {
    int fd = -1;
    std::string request;
    std::string rest;
    bool close_after = false; // the body was too large to read: answer, then close
};

struct RequestExtent {
    std::size_t size = 0;        // bytes of `buffer` that make the request; 0: not complete yet
    bool head_too_large = false; // no end of the head within max_head_bytes
    bool body_too_large = false; // the head alone: its body is over max_body_bytes (413)
};
// Where the first request in `buffer` ends. A body comes with Content-Length or chunked (ending
// in the last chunk and an empty trailer); without either, a request has none (RFC 9112 6.3).
RequestExtent request_extent(const std::string& buffer, const GateLimits& limits);

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

  private:
    struct Pending {
        std::string client;
        std::string buffer;
        std::uint64_t serial = 0; // which deadline entry is current
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
    void wait_for(int fd, std::string buffer); // back to waiting for a request (locked)
    void hand_over(int fd, std::string buffer, const RequestExtent& extent); // (locked)
    void close_connection(int fd, const std::string* answer);                // (locked)
    int next_timeout_ms();                                                   // (locked)

    GateLimits limits_;
    Serve serve_;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::mutex mutex_;
    std::condition_variable ready_cv_;
    bool stopping_ = false;
    std::unordered_map<int, Pending> pending_;     // waiting for their request
    std::unordered_map<int, std::string> clients_; // every open connection's client
    std::map<std::string, int> per_client_;        // open connections per client
    std::deque<Deadline> deadlines_;               // in deadline order: one constant added
    std::deque<ReadyConnection> ready_;
    std::uint64_t next_serial_ = 0;
    std::thread events_;
    std::vector<std::thread> workers_;
};

} // namespace dunning::http
