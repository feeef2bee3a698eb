// /dashboard/cases/{id}: one case as GET /v1/creators/{c}/cases/{id} answers it, its facts,
// charge attempts, Stripe events, actions (emails with their send log, charges, notifications)
// and the case's own timeline merged into one list, oldest first.
#include "core/money.hpp"
#include "http/access_views.hpp"
#include "http/cases.hpp"
#include "http/dashboard.hpp"

#include <algorithm>
#include <charconv>

namespace dunning::http {

namespace {

using nlohmann::json;

std::string text_of(const json& j) {
    if (j.is_null()) return "";
    return j.is_string() ? j.get<std::string>() : j.dump();
}

// One line of detail from an action's payload: the fields a reader looks for first.
std::string action_detail(const json& a) {
    std::string out;
    const auto& d = a["detail"];
    if (d.is_object())
        for (const char* key : {"message", "stage", "type", "to", "attempt", "subject"})
            if (d.contains(key))
                out += std::string(out.empty() ? "" : ", ") + key + " " + text_of(d[key]);
    if (!a["result"].is_null()) out += (out.empty() ? "" : ", ") + text_of(a["result"]);
    if (!a["last_error"].is_null()) out += (out.empty() ? "" : ", ") + text_of(a["last_error"]);
    return out;
}

json timeline_of(const json& c, const json& access) {
    json rows = json::array();
    auto add = [&](const json& at, std::string what, std::string detail) {
        if (at.is_string()) rows.push_back({{"at", at}, {"what", what}, {"detail", detail}});
    };
    for (const auto& e : c["events"])
        add(e["created"], "stripe " + text_of(e["type"]),
            text_of(e["id"]) + " (" + text_of(e["source"]) + ")");
    if (const auto& f = c["failure"]; f.is_object())
        add(f["at"], "failure",
            text_of(f["code"]) + " " + text_of(f["decline_code"]) + " " + text_of(f["message"]));
    for (const auto& a : c["attempts"])
        add(a["at"], "attempt " + text_of(a["number"]), text_of(a["outcome"]));
    for (const auto& a : c["actions"])
        add(a["done"].is_string() ? a["done"] : a["created"],
            text_of(a["kind"]) + " (" + text_of(a["state"]) + ")", action_detail(a));
    for (const auto& change : access) // the member's access changes this case caused
        if (change["case"] == c["id"])
            add(change["at"], "access " + text_of(change["to"]),
                text_of(change["product"]) + ": " + text_of(change["from"]) + " → " +
                    text_of(change["to"]) + " (" + text_of(change["reason"]) + ")");
    for (const auto& a : c["creator_actions"]) // who decided and why
        add(a["at"], text_of(a["action"]) + " · " + text_of(a["actor"]), text_of(a["note"]));
    for (const auto& step : c["timeline"])
        add(step["at"], text_of(step["what"]),
            step["detail"].is_null() ? "" : step["detail"].dump());
    std::stable_sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
        return a["at"].get<std::string>() < b["at"].get<std::string>();
    });
    return rows;
}

void case_page(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto session = dashboard_session(m, req, res);
    if (!session) return;
    std::int64_t id = 0;
    const std::string digits = req.matches[1];
    std::from_chars(digits.data(), digits.data() + digits.size(), id);
    // The case and its member's access changes as of one moment, so the timeline never shows a
    // lock without the step that caused it.
    json access = json::array();
    const auto c = m.db.read([&](store::Connection& db) {
        auto detail = case_detail(db, session->creator, id);
        const auto member = detail ? text_of((*detail)["customer"]["id"]) : std::string();
        if (!member.empty()) access = access_history(m, db, session->creator, member);
        return detail;
    });
    if (!c) return send_dashboard_message(m, res, 404, session->locale, "no_such_case");
    const auto& t = dashboard_texts(session->locale);
    const auto& inv = (*c)["invoice"];
    const auto currency = text_of(inv["currency"]);
    json actions = json::array();
    for (const char* a : {"pause", "resume", "mark-paid", "write-off", "escalate", "hand-over"})
        actions.push_back({{"value", a}, {"label", t["act_" + std::string(a)]}});
    send_dashboard_page(
        m, res, *session, "case",
        {{"title", t["case"].get<std::string>() + " " + digits},
         {"id", digits},
         {"status", (*c)["status"]},
         {"stage", text_of((*c)["stage"])},
         {"member", text_of((*c)["customer"]["name"]).empty() ? (*c)["customer"]["id"]
                                                              : (*c)["customer"]["name"]},
         {"member_id", (*c)["customer"]["id"]},
         {"member_email", (*c)["customer"]["email"]},
         {"invoice", inv["number"].is_null() ? inv["id"] : inv["number"]},
         {"amount", format_money(inv["amount_due"].get<std::int64_t>(), currency, session->locale)},
         {"timeline", timeline_of(*c, access)},
         {"actions", actions},
         {"back", "/dashboard/cases/" + digits}});
}

} // namespace

void install_dashboard_case_page(httplib::Server& http, Services& m) {
    http.Get(R"(/dashboard/cases/([0-9]{1,18}))",
             [&m](const httplib::Request& req, httplib::Response& res) { case_page(m, req, res); });
}

} // namespace dunning::http
