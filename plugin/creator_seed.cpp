#include "plugin/creator_seed.hpp"

#include "crypto/crypto.hpp"
#include "http/creator_bodies.hpp"
#include "jobs/stripe_connection.hpp"
#include "store/creators.hpp"
#include "telemetry/log.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <stdexcept>

namespace dunning::plugin {

namespace {

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& line : lines)
        out += "\n  " + line;
    return out;
}

config::CreatorConfig api_creator(store::Connection& db, const store::StoredCreator& row,
                                  const config::Config& config, const store::SecretBox& box) {
    auto settings = nlohmann::json::parse(row.settings_json, nullptr, false);
    auto read = http::creator_from_settings(settings, config);
    if (!read.ok())
        throw std::runtime_error("creator " + row.id +
                                 " (made through the admin API) no longer passes the checks "
                                 "with " +
                                 config.path + ":" + joined(read.error()));
    auto c = std::move(read).value();
    jobs::apply_stripe_connection(db, box, c);
    c.disabled = row.disabled;
    c.api_token_hash = row.api_token_hash;
    return c;
}

} // namespace

void add_api_creators(store::Connection& db, const config::Config& config,
                      config::CreatorRegistry& registry, const store::SecretBox& box) {
    for (const auto& row : store::load_creators(db))
        if (row.source == "api") registry.replace(api_creator(db, row, config, box));
    for (const auto& c : registry.all()) // the file's: whether their account left the platform
        if (c->source != "api") {
            auto file_creator = *c;
            jobs::apply_stripe_connection(db, box, file_creator);
            registry.replace(std::move(file_creator));
        }
}

void refresh_creators(store::Connection& db, const config::Config& config,
                      config::CreatorRegistry& registry, const store::SecretBox& box) {
    config::CreatorRegistry fresh;
    std::map<std::string, store::StoredCreator> rows;
    for (auto& row : store::load_creators(db))
        rows.emplace(row.id, std::move(row));
    for (const auto& c : registry.all()) {
        if (c->source == "api") continue; // read whole from the store below
        auto file_creator = *c;
        if (const auto row = rows.find(c->id); row != rows.end()) {
            file_creator.disabled = row->second.disabled;
            file_creator.api_token_hash = row->second.api_token_hash;
        }
        jobs::apply_stripe_connection(db, box, file_creator);
        fresh.replace(std::move(file_creator));
    }
    for (const auto& [id, row] : rows) {
        if (row.source != "api") continue;
        try {
            fresh.replace(api_creator(db, row, config, box));
        } catch (const std::exception& e) {
            // One creator this instance cannot read (its file differs from the others') keeps
            // what it ran with; the others' changes still come through.
            telemetry::log_warn("creators: " + std::string(e.what()) +
                                "; this instance keeps "
                                "running it as it was");
            if (const auto running = registry.find(id)) fresh.replace(*running);
        }
    }
    for (const auto& c : fresh.all())
        registry.replace(*c);
}

void seed_creators(store::Connection& db, const config::Config& config,
                   config::CreatorRegistry& registry, const store::SecretBox& box, Timestamp now) {
    store::Transaction tx(db);
    std::map<std::string, store::StoredCreator> rows;
    for (auto& row : store::load_creators(db))
        rows.emplace(row.id, std::move(row));
    const auto at = to_unix(now);
    for (auto c : config.creators) {
        const auto found = rows.find(c.id);
        if (found != rows.end() && found->second.source == "api")
            throw std::runtime_error("creator " + c.id + " is in " + config.path +
                                     " and was also made through the admin API: remove it from "
                                     "the file, or give one of them another id");
        c.api_token_hash = crypto::sha256_hex(c.api_token);
        c.api_token.clear(); // only its hash is kept
        store::upsert_config_creator(
            db, {c.id, "config", c.settings_json, false, c.api_token_hash, at, at});
        if (found != rows.end()) c.disabled = found->second.disabled;
        jobs::apply_stripe_connection(db, box, c); // an account that removed the platform
        registry.replace(std::move(c));
    }
    add_api_creators(db, config, registry, box);
    // Events are routed by account: two creators on one account would split its members.
    std::map<std::string, std::string, std::less<>> holder;
    for (const auto& c : registry.all()) {
        if (c->stripe_account.empty()) continue;
        const auto [at_holder, fresh] = holder.emplace(c->stripe_account, c->id);
        if (!fresh)
            throw std::runtime_error("creators " + at_holder->second + " and " + c->id +
                                     " both name stripe_account " + c->stripe_account +
                                     " (one in " + config.path +
                                     " or through the admin API): give it to one of them");
    }
    tx.commit();
}

} // namespace dunning::plugin
