// /dashboard/open-items (the API's open-items list, its filters and CSV), /dashboard/actions
// (the API's case commands on one or many cases) and /dashboard/cases/{id} (the API's case).
#include "core/limitation.hpp"
#include "core/money.hpp"
#include "http/cases.hpp"
#include "http/dashboard.hpp"
#include "http/handovers.hpp"
#include "http/open_items.hpp"
#include "store/creator_actions.hpp"

#include <algorithm>
#include <charconv>

namespace dunning::http {

void install_dashboard_overview(httplib::Server& http, Services& m);

namespace {

using nlohmann::json;

const std::vector<std::string> actions = {"pause",     "resume",   "mark-paid",
                                          "write-off", "escalate", "hand-over"};

json action_options(const json& t) {
    json out = json::array();
    for (const auto& a : actions)
        out.push_back({{"value", a}, {"label", t["act_" + a]}});
    return out;
}

json filter_values(const httplib::Request& req) {
    json out = json::object();
    for (const char* name : {"status", "stage", "age", "amount_gte", "amount_lte", "payment_method",
                             "product", "member", "sort"})
        out[name] = req.has_param(name) ? req.get_param_value(name) : "";
    return out;
}

// A <select>'s options with the one the request chose marked, so the form sends it again.
json options_of(const std::vector<std::string>& values, const httplib::Request& req,
                const char* name) {
    const auto chosen = req.has_param(name) ? req.get_param_value(name) : "";
    json out = json::array();
    for (const auto& v : values)
        out.push_back({{"value", v}, {"selected", v == chosen}});
    return out;
}

// The query of the same list at another offset (its filters kept), or null when out of range.
json page_query(httplib::Params params, long long offset, std::size_t total) {
    if (offset < 0 || static_cast<std::size_t>(offset) >= total) return nullptr;
    params.erase("offset");
    params.emplace("offset", std::to_string(offset));
    return httplib::detail::params_to_query_str(params);
}

json item_row(const OpenItem& i, const std::string& locale) {
    return {{"case", std::to_string(i.case_id)},
            {"status", i.status},
            {"stage", std::to_string(i.stage)},
            {"member", i.member_name.empty() ? i.member : i.member_name},
            {"member_id", i.member.empty() ? json(nullptr) : json(i.member)},
            {"invoice", i.invoice_number.empty() ? i.invoice_id : i.invoice_number},
            {"principal", format_money(i.principal_minor, i.currency, locale)},
            {"principal_minor", std::to_string(i.principal_minor)},
            {"total", format_money(i.total_minor(), i.currency, locale)},
            {"currency", i.currency},
            {"arose_on", iso_date(i.arose_on)},
            {"age_days", std::to_string(i.age_days)}};
}

json totals_rows(const std::map<std::string, CurrencyTotals>& totals, const std::string& locale) {
    json rows = json::array();
    for (const auto& [currency, t] : totals)
        rows.push_back({{"currency", currency},
                        {"count", std::to_string(t.count)},
                        {"principal", format_money(t.principal_minor, currency, locale)},
                        {"principal_minor", std::to_string(t.principal_minor)},
                        {"fees", format_money(t.fees_minor, currency, locale)},
                        {"interest", format_money(t.interest_minor, currency, locale)}});
    return rows;
}

// The filter form sends its empty fields too: they mean "any", as a missing parameter does.
httplib::Request without_empty(const httplib::Request& req) {
    httplib::Request out;
    for (const auto& [name, value] : req.params)
        if (!value.empty() && name != "lang") out.params.emplace(name, value);
    return out;
}

void open_items_page(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto session = dashboard_session(m, req, res);
    if (!session) return;
    auto filters = without_empty(req);
    OpenItemsQuery q;
    if (read_open_items_query(filters, q))
        return send_dashboard_message(m, res, 400, session->locale, "bad_request");
    if (q.csv) {
        dashboard_headers(m, res);
        res.set_header("Content-Disposition",
                       "attachment; filename=\"open-items-" + session->creator + ".csv\"");
        return res.set_content(open_items_csv(open_items_of(m, session->creator, q), q.delimiter),
                               "text/csv; charset=utf-8");
    }
    const auto page = open_items_page_of(m, session->creator, q);
    const auto total = static_cast<std::size_t>(page.total_count);
    const auto& t = dashboard_texts(session->locale);
    json rows = json::array();
    const auto first = std::min<std::size_t>(static_cast<std::size_t>(q.offset), total);
    const auto last = first + page.items.size();
    for (const auto& item : page.items)
        rows.push_back(item_row(item, session->locale));
    auto paging = filters.params;
    if (req.has_param("lang")) paging.emplace("lang", req.get_param_value("lang"));
    const auto offset = static_cast<long long>(first);
    const auto prev =
        first == 0 ? json(nullptr) : page_query(paging, std::max(0LL, offset - q.limit), total);
    const auto next = page_query(paging, static_cast<long long>(last), total);
    filters.params.emplace("format", "csv");
    send_dashboard_page(
        m, res, *session, "open_items",
        {{"title", t["nav_open_items"]},
         {"f", filter_values(req)},
         {"items", rows},
         {"has_items", !rows.empty()},
         {"total_count", std::to_string(total)},
         {"shown_from", std::to_string(rows.empty() ? 0 : first + 1)},
         {"shown_to", std::to_string(last)},
         {"prev_query", prev},
         {"next_query", next},
         {"status_options", options_of({"open", "paused", "objected", "escalated",
                                        "handover_pending", "handed_over", "disputed"},
                                       req, "status")},
         {"age_options", options_of({"0-30", "31-60", "61-90", "90+"}, req, "age")},
         {"totals", totals_rows(page.totals, session->locale)},
         {"csv_query", httplib::detail::params_to_query_str(filters.params)},
         {"actions", action_options(t)},
         {"back", req.target}});
}

std::optional<std::int64_t> case_id(const std::string& s) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v <= 0) return std::nullopt;
    return v;
}

// Where to go back to: one of the dashboard's own pages, never another host.
std::string back_of(const httplib::Request& req) {
    const auto back = req.has_param("back") ? req.get_param_value("back") : "";
    const bool own = back.starts_with("/dashboard") && back.find("//") == std::string::npos &&
                     back.find('\\') == std::string::npos &&
                     std::none_of(back.begin(), back.end(),
                                  [](unsigned char c) { return c < 0x20 || c >= 0x7f; });
    return own ? back : "/dashboard/open-items";
}

// The chosen cases as one batch to the agency named in the form, read and checked as the API's
// body is; an answer other than the batch is shown as the API's message.
void hand_over_route(Services& m, const httplib::Request& req, httplib::Response& res,
                     const DashboardSession& session, const std::vector<std::int64_t>& ids) {
    const auto agency = req.has_param("agency") ? req.get_param_value("agency") : "";
    const auto body = read_handover_request(json{{"cases", ids}, {"agency", agency}}.dump());
    if (!body) return send_dashboard_message(m, res, 400, session.locale, "bad_request");
    const auto answer = hand_over_claims(m, session.creator, body.value());
    if (answer.status == 404)
        return send_dashboard_message(m, res, 404, session.locale, "no_such_case");
    if (answer.status != 201)
        return send_dashboard_message(m, res, answer.status, session.locale,
                                      answer.body.value("error", "bad_request"));
    // Who handed the claims over and why, beside the batch the handover recorded.
    const auto note = req.has_param("note") ? req.get_param_value("note") : "";
    m.db.use([&](store::Connection& db) {
        store::Transaction tx(db);
        for (const auto id : ids)
            store::add_creator_action(
                db, {id, "hand-over", dashboard_actor(session), note, to_unix(m.clock.now())});
        tx.commit();
    });
    dashboard_headers(m, res);
    res.set_redirect(back_of(req), 303);
}

// The API's command on each case chosen; a case of another creator is not found (404).
void actions_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto session = dashboard_session(m, req, res);
    if (!session || !csrf_ok(*session, req, res, m)) return;
    const auto name = req.has_param("action") ? req.get_param_value("action") : "";
    const auto n = req.get_param_value_count("case");
    if (std::find(actions.begin(), actions.end(), name) == actions.end() || n == 0)
        return send_dashboard_message(m, res, 400, session->locale, "bad_request");
    std::vector<std::int64_t> ids;
    for (std::size_t i = 0; i < n; ++i) {
        const auto id = case_id(req.get_param_value("case", i));
        if (!id) return send_dashboard_message(m, res, 400, session->locale, "bad_request");
        ids.push_back(*id);
    }
    const auto note = req.has_param("note") ? req.get_param_value("note") : "";
    if (note.size() > 1000) // as the API's note
        return send_dashboard_message(m, res, 400, session->locale, "bad_request");
    if (name == "hand-over") return hand_over_route(m, req, res, *session, ids);
    const auto kind = command_named(name);
    // Every case is the creator's, or none is changed.
    for (const auto id : ids)
        if (!case_detail(m, session->creator, id))
            return send_dashboard_message(m, res, 404, session->locale, "no_such_case");
    for (const auto id : ids)
        run_creator_command(m, session->creator, id, CreatorCommand{*kind, note},
                            dashboard_actor(*session));
    dashboard_headers(m, res);
    res.set_redirect(back_of(req), 303);
}

} // namespace

void install_dashboard_case_page(httplib::Server& http, Services& m);
void install_dashboard_member_page(httplib::Server& http, Services& m);
void install_dashboard_settings_page(httplib::Server& http, Services& m);

void install_dashboard_pages(httplib::Server& http, Services& m) {
    install_dashboard_style(http, m);
    install_dashboard_overview(http, m);
    http.Get("/dashboard/open-items", [&m](const httplib::Request& req, httplib::Response& res) {
        open_items_page(m, req, res);
    });
    http.Post("/dashboard/actions", [&m](const httplib::Request& req, httplib::Response& res) {
        actions_route(m, req, res);
    });
    install_dashboard_case_page(http, m);
    install_dashboard_member_page(http, m);
    install_dashboard_settings_page(http, m);
}

} // namespace dunning::http
