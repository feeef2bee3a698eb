// The stored connection as the admin API shows it, and the account a PATCH registers.
#include "http/stripe_connect.hpp"
#include "jobs/stripe_connection.hpp"
#include "store/secrets.hpp"
#include "store/stripe_connections.hpp"

namespace dunning::http {

namespace {

using nlohmann::json;

json nullable(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

json from_file(const config::CreatorConfig& c) {
    const bool key = !c.stripe_secret_key.empty();
    const bool platform = !c.stripe_account.empty();
    std::string last4 = key && c.stripe_secret_key.size() >= 4
                            ? c.stripe_secret_key.substr(c.stripe_secret_key.size() - 4)
                            : "";
    return {{"method", key        ? "key"
                       : platform ? "platform"
                                  : "none"},
            {"account", nullable(c.stripe_account)},
            {"status", (key || platform) && !c.stripe_disconnected ? "connected" : "disconnected"},
            {"key_last4", nullable(last4)},
            {"webhook_endpoint", nullptr},
            {"connected_at", nullptr}};
}

} // namespace

json stripe_connection_view(Services& m, const config::CreatorConfig& c) {
    if (c.source != "api") return from_file(c);
    const auto conn =
        m.db.use([&](store::Connection& db) { return store::find_stripe_connection(db, c.id); });
    if (!conn)
        return {{"method", "none"},
                {"account", nullable(c.stripe_account)},
                {"status", "disconnected"},
                {"key_last4", nullptr},
                {"webhook_endpoint", nullptr},
                {"connected_at", nullptr}};
    return {{"method", conn->method},
            {"account", nullable(conn->account)},
            {"status", conn->status},
            {"key_last4", nullable(conn->key_last4)},
            {"webhook_endpoint", nullable(conn->webhook_endpoint)},
            {"connected_at", iso8601(from_unix(conn->connected_at))}};
}

bool record_platform_account(Services& m, const nlohmann::json& body,
                             config::CreatorConfig& after) {
    const auto now = to_unix(m.clock.now());
    return m.db.use([&](store::Connection& db) {
        store::Transaction tx(db);
        bool made = false;
        if (body.contains("stripe_account")) {
            const auto conn = store::find_stripe_connection(db, after.id);
            const bool live = conn && conn->status == "connected";
            // The same account again is no new connection; an OAuth or key connection is only
            // ended by disconnecting it (the PATCH route refuses to change its account).
            const bool same = live && conn->account == after.stripe_account;
            if (!after.stripe_account.empty() && !same && !(live && conn->method != "platform")) {
                store::put_stripe_connection(db, {after.id, "platform", after.stripe_account,
                                                  "connected", "", "", now, now});
                made = true;
            } else if (after.stripe_account.empty() && conn && conn->method == "platform") {
                store::delete_stripe_connection(db, after.id);
            }
        }
        jobs::apply_stripe_connection(db, m.secrets, after);
        tx.commit();
        return made;
    });
}

void connection_changed(Services& m, const std::string& creator, bool connected) {
    m.db.use([&](store::Connection& db) {
        jobs::reload_stripe_connection(db, m.secrets, m.creators, creator);
    });
    const auto c = m.creators.find(creator);
    if (!connected || !c) return;
    after_connect(m, *c);
    if (m.creator_connected) m.creator_connected(creator); // its invoices already past due
}

void mark_disconnected(Services& m, const std::string& creator) {
    const auto before = m.creators.find(creator);
    try {
        m.db.use([&](store::Connection& db) {
            store::Transaction tx(db);
            auto conn = store::find_stripe_connection(db, creator);
            // Stripe's deauthorization webhook, which our own deauthorize call causes, may have
            // been first: then the creator is disconnected and the platform was told already.
            if (!conn || conn->status != "connected") return;
            conn->status = "disconnected";
            conn->updated_at = to_unix(m.clock.now());
            store::put_stripe_connection(db, *conn);
            for (const char* name : {jobs::secret_stripe_key, jobs::secret_webhook,
                                     jobs::secret_oauth_access, jobs::secret_oauth_refresh})
                store::delete_secret(db, creator, name);
            // The registry first (read inside this transaction): the cases look at it.
            jobs::reload_stripe_connection(db, m.secrets, m.creators, creator);
            jobs::on_stripe_disconnected(db, m.engine, creator, conn->account, "disconnected");
            tx.commit();
        });
    } catch (...) {
        if (before) m.creators.replace(*before); // rolled back: the store is as it was
        throw;
    }
    m.work.wake();
}

void after_connect(Services& m, const config::CreatorConfig& c) {
    m.db.use([&](store::Connection& db) {
        store::Transaction tx(db);
        jobs::on_stripe_connected(db, m.engine, c);
        tx.commit();
    });
    m.work.wake();
}

} // namespace dunning::http
