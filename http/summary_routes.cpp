// What dunning recovered for a creator over a period of first failures, per currency.
#include "core/limitation.hpp"
#include "core/promise.hpp"
#include "core/recovery.hpp"
#include "http/summary.hpp"
#include "store/case_figures.hpp"
#include "store/dashboard_sessions.hpp"

#include <nlohmann/json.hpp>

namespace dunning::http {

namespace {

using nlohmann::json;

json tally_view(const Tally& t) {
    return {{"count", t.count}, {"amount", t.minor}};
}

// Recovered of failed, by amount, in permille (rounded); null when nothing failed.
json rate_permille(const CurrencyFigures& f) {
    if (f.failed.minor <= 0) return nullptr;
    return (f.recovered.minor * 1000 + f.failed.minor / 2) / f.failed.minor;
}

json figures_view(const CurrencyFigures& f) {
    return {{"failed", tally_view(f.failed)},
            {"recovered", tally_view(f.recovered)},
            {"open", tally_view(f.open)},
            {"written_off", tally_view(f.written_off)},
            {"recovery_rate_permille", rate_permille(f)}};
}

template <class Map, class View> json per_currency(const Map& by_currency, View view) {
    json out = json::object();
    for (const auto& [currency, value] : by_currency)
        out[currency] = view(value);
    return out;
}

json locked_view(const std::vector<store::LockedAccess>& locked) {
    json out = json::array();
    for (const auto& l : locked)
        out.push_back({{"member", l.member},
                       {"product", l.product},
                       {"level", l.level},
                       {"reason", l.reason},
                       {"case", l.case_id ? json(l.case_id) : json(nullptr)},
                       {"since", iso8601(from_unix(l.since))}});
    return out;
}

json summary_view(const RecoverySummary& s) {
    json cohorts = json::array();
    for (const auto& [month, by_currency] : s.cohorts)
        cohorts.push_back(
            {{"month", month}, {"currencies", per_currency(by_currency, figures_view)}});
    json by_month = json::array();
    for (const auto& [month, by_currency] : s.recovered_by_month)
        by_month.push_back(
            {{"month", month}, {"currencies", per_currency(by_currency, tally_view)}});
    json by_source = json::object();
    for (const auto& [source, by_currency] : s.recovered_by_source)
        by_source[source] = per_currency(by_currency, tally_view);
    json by_stage = json::object();
    for (const auto& [stage, n] : s.outstanding_by_stage)
        by_stage[std::to_string(stage)] = n;
    return {{"currencies", per_currency(s.by_currency, figures_view)},
            {"cohorts", cohorts},
            {"recovered_by_month", by_month},
            {"recovered_by", by_source},
            {"cases_by_status", s.by_status},
            {"outstanding_by_stage", by_stage}};
}

void summary_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    SummaryPeriod period{};
    if (auto problem = read_summary_period(req, m.clock, period))
        return send_error(res, 400, *problem);
    res.set_content(creator_summary(m, creator, period).dump(), "application/json");
}

} // namespace

std::optional<std::string> read_summary_period(const httplib::Request& req, const Clock& clock,
                                               SummaryPeriod& out) {
    const auto today = std::chrono::floor<std::chrono::days>(clock.now());
    out.to = Date(today);
    out.from = Date(today - std::chrono::days{364});
    for (auto [name, date] : {std::pair{"from", &out.from}, std::pair{"to", &out.to}}) {
        if (!req.has_param(name) || req.get_param_value(name).empty()) continue;
        const auto parsed = parse_iso_date(req.get_param_value(name));
        if (!parsed) return std::string(name) + " must be a date, YYYY-MM-DD";
        *date = *parsed;
    }
    if (std::chrono::sys_days(out.to) < std::chrono::sys_days(out.from))
        return "to must not be before from";
    return std::nullopt;
}

json creator_summary(Services& m, const std::string& creator, const SummaryPeriod& p) {
    const Timestamp from{std::chrono::sys_days(p.from)};
    const Timestamp to{std::chrono::sys_days(p.to) + std::chrono::days{1}};
    RecoverySummary summary;
    std::vector<store::LockedAccess> locked;
    m.db.read([&](store::Connection& db) {
        summary = store::recovery_summary(db, creator, to_unix(from), to_unix(to));
        locked = store::locked_access(db, creator);
    });
    auto out = summary_view(summary);
    out["object"] = "summary";
    out["from"] = iso_date(p.from);
    out["to"] = iso_date(p.to);
    out["locked_now"] = locked_view(locked);
    return out;
}

std::string percent_text(long long permille) {
    return std::to_string(permille / 10) + "." + std::to_string(permille % 10);
}

void install_summary_routes(httplib::Server& http, Services& m) {
    http.Get(
        R"(/v1/creators/([^/]+)/summary)",
        [&m](const httplib::Request& req, httplib::Response& res) { summary_route(m, req, res); });
}

} // namespace dunning::http
