#include "plugin/reload.hpp"

#include "plugin/creator_seed.hpp"
#include "plugin/module.hpp"
#include "telemetry/log.hpp"

#include <mutex>
#include <set>

namespace dunning::plugin {

namespace {

class Differences {
  public:
    template <class T> void check(const char* key, const T& running, const T& next) {
        if (!(running == next)) keys_.push_back(key);
    }
    std::vector<std::string> keys() && { return std::move(keys_); }

  private:
    std::vector<std::string> keys_;
};

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out;
}

} // namespace

std::vector<std::string> settings_needing_restart(const config::Config& a,
                                                  const config::Config& b) {
    Differences d;
    d.check("server.listen", a.server.listen, b.server.listen);
    d.check("server.threads", a.server.threads, b.server.threads);
    d.check("server.max_body_bytes", a.server.max_body_bytes, b.server.max_body_bytes);
    d.check("server.request_deadline_seconds", a.server.request_deadline_seconds,
            b.server.request_deadline_seconds);
    d.check("server.max_connections", a.server.max_connections, b.server.max_connections);
    d.check("server.max_connections_per_client", a.server.max_connections_per_client,
            b.server.max_connections_per_client);
    d.check("server.max_buffered_bytes", a.server.max_buffered_bytes, b.server.max_buffered_bytes);
    d.check("server.public_url", a.server.public_url, b.server.public_url);
    d.check("server.link_secret", a.server.link_secret, b.server.link_secret);
    d.check("storage.sqlite_path", a.storage.sqlite_path, b.storage.sqlite_path);
    d.check("storage.postgres_url", a.storage.postgres_url, b.storage.postgres_url);
    d.check("storage.synchronous", a.storage.synchronous, b.storage.synchronous);
    d.check("storage.claim_lease_seconds", a.storage.claim_lease_seconds,
            b.storage.claim_lease_seconds);
    d.check("storage.secrets_key", a.storage.secrets_key, b.storage.secrets_key);
    d.check("storage.previous_secrets_keys", a.storage.previous_secrets_keys,
            b.storage.previous_secrets_keys);
    d.check("stripe.api_base", a.stripe.api_base, b.stripe.api_base);
    d.check("stripe.platform_secret_key", a.stripe.platform_secret_key,
            b.stripe.platform_secret_key);
    d.check("stripe.connect_webhook_secrets", a.stripe.connect_webhook_secrets,
            b.stripe.connect_webhook_secrets);
    d.check("stripe.webhook_tolerance", a.stripe.webhook_tolerance, b.stripe.webhook_tolerance);
    d.check("mail.transport", a.mail.transport, b.mail.transport);
    d.check("mail.outbox_dir", a.mail.outbox_dir, b.mail.outbox_dir);
    d.check("mail.smtp_url", a.mail.smtp_url, b.mail.smtp_url);
    d.check("mail.from", a.mail.from, b.mail.from);
    d.check("mail.smtp_username", a.mail.smtp_username, b.mail.smtp_username);
    d.check("mail.smtp_password", a.mail.smtp_password, b.mail.smtp_password);
    d.check("mail.smtp_allow_plaintext", a.mail.smtp_allow_plaintext, b.mail.smtp_allow_plaintext);
    d.check("mail.smtp_ca_file", a.mail.smtp_ca_file, b.mail.smtp_ca_file);
    d.check("mail.message_id_domain", a.mail.message_id_domain, b.mail.message_id_domain);
    d.check("host.webhook_url", a.host.webhook_url, b.host.webhook_url);
    d.check("host.webhook_secret", a.host.webhook_secret, b.host.webhook_secret);
    d.check("platform.admin_token", a.platform.admin_token, b.platform.admin_token);
    return std::move(d).keys();
}

// Builds the new creators in a registry of their own first (the store's rows in a transaction
// that rolls back on a problem), so a problem leaves the running ones untouched.
bool Module::reload(const std::string& path) {
    using telemetry::log_error;
    using telemetry::log_info;
    auto loaded = config::load_config(path);
    if (!loaded) {
        for (const auto& problem : loaded.error())
            log_error("reload: " + problem);
        log_error("reload: " + std::to_string(loaded.error().size()) + " problem(s) in " + path +
                  "; the running configuration stays");
        return false;
    }
    const config::Config next = std::move(loaded).value();
    // The interest tables the file points to are read again with it: an edited table holds from
    // now on, and one that cannot be read keeps everything as it is.
    auto rates = jobs::BaseRateTables::read(next);
    if (!rates) {
        log_error("reload: " + rates.error() + "; the running configuration stays");
        return false;
    }
    // A change through the admin API between reading the store and replacing would be lost.
    std::lock_guard lock(creators_.changes());
    config::CreatorRegistry fresh;
    try {
        api_db_->use([&](store::Connection& db) {
            seed_creators(db, next, fresh, secrets_box_, clock_->now());
        });
    } catch (const std::exception& e) {
        log_error(std::string("reload: ") + e.what() + "; the running configuration stays");
        return false;
    }
    std::set<std::string> kept;
    for (const auto& c : creators_.all())
        kept.insert(c->id);
    for (const auto& c : fresh.all()) {
        kept.erase(c->id);
        creators_.replace(*c);
    }
    creators_config_ = next; // what another instance's change is read with from now on
    mail_->base_rates().replace(std::move(rates).value());
    log_info("reload: " + path + " applied: " + std::to_string(fresh.all().size()) + " creator(s)");
    if (!kept.empty())
        telemetry::log_warn("reload: creator(s) no longer in the file keep running until a "
                            "restart: " +
                            joined({kept.begin(), kept.end()}));
    if (const auto keys = settings_needing_restart(config_, next); !keys.empty())
        telemetry::log_warn("reload: not applied, these need a restart: " + joined(keys));
    return true;
}

} // namespace dunning::plugin
