#include "config/config.hpp"
#include "config/environment.hpp"

#include "config/reader.hpp"
#include "core/base64.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dunning::config {

namespace {

using detail::Problems;
using detail::Reader;

struct HostPort {
    std::string host;
    int port = 0;
};

bool is_ip(int family, const std::string& text) {
    unsigned char buffer[16];
    return inet_pton(family, text.c_str(), buffer) == 1;
}

Result<HostPort, std::string> parse_listen(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return err(std::string(R"(must be "host:port", e.g. "127.0.0.1:8080")"));
    std::string host(text.substr(0, colon));
    const auto port = text.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']' &&
        is_ip(AF_INET6, host.substr(1, host.size() - 2))) {
        host = host.substr(1, host.size() - 2); // what getaddrinfo and bind expect
    } else if (host != "localhost" && !is_ip(AF_INET, host)) {
        return err(std::string(
            R"(host must be an IPv4 address, "localhost" or an IPv6 address in brackets )"
            R"(like "[::1]")"));
    }
    const bool digits = !port.empty() && port.size() <= 5 &&
                        port.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || std::stoi(std::string(port)) > 65535)
        return err(std::string("port must be a number from 0 to 65535"));
    return HostPort{host, std::stoi(std::string(port))};
}

// The host of "smtp[s]://[user[:password]@]host[:port][/…]", brackets kept for IPv6.
std::string smtp_host(std::string_view url) {
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return {};
    auto authority = url.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (const auto at = authority.rfind('@'); at != std::string_view::npos)
        authority = authority.substr(at + 1);
    std::string host(authority.starts_with('[') ? authority.substr(0, authority.find(']') + 1)
                                                : authority.substr(0, authority.find(':')));
    for (char& c : host)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return host;
}

void read_server(Reader& root, ServerConfig& out) {
    auto server = root.table("server");
    if (!server) return;
    server->allow_only({"listen", "threads", "max_body_bytes", "request_deadline_seconds",
                        "max_connections", "max_connections_per_client", "max_buffered_bytes",
                        "public_url", "link_secret"});
    server->string("public_url", out.public_url, detail::http_url(true));
    server->string("link_secret", out.link_secret, [](const std::string& value) {
        return value.size() >= 32 ? std::nullopt
                                  : std::optional<std::string>("must be at least 32 characters");
    });
    if (!out.link_secret.empty() && out.public_url.empty())
        server->problem("link_secret", "needs public_url: the address the links point to");
    server->string("listen", out.listen, [](const std::string& value) {
        auto parsed = parse_listen(value);
        return parsed.ok() ? std::nullopt : std::optional<std::string>(parsed.error());
    });
    std::int64_t threads = out.threads;
    server->integer("threads", threads, 1, 1024);
    out.threads = static_cast<int>(threads);
    auto max_body = static_cast<std::int64_t>(out.max_body_bytes);
    server->integer("max_body_bytes", max_body, 1024, 64 * 1024 * 1024);
    out.max_body_bytes = static_cast<std::size_t>(max_body);
    std::int64_t deadline = out.request_deadline_seconds;
    server->integer("request_deadline_seconds", deadline, 1, 3600);
    out.request_deadline_seconds = static_cast<int>(deadline);
    std::int64_t total = out.max_connections;
    server->integer("max_connections", total, 16, 1'000'000);
    out.max_connections = static_cast<int>(total);
    std::int64_t per_client = out.max_connections_per_client;
    server->integer("max_connections_per_client", per_client, 0, 1'000'000);
    out.max_connections_per_client = static_cast<int>(per_client);
    auto buffered = static_cast<std::int64_t>(out.max_buffered_bytes);
    if (server->integer("max_buffered_bytes", buffered, 1024 * 1024, std::int64_t{1} << 40) &&
        buffered < 2 * max_body + 16 * 1024)
        server->problem("max_buffered_bytes", "must be at least 2 * max_body_bytes + 16384 (" +
                                                  std::to_string(2 * max_body + 16 * 1024) +
                                                  "): room for one whole request");
    out.max_buffered_bytes = static_cast<std::size_t>(buffered);
}

void read_storage(Reader& root, StorageConfig& out) {
    auto storage = root.table("storage");
    if (!storage) return;
    storage->allow_only({"sqlite_path", "postgres_url", "synchronous", "claim_lease_seconds",
                         "secrets_key", "previous_secrets_keys"});
    storage->string("sqlite_path", out.sqlite_path, detail::not_empty());
    // The message never echoes the value: it holds the password.
    storage->string("postgres_url", out.postgres_url, [](const std::string& value) {
        const bool ok = (value.starts_with("postgresql://") && value.size() > 13) ||
                        (value.starts_with("postgres://") && value.size() > 11);
        return ok ? std::nullopt
                  : std::optional<std::string>(
                        R"(must be a "postgresql://" or "postgres://" URL, e.g. )"
                        R"("postgresql://dunning:${DUNNING_PG_PASSWORD}@db.example/dunning")");
    });
    if (storage->contains("postgres_url") && storage->contains("sqlite_path"))
        storage->problem("postgres_url", "excludes sqlite_path: the store is one database, "
                                         "remove one of the two");
    storage->string("synchronous", out.synchronous, detail::one_of({"full", "normal"}));
    storage->integer("claim_lease_seconds", out.claim_lease_seconds, 1, 24 * 3600);
    if (storage->contains("claim_lease_seconds") && !storage->contains("postgres_url"))
        storage->problem("claim_lease_seconds",
                         "applies to postgres_url only: on SQLite one instance uses the store");
    std::string key;
    if (storage->string("secrets_key", key, detail::secrets_key()))
        out.secrets_key = base64_decode(key).value_or("");
    std::vector<std::string> previous;
    if (storage->strings("previous_secrets_keys", previous, detail::secrets_key()))
        for (const auto& text : previous)
            out.previous_secrets_keys.push_back(base64_decode(text).value_or(""));
    if (!out.previous_secrets_keys.empty() && !storage->contains("secrets_key"))
        storage->problem("previous_secrets_keys",
                         "needs secrets_key: the key new values are sealed with");
}

void read_stripe(Reader& root, StripeConfig& out) {
    auto stripe = root.table("stripe");
    if (!stripe) return;
    stripe->allow_only({"api_base", "platform_secret_key", "connect_webhook_secrets",
                        "webhook_tolerance_seconds", "connect_client_id", "connect_base"});
    stripe->string("connect_client_id", out.connect_client_id, detail::starts_with({"ca_"}, true));
    stripe->string("connect_base", out.connect_base, detail::starts_with({"https://", "http://"}));
    stripe->string("api_base", out.api_base, detail::starts_with({"https://", "http://"}));
    stripe->string("platform_secret_key", out.platform_secret_key,
                   detail::starts_with({"sk_", "rk_"}, true));
    stripe->strings("connect_webhook_secrets", out.connect_webhook_secrets,
                    detail::starts_with({"whsec_"}));
    std::int64_t tolerance = out.webhook_tolerance.count();
    stripe->integer("webhook_tolerance_seconds", tolerance, 0, 86400);
    out.webhook_tolerance = std::chrono::seconds(tolerance);
}

void read_mail(Reader& root, const Problems& problems, const std::string& base_dir,
               MailConfig& out) {
    auto mail = root.table("mail");
    if (!mail) return;
    mail->allow_only({"transport", "outbox_dir", "smtp_url", "from", "smtp_username",
                      "smtp_password", "smtp_allow_plaintext", "smtp_ca_file",
                      "message_id_domain"});
    mail->string("transport", out.transport, detail::one_of({"outbox", "smtp"}));
    mail->string("outbox_dir", out.outbox_dir, detail::not_empty());
    mail->string("smtp_url", out.smtp_url, detail::starts_with({"smtp://", "smtps://"}));
    mail->string("from", out.from, detail::mailbox());
    mail->string("smtp_username", out.smtp_username);
    mail->string("smtp_password", out.smtp_password);
    mail->boolean("smtp_allow_plaintext", out.smtp_allow_plaintext);
    std::string ca_file; // "" = the system's certificate authorities
    if (mail->string("smtp_ca_file", ca_file) && !problems.has(mail->key("smtp_ca_file"))) {
        ca_file = detail::resolve_path(base_dir, ca_file);
        if (auto problem = ca_file.empty() ? std::nullopt : detail::path_problem(ca_file, false))
            mail->problem("smtp_ca_file", *problem);
        else
            out.smtp_ca_file = ca_file;
    }
    mail->string("message_id_domain", out.message_id_domain, [](const std::string& value) {
        return detail::is_domain(value)
                   ? std::nullopt
                   : std::optional<std::string>(R"(must be a domain name, e.g. "acme.example")");
    });
    if (out.transport == "smtp" && out.smtp_url.empty() && !problems.has(mail->key("smtp_url")))
        mail->problem("smtp_url", R"(is required when transport = "smtp")");
    // Without TLS, the password and the members' data would cross the network in clear text.
    if (out.smtp_allow_plaintext && !out.smtp_url.empty() && !problems.has(mail->key("smtp_url"))) {
        const auto host = smtp_host(out.smtp_url);
        if (host != "127.0.0.1" && host != "localhost" && host != "[::1]")
            mail->problem("smtp_allow_plaintext",
                          "plaintext SMTP is only allowed to a server on this machine");
    }
}

// The sender of every dunning email; without one, no creator's mail could go out.
void require_sender(const toml::table& table, Problems& problems, Config& config) {
    const bool may_have_creators = !config.creators.empty() || !config.platform.admin_token.empty();
    if (!may_have_creators || !config.mail.from.empty()) return;
    if (problems.has("mail") || problems.has("mail.from")) return;
    const toml::node* mail = table.get("mail");
    problems.add(mail ? detail::line_of(*mail) : 1, "mail.from",
                 "is required: the sender of the dunning emails, e.g. "
                 R"("Acme Courses <billing@acme.example>")");
}

void read_host(Reader& root, const Problems& problems, HostConfig& out) {
    auto host = root.table("host");
    if (!host) return;
    host->allow_only({"webhook_url", "webhook_secret"});
    host->string("webhook_url", out.webhook_url,
                 detail::starts_with({"https://", "http://"}, true));
    host->string("webhook_secret", out.webhook_secret);
    if (!out.webhook_url.empty() && out.webhook_secret.empty() &&
        !problems.has(host->key("webhook_secret")))
        host->problem("webhook_secret", "is required when webhook_url is set");
}

void read_platform(Reader& root, PlatformConfig& out) {
    auto platform = root.table("platform");
    if (!platform) return;
    platform->allow_only({"admin_token"});
    platform->string("admin_token", out.admin_token, [](const std::string& value) {
        return value.size() >= 16 ? std::nullopt
                                  : std::optional<std::string>("must be at least 16 characters");
    });
}

void read_dashboard(Reader& root, DashboardConfig& out) {
    auto dashboard = root.table("dashboard");
    if (!dashboard) return;
    dashboard->allow_only({"session_idle_minutes", "frame_ancestors"});
    std::int64_t idle = out.session_idle_minutes;
    dashboard->integer("session_idle_minutes", idle, 1, 24 * 60);
    out.session_idle_minutes = static_cast<int>(idle);
    // Each source is a token of CSP: no ';' or ',' (which would start another directive or
    // policy) and no control characters.
    dashboard->string("frame_ancestors", out.frame_ancestors,
                      [](const std::string& value) -> std::optional<std::string> {
                          if (value.empty()) return "must not be empty ('none' for no framing)";
                          for (const unsigned char c : value)
                              if (c < 0x20 || c >= 0x7f || c == ';' || c == ',')
                                  return "must be CSP sources separated by spaces, e.g. "
                                         "\"'self' https://platform.example\"";
                          return std::nullopt;
                      });
}

Config read_all(const toml::table& table, const std::string& name, const std::string& base_dir,
                const EnvLookup& env, Problems& problems) {
    Config config;
    config.path = name;
    Reader root(problems, env, table, "");
    root.allow_only({"server", "storage", "stripe", "mail", "host", "retry", "dunning", "access",
                     "escalation", "platform", "dashboard", "creators"});
    read_server(root, config.server);
    read_storage(root, config.storage);
    read_stripe(root, config.stripe);
    read_mail(root, problems, base_dir, config.mail);
    read_host(root, problems, config.host);
    read_platform(root, config.platform);
    read_dashboard(root, config.dashboard);
    if (auto retry = root.table("retry")) detail::read_retry(*retry, config.retry);
    // The default too, so "base_rates.toml" is found next to the config file.
    config.dunning.base_rates_file = detail::resolve_path(base_dir, config.dunning.base_rates_file);
    if (auto dunning = root.table("dunning"))
        detail::read_dunning(*dunning, problems, base_dir, config.dunning);
    if (auto access = root.table("access")) detail::read_access(*access, problems, config.access);
    if (auto escalation = root.table("escalation"))
        detail::read_escalation(*escalation, config.escalation);
    // After [stripe], [retry], [dunning], [access] and [escalation]: creators inherit those and
    // may rely on the platform's Connect secrets and key.
    detail::read_creators(root, problems, base_dir, config);
    if (auto platform = root.table("platform"))
        for (const auto& c : config.creators)
            if (!config.platform.admin_token.empty() && c.api_token == config.platform.admin_token)
                platform->problem("admin_token",
                                  "must differ from every creator's api_token (creator " + c.id +
                                      " has the same)");
    require_sender(table, problems, config);
    if (config.mail.message_id_domain.empty())
        config.mail.message_id_domain = detail::mailbox_domain(config.mail.from);
    if (auto listen = parse_listen(config.server.listen); listen.ok()) {
        config.server.host = listen.value().host;
        config.server.port = listen.value().port;
    }
    // The defaults too, so "dunning.db" lands next to the config file.
    config.storage.sqlite_path = detail::resolve_path(base_dir, config.storage.sqlite_path);
    config.mail.outbox_dir = detail::resolve_path(base_dir, config.mail.outbox_dir);
    return config;
}

} // namespace

const CreatorConfig* Config::find_creator(std::string_view id) const {
    for (const auto& creator : creators)
        if (creator.id == id) return &creator;
    return nullptr;
}

const CreatorConfig* Config::find_creator_by_account(std::string_view stripe_account) const {
    if (stripe_account.empty()) return nullptr;
    for (const auto& creator : creators)
        if (creator.stripe_account == stripe_account) return &creator;
    return nullptr;
}

std::optional<std::string> process_env(const std::string& name) {
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
}

Result<std::string, std::string> expand_environment(std::string_view text, const EnvLookup& env) {
    std::vector<std::string> problems;
    auto expanded = detail::expand_env(text, env ? env : EnvLookup(process_env), problems);
    if (expanded) return std::move(*expanded);
    std::string message;
    for (const auto& problem : problems)
        message += (message.empty() ? "" : "; ") + problem;
    return err(std::move(message));
}

Result<Config, std::vector<std::string>> parse_config(std::string_view toml_text,
                                                      const std::string& name,
                                                      const std::string& base_dir,
                                                      const EnvLookup& env) {
    toml::table table;
    try {
        table = toml::parse(toml_text, std::string_view{name});
    } catch (const toml::parse_error& e) {
        const auto line = std::max<std::uint32_t>(1, e.source().begin.line);
        return err(std::vector<std::string>{name + ":" + std::to_string(line) +
                                            ": syntax: " + std::string(e.description())});
    }
    Problems problems(name);
    const EnvLookup lookup = env ? env : EnvLookup(process_env);
    Config config = read_all(table, name, base_dir, lookup, problems);
    if (!problems.empty()) return err(problems.sorted());
    return config;
}

namespace detail {

Result<std::string, std::string> read_text_file(const std::string& path) {
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored))
        return err(path + ": cannot read the file: " + std::strerror(EISDIR));
    errno = 0;
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    if (file) text << file.rdbuf();
    if (!file || file.bad()) {
        const int error = errno;
        return err(path +
                   ": cannot read the file: " + (error ? std::strerror(error) : "unknown error"));
    }
    return text.str();
}

} // namespace detail

Result<Config, std::vector<std::string>> load_config(const std::string& path,
                                                     const EnvLookup& env) {
    auto text = detail::read_text_file(path);
    if (!text.ok()) return err(std::vector<std::string>{text.error()});
    return parse_config(text.value(), path, std::filesystem::path(path).parent_path().string(),
                        env);
}

} // namespace dunning::config
