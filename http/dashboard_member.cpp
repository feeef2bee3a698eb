// /dashboard/members/{cus}: a member's access per product, the creator's overrides and every
// access change, as the access API answers them, and the member's outstanding claims from the
// open-items list. A member the creator has no record of is not found. The creator grants or
// withdraws access by an override, or revokes one, with a note, through the access API's code.
#include "core/money.hpp"
#include "http/access_views.hpp"
#include "http/dashboard.hpp"
#include "http/open_items.hpp"
#include "http/request_bodies.hpp"

#include <algorithm>

namespace dunning::http {

namespace {

using nlohmann::json;

std::string joined(const json& list) {
    std::string out;
    for (const auto& item : list)
        out += (out.empty() ? "" : ", ") + item.get<std::string>();
    return out;
}

json claims_of(Services& m, store::Connection& db, const std::string& creator,
               const std::string& member, const std::string& locale) {
    OpenItemsQuery q;
    q.filter.member = member;
    json rows = json::array();
    for (const auto& i : open_items_of(m, db, creator, q))
        rows.push_back({{"case", std::to_string(i.case_id)},
                        {"status", i.status},
                        {"stage", std::to_string(i.stage)},
                        {"total", format_money(i.total_minor(), i.currency, locale)}});
    return rows;
}

// What the member's page shows, read as one moment of the store.
struct MemberViews {
    json access, overrides, history, claims;
    // A member the creator has a record of.
    bool known() const {
        return !access.empty() || !overrides.empty() || !history.empty() || !claims.empty();
    }
};

MemberViews member_views(Services& m, const std::string& creator, const std::string& member,
                         const std::string& locale) {
    return m.db.read([&](store::Connection& db) {
        return MemberViews{member_access_view(m, db, creator, member),
                           member_overrides_view(m, db, creator, member),
                           access_history(m, db, creator, member),
                           claims_of(m, db, creator, member, locale)};
    });
}

// The products an override may name: the creator's, and any the member has a record of.
json product_options(Services& m, const std::string& creator, const json& access) {
    std::vector<std::string> products;
    if (const auto c = m.creators.find(creator))
        for (const auto& p : c->products)
            products.push_back(p.stripe_product);
    for (const auto& a : access)
        if (a["product"].is_string() &&
            std::find(products.begin(), products.end(), a["product"]) == products.end())
            products.push_back(a["product"].get<std::string>());
    json out = json::array();
    for (const auto& p : products)
        out.push_back(p);
    return out;
}

void member_page(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto session = dashboard_session(m, req, res);
    if (!session) return;
    const std::string member = req.matches[1];
    auto v = member_views(m, session->creator, member, session->locale);
    if (!v.known()) return send_dashboard_message(m, res, 404, session->locale, "no_such_member");
    for (auto& a : v.access) {
        a["courses_text"] = joined(a["courses"]);
        if (a["case"].is_number()) a["case"] = std::to_string(a["case"].get<long long>());
    }
    for (auto& o : v.overrides)
        o["id"] = std::to_string(o["id"].get<long long>());
    const auto& t = dashboard_texts(session->locale);
    send_dashboard_page(m, res, *session, "member",
                        {{"title", t["member"].get<std::string>() + " " + member},
                         {"member", member},
                         {"access", v.access},
                         {"overrides", v.overrides},
                         {"history", v.history},
                         {"claims", v.claims},
                         {"products", product_options(m, session->creator, v.access)}});
}

// The member's page for a POST: a session with its CSRF token, and a member the creator has a
// record of (else 404, as the page is).
std::optional<DashboardSession> member_post(Services& m, const httplib::Request& req,
                                            httplib::Response& res, const std::string& member) {
    auto session = dashboard_session(m, req, res);
    if (!session || !csrf_ok(*session, req, res, m)) return std::nullopt;
    if (!member_views(m, session->creator, member, session->locale).known()) {
        send_dashboard_message(m, res, 404, session->locale, "no_such_member");
        return std::nullopt;
    }
    return session;
}

std::string form_value(const httplib::Request& req, const char* name) {
    return req.has_param(name) ? req.get_param_value(name) : "";
}

// Grants or withdraws access by an override, read and checked as the API's body is.
void add_override_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string member = req.matches[1];
    const auto session = member_post(m, req, res, member);
    if (!session) return;
    const auto product = form_value(req, "product");
    const json body{{"member", member},
                    {"product", product.empty() ? json(nullptr) : json(product)},
                    {"level", form_value(req, "level")},
                    {"note", form_value(req, "note")}};
    auto request = read_override(body.dump(), m.clock.now());
    if (!request) return send_dashboard_message(m, res, 400, session->locale, request.error());
    add_access_override(m, session->creator, std::move(request).value(), dashboard_actor(*session));
    dashboard_headers(m, res);
    res.set_redirect("/dashboard/members/" + member + "?lang=" + session->locale, 303);
}

void revoke_override_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string member = req.matches[1];
    const auto session = member_post(m, req, res, member);
    if (!session) return;
    const auto request = read_revoke(json{{"note", form_value(req, "note")}}.dump());
    if (!request) return send_dashboard_message(m, res, 400, session->locale, request.error());
    const auto id = std::stoll(req.matches[2]);
    const auto mine = m.db.use([&](store::Connection& db) {
        return member_overrides_view(m, db, session->creator, member);
    });
    const bool of_member =
        std::any_of(mine.begin(), mine.end(), [&](const json& o) { return o["id"] == id; });
    if (!of_member || !revoke_access_override(m, session->creator, id, request.value().note,
                                              dashboard_actor(*session)))
        return send_dashboard_message(m, res, 404, session->locale, "no_such_override");
    dashboard_headers(m, res);
    res.set_redirect("/dashboard/members/" + member + "?lang=" + session->locale, 303);
}

} // namespace

void install_dashboard_member_page(httplib::Server& http, Services& m) {
    http.Get(
        R"(/dashboard/members/([A-Za-z0-9_]{1,100}))",
        [&m](const httplib::Request& req, httplib::Response& res) { member_page(m, req, res); });
    http.Post(R"(/dashboard/members/([A-Za-z0-9_]{1,100})/overrides)",
              [&m](const httplib::Request& req, httplib::Response& res) {
                  add_override_route(m, req, res);
              });
    http.Post(R"(/dashboard/members/([A-Za-z0-9_]{1,100})/overrides/([0-9]{1,18})/revoke)",
              [&m](const httplib::Request& req, httplib::Response& res) {
                  revoke_override_route(m, req, res);
              });
}

} // namespace dunning::http
