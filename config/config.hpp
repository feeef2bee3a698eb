#pragma once
// The service's configuration: TOML on disk → validated values. Every problem is reported as
// "file:line: key: problem" so an operator can go straight to it.
#include "core/access.hpp"
#include "core/case_engine.hpp"
#include "core/result.hpp"
#include "core/retry_policy.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dunning::config {

enum class RetryMode { stripe, plugin };

struct ServerConfig {
    std::string listen = "127.0.0.1:8080"; // host:port; port 0 picks a free one
    std::string host = "127.0.0.1";        // derived from listen; IPv6 without the brackets
    int port = 8080;                       // derived from listen
    int threads = 64;                      // HTTP worker threads: requests served at once
    std::size_t max_body_bytes = 1024 * 1024;
    // Slow and idle clients wait in the connection gate, not in a worker (http/connection_gate):
    int request_deadline_seconds = 10;    // accept (or the last answer) → the whole request
    int max_connections = 4096;           // open connections, all clients together
    int max_connections_per_client = 256; // per client address (IPv6: /64); 0: no cap (proxy)
    std::size_t max_buffered_bytes = 256 * 1024 * 1024; // requests held in memory, all clients
    // Promise-to-pay links in dunning emails: public_url + "/promise/<token>", the token signed
    // with link_secret (HMAC-SHA256). Without both, the emails carry no such link.
    std::string public_url;  // how members reach this service, e.g. https://pay.example.com
    std::string link_secret; // at least 32 characters; "${ENV}" keeps it out of the file
    bool promise_links() const { return !public_url.empty() && !link_secret.empty(); }
};

struct StorageConfig {
    std::string sqlite_path = "dunning.db"; // relative paths are relative to the config file
    // Set: the store is this PostgreSQL database instead of the SQLite file, a postgresql:// (or
    // postgres://) URL with "${ENV}" expanded, its password included: never show it as it is.
    // Excludes sqlite_path in the same file.
    std::string postgres_url;
    std::string synchronous = "full"; // "full": survives power loss; "normal": survives a crash
    // PostgreSQL: how long an instance's claim on a job lasts before another instance may take
    // the job over (store/job_queue.hpp).
    std::int64_t claim_lease_seconds = 300;
    // The AES-256-GCM key creators' secrets are sealed with in the database, 32 raw bytes
    // (standard base64 in the file, meant as "${ENV}"). Empty: storing a secret is refused.
    std::string secrets_key;
    // Keys that still open values sealed before a rotation (`dunning secrets rotate-key`), never
    // used to seal. 32 raw bytes each.
    std::vector<std::string> previous_secrets_keys;
};

struct StripeConfig {
    std::string api_base = "https://api.stripe.com";
    std::string platform_secret_key; // sk_… of the Connect platform, may be empty
    std::vector<std::string> connect_webhook_secrets; // whsec_… for POST /webhooks/stripe
    // Connect OAuth (creators connecting their Standard accounts): the application's client id
    // (ca_…) and where Stripe's OAuth endpoints are.
    std::string connect_client_id;
    std::string connect_base = "https://connect.stripe.com";
    std::chrono::seconds webhook_tolerance{300}; // 0 turns the age check off (old events)
};

struct MailConfig {
    std::string transport = "outbox"; // "outbox" or "smtp"
    std::string outbox_dir = "outbox";
    std::string smtp_url;
    std::string from; // "Name <address>" or "address"; required once there is a creator
    std::string smtp_username;
    std::string smtp_password;
    bool smtp_allow_plaintext = false; // only to a server on loopback (checked at load)
    std::string smtp_ca_file;          // resolved against the config directory; empty: system CAs
    std::string message_id_domain;     // default: the domain of `from`'s address
};

// [platform]: the operator of the service. admin_token (16+ characters, "${ENV}" allowed) opens
// the admin API (/v1/creators); without it those routes answer 404.
struct PlatformConfig {
    std::string admin_token;
};

// [dashboard]: the creator's web dashboard (http/dashboard_*.cpp).
struct DashboardConfig {
    int session_idle_minutes = 30; // a session unused this long ends
    // Who may show the dashboard in a frame (CSP frame-ancestors): 'none', or the sources that
    // may, e.g. "https://platform.example".
    std::string frame_ancestors = "'none'";
};

struct HostConfig {
    std::string webhook_url;
    std::string webhook_secret;
};

// [retry], and [creators.retry] over it key by key. `policy` shapes the charges this module
// makes (mode = plugin); its defaults are RetryPolicy's. The card networks' caps (Visa: 15
// retries in 30 days; Mastercard: 10 in 24 hours, 35 in 30 days) apply on top of
// policy.card_schedule whatever it says: see dunning::earliest_allowed_by_network.
struct RetryConfig {
    RetryMode mode = RetryMode::stripe;
    dunning::RetryPolicy policy;
};

// [dunning], and [creators.dunning] over it key by key (a creator's `stages` replaces the list
// as a whole). The stages and the deadline are CasePolicy's; the rest shapes the emails.
struct DunningConfig {
    std::vector<DunningStage> stages = CasePolicy{}.stages; // reminder 3, formal 10, final 20
    std::chrono::seconds final_notice_deadline = std::chrono::days{14}; // then escalation
    std::string template_dir;     // the creator's own templates, resolved; empty: the built-in ones
    bool interest = false;        // statutory default interest (§ 288 BGB) in the breakdown
    bool business_debtor = false; // debtor = "business": base rate + 9 points and the 40 EUR fee
    std::string base_rates_file = "base_rates.toml"; // resolved against the config directory
};

// [access], and [creators.access] over it key by key: which level each dunning stage applies,
// what happens after the final notice's deadline, on a lost dispute and on a subscription that
// ended for non-payment, and the minimum amount below which the deadline does not lock.
struct AccessConfig {
    dunning::AccessPolicy policy;
};

// [escalation], and [creators.escalation] over it key by key: when dunning ends unpaid, claims
// below write_off_below (the invoice currency's major unit) are written off, the rest wait in
// "escalated" for the creator, or, with auto_handover, are marked for handover.
// court_claim_type is the number of the courts' catalogue the claims are filed under in a court
// dunning application (16, Lehrgangs-/Unterrichtskosten, unless set).
struct EscalationConfig {
    dunning::EscalationPolicy policy;
    int court_claim_type = 16;
};

struct ProductMapping {
    std::string stripe_product;            // prod_…
    std::vector<std::string> courses;      // the host platform's course ids
    std::optional<int> court_claim_type{}; // overrides [creators.escalation] court_claim_type
};

struct CreatorConfig {
    std::string id; // [a-z0-9_-], used in URLs
    std::string name;
    std::string locale = "de";                // "de" or "en"
    std::string stripe_account;               // acct_… when connected through the platform
    std::vector<std::string> webhook_secrets; // whsec_… for POST /webhooks/stripe/{id}
    std::string stripe_secret_key;
    std::string api_token; // Bearer token for /v1/creators/{id}/…
    std::vector<ProductMapping> products;
    RetryConfig retry;              // [creators.retry] over [retry]
    std::string reply_to;           // "Name <address>" or "address"; may be empty
    std::string update_payment_url; // where members update their card; empty: the pay page
    DunningConfig dunning;          // [creators.dunning] over [dunning]
    AccessConfig access;            // [creators.access] over [access]
    EscalationConfig escalation;    // [creators.escalation] over [escalation]
    std::string legal_name;         // the creditor in a handover or court dunning export
    std::string address;            // the creditor's postal address, lines split by "\n"

    // Not read from a [[creators]] table's keys:
    std::string source = "config"; // "config": a [[creators]] table; "api": POST /v1/creators
    bool disabled = false;         // set through the admin API, kept in the store
    std::string api_token_hash;    // SHA-256 hex of api_token; the registry keeps only this
    std::string settings_json;     // the creator's own keys as JSON, without its secrets
    // Its stored Stripe connection was ended (disconnected here, or deauthorized on Stripe's
    // side): no Stripe call is made for it until it connects again.
    bool stripe_disconnected = false;
};

struct Config {
    std::string path; // the file it was read from
    ServerConfig server;
    StorageConfig storage;
    StripeConfig stripe;
    MailConfig mail;
    HostConfig host;
    PlatformConfig platform;
    DashboardConfig dashboard;
    RetryConfig retry;
    DunningConfig dunning;       // the global one; each creator's effective one is in CreatorConfig
    AccessConfig access;         // likewise
    EscalationConfig escalation; // likewise
    std::vector<CreatorConfig> creators;

    const CreatorConfig* find_creator(std::string_view id) const;
    const CreatorConfig* find_creator_by_account(std::string_view stripe_account) const;
};

// Looks up an environment variable for "${NAME}" references; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> process_env(const std::string& name);

// Reads and validates the file. On failure, every problem found, one per line, each as
// "file:line: key: problem" (e.g. "dunning.toml:12: creators[0].webhook_secrets: must start
// with \"whsec_\"").
Result<Config, std::vector<std::string>> load_config(const std::string& path,
                                                     const EnvLookup& env = process_env);

// Same, from text already in memory; `name` stands for the file in messages and relative
// paths are taken from `base_dir`.
Result<Config, std::vector<std::string>> parse_config(std::string_view toml_text,
                                                      const std::string& name,
                                                      const std::string& base_dir,
                                                      const EnvLookup& env = process_env);

// One creator's table as the admin API gives it (TOML text made from its JSON body), read by the
// same rules as a [[creators]] table over `base`'s globals. Secrets (api_token, webhook_secrets,
// stripe_secret_key) and server paths (dunning.template_dir, dunning.base_rates_file) are
// refused; "${…}" is not expanded. Problems as "key: problem", every one found.
Result<CreatorConfig, std::vector<std::string>> parse_api_creator(std::string_view toml_text,
                                                                  const Config& base);

} // namespace dunning::config
