// /dashboard/settings: the creator's dunning ladder, retry mode and schedule and access rules,
// saved through PATCH /v1/creators/{c}'s code (the configuration's rules and messages, each shown
// beside its field), every ladder email previewed per locale with the creator's templates (as
// `dunning preview` renders them), and the Stripe connection as GET /v1/creators/{c} shows it.
#include "http/dashboard_settings.hpp"
#include "http/creator_change.hpp"
#include "http/dashboard.hpp"
#include "http/stripe_connect.hpp"
#include "jobs/email_preview.hpp"

namespace dunning::http {

namespace {

using nlohmann::json;
using Problems = std::map<std::string, std::string>; // field name → the configuration's message

// "dunning.stages[1].after_days: must be …" → that field; the rest are shown above the form.
Problems by_field(const std::vector<std::string>& problems, const SettingsValues& fields,
                  json& general) {
    Problems out;
    for (const auto& p : problems) {
        const auto colon = p.find(": ");
        const auto key = colon == std::string::npos ? "" : p.substr(0, colon);
        if (!key.empty() && fields.contains(key))
            out[key] += (out[key].empty() ? "" : "; ") + p.substr(colon + 2);
        else
            general.push_back(p);
    }
    return out;
}

json field(const std::string& name, const json& t, const SettingsValues& v, const Problems& p,
           const std::vector<std::string>& options = {}) {
    const auto value = v.contains(name) ? v.at(name) : "";
    const auto label = name.substr(name.find('.') + 1);
    json f{{"name", name},
           {"label", t.value("set_" + label, label)},
           {"value", value},
           {"problem", p.contains(name) ? json(p.at(name)) : json(nullptr)}};
    f["select"] = !options.empty();
    if (options.empty()) return f;
    f["options"] = json::array();
    for (const auto& o : options)
        f["options"].push_back(
            {{"value", o}, {"label", t.value("opt_" + o, o)}, {"selected", o == value}});
    return f;
}

json ladder_rows(const json& t, const SettingsValues& v, const Problems& p) {
    json rows = json::array();
    std::vector<std::string> messages = {""};
    for (const auto& m : settings_messages())
        messages.push_back(m);
    // One empty row to add a stage, unless the last row shown is empty already.
    const auto shown = stage_rows(v);
    const auto last = "dunning.stages[" + std::to_string(shown == 0 ? 0 : shown - 1) + "].message";
    const bool room = shown == 0 || (v.contains(last) && !v.at(last).empty());
    const auto n = std::min(shown + (room ? 1 : 0), settings_max_stages());
    for (std::size_t i = 0; i < n; ++i) {
        const auto key = "dunning.stages[" + std::to_string(i) + "].";
        rows.push_back({{"row", std::to_string(i + 1)},
                        {"message", field(key + "message", t, v, p, messages)},
                        {"after_days", field(key + "after_days", t, v, p)},
                        {"fee", field(key + "fee", t, v, p)}});
    }
    return rows;
}

json fields(const json& t, const SettingsValues& v, const Problems& p,
            const std::vector<std::pair<std::string, std::vector<std::string>>>& names) {
    json out = json::array();
    for (const auto& [name, options] : names)
        out.push_back(field(name, t, v, p, options));
    return out;
}

// Each ladder email in German and English, rendered with the creator's templates and sample data.
json previews(Services& m, const config::CreatorConfig& creator, const json& t) {
    json out = json::array();
    for (std::size_t i = 0; i < creator.dunning.stages.size(); ++i)
        for (const char* locale : {"de", "en"}) {
            auto c = creator;
            c.locale = locale;
            const auto stage = std::to_string(i + 1);
            const auto r = jobs::preview_email(m.config, c, stage, m.clock.now(), m.base_rates);
            const auto& name = creator.dunning.stages[i].name;
            json p{{"id", stage + "-" + locale},
                   {"stage", stage},
                   {"message", t.value("opt_" + name, name)},
                   {"locale", locale}};
            if (r) {
                p["subject"] = r.value().subject;
                p["text"] = r.value().text;
            } else {
                p["error"] = r.error();
            }
            out.push_back(p);
        }
    return out;
}

json stripe_rows(Services& m, const config::CreatorConfig& c, const json& t) {
    json rows = json::array();
    const auto view = stripe_connection_view(m, c); // never a secret
    for (const char* key :
         {"status", "method", "account", "key_last4", "webhook_endpoint", "connected_at"})
        if (view.contains(key) && !view[key].is_null())
            rows.push_back({{"key", key},
                            {"label", t.value(std::string("stripe_") + key, key)},
                            {"value", view[key].get<std::string>()}});
    return rows;
}

void send_settings(Services& m, httplib::Response& res, const DashboardSession& session,
                   const config::CreatorConfig& creator, const SettingsValues& v,
                   const std::vector<std::string>& problems, bool saved, int status) {
    const auto& t = dashboard_texts(session.locale);
    json general = json::array();
    const auto p = by_field(problems, v, general);
    const std::vector<std::string> levels = {"granted", "grace", "limited", "locked"};
    send_dashboard_page(
        m, res, session, "settings",
        {{"title", t["nav_settings"]},
         {"readonly", creator.source == "config"},
         {"saved", saved},
         {"problems", general},
         {"has_problems", !problems.empty()},
         {"ladder", ladder_rows(t, v, p)},
         {"deadline", field("dunning.final_notice_deadline_days", t, v, p)},
         {"retry",
          fields(t, v, p,
                 {{"retry.mode", {"stripe", "plugin"}},
                  {"retry.card_schedule_days", {}},
                  {"retry.sepa_max_retries", {}},
                  {"retry.end_action", {"leave", "cancel_subscription", "mark_uncollectible"}}})},
         {"access", fields(t, v, p,
                           {{"access.min_amount", {}},
                            {"access.reminder", {"granted", "grace"}},
                            {"access.formal_reminder", {"granted", "grace"}},
                            {"access.final_notice", {"granted", "grace", "limited"}},
                            {"access.after_final_deadline", {"limited", "locked"}},
                            {"access.on_lost_dispute", {"limited", "locked"}},
                            {"access.on_subscription_ended", {"limited", "locked"}},
                            {"access.on_objection", {"unchanged", "grant"}}})},
         {"previews", previews(m, creator, t)},
         {"stripe", stripe_rows(m, creator, t)}},
        status);
}

void settings_page(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto session = dashboard_session(m, req, res);
    if (!session) return;
    const auto creator = m.creators.find(session->creator);
    send_settings(m, res, *session, *creator, settings_values(*creator, session->locale), {},
                  req.has_param("saved"), 200);
}

// The form's changes through PATCH's code: saved, or shown again as sent with the problems
// beside their fields and nothing changed.
void save_settings(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto session = dashboard_session(m, req, res);
    if (!session || !csrf_ok(*session, req, res, m)) return;
    const auto creator = m.creators.find(session->creator);
    const auto sent = settings_sent(req);
    const auto patch = settings_patch(sent, settings_values(*creator, session->locale));
    const auto change =
        patch.empty() ? CreatorChange{} : change_creator(m, session->creator, patch, false);
    if (change.status != 200) {
        auto problems = problems_by_row(change.problems, sent);
        if (problems.empty()) problems.push_back(change.error);
        return send_settings(m, res, *session, *creator, sent, problems, false, change.status);
    }
    dashboard_headers(m, res);
    res.set_redirect("/dashboard/settings?saved=1&lang=" + session->locale, 303);
}

} // namespace

void install_dashboard_settings_page(httplib::Server& http, Services& m) {
    http.Get("/dashboard/settings", [&m](const httplib::Request& req, httplib::Response& res) {
        settings_page(m, req, res);
    });
    http.Post("/dashboard/settings", [&m](const httplib::Request& req, httplib::Response& res) {
        save_settings(m, req, res);
    });
}

} // namespace dunning::http
