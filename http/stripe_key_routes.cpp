// A creator's own Stripe key (restricted rk_… or secret sk_…): checked with GET /v1/account, given
// a webhook endpoint for exactly the events the module handles, both sealed in the store, and in
// the registry at once. A new key replaces the old one and its endpoint; a creator connected by
// OAuth is disconnected first (409).
#include "http/stripe_connect.hpp"
#include "jobs/stripe_connect.hpp"
#include "jobs/stripe_connection.hpp"
#include "store/secrets.hpp"
#include "store/stripe_connections.hpp"
#include "telemetry/log.hpp"
#include "webhook/event_parser.hpp"

#include <httplib.h>

namespace dunning::http {

namespace {

using nlohmann::json;

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

// The admin's token or the creator's own.
config::CreatorRegistry::Snapshot caller_creator(Services& m, const httplib::Request& req,
                                                 httplib::Response& res) {
    const std::string id = req.matches[1];
    const auto caller = identify(m, req, res);
    if (!caller) return nullptr;
    if (!caller->admin && caller->creator != id) {
        send_error(res, 403, "this token does not grant access to creator " + id);
        return nullptr;
    }
    auto c = m.creators.find(id);
    if (!c) send_error(res, 404, "no such creator");
    return c;
}

struct KeyRequest {
    std::string key;
    bool import_open_invoices = true;
};

std::optional<KeyRequest> key_of(const httplib::Request& req, httplib::Response& res) {
    const auto body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("secret_key") || !body["secret_key"].is_string()) {
        send_error(res, 400, "the body must be {\"secret_key\": \"rk_…\"}");
        return std::nullopt;
    }
    auto key = body["secret_key"].get<std::string>();
    if (!key.starts_with("rk_") && !key.starts_with("sk_")) {
        send_error(res, 400, "secret_key must start with rk_ (restricted) or sk_");
        return std::nullopt;
    }
    const auto import_open_invoices = import_choice(body, res);
    if (!import_open_invoices) return std::nullopt;
    return KeyRequest{std::move(key), *import_open_invoices};
}

// A key does not replace an OAuth connection: that one is ended at Stripe by disconnecting it.
std::optional<std::string> oauth_in_the_way(Services& m, const std::string& creator) {
    const auto conn =
        m.db.use([&](store::Connection& db) { return store::find_stripe_connection(db, creator); });
    if (!conn || conn->method != "oauth" || conn->status != "connected") return std::nullopt;
    return "creator " + creator + " is connected by OAuth (" + conn->account +
           "): disconnect it first (POST /v1/creators/" + creator + "/stripe/disconnect)";
}

// What the key replaced: its endpoint is deleted once the new one is in place.
struct Replaced {
    int status = 0; // an error answer to give (and the new endpoint to delete); 0 when stored
    std::string error;
    KeyEndpointOf old;
};

// The key, its endpoint's secret and the connection, in one transaction that first asks the
// store whether another creator holds the account the creator's settings name (the key ends an
// OAuth connection's hold, so that account counts again).
Replaced store_key(Services& m, const std::string& creator, const std::string& key,
                   const jobs::KeyEndpoint& endpoint) {
    const auto now = m.clock.now();
    return m.db.use([&](store::Connection& db) -> Replaced {
        store::Transaction tx(db);
        if (const auto holder = jobs::settings_account_holder(db, creator); !holder.empty())
            return {409,
                    "creator " + creator + "'s stripe_account is already used by creator " + holder,
                    {}};
        for (const auto& [name, value] : {std::pair{jobs::secret_stripe_key, key},
                                          std::pair{jobs::secret_webhook, endpoint.secret}}) {
            auto put = store::put_secret(db, m.secrets, creator, name, value, now);
            if (!put.ok()) return {503, "the key could not be stored: " + put.error(), {}};
        }
        for (const char* name : {jobs::secret_oauth_access, jobs::secret_oauth_refresh})
            store::delete_secret(db, creator, name);
        const auto at = to_unix(now);
        store::put_stripe_connection(db,
                                     {creator, "key", endpoint.account, "connected",
                                      key.substr(key.size() - 4), endpoint.endpoint_id, at, at});
        tx.commit();
        return {};
    });
}

// Under the lock on changes to creators; no call to Stripe here.
Replaced put_key(Services& m, const std::string& creator, const KeyRequest& request,
                 const jobs::KeyEndpoint& endpoint) {
    std::lock_guard lock(m.creators.changes());
    if (auto conflict = oauth_in_the_way(m, creator)) return {409, *conflict, {}};
    Replaced out{0, "", key_endpoint_of(m, creator)};
    if (auto stored = store_key(m, creator, request.key, endpoint); stored.status != 0)
        return stored;
    connection_made(m, creator, request.import_open_invoices);
    return out;
}

void connect_key(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto c = caller_creator(m, req, res);
    if (!c) return;
    const auto request = key_of(req, res);
    if (!request) return;
    const auto& key = request->key;
    if (c->source != "api")
        return send_error(res, 409,
                          "creator " + c->id + " is defined in " + m.config.path +
                              ": set its stripe_secret_key there");
    if (!m.secrets.can_seal())
        return send_error(res, 503,
                          "storing a key needs [storage] secrets_key: keys are kept sealed "
                          "with it");
    if (m.config.server.public_url.empty())
        return send_error(res, 503,
                          "a creator's key needs [server] public_url: Stripe sends the webhooks "
                          "there");
    if (auto conflict = oauth_in_the_way(m, c->id)) return send_error(res, 409, *conflict);
    auto account = m.connector.check_key(key);
    if (!account.ok())
        return send_error(res, 400, "the key was refused by Stripe: " + account.error());
    const auto url = m.config.server.public_url + "/webhooks/stripe/" + c->id;
    auto endpoint = m.connector.create_endpoint(key, url);
    if (!endpoint.ok())
        return send_error(res, 400,
                          "Stripe refused to create the webhook endpoint: " + endpoint.error());
    endpoint.value().account = account.value();
    const auto replaced = put_key(m, c->id, *request, endpoint.value());
    if (replaced.status != 0) {
        (void)m.connector.delete_endpoint(key, endpoint.value().endpoint_id);
        return send_error(res, replaced.status, replaced.error);
    }
    delete_key_endpoint(m, c->id, replaced.old);
    send_json(res, 200,
              {{"object", "stripe_connection"},
               {"creator", c->id},
               {"method", "key"},
               {"account", account.value()},
               {"webhook_endpoint", endpoint.value().endpoint_id},
               {"webhook_url", url},
               {"enabled_events", webhook::handled_event_types()},
               {"key_last4", key.substr(key.size() - 4)}});
}

} // namespace

std::optional<bool> import_choice(const nlohmann::json& body, httplib::Response& res) {
    const auto found = body.find("import_open_invoices");
    if (found == body.end()) return true;
    if (!found->is_boolean()) {
        send_error(res, 400, "import_open_invoices: must be true or false");
        return std::nullopt;
    }
    return found->get<bool>();
}

void connection_made(Services& m, const std::string& creator, bool import_open_invoices) {
    if (import_open_invoices) return connection_changed(m, creator, true);
    Services without_import = m; // the same services, minus the import of invoices past due
    without_import.creator_connected = nullptr;
    connection_changed(without_import, creator, true);
}

KeyEndpointOf key_endpoint_of(Services& m, const std::string& creator) {
    const auto conn =
        m.db.use([&](store::Connection& db) { return store::find_stripe_connection(db, creator); });
    const auto current = m.creators.find(creator);
    if (!conn || conn->method != "key" || conn->status != "connected" || !current) return {};
    return {current->stripe_secret_key, conn->webhook_endpoint};
}

void delete_key_endpoint(Services& m, const std::string& creator, const KeyEndpointOf& old) {
    if (old.key.empty() || old.endpoint.empty()) return;
    if (const auto done = m.connector.delete_endpoint(old.key, old.endpoint); !done.ok())
        telemetry::log_warn("creator " + creator + ": the webhook endpoint " + old.endpoint +
                            " of its former key could not be deleted at Stripe (" + done.error() +
                            "); its events are no longer taken: delete it in Stripe's dashboard");
}

void install_stripe_key_routes(httplib::Server& http, Services& m) {
    http.Post(
        R"(/v1/creators/([^/]+)/stripe/keys)",
        [&m](const httplib::Request& req, httplib::Response& res) { connect_key(m, req, res); });
}

} // namespace dunning::http
