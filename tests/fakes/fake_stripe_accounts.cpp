// Accounts, restricted keys and webhook endpoints: GET /v1/account, the permission check of a
// restricted key, and POST/GET/DELETE /v1/webhook_endpoints, whose endpoints then receive their
// account's events signed with their own secret.
#include "tests/fakes/fake_stripe_internal.hpp"

#include <algorithm>

namespace dunning::fakes::detail {

namespace {

const AccountProfile* profile_of(const State& state, const std::string& account) {
    if (account.empty() || account == state.own_account.id) return &state.own_account;
    auto it = state.accounts.find(account);
    return it == state.accounts.end() ? nullptr : &it->second.profile;
}

json account_json(const AccountProfile& a, bool connected) {
    return {{"id", a.id},
            {"object", "account"},
            {"business_profile",
             {{"mcc", "8299"},
              {"name", nullable(a.business_name)},
              {"product_description", "Online courses"},
              {"support_email", nullable(a.email)},
              {"support_phone", nullptr},
              {"support_url", nullptr},
              {"url", "https://academy.example.org"}}},
            {"business_type", "company"},
            {"capabilities",
             {{"card_payments", a.charges_enabled ? "active" : "inactive"},
              {"sepa_debit_payments", a.charges_enabled ? "active" : "inactive"}}},
            {"charges_enabled", a.charges_enabled},
            {"controller",
             {{"is_controller", connected}, {"type", connected ? "application" : "account"}}},
            {"country", a.country},
            {"created", 1'700'000'000},
            {"default_currency", a.default_currency},
            {"details_submitted", true},
            {"email", nullable(a.email)},
            {"metadata", json::object()},
            {"payouts_enabled", a.charges_enabled},
            {"settings",
             {{"dashboard",
               {{"display_name", nullable(a.business_name)}, {"timezone", "Europe/Berlin"}}}}},
            {"type", "standard"}};
}

json endpoint_json(const EndpointRecord& r, bool with_secret) {
    const FakeStripe::Endpoint& e = r.endpoint;
    json j = {{"id", e.id},
              {"object", "webhook_endpoint"},
              {"api_version", nullable(r.api_version)},
              {"application", nullptr},
              {"created", to_unix(r.created)},
              {"description", nullable(r.description)},
              {"enabled_events", e.enabled_events},
              {"livemode", false},
              {"metadata", json::object()},
              {"status", "enabled"},
              {"url", e.url}};
    if (with_secret) j["secret"] = e.secret;
    return j;
}

ApiAnswer invalid(const std::string& message, const std::string& param,
                  const std::string& code = "parameter_missing") {
    return reply(400, error_json("invalid_request_error", message, code, param), false);
}

} // namespace

std::vector<std::string> array_param(const httplib::Request& req, const std::string& name) {
    std::vector<std::string> values;
    for (std::size_t i = 0; i < req.get_param_value_count(name + "[]"); ++i)
        values.push_back(req.get_param_value((name + "[]").c_str(), i));
    // Indexed form (name[0]=…&name[1]=…), as Stripe's libraries send arrays.
    for (std::size_t i = 0; req.has_param((name + "[" + std::to_string(i) + "]").c_str()); ++i)
        values.push_back(req.get_param_value((name + "[" + std::to_string(i) + "]").c_str()));
    return values;
}

std::string redact(const std::string& key, std::size_t keep) {
    std::size_t prefix = key.starts_with("sk_test_") || key.starts_with("rk_test_") ? 8 : 0;
    if (key.size() <= prefix + keep) return key.substr(0, prefix) + "****";
    return key.substr(0, prefix) + std::string(key.size() - prefix - keep, '*') +
           key.substr(key.size() - keep);
}

std::string account_label(const State& state, const std::string& account) {
    return account.empty() ? state.own_account.id : account;
}

std::optional<ApiAnswer> refuse_permission(const State& state, const std::string& key_text,
                                           const KeyRecord& key, const std::string& permission) {
    if (permission.empty() || key.permissions.contains(permission)) return std::nullopt;
    if (permission.ends_with("_read") &&
        key.permissions.contains(permission.substr(0, permission.size() - 5) + "_write"))
        return std::nullopt;
    return reply(403,
                 error_json("invalid_request_error",
                            "The provided key '" + redact(key_text, 6) +
                                "' does not have the required permissions for this endpoint on "
                                "account '" +
                                account_label(state, key.account) + "'. Having the '" + permission +
                                "' permission would allow this request to continue."),
                 false);
}

ApiAnswer get_account(State& state, const httplib::Request&, const RequestContext& ctx) {
    const AccountProfile* profile = profile_of(state, ctx.account);
    if (!profile)
        return reply(404,
                     error_json("invalid_request_error", "No such account: '" + ctx.account + "'",
                                "resource_missing", "account"));
    return reply(200, account_json(*profile, !ctx.account.empty()));
}

ApiAnswer create_webhook_endpoint(State& state, const httplib::Request& req,
                                  const RequestContext& ctx) {
    std::string url = req.get_param_value("url");
    if (url.empty()) return invalid("Missing required param: url.", "url");
    if (!url.starts_with("https://") && !url.starts_with("http://"))
        return invalid("Invalid URL: " + url + ". URLs must begin with http or https.", "url",
                       "url_invalid");
    EndpointRecord r;
    r.endpoint.enabled_events = array_param(req, "enabled_events");
    if (r.endpoint.enabled_events.empty())
        return invalid("Missing required param: enabled_events.", "enabled_events");
    r.endpoint.id = new_id("we");
    r.endpoint.account = ctx.account;
    r.endpoint.url = url;
    r.endpoint.secret = "whsec_" + tail(new_id("sig")) + tail(new_id("sig"));
    r.endpoint.connect = req.get_param_value("connect") == "true";
    r.api_version = req.get_param_value("api_version");
    r.description = req.get_param_value("description");
    r.created = state.now();
    state.endpoints.push_back(r);
    return reply(200, endpoint_json(r, true));
}

ApiAnswer list_webhook_endpoints(State& state, const httplib::Request&, const RequestContext& ctx) {
    json data = json::array();
    for (auto it = state.endpoints.rbegin(); it != state.endpoints.rend(); ++it)
        if (it->endpoint.account == ctx.account) data.push_back(endpoint_json(*it, false));
    return reply(200, {{"object", "list"},
                       {"data", data},
                       {"has_more", false},
                       {"url", "/v1/webhook_endpoints"}});
}

ApiAnswer delete_webhook_endpoint(State& state, const httplib::Request& req,
                                  const RequestContext& ctx) {
    const std::string id = req.matches[1];
    auto it = std::find_if(state.endpoints.begin(), state.endpoints.end(), [&](const auto& r) {
        return r.endpoint.id == id && r.endpoint.account == ctx.account;
    });
    if (it == state.endpoints.end())
        return reply(404,
                     error_json("invalid_request_error", "No such webhook endpoint: '" + id + "'",
                                "resource_missing", "id"),
                     false);
    state.endpoints.erase(it);
    return reply(200, {{"id", id}, {"object", "webhook_endpoint"}, {"deleted", true}});
}

} // namespace dunning::fakes::detail

namespace dunning::fakes {

using namespace detail;

std::string FakeStripe::account_id() const {
    std::lock_guard lock(state_->mutex);
    return state_->own_account.id;
}

void FakeStripe::set_account_profile(AccountProfile profile) {
    std::lock_guard lock(state_->mutex);
    if (profile.id.empty()) profile.id = state_->own_account.id;
    state_->own_account = std::move(profile);
}

std::string FakeStripe::make_restricted_key(std::vector<std::string> permissions,
                                            const std::string& account) {
    std::lock_guard lock(state_->mutex);
    std::string key = "rk_test_" + tail(new_id("key")) + tail(new_id("key"));
    state_->keys[key] = KeyRecord{account, true, {permissions.begin(), permissions.end()}, false};
    return key;
}

std::vector<FakeStripe::Endpoint> FakeStripe::webhook_endpoints() const {
    std::lock_guard lock(state_->mutex);
    std::vector<Endpoint> all;
    for (const EndpointRecord& r : state_->endpoints)
        all.push_back(r.endpoint);
    return all;
}

} // namespace dunning::fakes
