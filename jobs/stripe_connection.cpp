#include "jobs/stripe_connection.hpp"

#include "store/secrets.hpp"
#include "store/stripe_connections.hpp"
#include "telemetry/log.hpp"

#include <nlohmann/json.hpp>

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

std::string settings_account(const config::CreatorConfig& c) {
    const auto settings = nlohmann::json::parse(c.settings_json, nullptr, false);
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
    if (c.source != "api") return;
    c.stripe_secret_key.clear();
    c.webhook_secrets.clear();
    c.stripe_disconnected = false;
    c.stripe_account = settings_account(c);
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

void reload_stripe_connection(store::Connection& db, const store::SecretBox& box,
                              config::CreatorRegistry& registry, const std::string& creator_id) {
    const auto current = registry.find(creator_id);
    if (!current) return;
    auto c = *current;
    apply_stripe_connection(db, box, c);
    registry.replace(std::move(c));
}

void on_stripe_connected(store::Connection&, const config::CreatorConfig& creator, Timestamp) {
    telemetry::log_info(
        "creator " + creator.id + " connected to Stripe" +
        (creator.stripe_account.empty() ? "" : " (" + creator.stripe_account + ")"));
}

} // namespace dunning::jobs
