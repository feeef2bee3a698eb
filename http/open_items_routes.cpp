// GET /v1/creators/{c}/open-items: the creator's outstanding claims (Offene-Posten-Liste) with
// filters, order, pages and totals per currency, as JSON or CSV.
#include "core/csv.hpp"
#include "core/limitation.hpp"
#include "core/money.hpp"
#include "core/open_items.hpp"
#include "http/open_items.hpp"
#include "http/services.hpp"
#include "store/case_figures.hpp"
#include "store/cases.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <map>

namespace dunning::http {

namespace {

using nlohmann::json;

std::optional<std::int64_t> whole(const std::string& s, std::int64_t min, std::int64_t max) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
    return v;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t from = 0;
    for (auto comma = s.find(',');; comma = s.find(',', from)) {
        out.push_back(s.substr(from, comma - from));
        if (comma == std::string::npos) return out;
        from = comma + 1;
    }
}

const std::vector<std::string> statuses = {
    "open", "paused", "objected", "escalated", "handover_pending", "handed_over", "disputed"};
const std::vector<std::string> buckets = {"0-30", "31-60", "61-90", "90+"};

std::optional<OpenItemOrder> order_named(const std::string& name) {
    if (name == "id") return OpenItemOrder::case_id;
    if (name == "arose_on") return OpenItemOrder::arose_on;
    if (name == "amount") return OpenItemOrder::amount;
    if (name == "limitation_date") return OpenItemOrder::limitation_date;
    if (name == "stage") return OpenItemOrder::stage;
    return std::nullopt;
}

// The problem with the query, or nothing; fills `r`.
std::optional<std::string> read_filters(const httplib::Request& req, OpenItemsQuery& r) {
    auto param = [&](const char* name) -> std::optional<std::string> {
        if (!req.has_param(name)) return std::nullopt;
        return req.get_param_value(name);
    };
    auto& f = r.filter;
    if (auto v = param("status")) {
        for (auto& s : split(*v)) {
            if (std::find(statuses.begin(), statuses.end(), s) == statuses.end())
                return "status must be one or more (comma-separated) of open, paused, objected, "
                       "escalated, handover_pending, handed_over, disputed";
            f.statuses.push_back(s);
        }
    }
    if (auto v = param("stage")) {
        auto n = whole(*v, 0, 100);
        if (!n) return "stage must be a whole number from 0";
        f.stage = static_cast<int>(*n);
    }
    if (auto v = param("age")) {
        if (std::find(buckets.begin(), buckets.end(), *v) == buckets.end())
            return "age must be 0-30, 31-60, 61-90 or 90+";
        f.age_bucket = *v;
    }
    for (auto [name, out] : {std::pair{"amount_gte", &f.amount_min_minor},
                             std::pair{"amount_lte", &f.amount_max_minor}}) {
        if (auto v = param(name)) {
            auto n = whole(*v, 0, INT64_MAX);
            if (!n) return std::string(name) + " must be a whole amount in minor units, e.g. 4900";
            *out = *n;
        }
    }
    f.payment_method = param("payment_method");
    f.product = param("product");
    f.member = param("member");
    if (auto v = param("expiring_within_days")) {
        auto n = whole(*v, 0, 36500);
        if (!n) return "expiring_within_days must be a whole number of days from 0";
        f.expiring_within_days = static_cast<int>(*n);
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> read_open_items_query(const httplib::Request& req, OpenItemsQuery& r) {
    if (auto problem = read_filters(req, r)) return problem;
    if (req.has_param("sort")) {
        auto name = req.get_param_value("sort");
        r.descending = name.starts_with('-');
        auto order = order_named(r.descending ? name.substr(1) : name);
        if (!order)
            return "sort must be id, arose_on, amount, limitation_date or stage, "
                   "with a leading - for descending";
        r.order = *order;
    }
    if (req.has_param("limit")) {
        auto n = whole(req.get_param_value("limit"), 1, 1000);
        if (!n) return "limit must be an integer from 1 to 1000";
        r.limit = static_cast<int>(*n);
    }
    if (req.has_param("offset")) {
        auto n = whole(req.get_param_value("offset"), 0, INT64_MAX);
        if (!n) return "offset must be a whole number from 0";
        r.offset = *n;
    }
    const auto format = req.has_param("format") ? req.get_param_value("format") : "json";
    if (format != "json" && format != "csv") return "format must be json or csv";
    r.csv = format == "csv";
    const auto delimiter = req.has_param("delimiter") ? req.get_param_value("delimiter") : ",";
    if (delimiter != "," && delimiter != ";") return "delimiter must be , or ;";
    r.delimiter = delimiter[0];
    return std::nullopt;
}

namespace {

json plan_view(const InstalmentPlan& p) {
    return {{"subscription", p.subscription_id},
            {"instalments", p.instalments},
            {"paid", p.paid},
            {"open", p.open},
            {"billed", p.billed},
            {"instalment_amount", p.instalment_minor},
            {"open_amount", p.open_minor},
            {"unbilled_amount", p.unbilled_minor()},
            {"open_cases", p.open_cases}};
}

json item_view(const OpenItem& i) {
    auto or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
    return {{"case", i.case_id},
            {"status", i.status},
            {"stage", i.stage},
            {"member",
             {{"id", or_null(i.member)},
              {"name", or_null(i.member_name)},
              {"email", or_null(i.member_email)}}},
            {"invoice", {{"id", i.invoice_id}, {"number", or_null(i.invoice_number)}}},
            {"products", i.products},
            {"payment_method", i.payment_method},
            {"currency", i.currency},
            {"principal", i.principal_minor},
            {"fees", i.fees_minor},
            {"interest", i.interest_minor},
            {"total", i.total_minor()},
            {"arose_on", iso_date(i.arose_on)},
            {"age_days", i.age_days},
            {"age_bucket", age_bucket(i.age_days)},
            {"limitation_date", iso_date(i.limitation_date)},
            {"days_to_limitation", i.days_to_limitation},
            {"plan", i.plan ? plan_view(*i.plan) : json(nullptr)}};
}

} // namespace

json open_items_totals(const std::map<std::string, CurrencyTotals>& totals) {
    json out = json::object();
    for (const auto& [currency, t] : totals)
        out[currency] = {{"count", t.count},
                         {"principal", t.principal_minor},
                         {"fees", t.fees_minor},
                         {"interest", t.interest_minor}};
    return out;
}

std::string open_items_csv(const std::vector<OpenItem>& items, char d) {
    std::string out = csv_record({"case",
                                  "status",
                                  "stage",
                                  "member",
                                  "member_name",
                                  "member_email",
                                  "invoice",
                                  "invoice_number",
                                  "products",
                                  "payment_method",
                                  "currency",
                                  "principal",
                                  "fees",
                                  "interest",
                                  "total",
                                  "arose_on",
                                  "age_days",
                                  "age_bucket",
                                  "limitation_date",
                                  "days_to_limitation",
                                  "plan_subscription",
                                  "plan_instalments",
                                  "plan_paid",
                                  "plan_open",
                                  "plan_open_amount"},
                                 d);
    for (const auto& i : items) {
        std::string products;
        for (const auto& p : i.products) {
            if (!products.empty()) products += ' ';
            products += p;
        }
        out += csv_record({std::to_string(i.case_id),
                           i.status,
                           std::to_string(i.stage),
                           i.member,
                           i.member_name,
                           i.member_email,
                           i.invoice_id,
                           i.invoice_number,
                           products,
                           i.payment_method,
                           i.currency,
                           decimal_amount(i.principal_minor, i.currency),
                           decimal_amount(i.fees_minor, i.currency),
                           decimal_amount(i.interest_minor, i.currency),
                           decimal_amount(i.total_minor(), i.currency),
                           iso_date(i.arose_on),
                           std::to_string(i.age_days),
                           age_bucket(i.age_days),
                           iso_date(i.limitation_date),
                           std::to_string(i.days_to_limitation),
                           i.plan ? i.plan->subscription_id : "",
                           i.plan ? std::to_string(i.plan->instalments) : "",
                           i.plan ? std::to_string(i.plan->paid) : "",
                           i.plan ? std::to_string(i.plan->open) : "",
                           i.plan ? decimal_amount(i.plan->open_minor, i.currency) : ""},
                          d);
    }
    return out;
}

namespace {

// Each instalment's row shows its plan, from the member's invoices (read once per member, in the
// snapshot its cases were read in).
void attach_plans(store::Connection& db, const std::string& creator,
                  const std::vector<store::CaseRecord>& cases, std::vector<OpenItem>& items) {
    std::map<std::int64_t, const CaseState*> in_plans;
    for (const auto& c : cases)
        if (c.state.invoice.plan_instalments > 0) in_plans.emplace(c.id, &c.state);
    if (in_plans.empty()) return;
    std::map<std::string, std::vector<std::pair<std::int64_t, CaseState>>> known;
    for (const auto& [id, s] : in_plans) {
        auto& of = known[s->invoice.customer_id];
        if (!of.empty()) continue;
        for (auto& r : store::invoices_of_customer(db, creator, s->invoice.customer_id))
            of.emplace_back(r.id, std::move(r.state));
    }
    for (auto& item : items)
        if (const auto it = in_plans.find(item.case_id); it != in_plans.end())
            item.plan = plan_of(*it->second, known[it->second->invoice.customer_id]);
}

} // namespace

std::vector<OpenItem> open_items_of(Services& m, store::Connection& db, const std::string& creator,
                                    const OpenItemsQuery& r) {
    const auto now = m.clock.now();
    const auto charges = claim_charges_of(m, creator);
    std::vector<OpenItem> items;
    const auto cases = store::outstanding_cases(db, creator, r.filter.member.value_or(""));
    for (const auto& c : cases)
        if (auto item = open_item(c.id, c.state, charges, now); item && matches(*item, r.filter))
            items.push_back(std::move(*item));
    attach_plans(db, creator, cases, items);
    sort_open_items(items, r.order, r.descending);
    return items;
}

std::vector<OpenItem> open_items_of(Services& m, const std::string& creator,
                                    const OpenItemsQuery& r) {
    return m.db.read([&](store::Connection& db) { return open_items_of(m, db, creator, r); });
}

OpenItemsPage open_items_page_of(Services& m, const std::string& creator, const OpenItemsQuery& r) {
    const auto now = m.clock.now();
    const Date today(std::chrono::floor<std::chrono::days>(now));
    const auto charges = claim_charges_of(m, creator);
    OpenItemsPage page;
    m.db.read([&](store::Connection& db) {
        std::vector<store::CaseRecord> cases;
        for (const auto id : store::open_item_ids(db, creator, r.filter, today, r.order,
                                                  r.descending, r.limit, r.offset))
            if (auto c = store::get_case(db, creator, id)) cases.push_back(std::move(*c));
        page.totals = store::open_item_totals(db, creator, r.filter, today, charges);
        for (const auto& c : cases)
            if (auto item = open_item(c.id, c.state, charges, now)) page.items.push_back(*item);
        attach_plans(db, creator, cases, page.items);
    });
    for (const auto& [currency, t] : page.totals)
        page.total_count += t.count;
    return page;
}

namespace {

void open_items_route(Services& m, const httplib::Request& req, httplib::Response& res) {
    const std::string creator = req.matches[1];
    if (!authorize(m, req, res, creator)) return;
    OpenItemsQuery r;
    if (auto problem = read_open_items_query(req, r)) return send_error(res, 400, *problem);
    if (r.csv) { // the whole list: an export, not a page
        res.set_header("Content-Disposition",
                       "attachment; filename=\"open-items-" + creator + ".csv\"");
        return res.set_content(open_items_csv(open_items_of(m, creator, r), r.delimiter),
                               "text/csv; charset=utf-8");
    }
    const auto page = open_items_page_of(m, creator, r);
    json data = json::array();
    for (const auto& item : page.items)
        data.push_back(item_view(item));
    const auto now = m.clock.now();
    res.set_content(json{{"object", "list"},
                         {"data", data},
                         {"total_count", page.total_count},
                         {"has_more", r.offset + static_cast<std::int64_t>(page.items.size()) <
                                          page.total_count},
                         {"totals", open_items_totals(page.totals)},
                         {"as_of", iso_date(Date(std::chrono::floor<std::chrono::days>(now)))}}
                        .dump(),
                    "application/json");
}

} // namespace

ClaimCharges claim_charges_of(const Services& m, const std::string& creator) {
    ClaimCharges c;
    if (const auto cfg = m.creators.find(creator)) {
        c.stages = cfg->dunning.stages;
        c.interest = cfg->dunning.interest;
        c.business_debtor = cfg->dunning.business_debtor;
        c.base_rates = m.base_rates.of(*cfg);
    }
    return c;
}

void install_open_items_routes(httplib::Server& http, Services& m) {
    http.Get(R"(/v1/creators/([^/]+)/open-items)",
             [&m](const httplib::Request& req, httplib::Response& res) {
                 open_items_route(m, req, res);
             });
}

} // namespace dunning::http
