#pragma once
// For the fake Stripe's own tests: a tiny stand-in for the service that records the webhooks
// it receives and checks their signatures (against real time, as a Stripe library does), and
// a client for the fake's API.
#include "fakes/fake_stripe.hpp"
#include "webhook/signature.hpp"

#include <atomic>
#include <chrono>
#include <httplib.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace dunning::fakes::testing {

using nlohmann::json;

inline const std::string secret_key = "sk_test_fake_0123456789";
inline const std::string webhook_secret = "whsec_test_fake_secret";
inline const Timestamp start_time = from_unix(1'750'000'000);

struct Delivery {
    std::string body;
    std::string signature;
    std::string content_type;
    bool signature_valid = false;
    json event() const { return json::parse(body); }
    std::string type() const { return event().value("type", ""); }
};

class Receiver {
  public:
    explicit Receiver(std::string secret = webhook_secret) : secret_(std::move(secret)) {
        server_.Post(
            "/webhooks/stripe/alpha", [this](const httplib::Request& req, httplib::Response& res) {
                Delivery d{req.body, req.get_header_value("Stripe-Signature"),
                           req.get_header_value("Content-Type"), false};
                d.signature_valid =
                    webhook::verify_signature(d.body, d.signature, {secret_}, real_now()).ok();
                std::lock_guard lock(mutex_);
                deliveries_.push_back(std::move(d));
                res.status = status.load();
                res.set_content("{}", "application/json");
            });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        while (!server_.is_running())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~Receiver() {
        server_.stop();
        thread_.join();
    }

    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(port_) + "/webhooks/stripe/alpha";
    }
    std::vector<Delivery> deliveries() const {
        std::lock_guard lock(mutex_);
        return deliveries_;
    }
    std::vector<std::string> types() const {
        std::vector<std::string> types;
        for (const Delivery& d : deliveries())
            types.push_back(d.type());
        return types;
    }
    void clear() {
        std::lock_guard lock(mutex_);
        deliveries_.clear();
    }

    std::atomic<int> status{200}; // what the "service" answers

  private:
    static Timestamp real_now() {
        return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    }

    std::string secret_;
    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
    mutable std::mutex mutex_;
    std::vector<Delivery> deliveries_;
};

inline WebhookTarget target_for(const Receiver& receiver, const FakeClock& clock,
                                std::string api_version = "2020-08-27") {
    return WebhookTarget{receiver.url(), webhook_secret, [&clock] { return clock.now(); },
                         std::move(api_version)};
}

// A client of the fake's API, authenticated like the module.
class Api {
  public:
    explicit Api(const FakeStripe& stripe, std::string key = secret_key)
        : key_(std::move(key)), client_(stripe.base_url()) {
        client_.set_read_timeout(5);
    }

    httplib::Result pay(const std::string& invoice, const std::string& key,
                        const std::string& payment_method = "", httplib::Headers extra = {}) {
        std::string body = "off_session=true";
        if (!payment_method.empty()) body += "&payment_method=" + payment_method;
        httplib::Headers headers = auth();
        if (!key.empty()) headers.emplace("Idempotency-Key", key);
        headers.insert(extra.begin(), extra.end());
        return client_.Post(("/v1/invoices/" + invoice + "/pay").c_str(), headers, body,
                            "application/x-www-form-urlencoded");
    }
    httplib::Result get(const std::string& path, httplib::Headers extra = {}) {
        httplib::Headers headers = auth();
        headers.insert(extra.begin(), extra.end());
        return client_.Get(path.c_str(), headers);
    }
    httplib::Result post(const std::string& path, const std::string& key = "",
                         const std::string& body = "", httplib::Headers extra = {}) {
        httplib::Headers headers = auth();
        headers.insert(extra.begin(), extra.end());
        if (!key.empty()) headers.emplace("Idempotency-Key", key);
        return client_.Post(path.c_str(), headers, body, "application/x-www-form-urlencoded");
    }
    httplib::Result del(const std::string& path, httplib::Headers extra = {}) {
        httplib::Headers headers = auth();
        headers.insert(extra.begin(), extra.end());
        return client_.Delete(path.c_str(), headers);
    }
    httplib::Client& client() { return client_; }

  private:
    httplib::Headers auth() const { return {{"Authorization", "Bearer " + key_}}; }
    std::string key_;
    httplib::Client client_;
};

inline FakeInvoice sample_invoice(std::string id = "in_1") {
    FakeInvoice invoice;
    invoice.id = std::move(id);
    return invoice;
}

} // namespace dunning::fakes::testing
