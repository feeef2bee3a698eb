// Webhook delivery: every queued event goes, signed with each destination's own secret, to the
// main URL, to the Connect URL (events of connected accounts) and to the API-made endpoints that
// listened when it happened; it leaves the queue once each of them answered 2xx.
#include "tests/fakes/fake_stripe_internal.hpp"
#include "webhook/signature.hpp"

#include <algorithm>
#include <set>

namespace dunning::fakes {

using namespace detail;

namespace {

struct Destination {
    std::string key; // "main", "connect" or the endpoint's we_…
    std::string url;
    std::string secret;
};

struct Delivery {
    std::uint64_t seq = 0;
    std::string body;
    std::vector<Destination> to; // not yet answered 2xx
    std::size_t destinations = 0;
};

// Where an event goes now: the main webhook URL, the Connect URL for a connected account's
// event, and the endpoints that listened when it happened (and still exist).
std::vector<Destination> destinations(const detail::State& s, const StoredEvent& event) {
    std::vector<Destination> to;
    if (!s.webhook_url.empty()) to.push_back({"main", s.webhook_url, s.target.secret});
    if (!s.connect_url.empty() && !event.account.empty())
        to.push_back({"connect", s.connect_url, s.connect_secret});
    for (const std::string& id : event.endpoints)
        for (const EndpointRecord& r : s.endpoints)
            if (r.endpoint.id == id) to.push_back({id, r.endpoint.url, r.endpoint.secret});
    return to;
}

bool post_signed(const Destination& d, const std::string& body, Timestamp signed_at) {
    const std::string& url = d.url;
    auto scheme = url.find("://");
    auto path_at = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    httplib::Client client(url.substr(0, path_at));
    client.set_connection_timeout(2);
    client.set_read_timeout(10);
    std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
    httplib::Headers headers = {
        {"Stripe-Signature", webhook::sign_payload(body, d.secret, signed_at)},
        {"User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}};
    auto res = client.Post(path.c_str(), headers, body, "application/json; charset=utf-8");
    return res && res->status >= 200 && res->status < 300;
}

} // namespace

std::size_t FakeStripe::deliver() {
    State& s = *state_;
    std::vector<Delivery> batch;
    DeliveryOptions options;
    {
        std::lock_guard lock(s.mutex);
        options = s.delivery;
        for (const StoredEvent& event : s.queue) {
            Delivery d{event.seq, event.body, destinations(s, event), 0};
            d.destinations = d.to.size();
            std::erase_if(d.to, [&](const Destination& x) { return event.done.contains(x.key); });
            batch.push_back(std::move(d));
        }
    }
    if (options.reverse) std::reverse(batch.begin(), batch.end());
    // Sent without the lock: the service may call the API while it handles a webhook.
    std::set<std::pair<std::uint64_t, std::string>> answered;
    // Stripe signs with real time, also for events of its own test clocks.
    const auto signed_at =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    for (int pass = 0; pass < (options.duplicate ? 2 : 1); ++pass)
        for (const Delivery& d : batch)
            for (const Destination& to : d.to)
                if (post_signed(to, d.body, signed_at)) answered.insert({d.seq, to.key});
    std::lock_guard lock(s.mutex);
    std::set<std::uint64_t> complete;
    for (const Delivery& d : batch) {
        auto event = std::find_if(s.queue.begin(), s.queue.end(),
                                  [&](const StoredEvent& e) { return e.seq == d.seq; });
        if (event == s.queue.end()) continue;
        for (const Destination& to : d.to)
            if (answered.contains({d.seq, to.key})) event->done.insert(to.key);
        if (d.destinations > 0 && event->done.size() >= d.destinations) complete.insert(d.seq);
    }
    std::erase_if(s.queue, [&](const StoredEvent& e) { return complete.contains(e.seq); });
    return complete.size();
}

} // namespace dunning::fakes
