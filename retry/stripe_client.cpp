// The endpoints: validate ids, build targets and form bodies, hand a Call to send().
#include "retry/stripe_client.hpp"

#include "retry/stripe_answer.hpp"

#include <algorithm>
#include <random>

namespace dunning::retry {
namespace {

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

// RFC 3986 percent-encoding. Brackets stay readable in keys (`expand[0]`, `created[gte]`), as
// stripe-node sends them; Stripe decodes both forms the same.
std::string percent_encode(const std::string& text, bool keep_brackets) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (is_unreserved(c) || (keep_brackets && (c == '[' || c == ']'))) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        }
    }
    return out;
}

// Stripe ids are [A-Za-z0-9_]; anything else could add path segments or a query.
bool is_valid_id(const std::string& id) {
    auto allowed = [](unsigned char c) {
        return is_unreserved(c) && c != '-' && c != '.' && c != '~';
    };
    return !id.empty() && id.size() <= 255 && std::all_of(id.begin(), id.end(), allowed);
}

ApiResult invalid_id(const char* what) {
    return detail::refused(std::string("invalid ") + what + ": only [A-Za-z0-9_] allowed");
}

// Without a key a retried POST could act twice (stripe-node adds one for the same reason).
// Random, not from the jitter seed: a seeded key would repeat across restarts.
std::string key_or_random(const std::string& key) {
    if (!key.empty()) return key;
    std::random_device device;
    std::uniform_int_distribution<int> digit(0, 15);
    std::string out = "dunning-auto-";
    for (int i = 0; i < 32; ++i)
        out += "0123456789abcdef"[digit(device)];
    return out;
}

} // namespace

const char* to_string(ApiResult::Kind k) {
    switch (k) {
    case ApiResult::Kind::ok:
        return "ok";
    case ApiResult::Kind::card_error:
        return "card_error";
    case ApiResult::Kind::request_error:
        return "request_error";
    case ApiResult::Kind::technical:
        return "technical";
    }
    return "unknown";
}

std::string charge_idempotency_key(const std::string& invoice_id, int attempt) {
    return "dunning-pay-" + invoice_id + "-" + std::to_string(attempt);
}

std::string paid_out_of_band_idempotency_key(std::int64_t case_id) {
    return "dunning-case-" + std::to_string(case_id) + "-paid-out-of-band";
}

std::string form_encode(const std::map<std::string, std::string>& fields) {
    std::string out;
    for (const auto& [key, value] : fields) {
        if (!out.empty()) out += '&';
        out += percent_encode(key, true) + '=' + percent_encode(value, false);
    }
    return out;
}

ApiResult StripeClient::pay_invoice(const StripeAuth& auth, const std::string& invoice_id,
                                    const std::optional<std::string>& payment_method,
                                    const std::string& idempotency_key) {
    if (!is_valid_id(invoice_id)) return invalid_id("invoice id");
    std::map<std::string, std::string> form{{"off_session", "true"}};
    if (payment_method) {
        if (!is_valid_id(*payment_method)) return invalid_id("payment method id");
        form["payment_method"] = *payment_method;
    }
    return send(Call{{auth, "POST", "/v1/invoices/" + invoice_id + "/pay", form_encode(form),
                      key_or_random(idempotency_key)}});
}

ApiResult StripeClient::pay_out_of_band(const StripeAuth& auth, const std::string& invoice_id,
                                        const std::string& idempotency_key) {
    if (!is_valid_id(invoice_id)) return invalid_id("invoice id");
    return send(
        Call{{auth, "POST", "/v1/invoices/" + invoice_id + "/pay",
              form_encode({{"paid_out_of_band", "true"}}), key_or_random(idempotency_key)}});
}

ApiResult StripeClient::get_invoice(const StripeAuth& auth, const std::string& invoice_id) {
    if (!is_valid_id(invoice_id)) return invalid_id("invoice id");
    return send(Call{{auth, "GET", "/v1/invoices/" + invoice_id, {}, {}}});
}

ApiResult StripeClient::get_customer(const StripeAuth& auth, const std::string& customer_id) {
    if (!is_valid_id(customer_id)) return invalid_id("customer id");
    return send(Call{{auth, "GET", "/v1/customers/" + customer_id, {}, {}}});
}

ApiResult StripeClient::get_payment_method(const StripeAuth& auth,
                                           const std::string& payment_method_id) {
    if (!is_valid_id(payment_method_id)) return invalid_id("payment method id");
    return send(Call{{auth, "GET", "/v1/payment_methods/" + payment_method_id, {}, {}}});
}

// Stripe: "Sending idempotency keys in GET and DELETE requests has no effect and should be
// avoided"; the key is accepted for symmetry with the other effects and not sent.
ApiResult StripeClient::cancel_subscription(const StripeAuth& auth,
                                            const std::string& subscription_id,
                                            const std::string& /*idempotency_key*/) {
    if (!is_valid_id(subscription_id)) return invalid_id("subscription id");
    return send(Call{{auth, "DELETE", "/v1/subscriptions/" + subscription_id, {}, {}}});
}

ApiResult StripeClient::mark_uncollectible(const StripeAuth& auth, const std::string& invoice_id,
                                           const std::string& idempotency_key) {
    if (!is_valid_id(invoice_id)) return invalid_id("invoice id");
    return send(Call{{auth,
                      "POST",
                      "/v1/invoices/" + invoice_id + "/mark_uncollectible",
                      {},
                      key_or_random(idempotency_key)}});
}

ApiResult StripeClient::list_events(const StripeAuth& auth, std::int64_t created_gte,
                                    const std::string& starting_after, int limit) {
    std::map<std::string, std::string> query{
        {"created[gte]", std::to_string(created_gte)},
        {"limit", std::to_string(std::clamp(limit, 1, 100))}, // Stripe's range for list limits
    };
    if (!starting_after.empty()) {
        if (!is_valid_id(starting_after)) return invalid_id("starting_after event id");
        query["starting_after"] = starting_after;
    }
    return send(Call{{auth, "GET", "/v1/events?" + form_encode(query), {}, {}}});
}

ApiResult StripeClient::list_invoices(const StripeAuth& auth, const std::string& status,
                                      const std::string& starting_after, int limit) {
    std::map<std::string, std::string> query{{"limit", std::to_string(std::clamp(limit, 1, 100))}};
    if (!status.empty()) {
        if (!is_valid_id(status)) return invalid_id("invoice status");
        query["status"] = status;
    }
    if (!starting_after.empty()) {
        if (!is_valid_id(starting_after)) return invalid_id("starting_after invoice id");
        query["starting_after"] = starting_after;
    }
    return send(Call{{auth, "GET", "/v1/invoices?" + form_encode(query), {}, {}}});
}

ApiResult StripeClient::get_account(const StripeAuth& auth) {
    return send(Call{{auth, "GET", "/v1/account", {}, {}}});
}

ApiResult StripeClient::create_webhook_endpoint(const StripeAuth& auth, const std::string& url,
                                                const std::vector<std::string>& events,
                                                const std::string& idempotency_key) {
    std::map<std::string, std::string> form{{"url", url}};
    for (std::size_t i = 0; i < events.size(); ++i)
        form["enabled_events[" + std::to_string(i) + "]"] = events[i];
    return send(Call{{auth, "POST", "/v1/webhook_endpoints", form_encode(form),
                      key_or_random(idempotency_key)}});
}

ApiResult StripeClient::delete_webhook_endpoint(const StripeAuth& auth,
                                                const std::string& endpoint_id) {
    if (!is_valid_id(endpoint_id)) return invalid_id("webhook endpoint id");
    return send(Call{{auth, "DELETE", "/v1/webhook_endpoints/" + endpoint_id, {}, {}}});
}

ApiResult StripeClient::oauth_token(const StripeAuth& platform, const std::string& code) {
    const auto body = form_encode({{"grant_type", "authorization_code"}, {"code", code}});
    return send(Call{{platform, "POST", "/oauth/token", body, {}}});
}

ApiResult StripeClient::oauth_deauthorize(const StripeAuth& platform, const std::string& client_id,
                                          const std::string& account) {
    if (!is_valid_id(account)) return invalid_id("account id");
    const auto body = form_encode({{"client_id", client_id}, {"stripe_user_id", account}});
    return send(Call{{platform, "POST", "/oauth/deauthorize", body, key_or_random("")}});
}

} // namespace dunning::retry
