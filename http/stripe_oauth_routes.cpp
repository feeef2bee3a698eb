// Connect OAuth for a creator's Standard account: the admin asks for the authorization URL, Stripe
// sends the creator back to the callback with a code, which is exchanged with the platform's key.
// The callback carries no token: the signed, single-use, expiring state is what binds it to the
// creator. Disconnecting ends the connection at Stripe first.
#include "http/stripe_connect.hpp"
#include "jobs/stripe_connect.hpp"
#include "jobs/stripe_connection.hpp"
#include "store/secrets.hpp"
#include "store/stripe_connections.hpp"
#include "telemetry/log.hpp"

#include "core/html.hpp"

#include <httplib.h>

#include <mutex>

namespace dunning::http {

namespace {

using nlohmann::json;

struct Words {
    const char* connected_title;
    const char* connected;
    const char* refused_title;
    const char* denied;
    const char* bad_state;
    const char* reused;
    const char* expired;
    const char* exchange_failed;
    const char* taken;
    const char* unavailable;
};

const Words german{
    "Stripe verbunden",
    "Ihr Stripe-Konto ist jetzt verbunden. Sie können dieses Fenster schließen.",
    "Stripe nicht verbunden",
    "Sie haben die Verbindung abgelehnt. Es wurde nichts geändert.",
    "Dieser Link ist ungültig. Es wurde nichts geändert.",
    "Dieser Link wurde bereits verwendet. Bitte fordern Sie einen neuen an.",
    "Dieser Link ist abgelaufen. Bitte fordern Sie einen neuen an.",
    "Stripe hat die Verbindung nicht bestätigt. Es wurde nichts geändert:",
    "Dieses Stripe-Konto ist bereits mit einem anderen Anbieter verbunden.",
    "Die Verbindung kann gerade nicht gespeichert werden. Es wurde nichts geändert:"};
const Words english{"Stripe connected",
                    "Your Stripe account is now connected. You may close this window.",
                    "Stripe not connected",
                    "You declined the connection. Nothing was changed.",
                    "This link is not valid. Nothing was changed.",
                    "This link was used already. Please ask for a new one.",
                    "This link has expired. Please ask for a new one.",
                    "Stripe did not confirm the connection. Nothing was changed:",
                    "This Stripe account is already connected to another creator.",
                    "The connection cannot be stored right now. Nothing was changed:"};

const Words& words_for(const config::CreatorRegistry::Snapshot& c) {
    return c && c->locale == "en" ? english : german;
}

void send_page(httplib::Response& res, int status, const std::string& lang,
               const std::string& title, const std::string& text) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_content("<!doctype html><html lang=\"" + lang +
                        "\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
                        "</title></head><body><h1>" + html_escape(title) + "</h1><p>" +
                        html_escape(text) + "</p></body></html>",
                    "text/html; charset=utf-8");
}

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

// The admin API on, the admin's token, and a creator of the admin API.
config::CreatorRegistry::Snapshot admin_creator(Services& m, const httplib::Request& req,
                                                httplib::Response& res) {
    if (m.config.platform.admin_token.empty()) {
        send_error(res, 404,
                   "the admin API is off: set [platform] admin_token in the configuration");
        return nullptr;
    }
    const std::string id = req.matches[1];
    const auto caller = identify(m, req, res);
    if (!caller) return nullptr;
    if (!caller->admin) {
        send_error(res, 403, "only the admin token may do this");
        return nullptr;
    }
    auto c = m.creators.find(id);
    if (!c) send_error(res, 404, "no such creator");
    return c;
}

void start(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto c = admin_creator(m, req, res);
    if (!c) return;
    const auto& stripe = m.config.stripe;
    if (c->source != "api")
        return send_error(res, 409,
                          "creator " + c->id + " is defined in " + m.config.path +
                              ": its Stripe connection is set there");
    if (stripe.connect_client_id.empty() || stripe.platform_secret_key.empty())
        return send_error(res, 503,
                          "Connect OAuth needs [stripe] connect_client_id and "
                          "platform_secret_key in the configuration");
    if (m.config.server.public_url.empty())
        return send_error(res, 503,
                          "Connect OAuth needs [server] public_url: Stripe sends the creator "
                          "back there");
    if (!m.secrets.can_seal())
        return send_error(res, 503,
                          "Connect OAuth needs [storage] secrets_key: the account's tokens are "
                          "stored sealed with it");
    const auto body = req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
    if (!body.is_object()) return send_error(res, 400, "the body must be a JSON object, or empty");
    const auto import_open_invoices = import_choice(body, res);
    if (!import_open_invoices) return;
    const auto secret = jobs::oauth_state_secret(m.config);
    const auto state = jobs::make_oauth_state(secret, c->id, m.clock.now(), *import_open_invoices);
    const auto url =
        stripe.connect_base + "/oauth/authorize?response_type=code&client_id=" +
        httplib::detail::encode_query_param(stripe.connect_client_id) +
        "&scope=read_write&redirect_uri=" +
        httplib::detail::encode_query_param(m.config.server.public_url + "/stripe/oauth/callback") +
        "&state=" + httplib::detail::encode_query_param(state);
    send_json(res, 200, {{"url", url}, {"expires_in", 15 * 60}});
}

// Stores the grant and the connection in one transaction, dropping a key connection's secrets; the
// registry is told after it. 409 when the store gives the account to another creator (one an
// instance beside this one connected), 503 when not stored (why in `trouble`), else 0.
int store_grant(Services& m, const std::string& creator, const jobs::OAuthGrant& grant,
                std::string& trouble) {
    const auto now = m.clock.now();
    return m.db.use([&](store::Connection& db) {
        store::Transaction tx(db);
        if (!jobs::account_holder(db, grant.account, creator).empty()) return 409;
        for (const auto& [name, value] :
             {std::pair{jobs::secret_oauth_access, grant.access_token},
              std::pair{jobs::secret_oauth_refresh, grant.refresh_token}}) {
            if (value.empty()) { // none given: an earlier grant's must not stay
                store::delete_secret(db, creator, name);
                continue;
            }
            auto put = store::put_secret(db, m.secrets, creator, name, value, now);
            if (!put.ok()) {
                trouble = put.error();
                return 503;
            }
        }
        for (const char* name : {jobs::secret_stripe_key, jobs::secret_webhook})
            store::delete_secret(db, creator, name);
        const auto at = to_unix(now);
        store::put_stripe_connection(
            db, {creator, "oauth", grant.account, "connected", "", "", at, at});
        tx.commit();
        return 0;
    });
}

// What a new OAuth connection replaces, ended at Stripe once the new one is stored.
struct Former {
    KeyEndpointOf key;         // a key connection's webhook endpoint, and the key
    std::string oauth_account; // another account connected by OAuth before
};

// Under the lock on changes to creators, no call to Stripe: 0 when stored, else the page's status
// (409: the account is another creator's; 503: not stored, why in `trouble`).
int put_grant(Services& m, const std::string& creator, const jobs::OAuthGrant& grant,
              bool import_open_invoices, Former& former, std::string& trouble) {
    std::lock_guard lock(m.creators.changes());
    const auto holder = m.creators.find_by_account(grant.account);
    if (holder && holder->id != creator) return 409;
    former.key = key_endpoint_of(m, creator);
    const auto before =
        m.db.use([&](store::Connection& db) { return store::find_stripe_connection(db, creator); });
    if (before && before->method == "oauth" && before->status == "connected" &&
        before->account != grant.account)
        former.oauth_account = before->account;
    if (const int status = store_grant(m, creator, grant, trouble); status != 0) return status;
    connection_made(m, creator, import_open_invoices);
    return 0;
}

void end_former(Services& m, const std::string& creator, const Former& former) {
    delete_key_endpoint(m, creator, former.key); // with the key that made it
    if (former.oauth_account.empty()) return;
    if (const auto done = m.connector.deauthorize(former.oauth_account); !done.ok())
        telemetry::log_warn("creator " + creator + ": its former account " + former.oauth_account +
                            " could not be deauthorized at Stripe (" + done.error() +
                            "); deauthorize it in Stripe's dashboard");
}

void callback(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto secret = jobs::oauth_state_secret(m.config);
    const auto state = jobs::read_oauth_state(secret, req.get_param_value("state"), m.clock.now());
    const auto creator = state.ok() ? m.creators.find(state.value().creator) : nullptr;
    const auto& w = words_for(creator);
    const std::string lang = creator && creator->locale == "en" ? "en" : "de";
    if (!state.ok() || !creator) return send_page(res, 400, lang, w.refused_title, w.bad_state);
    if (state.value().expired) return send_page(res, 400, lang, w.refused_title, w.expired);
    if (req.has_param("error")) return send_page(res, 400, lang, w.refused_title, w.denied);
    const bool fresh = m.db.use([&](store::Connection& db) {
        return store::use_oauth_nonce(db, state.value().nonce, creator->id, to_unix(m.clock.now()));
    });
    if (!fresh) return send_page(res, 400, lang, w.refused_title, w.reused);
    auto grant = m.connector.exchange_code(req.get_param_value("code"));
    if (!grant.ok())
        return send_page(res, 400, lang, w.refused_title,
                         std::string(w.exchange_failed) + " " + grant.error());
    Former former;
    std::string trouble;
    const int status = put_grant(m, creator->id, grant.value(), state.value().import_open_invoices,
                                 former, trouble);
    if (status == 409) return send_page(res, 409, lang, w.refused_title, w.taken);
    if (status != 0)
        return send_page(res, status, lang, w.refused_title,
                         std::string(w.unavailable) + " " + trouble);
    end_former(m, creator->id, former);
    send_page(res, 200, lang, w.connected_title, w.connected);
}

void disconnect(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto c = admin_creator(m, req, res);
    if (!c) return;
    const auto conn =
        m.db.use([&](store::Connection& db) { return store::find_stripe_connection(db, c->id); });
    if (!conn || conn->status != "connected")
        return send_error(res, 409, "creator " + c->id + " is not connected to Stripe");
    if (conn->method == "oauth") {
        if (auto done = m.connector.deauthorize(conn->account); !done.ok())
            return send_error(res, 502, "Stripe refused the deauthorization: " + done.error());
    } else if (conn->method == "key" && !conn->webhook_endpoint.empty()) {
        if (auto done = m.connector.delete_endpoint(c->stripe_secret_key, conn->webhook_endpoint);
            !done.ok())
            return send_error(res, 502,
                              "Stripe refused to delete the webhook endpoint " +
                                  conn->webhook_endpoint + ": " + done.error());
    }
    {
        std::lock_guard lock(m.creators.changes());
        mark_disconnected(m, c->id);
    }
    json out = {{"id", c->id}, {"object", "creator"}};
    out["stripe"] = stripe_connection_view(m, *m.creators.find(c->id));
    send_json(res, 200, out);
}

} // namespace

void install_stripe_connect_routes(httplib::Server& http, Services& m) {
    using Req = const httplib::Request&;
    using Res = httplib::Response&;
    http.Post(R"(/v1/creators/([^/]+)/stripe/oauth)",
              [&m](Req req, Res res) { start(m, req, res); });
    http.Get("/stripe/oauth/callback", [&m](Req req, Res res) { callback(m, req, res); });
    http.Post(R"(/v1/creators/([^/]+)/stripe/disconnect)",
              [&m](Req req, Res res) { disconnect(m, req, res); });
    install_stripe_key_routes(http, m);
}

} // namespace dunning::http
