// The creator API (Bearer token per creator), /healthz, /metrics and the test clock.
#include "http/cases.hpp"
#include "http/handover_views.hpp"
#include "http/request_bodies.hpp"
#include "http/services.hpp"
#include "store/access_store.hpp"
#include "store/case_json.hpp"
#include "store/cases.hpp"
#include "store/creator_actions.hpp"
#include "store/job_queue.hpp"
#include "store/json_time.hpp"
#include "store/notifications.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string_view>

namespace dunning::http {

using store::case_actions;
using store::case_events;
using store::CaseEventRef;
using store::CaseRecord;
using store::get_case;
using store::JobRecord;
using store::list_cases;
using store::schema_version;
using store::StatusFilter;
using store::time_or_null;

using store::CaseQuery;

namespace {

using nlohmann::json;

json id_or_null(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

json failure_view(const std::optional<PaymentFailure>& f) {
    if (!f) return nullptr;
    return {{"code", id_or_null(f->error.code)},
            {"decline_code", id_or_null(f->error.decline_code)},
            {"advice_code", id_or_null(f->error.advice_code)},
            {"network_advice_code", id_or_null(f->error.network_advice_code)},
            {"message", id_or_null(f->error.message)},
            {"payment_method_type", to_string(f->method)},
            {"payment_method", id_or_null(f->payment_method_id)},
            {"card_brand", id_or_null(f->card_brand)},
            {"at", iso8601(f->at)}};
}

json attempts_view(const std::vector<ChargeAttempt>& attempts) {
    json out = json::array();
    for (const auto& a : attempts)
        out.push_back({{"number", a.number},
                       {"at", iso8601(a.at)},
                       {"payment_method", id_or_null(a.payment_method_id)},
                       {"outcome", to_string(a.outcome)}});
    return out;
}

json actions_view(const std::vector<JobRecord>& actions) {
    json out = json::array();
    for (const auto& a : actions)
        out.push_back({{"kind", a.kind},
                       {"detail", a.payload},
                       {"state", a.state},
                       {"created", iso8601(from_unix(a.created_at))},
                       {"done", a.done_at ? json(iso8601(from_unix(*a.done_at))) : json(nullptr)},
                       {"result", id_or_null(a.result)},
                       {"tries", a.tries},
                       {"last_error", id_or_null(a.last_error)}});
    return out;
}

json creator_actions_view(const std::vector<store::CreatorActionRecord>& rows) {
    json out = json::array();
    for (const auto& r : rows)
        out.push_back({{"action", r.action},
                       {"actor", r.actor},
                       {"note", r.note.empty() ? json(nullptr) : json(r.note)},
                       {"at", iso8601(from_unix(r.at))}});
    return out;
}

json objection_view(const std::optional<Objection>& o) {
    if (!o) return nullptr;
    return {{"at", iso8601(o->at)},
            {"note", o->note},
            {"actor", id_or_null(o->actor)},
            {"withdrawn_at", time_or_null(o->withdrawn_at)}};
}

// What happened to the case, oldest first, from the facts the state keeps.
json timeline_view(const CaseState& s) {
    std::vector<std::pair<Timestamp, json>> steps;
    auto add = [&](const std::optional<Timestamp>& at, const char* what, json detail = nullptr) {
        if (at)
            steps.emplace_back(*at, json{{"at", iso8601(*at)}, {"what", what}, {"detail", detail}});
    };
    add(s.opened_at, "opened");
    add(s.final_notice_at, "final_notice");
    if (s.promise)
        add(s.promise->made_at, "promise_to_pay", json{{"until", iso8601(s.promise->until)}});
    if (const auto& o = s.objection) {
        add(o->at, "objected", json{{"note", o->note}, {"actor", id_or_null(o->actor)}});
        add(o->withdrawn_at, "objection_withdrawn");
    }
    add(s.stripe_disconnected_at, "stripe_disconnected");
    if (const auto& m = s.mandate_inactive)
        add(m->at, "mandate_inactive",
            json{{"mandate", m->mandate_id}, {"payment_method", m->payment_method_id}});
    add(s.escalated_at, "escalated");
    add(s.handover_pending_at, "handover_pending");
    for (const auto& step : s.collection.steps) // the handover and the agency's results
        add(step.at, ("collection." + step.what).c_str(), collection_step_view(step));
    if (s.resolution != Resolution::none)
        add(s.resolved_at, to_string(s.resolution),
            json{{"reason", id_or_null(s.resolution_reason)}});
    std::stable_sort(steps.begin(), steps.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    json out = json::array();
    for (auto& step : steps)
        out.push_back(std::move(step.second));
    return out;
}

json case_view(const CaseRecord& r) {
    const CaseState& s = r.state;
    const InvoiceFacts& i = s.invoice;
    return {{"id", r.id},
            {"object", "case"},
            {"creator", s.creator_id},
            {"status", status_of(s)},
            {"pause_reason", pause_reason(s) ? json(pause_reason(s)) : json(nullptr)},
            {"invoice",
             {{"id", i.invoice_id},
              {"number", id_or_null(i.number)},
              {"status", id_or_null(i.status)},
              {"amount_due", i.amount_due},
              {"amount_remaining", i.amount_remaining},
              {"currency", i.currency},
              {"attempt_count", i.attempt_count},
              {"next_payment_attempt", time_or_null(i.next_payment_attempt)},
              {"due_date", time_or_null(i.due_date)},
              {"hosted_invoice_url", id_or_null(i.hosted_invoice_url)},
              {"billing_reason", id_or_null(i.billing_reason)}}},
            {"customer",
             {{"id", id_or_null(i.customer_id)},
              {"email", id_or_null(i.customer_email)},
              {"name", id_or_null(i.customer_name)}}},
            {"subscription", id_or_null(i.subscription_id)},
            {"products", i.products},
            {"payment_intent", id_or_null(i.payment_intent_id)},
            {"charge", id_or_null(i.charge_id)},
            {"failure", failure_view(s.last_failure)},
            {"action_required", s.action_required},
            {"opened_at", time_or_null(s.opened_at)},
            {"resolved_at", time_or_null(s.resolved_at)},
            {"stage", s.stage_sent},
            {"escalated_at", time_or_null(s.escalated_at)},
            {"handover_pending_at", time_or_null(s.handover_pending_at)},
            {"collection", collection_view(s)},
            {"resolution", to_string(s.resolution)},
            {"resolution_reason", id_or_null(s.resolution_reason)},
            {"next_action_at", time_or_null(s.next_wakeup)},
            {"attempts", attempts_view(s.attempts)},
            {"promise_to_pay", s.promise ? json{{"until", iso8601(s.promise->until)},
                                                {"made_at", iso8601(s.promise->made_at)}}
                                         : json(nullptr)},
            {"objection", objection_view(s.objection)},
            {"timeline", timeline_view(s)}};
}

json events_view(const std::vector<CaseEventRef>& events) {
    json out = json::array();
    for (const auto& e : events)
        out.push_back({{"id", e.event_id},
                       {"type", e.type},
                       {"created", iso8601(from_unix(e.created))},
                       {"received_at_ms", e.received_at_ms},
                       {"source", e.source}});
    return out;
}

std::optional<long long> parse_int(const std::string& s) {
    long long v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

// Reads ?status=&limit=&starting_after=; writes a 400 and returns nullopt on bad values.
std::optional<CaseQuery> read_query(const httplib::Request& req, httplib::Response& res,
                                    const std::string& creator) {
    CaseQuery q{creator};
    const auto status = req.has_param("status") ? req.get_param_value("status") : "open";
    if (status == "open")
        q.status = StatusFilter::open;
    else if (status == "closed")
        q.status = StatusFilter::closed;
    else if (status == "all")
        q.status = StatusFilter::all;
    else
        return send_error(res, 400, "status must be open, closed or all"), std::nullopt;
    if (req.has_param("limit")) {
        const auto limit = parse_int(req.get_param_value("limit"));
        if (!limit || *limit < 1 || *limit > 1000)
            return send_error(res, 400, "limit must be an integer from 1 to 1000"), std::nullopt;
        q.limit = static_cast<int>(*limit);
    }
    if (req.has_param("starting_after")) {
        const auto after = parse_int(req.get_param_value("starting_after"));
        if (!after || *after < 0)
            return send_error(res, 400, "starting_after must be a case id"), std::nullopt;
        q.starting_after = *after;
    }
    return q;
}

void list_cases_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    auto q = read_query(req, res, creator);
    if (!q) return;
    ++q->limit; // one more tells whether there is a next page
    auto cases = m.db.use([&](store::Connection& db) { return list_cases(db, *q); });
    const bool has_more = static_cast<int>(cases.size()) == q->limit;
    if (has_more) cases.pop_back();
    json data = json::array();
    for (const auto& c : cases)
        data.push_back(case_view(c));
    res.set_content(json{{"object", "list"}, {"data", data}, {"has_more", has_more}}.dump(),
                    "application/json");
}

void get_case_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto id = parse_int(req.matches[2]);
    const auto view = id ? case_detail(m, creator, *id) : std::nullopt;
    if (!view) return send_error(res, 404, "no such case");
    res.set_content(view->dump(), "application/json");
}

void command_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto id = parse_int(req.matches[2]);
    const auto kind = command_named(req.matches[3]);
    if (!id || !kind) return send_error(res, 404, "no such case or action");
    CreatorCommand command{*kind};
    // {"note", "actor"}: required for an objection (as a revoke's), optional for the others.
    auto body = *kind == CreatorCommand::Kind::objection ? read_revoke(req.body)
                                                         : read_command_note(req.body);
    if (!body) return send_error(res, 400, body.error());
    command.note = std::move(body.value().note);
    command.actor = std::move(body.value().actor);
    const auto by = "api:" + creator + (command.actor.empty() ? "" : " (" + command.actor + ")");
    const auto view = run_creator_command(m, creator, *id, command, by);
    if (!view) return send_error(res, 404, "no such case");
    res.set_content(view->dump(), "application/json");
}

} // namespace

std::optional<json> case_detail(store::Connection& db, const std::string& creator,
                                std::int64_t id) {
    auto c = get_case(db, creator, id);
    if (!c) return std::nullopt;
    json v = case_view(*c);
    v["events"] = events_view(case_events(db, c->id));
    v["actions"] = actions_view(case_actions(db, c->id));
    v["creator_actions"] = creator_actions_view(store::creator_actions(db, c->id));
    return v;
}

std::optional<json> case_detail(Services& m, const std::string& creator, std::int64_t id) {
    return m.db.read([&](store::Connection& db) { return case_detail(db, creator, id); });
}

std::optional<json> run_creator_command(Services& m, const std::string& creator, std::int64_t id,
                                        const CreatorCommand& command, const std::string& by) {
    auto view = m.db.use([&](store::Connection& db) -> std::optional<json> {
        store::Transaction tx(db);
        auto c = get_case(db, creator, id);
        if (!c) return std::nullopt;
        m.engine.run_case(db, *c, command);
        store::add_creator_action(
            db, {c->id, command_name(command.kind), by, command.note, to_unix(m.clock.now())});
        tx.commit();
        return case_view(*c);
    });
    if (view) m.work.wake();
    return view;
}

std::string command_name(CreatorCommand::Kind kind) {
    using K = CreatorCommand::Kind;
    switch (kind) {
    case K::pause:
        return "pause";
    case K::resume:
        return "resume";
    case K::mark_paid:
        return "mark-paid";
    case K::write_off:
        return "write-off";
    case K::escalate:
        return "escalate";
    case K::objection:
        return "objection";
    case K::withdraw_objection:
        return "withdraw-objection";
    }
    return "unknown";
}

std::optional<CreatorCommand::Kind> command_named(const std::string& name) {
    using K = CreatorCommand::Kind;
    if (name == "pause") return K::pause;
    if (name == "resume") return K::resume;
    if (name == "mark-paid") return K::mark_paid;
    if (name == "write-off") return K::write_off;
    if (name == "escalate") return K::escalate;
    if (name == "objection") return K::objection;
    if (name == "withdraw-objection") return K::withdraw_objection;
    return std::nullopt;
}

void install_api_routes(httplib::Server& http, Services& m) {
    http.Get(R"(/v1/creators/([^/]+)/cases)",
             [&m](const httplib::Request& req, httplib::Response& res) {
                 list_cases_route(m, req, res);
             });
    http.Get(
        R"(/v1/creators/([^/]+)/cases/([^/]+))",
        [&m](const httplib::Request& req, httplib::Response& res) { get_case_route(m, req, res); });
    http.Post(
        R"(/v1/creators/([^/]+)/cases/([^/]+)/([a-z-]+))",
        [&m](const httplib::Request& req, httplib::Response& res) { command_route(m, req, res); });
    // Anyone may ask, so a 503 names no cause: the store's messages hold file paths, sockets
    // and hosts. The inbox and the background loops log the cause.
    http.Get("/healthz", [&m](const httplib::Request&, httplib::Response& res) {
        const auto unavailable = [&res] {
            res.status = 503;
            res.set_content(json{{"status", "storage_unavailable"},
                                 {"error", "the store cannot be used; the cause is in the log"}}
                                .dump(),
                            "application/json");
        };
        if (!m.inbox.trouble().empty()) return unavailable();
        try {
            const int version = m.db.use([](store::Connection& db) { return schema_version(db); });
            res.set_content(json{{"status", "ok"}, {"schema_version", version}}.dump(),
                            "application/json");
        } catch (const std::exception&) {
            unavailable();
        }
    });
    http.Get("/metrics", [&m](const httplib::Request&, httplib::Response& res) {
        const auto g = m.db.use([](store::Connection& db) { return store::inbox_gauges(db); });
        const auto age = g.pending ? m.wall_ms() - g.oldest_received_ms : 0;
        const auto host =
            m.db.use([](store::Connection& db) { return store::notification_counts(db); });
        const auto host_age =
            host.oldest_pending ? to_unix(m.clock.now()) - to_unix(*host.oldest_pending) : 0;
        res.set_content(m.metrics.render(g.pending, age, g.poison) +
                            "# HELP dunning_host_notifications_pending Notifications waiting for "
                            "the host platform.\n"
                            "# TYPE dunning_host_notifications_pending gauge\n"
                            "dunning_host_notifications_pending " +
                            std::to_string(host.pending) +
                            "\n"
                            "# HELP dunning_host_notification_oldest_age_seconds Age of the oldest "
                            "undelivered one.\n"
                            "# TYPE dunning_host_notification_oldest_age_seconds gauge\n"
                            "dunning_host_notification_oldest_age_seconds " +
                            std::to_string(host_age) + "\n",
                        "text/plain; version=0.0.4");
    });
}

void install_test_clock_routes(httplib::Server& http, Services& m) {
    auto now_json = [&m] {
        const auto now = m.clock.now();
        return json{{"now", to_unix(now)}, {"iso", iso8601(now)}}.dump();
    };
    http.Get("/v1/test-clock", [now_json](const httplib::Request&, httplib::Response& res) {
        res.set_content(now_json(), "application/json");
    });
    http.Post("/v1/test-clock/advance",
              [&m, now_json](const httplib::Request& req, httplib::Response& res) {
                  const auto seconds = read_clock_advance(req.body);
                  if (!seconds) return send_error(res, 400, seconds.error());
                  // The clock moves between two drains of the work loop, never during one, and
                  // everything that became due runs before we answer.
                  m.work.drain([&] { m.test_clock->advance(seconds.value()); });
                  res.set_content(now_json(), "application/json");
              });
}

} // namespace dunning::http
