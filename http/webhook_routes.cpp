// POST /webhooks/stripe (Connect platform) and POST /webhooks/stripe/{creator} (a creator's own
// endpoint): verify, store, then answer. Nothing is acted on here; the worker does that.
#include "http/services.hpp"
#include "telemetry/log.hpp"
#include "webhook/event_parser.hpp"
#include "webhook/signature.hpp"

#include <nlohmann/json.hpp>

namespace dunning::http {

using store::AppendOutcome;
using store::InboxRow;
using telemetry::log_warn;

namespace {

using config::CreatorConfig;

std::string describe(webhook::SignatureError e) {
    switch (e) {
    case webhook::SignatureError::not_signed:
        return "missing Stripe-Signature header";
    case webhook::SignatureError::invalid_header:
        return "malformed Stripe-Signature header (needs t=<unix> and v1=<hex>)";
    case webhook::SignatureError::no_valid_signature:
        return "no signature matches this endpoint's webhook secrets";
    case webhook::SignatureError::too_old:
        return "signature timestamp outside the tolerance";
    }
    return "invalid signature";
}

class Receiver {
  public:
    Receiver(Services& m, const httplib::Request& req, httplib::Response& res, const char* endpoint)
        : m_(m), req_(req), res_(res), endpoint_(endpoint) {}

    // `creator` is null on the Connect endpoint: the event's account names the creator.
    void handle(config::CreatorRegistry::Snapshot creator,
                const std::vector<std::string>& secrets) {
        // Stripe signs with real time, also for its own test clocks: a signature's age is a
        // matter of the transport, so it is checked against the system clock even when the
        // module runs on a test clock.
        const auto verified = webhook::verify_signature(
            req_.body, req_.get_header_value("Stripe-Signature"), secrets,
            from_unix(m_.wall_ms() / 1000), m_.config.stripe.webhook_tolerance);
        if (!verified)
            return reject(400, webhook::to_string(verified.error()), describe(verified.error()));
        auto envelope = webhook::parse_envelope(req_.body);
        if (!envelope) return reject(400, "malformed_event", envelope.error());
        if (!creator)
            creator = route_connect(envelope.value());
        else if (!account_matches(*creator, envelope.value()))
            return;
        if (creator) store(*creator, std::move(envelope).value());
    }

    void reject(int status, const std::string& reason, const std::string& message) {
        m_.metrics.event_rejected(reason);
        log_warn(std::string("webhook ") + endpoint_ + " rejected (" + reason + "): " + message);
        send_error(res_, status, message);
    }

  private:
    config::CreatorRegistry::Snapshot route_connect(const webhook::Envelope& e) {
        if (e.account.empty()) {
            reject(400, "no_account",
                   "event has no account; the Connect endpoint takes events of connected accounts");
            return nullptr;
        }
        auto c = m_.creators.find_by_account(e.account);
        if (!c) reject(404, "unknown_account", "no creator is connected with account " + e.account);
        return c;
    }

    // An event a creator's own endpoint receives for someone else's account is refused.
    bool account_matches(const CreatorConfig& c, const webhook::Envelope& e) {
        if (e.account.empty() || c.stripe_account.empty() || e.account == c.stripe_account)
            return true;
        reject(400, "account_mismatch",
               "event belongs to another Stripe account than creator " + c.id);
        return false;
    }

    void store(const CreatorConfig& c, webhook::Envelope e) {
        InboxRow row{c.id,      std::move(e.id), std::move(e.type),  std::move(e.account),
                     endpoint_, req_.body,       to_unix(e.created), m_.wall_ms()};
        try {
            const bool duplicate = m_.inbox.append(std::move(row)) == AppendOutcome::duplicate;
            m_.metrics.event_accepted(duplicate);
            res_.set_content(nlohmann::json{{"received", true}, {"duplicate", duplicate}}.dump(),
                             "application/json");
        } catch (const std::exception&) {
            // Logged once by the inbox when commits start failing, not once per delivery.
            m_.metrics.event_rejected("storage_unavailable");
            send_error(res_, 503, "storage unavailable, deliver again later");
        }
    }

    Services& m_;
    const httplib::Request& req_;
    httplib::Response& res_;
    const char* endpoint_;
};

} // namespace

void install_webhook_routes(httplib::Server& http, Services& m) {
    http.Post("/webhooks/stripe", [&m](const httplib::Request& req, httplib::Response& res) {
        m.metrics.event_received("connect");
        Receiver r(m, req, res, "connect");
        const auto& secrets = m.config.stripe.connect_webhook_secrets;
        if (secrets.empty())
            return r.reject(404, "connect_not_configured",
                            "no Connect webhook secret is configured");
        r.handle(nullptr, secrets);
    });
    http.Post(
        R"(/webhooks/stripe/([^/]+))", [&m](const httplib::Request& req, httplib::Response& res) {
            m.metrics.event_received("direct");
            Receiver r(m, req, res, "direct");
            auto creator = m.creators.find(req.matches[1].str());
            if (!creator) return r.reject(404, "unknown_creator", "unknown creator");
            if (creator->webhook_secrets.empty())
                return r.reject(404, "unknown_creator", "creator has no webhook secret of its own");
            const auto secrets = creator->webhook_secrets;
            r.handle(std::move(creator), secrets);
        });
}

} // namespace dunning::http
