#include "jobs/stripe_connection.hpp"

#include "store/access_store.hpp"
#include "store/cases.hpp"
#include "store/creators.hpp"
#include "store/notifications.hpp"
#include "store/secrets.hpp"
#include "store/stripe_connections.hpp"
#include "telemetry/log.hpp"

#include <nlohmann/json.hpp>

#include <map>

namespace dunning::jobs {

namespace {

std::string open_secret(store::Connection& db, const store::SecretBox& box,
                        const std::string& creator, const char* name) {
    auto value = store::get_secret(db, box, creator, name);
    if (!value.ok()) {
        telemetry::log_error("creator " + creator + ": its stored " + name +
                             " does not open: " + value.error());
        return {};
    }
    return value.value().value_or("");
}

std::string settings_account(const std::string& settings_json) {
    const auto settings = nlohmann::json::parse(settings_json, nullptr, false);
    if (!settings.is_object() || !settings.contains("stripe_account") ||
        !settings["stripe_account"].is_string())
        return {};
    return settings["stripe_account"].get<std::string>();
}

} // namespace

CreatorSecrets stored_secrets(store::Connection& db, const store::SecretBox& box,
                              const std::string& creator_id) {
    return {open_secret(db, box, creator_id, secret_stripe_key),
            open_secret(db, box, creator_id, secret_webhook),
            open_secret(db, box, creator_id, secret_oauth_access)};
}

void apply_stripe_connection(store::Connection& db, const store::SecretBox& box,
                             config::CreatorConfig& c) {
    if (c.source != "api") {
        // The file says how to reach Stripe; the store says only whether that account removed
        // the platform since (account.application.deauthorized) and did not come back.
        const auto conn = store::find_stripe_connection(db, c.id);
        c.stripe_disconnected = conn && conn->status != "connected" && !c.stripe_account.empty() &&
                                conn->account == c.stripe_account;
        return;
    }
    c.stripe_secret_key.clear();
    c.webhook_secrets.clear();
    c.stripe_disconnected = false;
    c.stripe_account = settings_account(c.settings_json);
    const auto conn = store::find_stripe_connection(db, c.id);
    if (!conn) return;
    if (conn->method == "oauth") c.stripe_account = conn->account;
    if (conn->status != "connected") {
        c.stripe_disconnected = true;
        return;
    }
    if (conn->method != "key") return;
    const auto secrets = stored_secrets(db, box, c.id);
    c.stripe_secret_key = secrets.stripe_secret_key;
    if (!secrets.webhook_secret.empty()) c.webhook_secrets = {secrets.webhook_secret};
}

std::string account_holder(store::Connection& db, const std::string& account,
                           const std::string& except) {
    if (account.empty()) return {};
    std::map<std::string, std::string> oauth; // creator -> the account its OAuth connection names
    for (const auto& conn : store::load_stripe_connections(db))
        if (conn.method == "oauth") oauth[conn.creator_id] = conn.account;
    for (const auto& row : store::load_creators(db)) {
        if (row.id == except || row.source != "api") continue;
        const auto by_oauth = oauth.find(row.id);
        if ((by_oauth != oauth.end() ? by_oauth->second : settings_account(row.settings_json)) ==
            account)
            return row.id;
    }
    return {};
}

std::string settings_account_holder(store::Connection& db, const std::string& creator) {
    const auto row = store::find_stored_creator(db, creator);
    return row ? account_holder(db, settings_account(row->settings_json), creator) : std::string();
}

void reload_stripe_connection(store::Connection& db, const store::SecretBox& box,
                              config::CreatorRegistry& registry, const std::string& creator_id) {
    const auto current = registry.find(creator_id);
    if (!current) return;
    auto c = *current;
    apply_stripe_connection(db, box, c);
    registry.replace(std::move(c));
}

std::size_t follow_stripe_connection(store::Connection& db, const Engine& engine,
                                     const std::string& creator_id) {
    const auto ids = store::active_cases_of_creator(db, creator_id);
    for (const auto id : ids)
        if (auto c = store::load_case(db, id)) engine.run_case(db, *c, Tick{});
    return ids.size();
}

void on_stripe_connected(store::Connection& db, const Engine& engine,
                         const config::CreatorConfig& creator) {
    const auto n = follow_stripe_connection(db, engine, creator.id);
    store::recheck_creator_now(db, creator.id, engine.clock().now()); // locks held meanwhile
    telemetry::log_info(
        "creator " + creator.id + " connected to Stripe" +
        (creator.stripe_account.empty() ? "" : " (" + creator.stripe_account + ")") + "; its " +
        std::to_string(n) + " open cases go on");
}

void on_stripe_disconnected(store::Connection& db, const Engine& engine,
                            const std::string& creator_id, const std::string& account,
                            const std::string& reason) {
    const auto n = follow_stripe_connection(db, engine, creator_id);
    if (engine.notifies_host())
        store::queue_notification(db, creator_id, "", "creator.disconnected",
                                  {{"creator",
                                    {{"id", creator_id},
                                     {"stripe_account", account.empty() ? nlohmann::json(nullptr)
                                                                        : nlohmann::json(account)},
                                     {"reason", reason},
                                     {"open_cases_paused", n}}}},
                                  engine.clock().now());
    telemetry::log_warn("creator " + creator_id + " was disconnected from Stripe (" + reason +
                        "): its " + std::to_string(n) + " open cases wait until it connects again");
}

bool stripe_deauthorized(store::Connection& db, const Engine& engine, const std::string& creator_id,
                         const std::string& account, Timestamp created) {
    auto& registry = engine.creators();
    const auto before = registry.find(creator_id);
    if (!before || account.empty() || before->stripe_account != account) return false;
    const auto now = to_unix(engine.clock().now());
    auto conn = store::find_stripe_connection(db, creator_id);
    // Stripe delivers late and out of order: a deauthorization from before the connection was
    // made (again) is about an earlier one.
    if (conn && (conn->status != "connected" || conn->account != account ||
                 to_unix(created) < conn->connected_at))
        return false;
    // A creator of the file, or one the platform registered without a stored connection, is
    // recorded as its platform connection, ended.
    if (!conn)
        conn = store::StripeConnection{creator_id, "platform", account, "", "", "", now, now};
    conn->status = "disconnected";
    conn->updated_at = now;
    store::put_stripe_connection(db, *conn);
    for (const char* name : {secret_oauth_access, secret_oauth_refresh})
        store::delete_secret(db, creator_id, name);
    auto after = *before;
    after.stripe_disconnected = true;
    registry.replace(std::move(after));
    engine.note_connection_change(creator_id);
    try {
        on_stripe_disconnected(db, engine, creator_id, account, "deauthorized");
    } catch (...) {
        registry.replace(*before); // the caller rolls back: the store keeps none of it
        throw;
    }
    return true;
}

bool stripe_authorized(store::Connection& db, const Engine& engine, const std::string& creator_id,
                       const std::string& account, Timestamp created) {
    auto& registry = engine.creators();
    const auto before = registry.find(creator_id);
    if (!before || account.empty() || before->stripe_account != account) return false;
    auto conn = store::find_stripe_connection(db, creator_id);
    if (!conn || conn->method != "platform" || conn->status == "connected" ||
        conn->account != account || to_unix(created) < conn->updated_at)
        return false; // not disconnected, or an authorization from before it was
    conn->status = "connected";
    conn->connected_at = conn->updated_at = to_unix(engine.clock().now());
    store::put_stripe_connection(db, *conn);
    auto after = *before;
    after.stripe_disconnected = false;
    registry.replace(after);
    engine.note_connection_change(creator_id);
    try {
        on_stripe_connected(db, engine, after);
    } catch (...) {
        registry.replace(*before);
        throw;
    }
    return true;
}

void settle_connection_changes(store::Connection& db, const Engine& engine) {
    auto& registry = engine.creators();
    for (const auto& id : engine.take_connection_changes()) {
        std::lock_guard lock(registry.changes());
        const auto c = registry.find(id);
        if (!c) continue;
        const auto conn = store::find_stripe_connection(db, id);
        const bool gone = conn && conn->status != "connected" &&
                          (c->source == "api" || conn->account == c->stripe_account);
        if (gone == c->stripe_disconnected) continue;
        auto fixed = *c;
        fixed.stripe_disconnected = gone;
        registry.replace(std::move(fixed));
    }
}

} // namespace dunning::jobs
