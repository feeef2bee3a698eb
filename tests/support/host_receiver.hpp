#pragma once
// Test support: the host platform's end of the access notifications. A real HTTP server on a
// loopback port, in a thread of its own, that records every request (headers and body) in the
// order it arrived. It can answer 503 instead of 200, or be stopped (connections are refused,
// as with a host that is down) and started again on the same port. The port is the kernel's
// pick and stays held while the receiver is stopped, so no other test can be given it.
#include "support/ports.hpp"
#include "support/service.hpp"
#include "webhook/signature.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace dunning::testing {

struct HostRequest {
    std::string method;
    std::string path;
    httplib::Headers headers;
    std::string body;
    int status = 0; // what the receiver answered

    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
    bool accepted() const { return status >= 200 && status < 300; }
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class HostReceiver {
  public:
    inline static const std::string path = "/hooks/dunning";

    HostReceiver() { start(); }
    ~HostReceiver() { stop(); }
    HostReceiver(const HostReceiver&) = delete;
    HostReceiver& operator=(const HostReceiver&) = delete;

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

    // Listens: on a port of the kernel's choice the first time, then on the same port again.
    void start() {
        std::lock_guard lock(lifecycle_);
        if (server_) return;
        auto server = std::make_unique<httplib::Server>();
        auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            int status = status_.load();
            {
                std::lock_guard l(mutex_);
                if (!refused_member_.empty() &&
                    nlohmann::json::parse(req.body, nullptr, false).value("member", "") ==
                        refused_member_)
                    status = 503;
            }
            {
                std::lock_guard l(mutex_);
                requests_.push_back({req.method, req.path, req.headers, req.body, status});
            }
            res.status = status;
            res.set_content(status < 300 ? R"({"received":true})" : R"({"error":"unavailable"})",
                            "application/json");
        };
        // An idle keep-alive connection holds up stop() until it times out (httplib checks for
        // a stop only between requests); a second is plenty and keeps stop() quick. Closing idle
        // connections is what real hosts do too, so the module must cope with it.
        server->set_keep_alive_timeout(1);
        server->Post(R"(.*)", handler);
        server->Put(R"(.*)", handler);
        server->Get(R"(.*)", handler);
        // httplib sets SO_REUSEPORT, so the server binds the port while `held_` still holds it.
        if (port_ == 0) {
            port_ = server->bind_to_any_port("127.0.0.1");
            if (port_ <= 0) throw std::runtime_error("host receiver: cannot bind a loopback port");
        } else if (!server->bind_to_port("127.0.0.1", port_)) {
            throw std::runtime_error("host receiver: cannot bind 127.0.0.1:" +
                                     std::to_string(port_));
        }
        held_.reset();
        auto* s = server.get();
        thread_ = std::thread([s] { s->listen_after_bind(); });
        // Bounded: stop() needs the server to be running, and bind already queues connections.
        for (int i = 0; i < 5000 && !s->is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        server_ = std::move(server);
    }

    // Stops listening: connections to the port are refused until start().
    void stop() {
        std::lock_guard lock(lifecycle_);
        if (!server_) return;
        held_ = std::make_unique<ClosedPort>(port_, true);
        server_->stop();
        if (thread_.joinable()) thread_.join();
        server_.reset();
    }
    bool running() const {
        std::lock_guard lock(lifecycle_);
        return server_ != nullptr;
    }

    // What every following request is answered with (200 by default; 503 for "unavailable").
    void answer_with(int status) { status_.store(status); }
    // Answers 503 to the notifications about this member only ("" for none).
    void refuse_member(std::string member) {
        std::lock_guard l(mutex_);
        refused_member_ = std::move(member);
    }

    std::vector<HostRequest> requests() const {
        std::lock_guard l(mutex_);
        return requests_;
    }
    // The requests answered 2xx, i.e. delivered, in arrival order.
    std::vector<HostRequest> accepted() const {
        std::vector<HostRequest> out;
        for (auto& r : requests())
            if (r.accepted()) out.push_back(std::move(r));
        return out;
    }
    // The bodies of the delivered notifications, in arrival order (duplicates included).
    std::vector<nlohmann::json> notifications() const {
        std::vector<nlohmann::json> out;
        for (const auto& r : accepted())
            out.push_back(r.json());
        return out;
    }
    std::size_t count() const {
        std::lock_guard l(mutex_);
        return requests_.size();
    }

  private:
    int port_ = 0;
    std::unique_ptr<ClosedPort> held_; // the port while stopped
    std::atomic<int> status_{200};
    mutable std::mutex mutex_;
    std::vector<HostRequest> requests_;
    std::string refused_member_;
    mutable std::mutex lifecycle_;
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
};

// The `t` of a "Dunning-Signature: t=…,v1=…" header.
inline std::optional<std::int64_t> signature_time(const HostRequest& r) {
    const auto h = r.header("Dunning-Signature");
    const auto at = h.find("t=");
    if (at == std::string::npos) return std::nullopt;
    try {
        return std::stoll(h.substr(at + 2));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// Whether the request's Dunning-Signature is a valid HMAC of its body under `secret`, checked
// as the host would with webhook::verify_signature, at the signature's own time (so the check
// is about the HMAC, not about when the test looks at it).
inline bool signature_valid(const HostRequest& r, const std::string& secret) {
    const auto t = signature_time(r);
    if (!t) return false;
    return webhook::verify_signature(r.body, r.header("Dunning-Signature"), {secret}, from_unix(*t))
        .ok();
}

} // namespace dunning::testing
