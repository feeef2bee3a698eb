// /dashboard/members/{cus}: a member's access per product, the creator's overrides and every
// access change, as the access API answers them, and the member's outstanding claims from the
// open-items list. A member the creator has no record of is not found.
#include "core/money.hpp"
#include "http/access_views.hpp"
#include "http/dashboard.hpp"
#include "http/open_items.hpp"

namespace dunning::http {

namespace {

using nlohmann::json;

std::string joined(const json& list) {
    std::string out;
    for (const auto& item : list)
        out += (out.empty() ? "" : ", ") + item.get<std::string>();
    return out;
}

json claims_of(Services& m, const std::string& creator, const std::string& member,
               const std::string& locale) {
    OpenItemsQuery q;
    q.filter.member = member;
    json rows = json::array();
    for (const auto& i : open_items_of(m, creator, q))
        rows.push_back({{"case", std::to_string(i.case_id)},
                        {"status", i.status},
                        {"stage", std::to_string(i.stage)},
                        {"total", format_money(i.total_minor(), i.currency, locale)}});
    return rows;
}

void member_page(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto session = dashboard_session(m, req, res);
    if (!session) return;
    const std::string member = req.matches[1];
    auto access = member_access_view(m, session->creator, member);
    const auto overrides = member_overrides_view(m, session->creator, member);
    const auto history = access_history(m, session->creator, member);
    const auto claims = claims_of(m, session->creator, member, session->locale);
    if (access.empty() && overrides.empty() && history.empty() && claims.empty())
        return send_dashboard_message(m, res, 404, session->locale, "no_such_member");
    for (auto& a : access) {
        a["courses_text"] = joined(a["courses"]);
        if (a["case"].is_number()) a["case"] = std::to_string(a["case"].get<long long>());
    }
    const auto& t = dashboard_texts(session->locale);
    send_dashboard_page(m, res, *session, "member",
                        {{"title", t["member"].get<std::string>() + " " + member},
                         {"member", member},
                         {"access", access},
                         {"overrides", overrides},
                         {"history", history},
                         {"claims", claims}});
}

} // namespace

void install_dashboard_member_page(httplib::Server& http, Services& m) {
    http.Get(
        R"(/dashboard/members/([A-Za-z0-9_]{1,100}))",
        [&m](const httplib::Request& req, httplib::Response& res) { member_page(m, req, res); });
}

} // namespace dunning::http
