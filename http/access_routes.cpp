// The access API: what a member may use (one course, all of a member's, or many at once), the
// history of changes, and the creator's overrides (granted or withdrawn with a note; audited).
#include "http/access_views.hpp"
#include "http/request_bodies.hpp"
#include "http/services.hpp"
#include "store/case_json.hpp"
#include "store/json_time.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace dunning::http {

using store::time_or_null;

namespace {

using nlohmann::json;

// An answer, or an error for this one item (unknown course) in the same shape as send_error's.
json answer_for(store::Connection& db, const std::string& creator, const access::CourseMap& courses,
                const std::string& member, const std::string& course) {
    if (!valid_id(member))
        return {{"member", member},
                {"course", course},
                {"error", "member must be a Stripe customer id"}};
    if (!valid_id(course))
        return {{"member", member},
                {"course", course},
                {"error", "course must be a course id or a Stripe product id"}};
    if (courses.products_for(course).empty())
        return {{"member", member},
                {"course", course},
                {"error",
                 "unknown course: no [[creators.products]] entry maps a product to " + course}};
    return access::to_json(access::query_access(db, creator, courses, member, course), courses);
}

void get_access(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto member = req.get_param_value("member");
    if (!valid_id(member))
        return send_error(res, 400, "member must be a Stripe customer id (?member=cus_…)");
    const auto& courses = m.engine.courses_for(creator);
    if (!req.has_param("course"))
        return res.set_content(json{{"object", "list"},
                                    {"member", member},
                                    {"data", m.db.use([&](store::Connection& db) {
                                         return member_access_view(m, db, creator, member);
                                     })}}
                                   .dump(),
                               "application/json");
    const auto course = req.get_param_value("course");
    const auto answer = m.db.use(
        [&](store::Connection& db) { return answer_for(db, creator, courses, member, course); });
    if (answer.contains("error"))
        return send_error(res, valid_id(course) ? 404 : 400, answer["error"]);
    res.set_content(answer.dump(), "application/json");
}

void bulk_access(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto items = read_access_query(req.body);
    if (!items) return send_error(res, 400, items.error());
    const auto& courses = m.engine.courses_for(creator);
    const auto data = m.db.read([&](store::Connection& db) { // every answer of one moment
        json out = json::array();
        for (const auto& item : items.value())
            out.push_back(answer_for(db, creator, courses, item.member, item.course));
        return out;
    });
    res.set_content(json{{"object", "list"}, {"data", data}}.dump(), "application/json");
}

void get_history(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto member = req.get_param_value("member");
    if (!valid_id(member))
        return send_error(res, 400, "member must be a Stripe customer id (?member=cus_…)");
    const auto data = m.db.use([&](store::Connection& db) {
        return access_history(m, db, creator, member, req.get_param_value("product"));
    });
    res.set_content(json{{"object", "list"}, {"member", member}, {"data", data}}.dump(),
                    "application/json");
}

json override_view(const store::OverrideRecord& o, Timestamp now) {
    return {{"id", o.id},
            {"object", "access_override"},
            {"member", o.customer},
            {"product", o.product.empty() ? json(nullptr) : json(o.product)},
            {"level", to_string(o.level)},
            {"until", time_or_null(o.until)},
            {"note", o.note},
            {"actor", o.actor},
            {"created", iso8601(o.created)},
            {"in_force", o.as_rule().in_force(now)},
            {"revoked_at", time_or_null(o.revoked_at)},
            {"revoked_by", o.revoked_by.empty() ? json(nullptr) : json(o.revoked_by)},
            {"revoke_note", o.revoke_note.empty() ? json(nullptr) : json(o.revoke_note)}};
}

void list_overrides(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto member = req.get_param_value("member");
    if (!valid_id(member))
        return send_error(res, 400, "member must be a Stripe customer id (?member=cus_…)");
    res.set_content(json{{"object", "list"},
                         {"member", member},
                         {"data", m.db.use([&](store::Connection& db) {
                              return member_overrides_view(m, db, creator, member);
                          })}}
                        .dump(),
                    "application/json");
}

std::string actor_of(const std::string& creator, const std::string& detail) {
    return "api:" + creator + (detail.empty() ? "" : " (" + detail + ")");
}

void create_override(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    auto request = read_override(req.body, m.clock.now());
    if (!request) return send_error(res, 400, request.error());
    const auto actor = actor_of(creator, request.value().actor);
    const auto view = add_access_override(m, creator, std::move(request).value(), actor);
    res.status = 201;
    res.set_content(view.dump(), "application/json");
}

void revoke(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto request = read_revoke(req.body);
    if (!request) return send_error(res, 400, request.error());
    std::int64_t id = 0;
    try {
        id = std::stoll(req.matches[2]);
    } catch (const std::exception&) {
        return send_error(res, 404, "no such override");
    }
    const auto view = revoke_access_override(m, creator, id, request.value().note,
                                             actor_of(creator, request.value().actor));
    if (!view) return send_error(res, 404, "no such override in force");
    res.set_content(view->dump(), "application/json");
}

} // namespace

json add_access_override(Services& m, const std::string& creator, OverrideRequest r,
                         const std::string& actor) {
    const auto now = m.clock.now();
    store::OverrideRecord o;
    o.creator = creator;
    o.customer = std::move(r.member);
    o.product = std::move(r.product);
    o.level = r.level;
    o.until = r.until;
    o.note = std::move(r.note);
    o.actor = actor;
    o.created = now;
    const auto view = m.db.use([&](store::Connection& db) {
        store::Transaction tx(db);
        o.id = store::add_override(db, o);
        m.engine.refresh_access(db, creator, o.customer,
                                o.product.empty() ? std::vector<std::string>{}
                                                  : std::vector{o.product});
        tx.commit();
        return override_view(o, now);
    });
    m.work.wake();
    return view;
}

std::optional<json> revoke_access_override(Services& m, const std::string& creator, std::int64_t id,
                                           const std::string& note, const std::string& actor) {
    const auto now = m.clock.now();
    const auto view = m.db.use([&](store::Connection& db) -> std::optional<json> {
        store::Transaction tx(db);
        if (!store::revoke_override(db, creator, id, actor, note, now)) return std::nullopt;
        const auto o = store::get_override(db, creator, id);
        m.engine.refresh_access(db, creator, o->customer,
                                o->product.empty() ? std::vector<std::string>{}
                                                   : std::vector{o->product});
        tx.commit();
        return override_view(*o, now);
    });
    if (view) m.work.wake();
    return view;
}

json member_access_view(Services& m, store::Connection& db, const std::string& creator,
                        const std::string& member) {
    const auto& courses = m.engine.courses_for(creator);
    json data = json::array();
    for (const auto& a : access::member_access(db, creator, courses, member))
        data.push_back(access::to_json(a, courses));
    return data;
}

json member_overrides_view(Services& m, store::Connection& db, const std::string& creator,
                           const std::string& member) {
    json data = json::array();
    for (const auto& o : store::member_overrides(db, creator, member))
        data.push_back(override_view(o, m.clock.now()));
    return data;
}

json access_history(Services& m, store::Connection& db, const std::string& creator,
                    const std::string& member, const std::string& product) {
    const auto& courses = m.engine.courses_for(creator);
    json data = json::array();
    for (const auto& h : store::member_history(db, creator, member, product))
        data.push_back(
            {{"sequence", h.id},
             {"product", h.key.product},
             {"courses", courses.courses_of(h.key.product)},
             {"from", to_string(h.change.from)},
             {"to", to_string(h.change.to)},
             {"reason", h.change.reason},
             {"case", h.change.case_id ? json(h.change.case_id) : json(nullptr)},
             {"override", h.change.override_id ? json(h.change.override_id) : json(nullptr)},
             {"at", iso8601(h.change.at)}});
    return data;
}

void install_access_routes(httplib::Server& http, Services& m) {
    using Req = const httplib::Request&;
    using Res = httplib::Response&;
    http.Get(R"(/v1/creators/([^/]+)/access)", [&m](Req req, Res res) { get_access(m, req, res); });
    http.Post(R"(/v1/creators/([^/]+)/access/query)",
              [&m](Req req, Res res) { bulk_access(m, req, res); });
    http.Get(R"(/v1/creators/([^/]+)/access/history)",
             [&m](Req req, Res res) { get_history(m, req, res); });
    http.Get(R"(/v1/creators/([^/]+)/access/overrides)",
             [&m](Req req, Res res) { list_overrides(m, req, res); });
    http.Post(R"(/v1/creators/([^/]+)/access/overrides)",
              [&m](Req req, Res res) { create_override(m, req, res); });
    http.Post(R"(/v1/creators/([^/]+)/access/overrides/([0-9]+)/revoke)",
              [&m](Req req, Res res) { revoke(m, req, res); });
}

} // namespace dunning::http
