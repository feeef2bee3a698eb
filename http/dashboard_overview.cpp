// /dashboard: the overview, drawn from GET /v1/creators/{c}/summary's JSON (http/summary.hpp),
// so every figure is the API's. Charts are inline SVG drawn here: no script, nothing fetched.
#include "core/html.hpp"
#include "core/money.hpp"
#include "http/dashboard.hpp"
#include "http/summary.hpp"

#include <algorithm>

namespace dunning::http {

namespace {

using nlohmann::json;

struct Bar {
    std::string label;
    std::int64_t value = 0;
    std::string value_text;
};

// Horizontal bars, one per row, scaled to the largest value.
std::string bar_chart(const std::vector<Bar>& bars, const std::string& title) {
    if (bars.empty()) return "";
    std::int64_t top = 1;
    for (const auto& b : bars)
        top = std::max(top, b.value);
    const int row = 22, height = row * static_cast<int>(bars.size());
    std::string svg = "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 320 " +
                      std::to_string(height) + "\" aria-label=\"" + html_escape(title) + "\">";
    int y = 0;
    for (const auto& b : bars) {
        const auto width = static_cast<int>(b.value * 170 / top);
        svg += "<text x=\"0\" y=\"" + std::to_string(y + 15) + "\">" + html_escape(b.label) +
               "</text><rect x=\"80\" y=\"" + std::to_string(y + 4) + "\" width=\"" +
               std::to_string(std::max(width, 1)) + "\" height=\"14\"></rect><text x=\"" +
               std::to_string(86 + width) + "\" y=\"" + std::to_string(y + 15) + "\">" +
               html_escape(b.value_text) + "</text>";
        y += row;
    }
    return svg + "</svg>";
}

json money(const json& tally, const std::string& currency, const std::string& locale) {
    const auto minor = tally.value("amount", std::int64_t{0});
    return {{"minor", minor},
            {"count", tally.value("count", 0)},
            {"text", format_money(minor, currency, locale)}};
}

json rate(const json& permille, const std::string& locale) {
    if (!permille.is_number()) return {{"permille", ""}, {"text", "–"}};
    return {{"permille", std::to_string(permille.get<long long>())},
            {"text", dashboard_percent(permille.get<long long>(), locale)}};
}

json figures_rows(const json& currencies, const std::string& locale) {
    json rows = json::array();
    for (const auto& [currency, f] : currencies.items())
        rows.push_back({{"currency", currency},
                        {"failed", money(f["failed"], currency, locale)},
                        {"recovered", money(f["recovered"], currency, locale)},
                        {"open", money(f["open"], currency, locale)},
                        {"written_off", money(f["written_off"], currency, locale)},
                        {"rate", rate(f["recovery_rate_permille"], locale)}});
    return rows;
}

void add_cohorts(json& v, const json& summary, const std::string& locale, const json& t) {
    json rows = json::array();
    std::vector<Bar> bars;
    for (const auto& cohort : summary["cohorts"])
        for (const auto& [currency, f] : cohort["currencies"].items()) {
            const auto r = rate(f["recovery_rate_permille"], locale);
            rows.push_back({{"month", cohort["month"]},
                            {"currency", currency},
                            {"failed", money(f["failed"], currency, locale)},
                            {"recovered", money(f["recovered"], currency, locale)},
                            {"rate", r}});
            const auto permille = f["recovery_rate_permille"];
            bars.push_back({cohort["month"].get<std::string>() + " " + currency,
                            permille.is_number() ? permille.get<std::int64_t>() : 0, r["text"]});
        }
    v["cohorts"] = rows;
    v["cohort_chart"] = bar_chart(bars, t["cohorts"]);
}

void add_recovered(json& v, const json& summary, const std::string& locale, const json& t) {
    json months = json::array();
    std::vector<Bar> bars;
    for (const auto& month : summary["recovered_by_month"])
        for (const auto& [currency, tally] : month["currencies"].items()) {
            const auto m = money(tally, currency, locale);
            months.push_back({{"month", month["month"]}, {"currency", currency}, {"money", m}});
            bars.push_back(
                {month["month"].get<std::string>() + " " + currency, m["minor"], m["text"]});
        }
    v["recovered_by_month"] = months;
    v["recovered_chart"] = bar_chart(bars, t["recovered_over_time"]);
    json sources = json::array();
    for (const auto& [source, by_currency] : summary["recovered_by"].items())
        for (const auto& [currency, tally] : by_currency.items())
            sources.push_back({{"source", source},
                               {"label", t.value("src_" + source, source)},
                               {"currency", currency},
                               {"money", money(tally, currency, locale)}});
    v["recovered_by"] = sources;
}

json counts(const json& by_key) {
    json rows = json::array();
    for (const auto& [key, n] : by_key.items())
        rows.push_back({{"key", key}, {"count", std::to_string(n.get<int>())}});
    return rows;
}

void overview_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const auto session = dashboard_session(m, req, res);
    if (!session) return;
    SummaryPeriod period{};
    if (read_summary_period(req, m.clock, period))
        return send_dashboard_message(m, res, 400, session->locale, "bad_request");
    const auto summary = creator_summary(m, session->creator, period);
    const auto& t = dashboard_texts(session->locale);
    json v{{"title", t["nav_overview"]},
           {"from", summary["from"]},
           {"to", summary["to"]},
           {"currencies", figures_rows(summary["currencies"], session->locale)},
           {"cases_by_status", counts(summary["cases_by_status"])},
           {"outstanding_by_stage", counts(summary["outstanding_by_stage"])},
           {"locked_now", summary["locked_now"]}};
    for (auto& l : v["locked_now"])
        l["case_id"] = l["case"].is_number() ? json(std::to_string(l["case"].get<long long>()))
                                             : json(nullptr);
    add_cohorts(v, summary, session->locale, t);
    add_recovered(v, summary, session->locale, t);
    send_dashboard_page(m, res, *session, "overview", std::move(v));
}

} // namespace

void install_dashboard_overview(httplib::Server& http, Services& m) {
    http.Get("/dashboard", [&m](const httplib::Request& req, httplib::Response& res) {
        overview_route(m, req, res);
    });
}

} // namespace dunning::http
