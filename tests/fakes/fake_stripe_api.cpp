// The fake's HTTP API: authentication, Stripe's idempotency layer, and one small handler per
// endpoint the module calls. Every request is recorded, replays included.
#include "tests/fakes/fake_stripe_internal.hpp"

#include <algorithm>
#include <cctype>

namespace dunning::fakes::detail {

namespace {

// "idempotency-key" → "Idempotency-Key", so recorded headers read the same whatever the client
// sent.
std::string canonical(std::string name) {
    bool upper = true;
    for (char& c : name) {
        c = upper ? char(std::toupper(static_cast<unsigned char>(c)))
                  : char(std::tolower(static_cast<unsigned char>(c)));
        upper = c == '-';
    }
    return name;
}

std::string fingerprint(const RecordedRequest& r) {
    std::string f = r.method + " " + r.path;
    for (const auto& [key, value] : r.form)
        f += "&" + key + "=" + value;
    return f;
}

ApiAnswer unauthorized(const std::string& header) {
    std::string message =
        header.empty()
            ? "You did not provide an API key. You need to provide your API key in the "
              "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
              "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
              "or we can help at https://support.stripe.com/."
            : "Invalid API Key provided: " +
                  redact(header.substr(std::min<std::size_t>(header.size(), 7)), 4);
    return reply(401, error_json("invalid_request_error", message), false);
}

// Who calls: the fake's own secret key, a restricted key or an OAuth access token, each acting
// on its own account, or on a connected one with Stripe-Account (the fake's own keys only).
std::optional<ApiAnswer> authenticate(const State& state, const httplib::Request& req,
                                      const std::string& permission, std::string& account) {
    std::string header = req.get_header_value("Authorization");
    std::string key = header.starts_with("Bearer ") ? header.substr(7) : "";
    const KeyRecord* record = nullptr;
    if (key != state.secret_key) {
        auto it = state.keys.find(key);
        if (key.empty() || it == state.keys.end() || it->second.revoked)
            return unauthorized(header);
        record = &it->second;
    }
    account = record ? record->account : "";
    std::string on_behalf = req.get_header_value("Stripe-Account");
    if (!on_behalf.empty() && account.empty()) {
        auto connected = state.accounts.find(on_behalf);
        // Unknown accounts pass (tests name accounts freely); a revoked connection does not.
        if (connected != state.accounts.end() && !connected->second.connected)
            return reply(403,
                         error_json("invalid_request_error",
                                    "The provided key '" + redact(key, 4) +
                                        "' does not have access to account '" + on_behalf +
                                        "' (or that account does not exist). Application access "
                                        "may have been revoked.",
                                    "account_invalid"),
                         false);
        account = on_behalf;
    }
    if (record && record->restricted) return refuse_permission(state, key, *record, permission);
    return std::nullopt;
}

void send(httplib::Response& res, const ApiAnswer& a, const std::string& request_id) {
    res.status = a.status;
    res.set_header("Request-Id", request_id);
    if (a.status == 401) res.set_header("Www-Authenticate", "Bearer realm=\"Stripe\"");
    if (a.should_retry) res.set_header("Stripe-Should-Retry", *a.should_retry ? "true" : "false");
    res.set_content(a.body, "application/json");
}

// Authentication, then Stripe's idempotency layer: a key seen before on the same path answers
// what was saved, without executing; 429/5xx and validation failures are not saved.
httplib::Server::Handler wrap(State& state, Handler handler, std::string permission) {
    return [&state, handler, permission](const httplib::Request& req, httplib::Response& res) {
        ApiAnswer answer;
        std::string request_id = new_id("req");
        {
            std::lock_guard lock(state.mutex);
            state.requests.push_back(record_of(req));
            RecordedRequest& recorded = state.requests.back();
            std::string key = req.get_header_value("Idempotency-Key");
            bool idempotent = !key.empty() && req.method != "GET";
            auto saved =
                idempotent ? state.idempotency.find({key, req.path}) : state.idempotency.end();
            std::string account;
            if (auto refused = authenticate(state, req, permission, account)) {
                answer = *refused;
            } else if (state.outage_status != 0) {
                ++state.outage_answers;
                answer = technical_failure(state.outage_status);
            } else if (saved != state.idempotency.end()) {
                if (saved->second.fingerprint != fingerprint(recorded)) {
                    answer = reply(400, error_json("idempotency_error",
                                                   "Keys for idempotent requests can only be "
                                                   "used with the same parameters they were "
                                                   "first used with. Try using a key other than '" +
                                                       key +
                                                       "' if you meant to execute a "
                                                       "different request."));
                } else {
                    recorded.idempotent_replay = true;
                    answer = reply(saved->second.status, json::parse(saved->second.body));
                    request_id = saved->second.request_id;
                    res.set_header("Idempotent-Replayed", "true");
                }
            } else {
                std::string version = req.get_header_value("Stripe-Version");
                RequestContext ctx{
                    account,
                    is_basil_or_later(version.empty() ? state.target.api_version : version),
                    RequestRef{request_id, key}, recorded.form};
                answer = handler(state, req, ctx);
                if (idempotent && answer.save)
                    state.idempotency[{key, req.path}] =
                        SavedAnswer{answer.status, answer.body, request_id, fingerprint(recorded)};
            }
        }
        if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
        send(res, answer, request_id);
    };
}

} // namespace

RecordedRequest record_of(const httplib::Request& req) {
    RecordedRequest r{req.method, req.path, {}, {}, false};
    for (const auto& [name, value] : req.headers)
        r.headers[canonical(name)] = value;
    if (req.method != "GET" && !req.body.empty()) {
        httplib::Params params;
        httplib::detail::parse_query_text(req.body, params);
        for (const auto& [key, value] : params)
            r.form[key] = value;
    }
    return r;
}

void install_routes(State& state) {
    httplib::Server& s = state.server;
    // The permission a restricted key needs for each, as Stripe names it.
    s.Post(R"(/v1/invoices/([^/]+)/pay)", wrap(state, pay, "rak_invoice_write"));
    s.Post(R"(/v1/invoices/([^/]+)/mark_uncollectible)",
           wrap(state, mark_uncollectible, "rak_invoice_write"));
    s.Get("/v1/invoices", wrap(state, list_invoices, "rak_invoice_read"));
    s.Get(R"(/v1/invoices/([^/]+))", wrap(state, get_invoice, "rak_invoice_read"));
    s.Get(R"(/v1/customers/([^/]+))", wrap(state, get_customer, "rak_customer_read"));
    s.Get(R"(/v1/payment_methods/([^/]+))",
          wrap(state, get_payment_method, "rak_payment_method_read"));
    s.Delete(R"(/v1/subscriptions/([^/]+))",
             wrap(state, cancel_subscription, "rak_subscription_write"));
    s.Get("/v1/events", wrap(state, list_events, "rak_event_read"));
    s.Get("/v1/account", wrap(state, get_account, "rak_accounts_kyc_basic_read"));
    s.Post("/v1/webhook_endpoints", wrap(state, create_webhook_endpoint, "rak_webhook_write"));
    s.Get("/v1/webhook_endpoints", wrap(state, list_webhook_endpoints, "rak_webhook_read"));
    s.Delete(R"(/v1/webhook_endpoints/([^/]+))",
             wrap(state, delete_webhook_endpoint, "rak_webhook_write"));
    install_oauth_routes(state);
    // Every error answer passes here; only an unmatched route has no body yet.
    httplib::Server::HandlerWithResponse on_error = [&state](const httplib::Request& req,
                                                             httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        {
            std::lock_guard lock(state.mutex);
            state.requests.push_back(record_of(req));
        }
        res.set_content(error_json("invalid_request_error",
                                   "Unrecognized request URL (" + req.method + ": " + req.path +
                                       "). Please see https://stripe.com/docs or we can help "
                                       "at https://support.stripe.com/.")
                            .dump(),
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
    };
    s.set_error_handler(on_error);
}

} // namespace dunning::fakes::detail
