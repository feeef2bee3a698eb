// Connect OAuth for Standard accounts: GET /oauth/authorize answers the redirect Stripe's page
// would send once the user approved or denied (as the test decided), POST /oauth/token trades a
// single-use code for the account's tokens, POST /oauth/deauthorize ends the connection. OAuth
// errors have their own flat shape: {"error": "invalid_grant", "error_description": "…"}.
#include "tests/fakes/fake_stripe_internal.hpp"

namespace dunning::fakes::detail {

namespace {

void oauth_error(httplib::Response& res, int status, const std::string& error,
                 const std::string& description) {
    res.status = status;
    res.set_content(json{{"error", error}, {"error_description", description}}.dump(),
                    "application/json");
}

void redirect(httplib::Response& res, const std::string& uri,
              const std::vector<std::pair<std::string, std::string>>& params) {
    std::string location = uri + (uri.find('?') == std::string::npos ? "?" : "&");
    for (std::size_t i = 0; i < params.size(); ++i)
        location += (i ? "&" : "") + params[i].first + "=" +
                    httplib::detail::encode_query_param(params[i].second);
    res.status = 302;
    res.set_header("Location", location);
}

void authorize(State& state, const httplib::Request& req, httplib::Response& res) {
    std::string client = req.get_param_value("client_id");
    std::string uri = req.get_param_value("redirect_uri");
    std::string state_param = req.get_param_value("state");
    if (client.empty()) return oauth_error(res, 400, "invalid_request", "No client_id provided.");
    auto known = state.clients.find(client);
    if (known == state.clients.end())
        return oauth_error(res, 400, "invalid_client", "No such application: '" + client + "'");
    if (uri.empty()) return oauth_error(res, 400, "invalid_request", "No redirect_uri provided.");
    std::string scope = req.has_param("scope") ? req.get_param_value("scope") : "read_only";
    if (req.get_param_value("response_type") != "code")
        return redirect(res, uri,
                        {{"error", "unsupported_response_type"},
                         {"error_description", "Only response_type=code is supported."},
                         {"state", state_param}});
    if (scope != "read_write" && scope != "read_only")
        return redirect(res, uri,
                        {{"error", "invalid_scope"},
                         {"error_description", "Invalid scope: " + scope},
                         {"state", state_param}});
    AuthorizationDecision decision{known->second, {}};
    if (!state.decisions.empty()) {
        decision = state.decisions.front();
        state.decisions.pop_front();
    }
    if (!decision.approve)
        return redirect(res, uri,
                        {{"error", "access_denied"},
                         {"error_description", "The user denied your request"},
                         {"state", state_param}});
    AccountProfile& profile = decision.account;
    if (profile.id.empty()) profile.id = new_id("acct");
    ConnectedAccount& account = state.accounts[profile.id];
    account.profile = profile;
    account.created = state.now();
    std::string code = new_id("ac");
    state.codes[code] = AuthCode{client, profile.id, scope, false, ""};
    redirect(res, uri, {{"scope", scope}, {"code", code}, {"state", state_param}});
}

// The platform's secret key, as Bearer, as basic auth (`sk_…:`) or as client_secret.
bool platform_key(const State& state, const httplib::Request& req, httplib::Response& res) {
    std::string header = req.get_header_value("Authorization");
    if (header == "Bearer " + state.secret_key ||
        header == httplib::make_basic_authentication_header(state.secret_key, "").second ||
        req.get_param_value("client_secret") == state.secret_key)
        return true;
    if (header.empty() && !req.has_param("client_secret"))
        oauth_error(res, 401, "invalid_client",
                    "No authentication was provided. Send your secret API key using the "
                    "Authorization header, or as a client_secret POST parameter.");
    else
        oauth_error(res, 401, "invalid_client", "No such API key: " + redact(header, 4));
    return false;
}

void issue_tokens(State& state, const std::string& account, const std::string& scope,
                  httplib::Response& res, std::string* access_out) {
    std::string access = "sk_test_" + tail(new_id("tok")) + tail(new_id("tok"));
    std::string refresh = "rt_" + tail(new_id("rt")) + tail(new_id("rt"));
    state.keys[access] = KeyRecord{account, false, {}, false};
    state.refresh_tokens[refresh] = account;
    state.accounts[account].connected = true;
    if (access_out) *access_out = access;
    res.set_content(json{{"access_token", access},
                         {"livemode", false},
                         {"refresh_token", refresh},
                         {"scope", scope},
                         {"stripe_publishable_key", "pk_test_" + tail(access)},
                         {"stripe_user_id", account},
                         {"token_type", "bearer"}}
                        .dump(),
                    "application/json");
}

void token(State& state, const httplib::Request& req, httplib::Response& res) {
    if (!platform_key(state, req, res)) return;
    std::string grant = req.get_param_value("grant_type");
    if (grant == "refresh_token") {
        std::string refresh = req.get_param_value("refresh_token");
        auto it = state.refresh_tokens.find(refresh);
        if (it == state.refresh_tokens.end() || !state.accounts[it->second].connected)
            return oauth_error(res, 400, "invalid_grant",
                               "Refresh token does not exist: " + refresh);
        return issue_tokens(state, it->second, "read_write", res, nullptr);
    }
    if (grant != "authorization_code")
        return grant.empty() ? oauth_error(res, 400, "invalid_request", "No grant type specified")
                             : oauth_error(res, 400, "unsupported_grant_type",
                                           "Unsupported grant type: " + grant);
    std::string code = req.get_param_value("code");
    if (code.empty()) return oauth_error(res, 400, "invalid_request", "No code provided");
    auto it = state.codes.find(code);
    if (it == state.codes.end())
        return oauth_error(res, 400, "invalid_grant", "Authorization code does not exist: " + code);
    AuthCode& grant_code = it->second;
    if (grant_code.used) {
        // As RFC 6749 asks: a code presented twice may be stolen.
        if (auto key = state.keys.find(grant_code.access_token); key != state.keys.end())
            key->second.revoked = true;
        return oauth_error(res, 400, "invalid_grant",
                           "This authorization code has already been used. All tokens issued "
                           "with this code have been revoked.");
    }
    grant_code.used = true;
    issue_tokens(state, grant_code.account, grant_code.scope, res, &grant_code.access_token);
}

void deauthorize(State& state, const httplib::Request& req, httplib::Response& res) {
    if (!platform_key(state, req, res)) return;
    std::string client = req.get_param_value("client_id");
    std::string account = req.get_param_value("stripe_user_id");
    if (!state.clients.contains(client))
        return oauth_error(res, 401, "invalid_client", "No such application: '" + client + "'");
    auto it = state.accounts.find(account);
    if (it == state.accounts.end() || !it->second.connected)
        return oauth_error(res, 401, "invalid_client",
                           "This application is not connected to stripe account " + account +
                               ", or that account does not exist.");
    disconnect(state, account, client);
    res.set_content(json{{"stripe_user_id", account}}.dump(), "application/json");
}

using OAuthHandler = void (*)(State&, const httplib::Request&, httplib::Response&);

httplib::Server::Handler oauth(State& state, OAuthHandler handler) {
    return [&state, handler](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(state.mutex);
        state.requests.push_back(record_of(req));
        res.set_header("Request-Id", new_id("req"));
        handler(state, req, res);
    };
}

} // namespace

void install_oauth_routes(State& state) {
    state.server.Get("/oauth/authorize", oauth(state, authorize));
    state.server.Post("/oauth/token", oauth(state, token));
    state.server.Post("/oauth/deauthorize", oauth(state, deauthorize));
}

void disconnect(State& state, const std::string& account, const std::string& client_id) {
    state.accounts[account].connected = false;
    for (auto& [key, record] : state.keys)
        if (record.account == account && !record.restricted) record.revoked = true;
    for (auto it = state.refresh_tokens.begin(); it != state.refresh_tokens.end();)
        it = it->second == account ? state.refresh_tokens.erase(it) : std::next(it);
    json application = {{"id", client_id}, {"object", "application"}, {"name", "Fake Platform"}};
    queue_event(state, "account.application.deauthorized", application, account, {});
}

} // namespace dunning::fakes::detail

namespace dunning::fakes {

using namespace detail;

std::string FakeStripe::connect_client_id() const {
    return state_->default_client;
}

void FakeStripe::add_connect_client(const std::string& client_id, bool approve_by_default) {
    std::lock_guard lock(state_->mutex);
    state_->clients[client_id] = approve_by_default;
}

void FakeStripe::decide_next_authorization(AuthorizationDecision decision) {
    std::lock_guard lock(state_->mutex);
    state_->decisions.push_back(std::move(decision));
}

std::string FakeStripe::connect_account(AccountProfile profile) {
    std::lock_guard lock(state_->mutex);
    if (profile.id.empty()) profile.id = new_id("acct");
    ConnectedAccount& account = state_->accounts[profile.id];
    account = ConnectedAccount{profile, state_->now(), true};
    return profile.id;
}

bool FakeStripe::is_connected(const std::string& account) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->accounts.find(account);
    return it != state_->accounts.end() && it->second.connected;
}

void FakeStripe::deauthorize_from_dashboard(const std::string& account) {
    std::lock_guard lock(state_->mutex);
    disconnect(*state_, account, state_->default_client);
}

void FakeStripe::set_connect_webhook(std::string url, std::string secret) {
    std::lock_guard lock(state_->mutex);
    state_->connect_url = std::move(url);
    state_->connect_secret = std::move(secret);
}

} // namespace dunning::fakes
