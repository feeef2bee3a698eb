#include "store/cases.hpp"

#include "core/access.hpp"

#include "store/case_figures.hpp"
#include "store/case_json.hpp"
#include "store/case_statuses.hpp"

#include "store/statement.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dunning::store {

namespace {

const char* case_columns = "SELECT id, state FROM cases ";

// What a case's status must be for it to restrict access (cases_of_customer).
constexpr std::array<std::string_view, 9> restricting_statuses{
    "open",        "paused",        "objected",    "escalated", "handover_pending",
    "handed_over", "uncollectible", "written_off", "disputed"};

// ('a', 'b', …)
template <std::size_t N> std::string status_list(const std::array<std::string_view, N>& statuses) {
    std::string out = "(";
    for (const auto status : statuses) {
        if (out.size() > 1) out += ", ";
        out += "'";
        out += status;
        out += "'";
    }
    return out + ")";
}

// The ids of a member's cases in those statuses: one index search per status. A list of them
// (`status IN (…)`, or the same values joined by OR, which SQLite turns into the list) made SQLite
// build a temporary B-tree of the values on every call, about 6 % of the worker's time per event
// (bench/ingest/README.md, "Temporary B-trees"). `loud`: without the quiet open cases (a status
// other than open is never quiet, whatever the flag says; the open ones that are not are a range
// of cases_open_by_customer).
std::string restricting_case_ids_sql(bool loud) {
    std::string out;
    for (const auto status : restricting_statuses) {
        if (!out.empty()) out += " UNION ALL ";
        out += "SELECT id FROM cases WHERE creator_id = ?1 AND customer_id = ?2 AND status = '";
        out += status;
        out += "'";
        if (loud && status == "open") out += " AND access_quiet = 0";
        out += " AND id <> ?3";
    }
    return out;
}

// Above this many states, the memo starts again empty: it holds the cases in hand, not the store.
constexpr std::size_t memo_limit = 4096;

} // namespace

struct Connection::CaseMemo {
    struct Entry {
        std::string json;
        CaseState state;
        // The figures save_case wrote (or found written) with this text; none for a state
        // only read (its row might lack them: a row inserted by hand, or before the table).
        std::optional<CaseFigureRow> figures;
    };
    std::unordered_map<std::int64_t, Entry> by_id;

    void keep(std::int64_t id, std::string json, const CaseState& state,
              std::optional<CaseFigureRow> figures = std::nullopt) {
        if (by_id.size() >= memo_limit && !by_id.contains(id)) by_id.clear();
        auto& e = by_id[id];
        e.json = std::move(json);
        e.state = state;
        e.figures = std::move(figures);
    }
};

void Connection::forget_written_figures() noexcept {
    if (!case_memo_) return;
    for (auto& [id, e] : case_memo_->by_id)
        e.figures.reset();
}

Connection::CaseMemo& Connection::case_memo() {
    if (!case_memo_) case_memo_ = {new CaseMemo, [](CaseMemo* m) { delete m; }};
    return *case_memo_;
}

namespace {

// The state as stored: parsed from its JSON, unless this connection read or wrote exactly that
// text before (then the state it had is used: a case moves through the worker's steps without
// being parsed again at each). The reference is the memo's, valid until the memo next keeps a
// state.
const CaseState& state_of_row(Connection& db, std::int64_t id, const Column& column) {
    const char* data = column.getText(); // before getBytes, as SQLite asks
    const std::string_view text(data, static_cast<std::size_t>(column.getBytes()));
    auto& memo = db.case_memo();
    if (const auto it = memo.by_id.find(id); it != memo.by_id.end() && it->second.json == text)
        return it->second.state;
    try {
        auto state = state_from_text(text);
        memo.keep(id, std::string(text), state);
    } catch (const std::exception& e) {
        throw std::runtime_error("case " + std::to_string(id) + ": unreadable state: " + e.what());
    }
    return memo.by_id.at(id).state;
}

// The next row of a `SELECT id, state` statement, as an id and the memo's state (see above).
template <typename Visit> bool visit_one(Connection& db, CachedStatement& st, Visit&& visit) {
    if (!st.executeStep()) return false;
    const std::int64_t id = st.getColumn(0).getInt64();
    visit(id, state_of_row(db, id, st.getColumn(1)));
    return true;
}

std::optional<CaseRecord> read_one(Connection& db, CachedStatement& st) {
    std::optional<CaseRecord> r;
    visit_one(db, st, [&](std::int64_t id, const CaseState& s) { r = CaseRecord{id, s}; });
    return r;
}

std::vector<CaseRecord> read_all(Connection& db, CachedStatement& st) {
    std::vector<CaseRecord> out;
    while (auto r = read_one(db, st))
        out.push_back(std::move(*r));
    return out;
}

std::string status_clause(StatusFilter f) {
    switch (f) {
    case StatusFilter::open:
        return " AND status IN " + std::string(outstanding_statuses_sql);
    case StatusFilter::closed:
        return " AND status IN " + std::string(closed_statuses_sql);
    case StatusFilter::all:
        return " AND status IN " + std::string(failed_statuses_sql);
    }
    return "";
}

} // namespace

std::optional<CaseRecord> find_case_by_invoice(Connection& db, const std::string& creator,
                                               const std::string& invoice_id) {
    CachedStatement st(db, std::string(case_columns) + "WHERE creator_id = ? AND invoice_id = ?");
    st.bind(1, creator);
    st.bind(2, invoice_id);
    return read_one(db, st);
}

std::optional<CaseRecord> find_case_by_payment(Connection& db, const std::string& creator,
                                               const std::string& payment_intent_id,
                                               const std::string& charge_id) {
    if (!payment_intent_id.empty()) {
        CachedStatement st(db, std::string(case_columns) +
                                   // The literal lets SQLite use the partial index.
                                   "WHERE creator_id = ? AND payment_intent_id = ? "
                                   "AND payment_intent_id <> ''");
        st.bind(1, creator);
        st.bind(2, payment_intent_id);
        if (auto found = read_one(db, st)) return found;
    }
    if (charge_id.empty()) return std::nullopt;
    CachedStatement st(db, std::string(case_columns) +
                               "WHERE creator_id = ? AND charge_id = ? AND charge_id <> ''");
    st.bind(1, creator);
    st.bind(2, charge_id);
    return read_one(db, st);
}

std::optional<CaseRecord> get_case(Connection& db, const std::string& creator, std::int64_t id) {
    CachedStatement st(db, std::string(case_columns) +
                               "WHERE creator_id = ? AND id = ? AND status <> 'none'");
    st.bind(1, creator);
    st.bind(2, static_cast<std::int64_t>(id));
    return read_one(db, st);
}

std::optional<CaseRecord> load_case(Connection& db, std::int64_t id) {
    CachedStatement st(db, std::string(case_columns) + "WHERE id = ?");
    st.bind(1, static_cast<std::int64_t>(id));
    return read_one(db, st);
}

namespace {

// The statements of visit_cases_of_customer, with the quiet open cases (`loud` false) or without.
struct CasesOfCustomerSql {
    std::string ids;           // SQLite: whether there is any
    std::string sqlite_rows;   // SQLite: the rows
    std::string postgres_rows; // PostgreSQL: the rows
    explicit CasesOfCustomerSql(bool loud)
        : ids(restricting_case_ids_sql(loud)),
          sqlite_rows(std::string(case_columns) + "WHERE id IN (" + ids + ") ORDER BY id"),
          // PostgreSQL has no temporary B-tree to avoid, and plans a list as well as nine
          // searches; but the loud open cases are a search of their own (cases_open_by_customer),
          // which a list would make a filter over every open case of the member.
          postgres_rows(loud ? sqlite_rows
                             : std::string(case_columns) +
                                   "WHERE id IN (SELECT id FROM cases WHERE creator_id = ?1 " +
                                   "AND customer_id = ?2 AND status IN " +
                                   status_list(restricting_statuses) +
                                   " AND id <> ?3) ORDER BY id") {}
};

void visit_restricting_cases(Connection& db, const CasesOfCustomerSql& sql,
                             const std::string& creator, const std::string& customer_id,
                             std::int64_t except_id,
                             const std::function<void(std::int64_t, const CaseState&)>& visit) {
    // Only cases that may restrict access, found by index (cases_by_customer_status, and
    // cases_open_by_customer for the loud open ones): a member's paid and voided history is never
    // read. The rows are read in id order in one statement (a
    // statement per row costs more, at thousands of open cases): ordering the rows themselves made
    // SQLite sort every state's text, megabytes for a member with thousands of open cases
    // (bench/ingest/README.md, "One member").
    const bool sqlite = db.backend() == Backend::sqlite;
    if (sqlite) {
        // Most members have no other such case, which the ids alone tell: the rows' `id IN (…)`
        // builds a temporary B-tree of the ids even when there are none.
        CachedStatement st(db, sql.ids);
        st.bind(1, creator);
        st.bind(2, customer_id);
        st.bind(3, except_id);
        if (!st.executeStep()) return;
    }
    CachedStatement st(db, sqlite ? sql.sqlite_rows : sql.postgres_rows);
    st.bind(1, creator);
    st.bind(2, customer_id);
    st.bind(3, except_id);
    while (visit_one(db, st, visit)) {
    }
}

} // namespace

void visit_cases_of_customer(Connection& db, const std::string& creator,
                             const std::string& customer_id, std::int64_t except_id,
                             const std::function<void(std::int64_t, const CaseState&)>& visit) {
    static const CasesOfCustomerSql sql(false);
    visit_restricting_cases(db, sql, creator, customer_id, except_id, visit);
}

void visit_loud_cases_of_customer(
    Connection& db, const std::string& creator, const std::string& customer_id,
    std::int64_t except_id, const std::function<void(std::int64_t, const CaseState&)>& visit) {
    static const CasesOfCustomerSql sql(true);
    visit_restricting_cases(db, sql, creator, customer_id, except_id, visit);
}

std::vector<CaseRecord> quiet_cases_of_customer(Connection& db, const std::string& creator,
                                                const std::string& customer_id,
                                                std::int64_t except_id, std::int64_t after_id,
                                                int limit) {
    // A range of the index cases_open_by_customer (creator, member, access_quiet, id), in its
    // order.
    CachedStatement st(db,
                       std::string(case_columns) +
                           "WHERE creator_id = ?1 AND customer_id = ?2 AND status = 'open' "
                           "AND access_quiet = 1 AND id > ?3 AND id <> ?4 ORDER BY id LIMIT ?5");
    st.bind(1, creator);
    st.bind(2, customer_id);
    st.bind(3, after_id);
    st.bind(4, except_id);
    st.bind(5, limit);
    return read_all(db, st);
}

std::vector<CaseRecord> cases_of_customer(Connection& db, const std::string& creator,
                                          const std::string& customer_id, std::int64_t except_id) {
    std::vector<CaseRecord> out;
    visit_cases_of_customer(db, creator, customer_id, except_id,
                            [&](std::int64_t id, const CaseState& s) {
                                out.push_back({id, s});
                            });
    return out;
}

bool customer_has_other_cases(Connection& db, const std::string& creator,
                              const std::string& customer_id, std::int64_t except_id) {
    CachedStatement st(db, "SELECT 1 FROM cases WHERE creator_id = ? AND customer_id = ? "
                           "AND id <> ? LIMIT 1");
    st.bind(1, creator);
    st.bind(2, customer_id);
    st.bind(3, except_id);
    return st.executeStep();
}

bool may_restrict_access(const CaseState& s) {
    return std::find(restricting_statuses.begin(), restricting_statuses.end(),
                     std::string_view(status_of(s))) != restricting_statuses.end();
}

std::vector<CaseRecord> invoices_of_customer(Connection& db, const std::string& creator,
                                             const std::string& customer_id) {
    CachedStatement st(db, std::string(case_columns) +
                               "WHERE creator_id = ? AND customer_id = ? ORDER BY id");
    st.bind(1, creator);
    st.bind(2, customer_id);
    return read_all(db, st);
}

std::vector<std::int64_t> active_cases_of_customer(Connection& db, const std::string& creator,
                                                   const std::string& customer_id) {
    CachedStatement st(db, "SELECT id FROM cases WHERE creator_id = ? AND customer_id = ? "
                           "AND status IN ('open', 'paused', 'objected', 'escalated', "
                           "'handover_pending', 'handed_over') "
                           "ORDER BY id");
    st.bind(1, creator);
    st.bind(2, customer_id);
    std::vector<std::int64_t> out;
    while (st.executeStep())
        out.push_back(st.getColumn(0).getInt64());
    return out;
}

std::vector<std::int64_t> active_cases_of_creator(Connection& db, const std::string& creator) {
    CachedStatement st(db, "SELECT id FROM cases WHERE creator_id = ? "
                           "AND status IN ('open', 'paused', 'objected', 'escalated', "
                           "'handover_pending', 'handed_over') "
                           "ORDER BY id");
    st.bind(1, creator);
    std::vector<std::int64_t> out;
    while (st.executeStep())
        out.push_back(st.getColumn(0).getInt64());
    return out;
}

std::vector<std::int64_t> due_cases(Connection& db, std::int64_t now_unix, int limit) {
    CachedStatement st(db, "SELECT id FROM cases WHERE next_wakeup_at <= ? "
                           "ORDER BY next_wakeup_at LIMIT ?");
    st.bind(1, now_unix);
    st.bind(2, limit);
    std::vector<std::int64_t> out;
    while (st.executeStep())
        out.push_back(st.getColumn(0).getInt64());
    return out;
}

std::vector<DueCase> due_cases_with_members(Connection& db, std::int64_t now_unix, int limit) {
    CachedStatement st(db, "SELECT id, creator_id, customer_id FROM cases "
                           "WHERE next_wakeup_at <= ? ORDER BY next_wakeup_at LIMIT ?");
    st.bind(1, now_unix);
    st.bind(2, limit);
    std::vector<DueCase> out;
    while (st.executeStep())
        out.push_back(
            {st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getString()});
    return out;
}

namespace {

// Saves a stored case in place when the columns its indexes hold did not change (`moved`: all but
// status, access_quiet and next_wakeup_at), so that SQLite rewrites the row and no index entry
// (`moved`: those three's indexes only). With `previous`, only a row whose state is exactly that
// text is saved. `quiet`: the state's quiet_claim, for access_quiet. False when the row is not as
// assumed (then the caller upserts).
bool update_in_place(Connection& db, const CaseRecord& r, std::int64_t now_unix,
                     const std::string& json, bool quiet, bool moved,
                     const std::string* previous = nullptr) {
    const CaseState& s = r.state;
    // The columns listed in SET are set; those in WHERE must hold these values already.
    static const std::string set_all =
        "UPDATE cases SET updated_at = ?1, state = ?2, status = ?3, next_wakeup_at = ?4, "
        "access_quiet = ?14 "
        "WHERE id = ?5 AND creator_id = ?6 AND invoice_id = ?7 AND customer_id = ?8 "
        "AND payment_intent_id = ?9 AND charge_id = ?10 AND amount_due = ?11 "
        "AND currency = ?12 AND opened_at IS NOT DISTINCT FROM ?13";
    static const std::string set_state =
        "UPDATE cases SET updated_at = ?1, state = ?2 "
        "WHERE status = ?3 AND next_wakeup_at IS NOT DISTINCT FROM ?4 AND access_quiet = ?14 "
        "AND id = ?5 AND creator_id = ?6 "
        "AND invoice_id = ?7 AND customer_id = ?8 AND payment_intent_id = ?9 "
        "AND charge_id = ?10 AND amount_due = ?11 AND currency = ?12 "
        "AND opened_at IS NOT DISTINCT FROM ?13";
    static const std::string set_all_over = set_all + " AND state = ?15";
    static const std::string set_state_over = set_state + " AND state = ?15";
    CachedStatement st(db, previous ? (moved ? set_all_over : set_state_over)
                                    : (moved ? set_all : set_state));
    st.bind(1, now_unix);
    st.bind(2, json);
    st.bind(3, status_of(s));
    if (s.next_wakeup) st.bind(4, static_cast<std::int64_t>(to_unix(*s.next_wakeup)));
    st.bind(5, r.id);
    st.bind(6, s.creator_id);
    st.bind(7, s.invoice.invoice_id);
    st.bind(8, s.invoice.customer_id);
    st.bind(9, s.invoice.payment_intent_id);
    st.bind(10, s.invoice.charge_id);
    st.bind(11, static_cast<std::int64_t>(s.invoice.amount_due));
    st.bind(12, s.invoice.currency);
    if (s.opened_at) st.bind(13, static_cast<std::int64_t>(to_unix(*s.opened_at)));
    st.bind(14, std::int64_t{quiet ? 1 : 0});
    if (previous) st.bindNoCopy(15, *previous);
    return st.exec() == 1;
}

} // namespace

void save_case(Connection& db, CaseRecord& r, std::int64_t now_unix) {
    const CaseState& s = r.state;
    auto json = state_text(s);
    auto figures = case_figures_of(s);
    const bool quiet = quiet_claim(s);
    // The figures row is written only when the row this save replaces may carry other figures.
    // The memo knows the figures this connection saved with a text; the update below replaces
    // only a row whose stored text is still that one (a save rolled back since leaves another,
    // and then the figures are written).
    bool figures_stored = false;
    auto& memo = db.case_memo();
    const auto before = r.id > 0 ? memo.by_id.find(r.id) : memo.by_id.end();
    bool saved = false;
    if (before != memo.by_id.end()) {
        const auto& e = before->second;
        if (e.figures && *e.figures == figures)
            figures_stored = saved =
                update_in_place(db, r, now_unix, json, quiet, false, &e.json) ||
                update_in_place(db, r, now_unix, json, quiet, true, &e.json);
    }
    // Every index of cases written again costs a page in the commit: a known case is updated in
    // place, touching only the indexes whose columns changed.
    if (!saved)
        saved = r.id > 0 && (update_in_place(db, r, now_unix, json, quiet, false) ||
                             update_in_place(db, r, now_unix, json, quiet, true));
    if (!saved) {
        CachedStatement st(
            db,
            "INSERT INTO cases (creator_id, invoice_id, status, customer_id, payment_intent_id, "
            "charge_id, amount_due, currency, opened_at, updated_at, state, next_wakeup_at, "
            "access_quiet) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (creator_id, invoice_id) DO UPDATE SET status = excluded.status, "
            "customer_id = excluded.customer_id, payment_intent_id = excluded.payment_intent_id, "
            "charge_id = excluded.charge_id, amount_due = excluded.amount_due, "
            "currency = excluded.currency, opened_at = excluded.opened_at, "
            "updated_at = excluded.updated_at, state = excluded.state, "
            "next_wakeup_at = excluded.next_wakeup_at, access_quiet = excluded.access_quiet "
            "RETURNING id");
        st.bind(1, s.creator_id);
        st.bind(2, s.invoice.invoice_id);
        st.bind(3, status_of(s));
        st.bind(4, s.invoice.customer_id);
        st.bind(5, s.invoice.payment_intent_id);
        st.bind(6, s.invoice.charge_id);
        st.bind(7, static_cast<std::int64_t>(s.invoice.amount_due));
        st.bind(8, s.invoice.currency);
        if (s.opened_at) st.bind(9, static_cast<std::int64_t>(to_unix(*s.opened_at)));
        st.bind(10, static_cast<std::int64_t>(now_unix));
        st.bind(11, json);
        if (s.next_wakeup) st.bind(12, static_cast<std::int64_t>(to_unix(*s.next_wakeup)));
        st.bind(13, std::int64_t{quiet ? 1 : 0});
        st.executeStep();
        r.id = st.getColumn(0).getInt64();
    }
    if (!figures_stored) save_case_figures(db, r.id, figures); // the summary's, the open items'
    // The next read of this row (the dispatcher's, the access rules') finds the state in hand;
    // if the transaction rolls back, the stored text differs and the row is parsed.
    memo.keep(r.id, std::move(json), s, std::move(figures));
}

void link_case_event(Connection& db, std::int64_t case_id, std::int64_t inbox_id) {
    CachedStatement st(db, "INSERT INTO case_events (case_id, inbox_id) VALUES (?, ?) "
                           "ON CONFLICT DO NOTHING");
    st.bind(1, static_cast<std::int64_t>(case_id));
    st.bind(2, static_cast<std::int64_t>(inbox_id));
    st.exec();
}

std::vector<CaseRecord> list_cases(Connection& db, const CaseQuery& q) {
    CachedStatement st(db, std::string(case_columns) + "WHERE creator_id = ? AND id > ?" +
                               status_clause(q.status) + " ORDER BY id LIMIT ?");
    st.bind(1, q.creator);
    st.bind(2, static_cast<std::int64_t>(q.starting_after));
    st.bind(3, q.limit);
    return read_all(db, st);
}

std::vector<CaseRecord> outstanding_cases(Connection& db, const std::string& creator,
                                          const std::string& member) {
    CachedStatement st(db, std::string(case_columns) + "WHERE creator_id = ?" +
                               (member.empty() ? "" : " AND customer_id = ?") +
                               status_clause(StatusFilter::open) + " ORDER BY id");
    st.bind(1, creator);
    if (!member.empty()) st.bind(2, member);
    return read_all(db, st);
}

std::vector<CaseEventRef> case_events(Connection& db, std::int64_t case_id) {
    CachedStatement st(db, "SELECT i.event_id, i.type, i.created, i.received_at, i.source "
                           "FROM case_events c "
                           "JOIN inbox i ON i.id = c.inbox_id WHERE c.case_id = ? "
                           "ORDER BY i.created, i.id");
    st.bind(1, static_cast<std::int64_t>(case_id));
    std::vector<CaseEventRef> out;
    while (st.executeStep()) {
        out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(),
                       st.getColumn(2).getInt64(), st.getColumn(3).getInt64(),
                       st.getColumn(4).getString()});
    }
    return out;
}

} // namespace dunning::store
