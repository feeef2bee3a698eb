#include "store/case_figures.hpp"

#include "core/limitation.hpp"
#include "core/recovery.hpp"

#include "store/case_json.hpp"
#include "store/case_statuses.hpp"
#include "store/statement.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string_view>
#include <variant>

namespace dunning::store {

namespace {

std::int64_t day_number(Date d) {
    return std::chrono::sys_days(d).time_since_epoch().count();
}

Date date_of_day(std::int64_t n) {
    return Date(std::chrono::sys_days(std::chrono::days(n)));
}

// A product list as ' a b ': a product matches where ' name ' occurs.
std::string product_list(const std::vector<std::string>& products) {
    std::string out = " ";
    for (const auto& p : products)
        out += p + " ";
    return out;
}

} // namespace

CaseFigureRow case_figures_of(const CaseState& s) {
    CaseFigureRow f;
    f.status = status_of(s);
    const bool counted = s.failed && s.opened_at && f.status != "none";
    const bool paid = f.status == "paid";
    const auto arose = claim_arose_on(s);
    f.creator_id = s.creator_id;
    f.customer_id = s.invoice.customer_id;
    if (counted) {
        f.failed_at = static_cast<std::int64_t>(to_unix(*s.opened_at));
        f.failed_month = year_month(*s.opened_at);
    }
    f.currency = s.invoice.currency;
    f.amount_due = static_cast<std::int64_t>(s.invoice.amount_due);
    f.open_amount = static_cast<std::int64_t>(s.open_amount_minor());
    f.stage = s.stage_sent;
    if (paid && s.resolved_at) f.paid_month = year_month(*s.resolved_at);
    if (paid) f.recovered_by = recovery_source(s);
    if (arose) {
        f.arose_on = day_number(*arose);
        f.limitation_on = day_number(limitation_date(*arose));
    }
    if (s.opened_at) f.anchor_at = static_cast<std::int64_t>(to_unix(s.schedule_anchor()));
    f.payment_method = to_string(s.last_failure ? s.last_failure->method : s.paid_with);
    f.products = product_list(s.invoice.products);
    return f;
}

void save_case_figures(Connection& db, std::int64_t case_id, const CaseFigureRow& f) {
    // Only a row that differs is written: most saves of a case change none of its figures.
    CachedStatement st(
        db,
        "INSERT INTO case_figures (case_id, creator_id, customer_id, failed_at, failed_month, "
        "status, currency, amount_due, open_amount, stage, paid_month, recovered_by, arose_on, "
        "limitation_on, anchor_at, payment_method, products) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
        "ON CONFLICT (case_id) DO UPDATE SET creator_id = ?2, customer_id = ?3, failed_at = ?4, "
        "failed_month = ?5, status = ?6, currency = ?7, amount_due = ?8, open_amount = ?9, "
        "stage = ?10, paid_month = ?11, recovered_by = ?12, arose_on = ?13, limitation_on = ?14, "
        "anchor_at = ?15, payment_method = ?16, products = ?17 "
        "WHERE case_figures.creator_id IS DISTINCT FROM ?2 "
        "OR case_figures.customer_id IS DISTINCT FROM ?3 "
        "OR case_figures.failed_at IS DISTINCT FROM ?4 "
        "OR case_figures.failed_month IS DISTINCT FROM ?5 "
        "OR case_figures.status IS DISTINCT FROM ?6 "
        "OR case_figures.currency IS DISTINCT FROM ?7 "
        "OR case_figures.amount_due IS DISTINCT FROM ?8 "
        "OR case_figures.open_amount IS DISTINCT FROM ?9 "
        "OR case_figures.stage IS DISTINCT FROM ?10 "
        "OR case_figures.paid_month IS DISTINCT FROM ?11 "
        "OR case_figures.recovered_by IS DISTINCT FROM ?12 "
        "OR case_figures.arose_on IS DISTINCT FROM ?13 "
        "OR case_figures.limitation_on IS DISTINCT FROM ?14 "
        "OR case_figures.anchor_at IS DISTINCT FROM ?15 "
        "OR case_figures.payment_method IS DISTINCT FROM ?16 "
        "OR case_figures.products IS DISTINCT FROM ?17");
    st.bind(1, case_id);
    st.bind(2, f.creator_id);
    st.bind(3, f.customer_id);
    if (f.failed_at) st.bind(4, *f.failed_at);
    st.bind(5, f.failed_month);
    st.bind(6, f.status);
    st.bind(7, f.currency);
    st.bind(8, f.amount_due);
    st.bind(9, f.open_amount);
    st.bind(10, f.stage);
    st.bind(11, f.paid_month);
    st.bind(12, f.recovered_by);
    if (f.arose_on) st.bind(13, *f.arose_on);
    if (f.limitation_on) st.bind(14, *f.limitation_on);
    if (f.anchor_at) st.bind(15, *f.anchor_at);
    st.bind(16, f.payment_method);
    st.bind(17, f.products);
    st.exec();
}

void save_case_figures(Connection& db, std::int64_t case_id, const CaseState& s) {
    save_case_figures(db, case_id, case_figures_of(s));
}

std::int64_t fill_missing_case_figures(Connection& db) {
    // Prepared for this one pass at opening, not kept in the connection's cache.
    auto st = db.prepare("SELECT id, state FROM cases WHERE id NOT IN "
                         "(SELECT case_id FROM case_figures) ORDER BY id");
    std::int64_t n = 0;
    while (st->step()) {
        const auto id = st->int64_at(0);
        CaseState state;
        try {
            state = state_from_text(st->text_at(1));
        } catch (const std::exception&) {
            continue; // unreadable: the case's own reads say so; the store still opens
        }
        save_case_figures(db, id, state);
        ++n;
    }
    return n;
}

bool RecoveryGroup::outstanding() const {
    return claim_outstanding(status);
}

std::vector<RecoveryGroup> recovery_groups(Connection& db, const std::string& creator,
                                           std::int64_t from_unix, std::int64_t to_unix) {
    CachedStatement st(db, "SELECT currency, failed_month, status, stage, paid_month, "
                           "recovered_by, count(*), sum(amount_due), sum(open_amount) "
                           // `+`: the index is read in group order, not searched by time.
                           "FROM case_figures WHERE creator_id = ? AND +failed_at >= ? "
                           "AND +failed_at < ? GROUP BY 1, 2, 3, 4, 5, 6");
    st.bind(1, creator);
    st.bind(2, from_unix);
    st.bind(3, to_unix);
    std::vector<RecoveryGroup> out;
    while (st.executeStep())
        out.push_back(
            {st.getColumn(0).getString(), st.getColumn(1).getString(), st.getColumn(2).getString(),
             st.getColumn(3).getInt(), st.getColumn(4).getString(), st.getColumn(5).getString(),
             st.getColumn(6).getInt64(), st.getColumn(7).getInt64(), st.getColumn(8).getInt64()});
    return out;
}

namespace {

void add(Tally& t, std::int64_t count, std::int64_t minor) {
    t.count += static_cast<int>(count);
    t.minor += minor;
}

// summarize_recovery's figures, from the store's groups of cases (store/case_figures.hpp): the
// same sums, as a GROUP BY instead of a pass over every case.
void count(CurrencyFigures& f, const RecoveryGroup& g) {
    add(f.failed, g.count, g.amount_due);
    if (g.status == "paid")
        add(f.recovered, g.count, g.amount_due);
    else if (g.outstanding())
        add(f.open, g.count, g.open_amount);
    else if (g.status == "written_off" || g.status == "uncollectible")
        add(f.written_off, g.count, g.open_amount);
}

RecoverySummary summary_of_groups(const std::vector<RecoveryGroup>& groups) {
    RecoverySummary out;
    for (const auto& g : groups) {
        count(out.by_currency[g.currency], g);
        count(out.cohorts[g.failed_month][g.currency], g);
        out.by_status[g.status] += static_cast<int>(g.count);
        if (g.outstanding()) out.outstanding_by_stage[g.stage] += static_cast<int>(g.count);
        if (g.status == "paid") {
            if (!g.paid_month.empty())
                add(out.recovered_by_month[g.paid_month][g.currency], g.count, g.amount_due);
            add(out.recovered_by_source[g.recovered_by][g.currency], g.count, g.amount_due);
        }
    }
    return out;
}

} // namespace

RecoverySummary recovery_summary(Connection& db, const std::string& creator, std::int64_t from_unix,
                                 std::int64_t to_unix) {
    return summary_of_groups(recovery_groups(db, creator, from_unix, to_unix));
}

namespace {

// The FROM and WHERE clauses of the open items that match, and their parameters in order.
struct Selection {
    std::string from = " FROM case_figures";
    std::string where;
    std::vector<std::variant<std::int64_t, std::string>> params;
};

Selection select_open_items(const std::string& creator, const OpenItemFilter& f, Date today) {
    Selection s;
    if (f.member) {
        // One member's: their outstanding cases found by (creator_id, customer_id, status), and
        // only their figures rows read. Left to choose, SQLite reads every outstanding row of the
        // creator through the figures' own indexes; CROSS JOIN makes it start from the cases
        // (PostgreSQL plans it as any join).
        s.from = " FROM (SELECT f.* FROM cases c CROSS JOIN case_figures f WHERE f.case_id = c.id "
                 "AND c.creator_id = ? AND c.customer_id = ? AND c.status IN " +
                 std::string(outstanding_statuses_sql) + ") AS case_figures";
        s.params.emplace_back(creator);
        s.params.emplace_back(*f.member);
    }
    s.where = " WHERE creator_id = ? AND " + std::string(outstanding_condition_sql) +
              " AND arose_on IS NOT NULL";
    s.params.emplace_back(creator);
    if (!f.statuses.empty()) {
        s.where += " AND status IN (";
        for (std::size_t i = 0; i < f.statuses.size(); ++i) {
            s.where += i == 0 ? "?" : ", ?";
            s.params.emplace_back(f.statuses[i]);
        }
        s.where += ")";
    }
    if (f.stage) {
        s.where += " AND stage = ?";
        s.params.emplace_back(std::int64_t{*f.stage});
    }
    const auto t = day_number(today);
    if (f.age_bucket) { // age in days: today - arose_on, at least 0
        const auto& b = *f.age_bucket;
        const std::int64_t oldest = b == "0-30" ? 30 : b == "31-60" ? 60 : b == "61-90" ? 90 : -1;
        const std::int64_t youngest = b == "0-30" ? -1 : b == "31-60" ? 31 : b == "61-90" ? 61 : 91;
        if (oldest >= 0) {
            s.where += " AND arose_on >= ?";
            s.params.emplace_back(t - oldest);
        }
        if (youngest >= 0) {
            s.where += " AND arose_on <= ?";
            s.params.emplace_back(t - youngest);
        }
    }
    if (f.amount_min_minor) {
        s.where += " AND open_amount >= ?";
        s.params.emplace_back(*f.amount_min_minor);
    }
    if (f.amount_max_minor) {
        s.where += " AND open_amount <= ?";
        s.params.emplace_back(*f.amount_max_minor);
    }
    if (f.payment_method) {
        s.where += " AND payment_method = ?";
        s.params.emplace_back(*f.payment_method);
    }
    if (f.product) {
        s.where += " AND replace(products, ?, '') <> products"; // contains; both engines have it
        s.params.emplace_back(" " + *f.product + " ");
    }
    if (f.member) {
        s.where += " AND customer_id = ?";
        s.params.emplace_back(*f.member);
    }
    if (f.expiring_within_days) {
        s.where += " AND limitation_on <= ?";
        s.params.emplace_back(t + *f.expiring_within_days);
    }
    return s;
}

// Binds the selection's parameters after the first `at`; the index of the last one bound.
int bind_all(CachedStatement& st, const Selection& s, int at = 0) {
    for (const auto& p : s.params) {
        ++at;
        std::visit([&](const auto& v) { st.bind(at, v); }, p);
    }
    return at;
}

const char* order_column(OpenItemOrder o) {
    switch (o) {
    case OpenItemOrder::case_id:
        return "case_id";
    case OpenItemOrder::arose_on:
        return "arose_on";
    case OpenItemOrder::amount:
        return "open_amount";
    case OpenItemOrder::limitation_date:
        return "limitation_on";
    case OpenItemOrder::stage:
        return "stage";
    }
    return "case_id";
}

} // namespace

std::vector<std::int64_t> open_item_ids(Connection& db, const std::string& creator,
                                        const OpenItemFilter& filter, Date today,
                                        OpenItemOrder order, bool descending, std::int64_t limit,
                                        std::int64_t offset) {
    const auto sel = select_open_items(creator, filter, today);
    // Ties keep case order, ascending, as sort_open_items does.
    std::string by = std::string(order_column(order)) + (descending ? " DESC" : "");
    if (order != OpenItemOrder::case_id) by += ", case_id";
    CachedStatement st(db, "SELECT case_id" + sel.from + sel.where + " ORDER BY " + by +
                               " LIMIT ? OFFSET ?");
    const int at = bind_all(st, sel);
    st.bind(at + 1, limit);
    st.bind(at + 2, offset);
    std::vector<std::int64_t> out;
    while (st.executeStep())
        out.push_back(st.getColumn(0).getInt64());
    return out;
}

std::vector<OpenItemGroup> open_item_groups(Connection& db, const std::string& creator,
                                            const OpenItemFilter& filter, Date today,
                                            std::optional<std::chrono::seconds> first_stage_after) {
    const auto sel = select_open_items(creator, filter, today);
    // interest_from: the day after the first stage was due, from the schedule's anchor.
    CachedStatement st(
        db, first_stage_after
                ? "SELECT currency, stage, (anchor_at + ?) / 86400, open_amount, count(*)" +
                      sel.from + sel.where + " GROUP BY 1, 2, 3, 4"
                : "SELECT currency, stage, NULL, sum(open_amount), count(*)" + sel.from +
                      sel.where + " GROUP BY 1, 2");
    int at = 0;
    if (first_stage_after)
        st.bind(++at, static_cast<std::int64_t>(first_stage_after->count() + 86400));
    bind_all(st, sel, at);
    std::vector<OpenItemGroup> out;
    while (st.executeStep()) {
        OpenItemGroup g;
        g.currency = st.getColumn(0).getString();
        g.stage = st.getColumn(1).getInt();
        if (!st.isColumnNull(2)) g.interest_from = date_of_day(st.getColumn(2).getInt64());
        g.principal = st.getColumn(3).getInt64();
        g.count = st.getColumn(4).getInt64();
        out.push_back(std::move(g));
    }
    return out;
}

std::map<std::string, CurrencyTotals> open_item_totals(Connection& db, const std::string& creator,
                                                       const OpenItemFilter& filter, Date today,
                                                       const ClaimCharges& charges) {
    // Interest depends on the day the first stage fell due; without interest, on nothing.
    std::optional<std::chrono::seconds> first_stage_after;
    if (charges.interest && !charges.stages.empty())
        first_stage_after = charges.stages.front().after;
    std::map<std::string, CurrencyTotals> out;
    for (const auto& g : open_item_groups(db, creator, filter, today, first_stage_after)) {
        // A group of claims that owe the same (with interest), or one currency's and stage's
        // claims with their principals summed (without).
        const auto a =
            claim_amounts(g.principal, g.stage, g.interest_from, g.currency, charges, today);
        const auto each = first_stage_after ? g.count : 1;
        auto& t = out[g.currency];
        t.count += g.count;
        t.principal_minor += a.principal_minor * each;
        t.fees_minor += a.fees_minor * g.count;
        t.interest_minor += a.interest_minor * each;
    }
    return out;
}

} // namespace dunning::store
