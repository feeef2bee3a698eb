// Handing claims to a collection agency: batches (POST/GET /v1/creators/{c}/handovers, the
// export as JSON or CSV), the agency's results (POST …/cases/{id}/collection) and the data of a
// court dunning application (GET …/cases/{id}/court-dunning). Nothing is filed anywhere.
#include "core/court_dunning.hpp"
#include "core/limitation.hpp"
#include "http/handover_bodies.hpp"
#include "http/handover_views.hpp"
#include "http/handovers.hpp"
#include "http/services.hpp"
#include "jobs/mail_jobs.hpp"
#include "store/cases.hpp"
#include "store/handovers.hpp"
#include "store/json_time.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace dunning::http {

namespace {

using nlohmann::json;

using Answer = HandoverAnswer;

std::optional<std::int64_t> id_in(const std::string& s) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v <= 0) return std::nullopt;
    return v;
}

std::string listed(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items)
        out += (out.empty() ? "" : ", ") + i;
    return out;
}

Date today(const Services& m) {
    return Date(std::chrono::floor<std::chrono::days>(m.clock.now()));
}

Creditor creditor_of(const Services& m, const std::string& creator) {
    const auto c = m.creators.find(creator);
    return c ? Creditor{c->name, c->legal_name, c->address} : Creditor{creator, "", ""};
}

HandoverRow row_of(const Services& m, store::Connection& db, const store::CaseRecord& c) {
    std::vector<ReminderSent> reminders;
    for (const auto& e : store::ladder_emails_sent(db, c.id))
        reminders.push_back(
            {e.message, from_unix(e.sent_at), jobs::message_id_for(m.config, e.idempotency_key)});
    return handover_row(c.id, c.state, creditor_of(m, c.state.creator_id),
                        claim_charges_of(m, c.state.creator_id), std::move(reminders), today(m));
}

json batch_summary(const store::HandoverBatch& b) {
    return {{"id", b.id},
            {"object", "handover_batch"},
            {"agency", b.agency.empty() ? json(nullptr) : json(b.agency)},
            {"created_at", iso8601(from_unix(b.created_at))},
            {"cases", b.case_ids}};
}

// The cases to hand over, each loaded and checked; every refusal at once, nothing changed.
Answer hand_over(Services& m, store::Connection& db, const std::string& creator,
                 const HandoverRequest& r) {
    store::Transaction tx(db);
    auto ids = r.cases.empty() ? store::cases_ready_for_handover(db, creator) : r.cases;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (ids.empty())
        return {409, {{"error", "no escalated or handover_pending case to hand over"}}};
    std::vector<store::CaseRecord> cases;
    std::vector<std::string> unknown, refused;
    CollectionReport report;
    report.kind = CollectionReport::Kind::handed_over;
    for (const auto id : ids) {
        auto c = store::get_case(db, creator, id); // another creator's case is no case here
        if (!c)
            unknown.push_back(std::to_string(id));
        else if (auto why = collection_refusal(c->state, report))
            refused.push_back("case " + std::to_string(id) + " " + *why);
        else
            cases.push_back(std::move(*c));
    }
    if (!unknown.empty()) return {404, {{"error", "no such case: " + listed(unknown)}}};
    if (!refused.empty()) return {409, {{"error", listed(refused)}}};
    const auto now = to_unix(m.clock.now());
    store::HandoverBatch batch{0, creator, r.agency, now, ids};
    batch.id = store::create_handover_batch(db, creator, r.agency, now, ids);
    for (auto& c : cases) {
        auto handed = report;
        handed.batch = std::to_string(batch.id);
        m.engine.run_case(db, c, handed);
    }
    tx.commit();
    return {201, batch_summary(batch)};
}

void send(httplib::Response& res, const Answer& a) {
    if (a.status >= 400) return send_error(res, a.status, a.body.at("error").get<std::string>());
    res.status = a.status;
    res.set_content(a.body.dump(), "application/json");
}

void create_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto body = read_handover_request(req.body);
    if (!body) return send_error(res, 400, body.error());
    send(res, hand_over_claims(m, creator, body.value()));
}

void list_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto batches =
        m.db.use([&](store::Connection& db) { return store::list_handover_batches(db, creator); });
    json data = json::array();
    for (const auto& b : batches)
        data.push_back(batch_summary(b));
    res.set_content(json{{"object", "list"}, {"data", data}}.dump(), "application/json");
}

// ?format=json|csv and &delimiter=comma|semicolon (or the character itself); the problem or
// nothing.
std::optional<std::string> read_format(const httplib::Request& req, bool& csv, char& delimiter) {
    const auto format = req.has_param("format") ? req.get_param_value("format") : "json";
    if (format != "json" && format != "csv") return "format must be json or csv";
    csv = format == "csv";
    const auto d = req.has_param("delimiter") ? req.get_param_value("delimiter") : ",";
    if (d == "," || d == "comma")
        delimiter = ',';
    else if (d == ";" || d == "semicolon")
        delimiter = ';';
    else
        return "delimiter must be comma or semicolon";
    return std::nullopt;
}

void send_csv(httplib::Response& res, const std::string& name, const std::string& text) {
    res.set_header("Content-Disposition", "attachment; filename=\"" + name + ".csv\"");
    res.set_content(text, "text/csv; charset=utf-8");
}

void batch_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    bool csv = false;
    char delimiter = ',';
    if (auto problem = read_format(req, csv, delimiter)) return send_error(res, 400, *problem);
    const auto id = id_in(req.matches[2]);
    std::optional<store::HandoverBatch> batch;
    std::vector<HandoverRow> rows;
    m.db.read([&](store::Connection& db) {
        if (id) batch = store::get_handover_batch(db, creator, *id);
        for (const auto case_id : batch ? batch->case_ids : std::vector<std::int64_t>{})
            if (auto c = store::get_case(db, creator, case_id)) rows.push_back(row_of(m, db, *c));
    });
    if (!batch) return send_error(res, 404, "no such handover batch");
    if (csv)
        return send_csv(res, "handover-" + creator + "-" + std::to_string(batch->id),
                        handover_csv(rows, delimiter));
    json out = batch_summary(*batch);
    out["as_of"] = iso_date(today(m));
    out["claims"] = json::array();
    for (const auto& r : rows)
        out["claims"].push_back(handover_row_view(r));
    res.set_content(out.dump(), "application/json");
}

json case_answer(const store::CaseRecord& c) {
    return {{"id", c.id},
            {"object", "case"},
            {"status", status_of(c.state)},
            {"open_amount", c.state.open_amount_minor()},
            {"collection", collection_view(c.state)}};
}

void collection_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    const auto id = id_in(req.matches[2]);
    if (!id) return send_error(res, 404, "no such case");
    const auto report = read_collection_result(req.body);
    if (!report) return send_error(res, 400, report.error());
    const auto answer = m.db.use([&](store::Connection& db) -> Answer {
        store::Transaction tx(db);
        auto c = store::get_case(db, creator, *id);
        if (!c) return {404, {{"error", "no such case"}}};
        if (auto why = collection_refusal(c->state, report.value()))
            return {409, {{"error", "case " + std::to_string(*id) + " " + *why}}};
        m.engine.run_case(db, *c, report.value());
        tx.commit();
        return {200, case_answer(*c)};
    });
    m.work.wake();
    send(res, answer);
}

int claim_type_of(const Services& m, const CaseState& s) {
    const auto c = m.creators.find(s.creator_id);
    if (!c) return default_court_claim_type;
    std::map<std::string, int, std::less<>> per_product;
    for (const auto& p : c->products)
        if (p.court_claim_type) per_product.emplace(p.stripe_product, *p.court_claim_type);
    return court_claim_type(s.invoice.products, c->escalation.court_claim_type, per_product);
}

void court_dunning_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    bool csv = false;
    char delimiter = ',';
    if (auto problem = read_format(req, csv, delimiter)) return send_error(res, 400, *problem);
    const auto id = id_in(req.matches[2]);
    std::optional<store::CaseRecord> c;
    std::optional<HandoverRow> row;
    m.db.read([&](store::Connection& db) {
        if (id) c = store::get_case(db, creator, *id);
        if (c) row = row_of(m, db, *c);
    });
    if (!c) return send_error(res, 404, "no such case");
    const std::string status = status_of(c->state);
    if (status != "escalated" && status != "handover_pending" && status != "handed_over")
        return send_error(res, 409,
                          "case " + std::to_string(*id) + " is " + status +
                              ": court dunning data only for escalated, handover_pending or "
                              "handed_over claims");
    const auto data = court_dunning(std::move(*row), claim_type_of(m, c->state),
                                    claim_charges_of(m, creator), today(m));
    if (csv)
        return send_csv(res, "court-dunning-" + creator + "-" + std::to_string(*id),
                        court_dunning_csv(data, delimiter));
    json out = court_dunning_view(data);
    out["as_of"] = iso_date(today(m));
    res.set_content(out.dump(), "application/json");
}

} // namespace

// Before the creator API's: its POST …/cases/{id}/{action} would take "collection" for an
// unknown command.
HandoverAnswer hand_over_claims(Services& m, const std::string& creator,
                                const HandoverRequest& request) {
    const auto answer =
        m.db.use([&](store::Connection& db) { return hand_over(m, db, creator, request); });
    m.work.wake();
    return answer;
}

void install_handover_routes(httplib::Server& http, Services& m) {
    using Handler = void (*)(Services&, const httplib::Request&, httplib::Response&);
    auto bind = [&m](Handler h) {
        return [&m, h](const httplib::Request& req, httplib::Response& res) { h(m, req, res); };
    };
    http.Post(R"(/v1/creators/([^/]+)/handovers)", bind(create_route));
    http.Get(R"(/v1/creators/([^/]+)/handovers)", bind(list_route));
    http.Get(R"(/v1/creators/([^/]+)/handovers/([^/]+))", bind(batch_route));
    http.Post(R"(/v1/creators/([^/]+)/cases/([^/]+)/collection)", bind(collection_route));
    http.Get(R"(/v1/creators/([^/]+)/cases/([^/]+)/court-dunning)", bind(court_dunning_route));
}

} // namespace dunning::http
