// Signing in to the dashboard without a password: the platform asks for a one-time login link
// (admin token), the creator follows it and gets a session cookie. Links and sessions are kept
// as SHA-256 only; a session ends after [dashboard] session_idle_minutes unused.
#include "crypto/crypto.hpp"
#include "http/dashboard.hpp"
#include "store/creators.hpp"
#include "store/dashboard_sessions.hpp"
#include "store/json_time.hpp"

#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <chrono>

namespace dunning::http {

namespace {

using nlohmann::json;

constexpr auto login_link_lifetime = std::chrono::minutes{5};
constexpr const char* cookie_name = "dunning_session";

// The CSRF token is derived from the session's secret, so it needs no row of its own and no
// other session's token passes.
std::string csrf_of(const std::string& session_token) {
    return crypto::sha256_hex("dashboard-csrf:" + session_token);
}

std::string cookie_value(const httplib::Request& req) {
    const auto header = req.get_header_value("Cookie");
    const std::string prefix = std::string(cookie_name) + "=";
    std::size_t at = 0;
    while (at < header.size()) {
        while (at < header.size() && header[at] == ' ')
            ++at;
        const auto end = std::min(header.find(';', at), header.size());
        if (header.compare(at, prefix.size(), prefix) == 0)
            return header.substr(at + prefix.size(), end - at - prefix.size());
        at = end + 1;
    }
    return "";
}

bool secure_cookie(const Services& m) {
    return m.config.server.public_url.starts_with("https://");
}

std::string base_url(const Services& m, const httplib::Request& req) {
    auto url = m.config.server.public_url;
    if (url.empty()) url = "http://" + req.get_header_value("Host");
    while (url.ends_with('/'))
        url.pop_back();
    return url;
}

std::string locale_of(Services& m, const httplib::Request& req, const std::string& creator) {
    if (req.has_param("lang")) {
        const auto lang = req.get_param_value("lang");
        if (lang == "de" || lang == "en") return lang;
    }
    const auto cfg = m.creators.find(creator);
    return cfg && cfg->locale == "en" ? "en" : "de";
}

// POST /v1/creators/{c}/login-links (admin token): {url, expires_at}.
void login_link_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto caller = identify(m, req, res);
    if (!caller) return;
    if (!caller->admin) return send_error(res, 403, "login links are made with the admin token");
    const std::string creator = req.matches[1];
    if (!m.creators.find(creator)) return send_error(res, 404, "no such creator: " + creator);
    const auto token = crypto::random_hex(32);
    const auto now = m.clock.now();
    const auto expires = now + login_link_lifetime;
    m.db.use([&](store::Connection& db) {
        store::add_login_link(db, crypto::sha256_hex(token), creator, to_unix(now),
                              to_unix(expires));
    });
    res.status = 201;
    res.set_header("Cache-Control", "no-store");
    res.set_content(json{{"url", base_url(m, req) + "/dashboard/login?token=" + token},
                         {"expires_at", iso8601(expires)}}
                        .dump(),
                    "application/json");
}

std::string lang_of(const httplib::Request& req) {
    const auto lang = req.has_param("lang") ? req.get_param_value("lang") : "";
    return lang == "en" ? "en" : "de";
}

// GET /dashboard/login?token=…: a page whose button signs in. The link is only looked at here,
// never taken: mail scanners and link previews fetch it before the creator clicks.
void login_page(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto token = req.has_param("token") ? req.get_param_value("token") : "";
    const auto now = to_unix(m.clock.now());
    const auto creator = token.empty() ? std::nullopt : m.db.use([&](store::Connection& db) {
        return store::login_link_creator(db, crypto::sha256_hex(token), now);
    });
    if (!creator || !m.creators.find(*creator))
        return send_dashboard_message(m, res, 400, lang_of(req), "login_link_invalid");
    send_dashboard_sign_in(m, res, locale_of(m, req, *creator), token);
}

// POST /dashboard/login (token=…): takes the link once, opens a session, goes to the overview.
// Expired links and idle sessions are purged here.
void login_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto token = req.has_param("token") ? req.get_param_value("token") : "";
    const auto now = to_unix(m.clock.now());
    const auto idle = std::int64_t{m.config.dashboard.session_idle_minutes} * 60;
    const auto creator = token.empty() ? std::nullopt : m.db.use([&](store::Connection& db) {
        auto taken = store::use_login_link(db, crypto::sha256_hex(token), now);
        store::purge_dashboard_credentials(db, now, idle);
        return taken;
    });
    if (!creator || !m.creators.find(*creator))
        return send_dashboard_message(m, res, 400, lang_of(req), "login_link_invalid");
    const auto session = crypto::random_hex(32);
    m.db.use([&](store::Connection& db) {
        store::add_session(db, crypto::sha256_hex(session), *creator, now);
    });
    dashboard_headers(m, res);
    res.set_header("Set-Cookie", std::string(cookie_name) + "=" + session +
                                     "; Path=/dashboard; HttpOnly; SameSite=Lax" +
                                     (secure_cookie(m) ? "; Secure" : ""));
    res.set_redirect("/dashboard", 303);
}

void logout_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto session = dashboard_session(m, req, res);
    if (!session || !csrf_ok(*session, req, res, m)) return;
    m.db.use([&](store::Connection& db) {
        store::delete_session(db, crypto::sha256_hex(cookie_value(req)));
    });
    dashboard_headers(m, res);
    res.set_header("Set-Cookie", std::string(cookie_name) +
                                     "=; Path=/dashboard; HttpOnly; SameSite=Lax; Max-Age=0" +
                                     (secure_cookie(m) ? "; Secure" : ""));
    send_dashboard_message(m, res, 200, session->locale, "signed_out");
}

} // namespace

std::optional<DashboardSession> dashboard_session(Services& m, const httplib::Request& req,
                                                  httplib::Response& res) {
    const auto token = cookie_value(req);
    const auto lang = req.has_param("lang") ? req.get_param_value("lang") : "de";
    if (token.empty()) {
        send_dashboard_message(m, res, 401, lang, "sign_in_needed");
        return std::nullopt;
    }
    const auto idle = std::int64_t{m.config.dashboard.session_idle_minutes} * 60;
    const auto creator = m.db.use([&](store::Connection& db) {
        return store::touch_session(db, crypto::sha256_hex(token), to_unix(m.clock.now()), idle);
    });
    if (!creator || !m.creators.find(*creator)) {
        send_dashboard_message(m, res, 401, lang, "sign_in_needed");
        return std::nullopt;
    }
    return DashboardSession{*creator, csrf_of(token), locale_of(m, req, *creator)};
}

std::string dashboard_actor(const DashboardSession& session) {
    return "dashboard:" + session.creator;
}

bool csrf_ok(const DashboardSession& session, const httplib::Request& req, httplib::Response& res,
             Services& m) {
    const auto sent = req.has_param("csrf") ? req.get_param_value("csrf") : "";
    if (sent.size() == session.csrf.size() &&
        CRYPTO_memcmp(sent.data(), session.csrf.data(), sent.size()) == 0)
        return true;
    send_dashboard_message(m, res, 403, session.locale, "csrf_refused");
    return false;
}

void dashboard_headers(Services& m, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("Referrer-Policy", "no-referrer"); // a login link's token is in its address
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors " +
            m.config.dashboard.frame_ancestors);
    if (m.config.dashboard.frame_ancestors == "'none'") res.set_header("X-Frame-Options", "DENY");
}

void install_dashboard_auth_routes(httplib::Server& http, Services& m) {
    http.Post(R"(/v1/creators/([^/]+)/login-links)",
              [&m](const httplib::Request& req, httplib::Response& res) {
                  login_link_route(m, req, res);
              });
    http.Get("/dashboard/login", [&m](const httplib::Request& req, httplib::Response& res) {
        login_page(m, req, res);
    });
    http.Post("/dashboard/login", [&m](const httplib::Request& req, httplib::Response& res) {
        login_route(m, req, res);
    });
    http.Post("/dashboard/logout", [&m](const httplib::Request& req, httplib::Response& res) {
        logout_route(m, req, res);
    });
}

} // namespace dunning::http
