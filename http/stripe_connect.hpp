#pragma once
// A creator's Stripe connection on the admin API: its view in GET /v1/creators/{c}, the account
// the platform registers with PATCH, and the routes that connect (OAuth, a creator's own key) and
// disconnect.
#include "config/config.hpp"
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace dunning::http {

// {"method", "account", "status", "key_last4", "webhook_endpoint", "connected_at"}: never a
// secret. A creator of the file shows what the file gives it.
nlohmann::json stripe_connection_view(Services& m, const config::CreatorConfig& c);

// After PATCH /v1/creators/{c} stored `after`'s settings: a stripe_account in the body is a
// connection of method "platform" (null ends such a connection). Applies the stored connection
// to `after` before it goes into the registry. Returns whether a connection was made.
bool record_platform_account(Services& m, const nlohmann::json& body, config::CreatorConfig& after);

// Once a connection is made and in the registry: the work it starts (jobs::on_stripe_connected).
void after_connect(Services& m, const config::CreatorConfig& c);

// The stored connection changed: the registry takes it at once, and a new connection starts its
// work (after_connect).
void connection_changed(Services& m, const std::string& creator, bool connected);

// Marks the creator's connection disconnected and removes the secrets it used; its open cases
// wait and the platform hears creator.disconnected (jobs::on_stripe_disconnected).
void mark_disconnected(Services& m, const std::string& creator);

// connection_changed for a connection just made; without `import_open_invoices` the creator's
// invoices already past due open no cases.
void connection_made(Services& m, const std::string& creator, bool import_open_invoices);

// "import_open_invoices" of a connect route's body (default true); nullopt, the 400 written, when
// it is not a boolean.
std::optional<bool> import_choice(const nlohmann::json& body, httplib::Response& res);

// A creator's key connection as it is before a new connection replaces it: the key and the
// webhook endpoint made with it (both empty for another method).
struct KeyEndpointOf {
    std::string key;
    std::string endpoint;
};
KeyEndpointOf key_endpoint_of(Services& m, const std::string& creator);
// Deletes that endpoint at Stripe with its key; a failure is logged (the endpoint's secret is
// already dropped, so what it still sends is refused).
void delete_key_endpoint(Services& m, const std::string& creator, const KeyEndpointOf& old);

// POST /v1/creators/{c}/stripe/keys (stripe_key_routes.cpp).
void install_stripe_key_routes(httplib::Server& http, Services& m);

} // namespace dunning::http
