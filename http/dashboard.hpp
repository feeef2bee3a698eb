#pragma once
// The creator's web dashboard (/dashboard/…): sessions opened by one-time login links, the
// pages (mustache templates compiled in, every value HTML-escaped) and their security headers.
// What a page shows comes from the same functions the creator API answers with.
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace dunning::http {

struct DashboardSession {
    std::string creator;
    std::string csrf;   // bound to the session: every form carries it, every POST is checked
    std::string locale; // de | en: ?lang=, else the creator's
};

// The request's session, or nothing with a 401 page written (no cookie, unknown, idle).
std::optional<DashboardSession> dashboard_session(Services& m, const httplib::Request& req,
                                                  httplib::Response& res);
// Who acted, as actions and overrides record it: "dashboard:<creator>".
std::string dashboard_actor(const DashboardSession& session);
// For a POST: the form's csrf field is the session's, else a 403 page is written.
bool csrf_ok(const DashboardSession& session, const httplib::Request& req, httplib::Response& res,
             Services& m);

// A whole page: the layout around templates/pages/<page>.html.mustache, given `values`
// (the layout adds the texts of the locale as `t`, the navigation and the CSRF token).
void send_dashboard_page(Services& m, httplib::Response& res, const DashboardSession& session,
                         const std::string& page, nlohmann::json values, int status = 200);
// A page with one message (errors, sign-in needed), without navigation.
void send_dashboard_message(Services& m, httplib::Response& res, int status,
                            const std::string& locale, const std::string& text_key);
// The page a login link opens: a button that sends the link's token to sign in.
void send_dashboard_sign_in(Services& m, httplib::Response& res, const std::string& locale,
                            const std::string& token);
// The headers every dashboard answer carries (CSP with [dashboard] frame_ancestors, …).
void dashboard_headers(Services& m, httplib::Response& res);

// 125 ‰ written for the locale: "12,5 %" (de, with a no-break space) or "12.5%" (en).
std::string dashboard_percent(long long permille, const std::string& locale);

// The texts of a locale, by key, for pages and charts.
const nlohmann::json& dashboard_texts(const std::string& locale);

void install_dashboard_auth_routes(httplib::Server& http, Services& m);
void install_dashboard_pages(httplib::Server& http, Services& m);
void install_dashboard_style(httplib::Server& http, Services& m); // /dashboard/style.css

} // namespace dunning::http
