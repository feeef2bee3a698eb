#pragma once
// What the routes are given by the composition root (plugin/module.cpp): the configuration, the
// clocks, the inbox, the shared API connection and the background work to wake. The routes
// know nothing of how these are wired or which threads run them.
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "core/open_items.hpp"
#include "core/time.hpp"
#include "jobs/engine.hpp"
#include "jobs/mail_jobs.hpp"
#include "jobs/stripe_connect.hpp"
#include "jobs/work_loop.hpp"
#include "store/database.hpp"
#include "store/inbox.hpp"
#include "store/secret_box.hpp"
#include "telemetry/metrics.hpp"

#include <httplib.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace dunning::http {

struct Services {
    const config::Config& config;
    config::CreatorRegistry& creators;     // the live creators (admin API), seen by every route
    const Clock& clock;                    // business time: cases, dunning, access
    FakeClock* test_clock;                 // null unless serving with --test-clock
    std::function<std::int64_t()> wall_ms; // real time in milliseconds: latency, ages
    telemetry::Metrics& metrics;
    store::InboxWriter& inbox;
    store::SharedConnection& db; // reads and creator commands, one at a time
    const jobs::Engine& engine;
    jobs::WorkLoop& work;
    const jobs::BaseRateTables& base_rates; // each creator's, for interest on open items
    // A creator was just connected to a Stripe account: its invoices already past due open
    // their cases (in the background). May be empty.
    std::function<void(const std::string& creator)> creator_connected;
    const store::SecretBox& secrets;  // creators' sealed secrets; may be unable to seal
    jobs::StripeConnector& connector; // connecting creators' Stripe accounts
};

// Error handling, limits and every route; the test clock's routes only when `s.test_clock`.
void install_routes(httplib::Server& server, Services& s);

void install_webhook_routes(httplib::Server& http, Services& m);
void install_api_routes(httplib::Server& http, Services& m);
void install_access_routes(httplib::Server& http, Services& m);
void install_open_items_routes(httplib::Server& http, Services& m);
void install_handover_routes(httplib::Server& http, Services& m);
void install_test_clock_routes(httplib::Server& http, Services& m);
void install_promise_routes(httplib::Server& http, Services& m); // the member's page, no token
void install_admin_routes(httplib::Server& http, Services& m);   // /v1/creators, admin_token
void install_stripe_connect_routes(httplib::Server& http, Services& m); // OAuth, keys, disconnect
void install_summary_routes(httplib::Server& http, Services& m);        // what dunning recovered

// What a creator's claims add to the principal (fees, interest), by its configuration.
ClaimCharges claim_charges_of(const Services& m, const std::string& creator);

// {"error": message} with the status; every error answer goes through here.
void send_error(httplib::Response& res, int status, const std::string& message);
// For /v1/creators/{id}/…: true when the Bearer token is that creator's; else the 401/403 is
// written.
bool authorize(Services& m, const httplib::Request& req, httplib::Response& res,
               const std::string& creator_id);

// Who a request's Bearer token names: the admin (the [platform] admin_token), a creator (its id),
// or no one valid (the 401 written, and nothing returned).
struct Caller {
    bool admin = false;
    std::string creator; // empty for the admin
};
std::optional<Caller> identify(Services& m, const httplib::Request& req, httplib::Response& res);
// A token compared with a stored SHA-256 hex in constant time.
bool token_matches(const std::string& token, const std::string& hash_hex);

} // namespace dunning::http
