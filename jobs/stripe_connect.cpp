#include "jobs/stripe_connect.hpp"

#include "crypto/crypto.hpp"
#include "webhook/event_parser.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <charconv>
#include <initializer_list>
#include <optional>

namespace dunning::jobs {

namespace {

using nlohmann::json;

retry::StripeClientOptions on_base(retry::StripeClientOptions options, const std::string& base) {
    options.api_base = base;
    return options;
}

// Stripe's message: an API error's error.message, or an OAuth error's error_description.
std::string stripe_message(const retry::ApiResult& r) {
    const auto body = json::parse(r.body, nullptr, false);
    if (body.is_object() && body.contains("error_description") &&
        body["error_description"].is_string())
        return body["error_description"].get<std::string>();
    if (!r.error.message.empty()) return r.error.message;
    return "HTTP " + std::to_string(r.http_status);
}

// A field of Stripe's answer that must be a string when present: "" when it is absent or null,
// nullopt when it has another type (an answer of the wrong shape, never an exception).
std::optional<std::string> text_field(const json& body, const char* key) {
    const auto found = body.find(key);
    if (found == body.end() || found->is_null()) return std::string();
    if (!found->is_string()) return std::nullopt;
    return found->get<std::string>();
}

// Every named field of Stripe's answer as a string; the error names the first that is not.
Result<std::vector<std::string>, std::string> text_fields(const retry::ApiResult& r,
                                                          std::initializer_list<const char*> keys) {
    const auto body = json::parse(r.body, nullptr, false);
    if (!body.is_object()) return err(std::string("Stripe's answer is not a JSON object"));
    std::vector<std::string> out;
    for (const char* key : keys) {
        auto value = text_field(body, key);
        if (!value) return err("Stripe's answer has a " + std::string(key) + " that is not text");
        out.push_back(std::move(*value));
    }
    return out;
}

} // namespace

std::string oauth_state_secret(const config::Config& config) {
    if (!config.server.link_secret.empty())
        return "stripe-oauth-state:" + config.server.link_secret;
    if (config.storage.secrets_key.empty()) return {};
    return crypto::hmac_sha256_hex(config.storage.secrets_key, {"stripe-oauth-state"});
}

std::string make_oauth_state(const std::string& secret, const std::string& creator, Timestamp now,
                             bool import_open_invoices) {
    const auto payload = creator + "." + crypto::random_hex(16) + "." +
                         std::to_string(to_unix(now + oauth_state_lifetime)) + "." +
                         (import_open_invoices ? "1" : "0");
    return payload + "." + crypto::hmac_sha256_hex(secret, {payload});
}

Result<OAuthState, std::string> read_oauth_state(const std::string& secret, const std::string& text,
                                                 Timestamp now) {
    const auto dot = text.rfind('.');
    if (secret.empty() || dot == std::string::npos) return err(std::string("not a state we made"));
    const auto payload = text.substr(0, dot);
    const auto expected = crypto::hmac_sha256_hex(secret, {payload});
    const auto mac = text.substr(dot + 1);
    if (mac.size() != expected.size() || CRYPTO_memcmp(mac.data(), expected.data(), mac.size()))
        return err(std::string("not a state we made"));
    std::vector<std::string> parts;
    for (std::size_t from = 0;;) {
        const auto next = payload.find('.', from);
        parts.push_back(payload.substr(from, next - from));
        if (next == std::string::npos) break;
        from = next + 1;
    }
    if (parts.size() != 4 || (parts[3] != "1" && parts[3] != "0"))
        return err(std::string("not a state we made"));
    std::int64_t expiry = 0;
    const auto& digits = parts[2];
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), expiry);
    if (ec != std::errc{} || end != digits.data() + digits.size())
        return err(std::string("not a state we made"));
    OAuthState state{parts[0], parts[1], from_unix(expiry), parts[3] == "1"};
    state.expired = now > state.expires;
    return state;
}

StripeConnector::StripeConnector(const config::Config& config, retry::StripeClientOptions options)
    : config_(config), api_(on_base(options, config.stripe.api_base)),
      oauth_(on_base(options, config.stripe.connect_base)) {}

Result<OAuthGrant, std::string> StripeConnector::exchange_code(const std::string& code) {
    const auto r = oauth_.oauth_token({config_.stripe.platform_secret_key, ""}, code);
    if (!r.ok()) return err(stripe_message(r));
    const auto fields = text_fields(r, {"stripe_user_id", "access_token", "refresh_token"});
    if (!fields.ok()) return err(fields.error());
    OAuthGrant grant{fields.value()[0], fields.value()[1], fields.value()[2]};
    if (!grant.account.starts_with("acct_"))
        return err(std::string("Stripe's answer names no account"));
    return grant;
}

Result<std::monostate, std::string> StripeConnector::deauthorize(const std::string& account) {
    const auto r = oauth_.oauth_deauthorize({config_.stripe.platform_secret_key, ""},
                                            config_.stripe.connect_client_id, account);
    if (!r.ok()) return err(stripe_message(r));
    return std::monostate{};
}

Result<std::string, std::string> StripeConnector::check_key(const std::string& key) {
    const auto r = api_.get_account({key, ""});
    if (!r.ok()) return err(stripe_message(r));
    const auto fields = text_fields(r, {"id"});
    if (!fields.ok()) return err(fields.error());
    return fields.value()[0];
}

Result<KeyEndpoint, std::string> StripeConnector::create_endpoint(const std::string& key,
                                                                  const std::string& url) {
    const auto r = api_.create_webhook_endpoint({key, ""}, url, webhook::handled_event_types(), "");
    if (!r.ok()) return err(stripe_message(r));
    const auto fields = text_fields(r, {"id", "secret"});
    if (!fields.ok()) return err(fields.error());
    KeyEndpoint out{"", fields.value()[0], fields.value()[1]};
    if (out.endpoint_id.empty() || !out.secret.starts_with("whsec_"))
        return err(std::string("Stripe's answer has no endpoint secret"));
    return out;
}

Result<std::monostate, std::string> StripeConnector::delete_endpoint(const std::string& key,
                                                                     const std::string& id) {
    const auto r = api_.delete_webhook_endpoint({key, ""}, id);
    if (!r.ok() && r.http_status != 404) return err(stripe_message(r));
    return std::monostate{};
}

} // namespace dunning::jobs
