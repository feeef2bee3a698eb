#include "store/access_store.hpp"

#include "store/statement.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace dunning::store {

namespace {

using nlohmann::json;

// Core's spelling; a value outside the enum is written "locked", as core answers it.
const char* level_text(AccessLevel level) {
    return to_string(level);
}

AccessLevel level_of(const std::string& text) {
    if (const auto level = access_level_from(text)) return *level;
    throw std::runtime_error("access store: unknown access level '" + text + "'");
}

std::int64_t unix_of(Timestamp t) {
    return static_cast<std::int64_t>(to_unix(t));
}

void bind_time(CachedStatement& st, int index, const std::optional<Timestamp>& t) {
    if (t)
        st.bind(index, unix_of(*t));
    else
        st.bind(index); // NULL
}

std::optional<Timestamp> time_of(const Column& c) {
    if (c.isNull()) return std::nullopt;
    return from_unix(c.getInt64());
}

std::vector<std::string> parse_products(const std::string& text) {
    std::vector<std::string> out;
    const auto j = json::parse(text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& p : j)
        if (p.is_string()) out.push_back(p.get<std::string>());
    return out;
}

std::string products_text(const std::vector<std::string>& products) {
    return json(products).dump();
}

HistoryEntry history_row(CachedStatement& st) {
    HistoryEntry h;
    h.id = st.getColumn(0).getInt64();
    h.key = {st.getColumn(1).getString(), st.getColumn(2).getString(), st.getColumn(3).getString()};
    h.change.from = level_of(st.getColumn(4).getString());
    h.change.to = level_of(st.getColumn(5).getString());
    h.change.reason = st.getColumn(6).getString();
    h.change.case_id = st.getColumn(7).getInt64();
    h.change.override_id = st.getColumn(8).getInt64();
    h.change.at = from_unix(st.getColumn(9).getInt64());
    return h;
}

constexpr const char* history_columns = "id, creator_id, customer_id, product_id, from_level, "
                                        "to_level, reason, case_id, override_id, at";

constexpr const char* override_columns =
    "id, creator_id, customer_id, product_id, level, until, note, actor, created_at, revoked_at, "
    "revoked_by, revoke_note";

OverrideRecord override_row(CachedStatement& st) {
    OverrideRecord r;
    r.id = st.getColumn(0).getInt64();
    r.creator = st.getColumn(1).getString();
    r.customer = st.getColumn(2).getString();
    r.product = st.getColumn(3).getString();
    r.level = level_of(st.getColumn(4).getString());
    r.until = time_of(st.getColumn(5));
    r.note = st.getColumn(6).getString();
    r.actor = st.getColumn(7).getString();
    r.created = from_unix(st.getColumn(8).getInt64());
    r.revoked_at = time_of(st.getColumn(9));
    r.revoked_by = st.getColumn(10).getString();
    r.revoke_note = st.getColumn(11).getString();
    return r;
}

} // namespace

// ---- entitlements and their history

namespace {

// Columns `first`..`first + 5`: level, reason, case_id, override_id, lock_at, since.
EntitlementState entitlement_row(CachedStatement& st, int first) {
    EntitlementState s;
    s.level = level_of(st.getColumn(first).getString());
    s.reason = st.getColumn(first + 1).getString();
    s.case_id = st.getColumn(first + 2).getInt64();
    s.override_id = st.getColumn(first + 3).getInt64();
    s.lock_at = time_of(st.getColumn(first + 4));
    s.since = from_unix(st.getColumn(first + 5).getInt64());
    return s;
}

} // namespace

std::optional<EntitlementState> load_entitlement(Connection& db, const EntitlementKey& key,
                                                 std::optional<Timestamp>* recheck_at) {
    CachedStatement st(db, "SELECT level, reason, case_id, override_id, lock_at, since, recheck_at "
                           "FROM entitlements "
                           "WHERE creator_id = ? AND customer_id = ? AND product_id = ?");
    st.bind(1, key.creator);
    st.bind(2, key.customer);
    st.bind(3, key.product);
    if (!st.executeStep()) return std::nullopt;
    if (recheck_at) *recheck_at = time_of(st.getColumn(6));
    return entitlement_row(st, 0);
}

std::vector<std::pair<std::string, EntitlementState>>
member_entitlements(Connection& db, const std::string& creator, const std::string& customer) {
    CachedStatement st(
        db, "SELECT product_id, level, reason, case_id, override_id, lock_at, since "
            "FROM entitlements WHERE creator_id = ? AND customer_id = ? ORDER BY product_id");
    st.bind(1, creator);
    st.bind(2, customer);
    std::vector<std::pair<std::string, EntitlementState>> out;
    while (st.executeStep())
        out.emplace_back(st.getColumn(0).getString(), entitlement_row(st, 1));
    return out;
}

void save_entitlement(Connection& db, const EntitlementKey& key, const EntitlementState& state,
                      std::optional<Timestamp> recheck_at, Timestamp now) {
    CachedStatement st(
        db, "INSERT INTO entitlements (creator_id, customer_id, product_id, "
            "level, reason, case_id, override_id, lock_at, since, recheck_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (creator_id, customer_id, product_id) DO UPDATE SET "
            "level = excluded.level, reason = excluded.reason, case_id = excluded.case_id, "
            "override_id = excluded.override_id, lock_at = excluded.lock_at, "
            "since = excluded.since, recheck_at = excluded.recheck_at, "
            "updated_at = excluded.updated_at");
    st.bind(1, key.creator);
    st.bind(2, key.customer);
    st.bind(3, key.product);
    st.bind(4, level_text(state.level));
    st.bind(5, state.reason);
    st.bind(6, state.case_id);
    st.bind(7, state.override_id);
    bind_time(st, 8, state.lock_at);
    st.bind(9, unix_of(state.since));
    bind_time(st, 10, recheck_at);
    st.bind(11, unix_of(now));
    st.exec();
}

void recheck_creator_now(Connection& db, const std::string& creator, Timestamp now) {
    CachedStatement st(db, "UPDATE entitlements SET recheck_at = ? "
                           "WHERE creator_id = ? AND recheck_at IS NOT NULL AND recheck_at > ?");
    st.bind(1, unix_of(now));
    st.bind(2, creator);
    st.bind(3, unix_of(now));
    st.exec();
}

std::vector<EntitlementKey> due_rechecks(Connection& db, Timestamp now, int limit) {
    CachedStatement st(db, "SELECT creator_id, customer_id, product_id FROM entitlements "
                           "WHERE recheck_at IS NOT NULL AND recheck_at <= ? "
                           "ORDER BY recheck_at LIMIT ?");
    st.bind(1, unix_of(now));
    st.bind(2, limit);
    std::vector<EntitlementKey> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(),
                       st.getColumn(2).getString()});
    return out;
}

std::vector<std::string> entitlement_products(Connection& db, const std::string& creator,
                                              const std::string& customer) {
    CachedStatement st(
        db, "SELECT product_id FROM entitlements WHERE creator_id = ? AND customer_id = ? "
            "ORDER BY product_id");
    st.bind(1, creator);
    st.bind(2, customer);
    std::vector<std::string> out;
    while (st.executeStep())
        out.push_back(st.getColumn(0).getString());
    return out;
}

void append_history(Connection& db, const EntitlementKey& key, const AccessChange& change) {
    CachedStatement st(
        db, "INSERT INTO access_history (creator_id, customer_id, product_id, from_level, "
            "to_level, reason, case_id, override_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, key.creator);
    st.bind(2, key.customer);
    st.bind(3, key.product);
    st.bind(4, level_text(change.from));
    st.bind(5, level_text(change.to));
    st.bind(6, change.reason);
    st.bind(7, change.case_id);
    st.bind(8, change.override_id);
    st.bind(9, unix_of(change.at));
    st.exec();
}

std::vector<HistoryEntry> member_history(Connection& db, const std::string& creator,
                                         const std::string& customer, const std::string& product,
                                         int limit) {
    CachedStatement st(db, std::string("SELECT ") + history_columns +
                               " FROM access_history WHERE creator_id = ?1 AND customer_id = ?2 "
                               "AND (?3 = '' OR product_id = ?3) ORDER BY id LIMIT ?4");
    st.bind(1, creator);
    st.bind(2, customer);
    st.bind(3, product);
    st.bind(4, limit);
    std::vector<HistoryEntry> out;
    while (st.executeStep())
        out.push_back(history_row(st));
    return out;
}

std::vector<HistoryEntry> history_after(Connection& db, std::int64_t after_id, int limit) {
    CachedStatement st(db, std::string("SELECT ") + history_columns +
                               " FROM access_history WHERE id > ? ORDER BY id LIMIT ?");
    st.bind(1, after_id);
    st.bind(2, limit);
    std::vector<HistoryEntry> out;
    while (st.executeStep())
        out.push_back(history_row(st));
    return out;
}

// ---- subscriptions

std::vector<std::string> save_subscription(Connection& db, const std::string& creator,
                                           const SubscriptionFacts& facts, Timestamp as_of) {
    CachedStatement get(db, "SELECT customer_id, products, as_of FROM subscriptions "
                            "WHERE creator_id = ? AND subscription_id = ?");
    get.bind(1, creator);
    get.bind(2, facts.subscription_id);
    if (!get.executeStep()) {
        CachedStatement ins(
            db, "INSERT INTO subscriptions (creator_id, subscription_id, customer_id, "
                "status, cancellation_reason, products, as_of) VALUES (?, ?, ?, ?, ?, ?, ?)");
        ins.bind(1, creator);
        ins.bind(2, facts.subscription_id);
        ins.bind(3, facts.customer_id);
        ins.bind(4, facts.status);
        ins.bind(5, facts.cancellation_reason);
        ins.bind(6, products_text(facts.products));
        ins.bind(7, unix_of(as_of));
        ins.exec();
        return facts.products;
    }
    std::string customer = get.getColumn(0).getString();
    auto products = parse_products(get.getColumn(1).getString());
    const std::int64_t stored_as_of = get.getColumn(2).getInt64();
    get.reset();

    // Same second: the later arrival wins (Stripe gives no finer order).
    const bool newer = unix_of(as_of) >= stored_as_of;
    if (!facts.products.empty() && (newer || products.empty())) products = facts.products;
    if (newer && !facts.customer_id.empty())
        customer = facts.customer_id;
    else if (customer.empty())
        customer = facts.customer_id;

    if (newer) {
        CachedStatement up(
            db, "UPDATE subscriptions SET customer_id = ?, status = ?, cancellation_reason = ?, "
                "products = ?, as_of = ? WHERE creator_id = ? AND subscription_id = ?");
        up.bind(1, customer);
        up.bind(2, facts.status);
        up.bind(3, facts.cancellation_reason);
        up.bind(4, products_text(products));
        up.bind(5, unix_of(as_of));
        up.bind(6, creator);
        up.bind(7, facts.subscription_id);
        up.exec();
    } else {
        CachedStatement up(db, "UPDATE subscriptions SET customer_id = ?, products = ? "
                               "WHERE creator_id = ? AND subscription_id = ?");
        up.bind(1, customer);
        up.bind(2, products_text(products));
        up.bind(3, creator);
        up.bind(4, facts.subscription_id);
        up.exec();
    }
    return products;
}

void note_subscription_paid(Connection& db, const std::string& creator,
                            const std::string& subscription_id, const std::string& customer,
                            Timestamp at) {
    CachedStatement st(
        db, "INSERT INTO subscriptions (creator_id, subscription_id, customer_id, last_paid_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (creator_id, subscription_id) DO UPDATE SET "
            "last_paid_at = CASE WHEN subscriptions.last_paid_at > excluded.last_paid_at "
            "THEN subscriptions.last_paid_at ELSE excluded.last_paid_at END, "
            "customer_id = CASE WHEN subscriptions.customer_id = '' THEN excluded.customer_id "
            "ELSE subscriptions.customer_id END");
    st.bind(1, creator);
    st.bind(2, subscription_id);
    st.bind(3, customer);
    st.bind(4, unix_of(at));
    st.exec();
}

std::vector<std::string> subscription_products(Connection& db, const std::string& creator,
                                               const std::string& subscription_id) {
    CachedStatement st(
        db, "SELECT products FROM subscriptions WHERE creator_id = ? AND subscription_id = ?");
    st.bind(1, creator);
    st.bind(2, subscription_id);
    if (!st.executeStep()) return {};
    return parse_products(st.getColumn(0).getString());
}

std::vector<SubscriptionStanding> subscriptions_for(Connection& db, const std::string& creator,
                                                    const std::string& customer,
                                                    const std::string& product) {
    // A member has few subscriptions: filter the products and sort them in C++. An ORDER BY
    // subscription_id let SQLite walk the primary key (creator_id, subscription_id), which reads
    // every subscription of the creator, instead of subscriptions_by_customer.
    CachedStatement st(
        db, "SELECT subscription_id, status, cancellation_reason, as_of, last_paid_at, products "
            "FROM subscriptions WHERE creator_id = ? AND customer_id = ?");
    st.bind(1, creator);
    st.bind(2, customer);
    std::vector<SubscriptionStanding> out;
    while (st.executeStep()) {
        const auto products = parse_products(st.getColumn(5).getString());
        if (std::find(products.begin(), products.end(), product) == products.end()) continue;
        SubscriptionStanding s;
        s.subscription_id = st.getColumn(0).getString();
        s.status = st.getColumn(1).getString();
        s.cancellation_reason = st.getColumn(2).getString();
        s.as_of = from_unix(st.getColumn(3).getInt64());
        s.last_paid_at = time_of(st.getColumn(4));
        out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.subscription_id < b.subscription_id; });
    return out;
}

// ---- overrides

std::int64_t add_override(Connection& db, const OverrideRecord& r) {
    CachedStatement st(
        db, "INSERT INTO access_overrides (creator_id, customer_id, product_id, level, until, "
            "note, actor, created_at, revoked_at, revoked_by, revoke_note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    st.bind(1, r.creator);
    st.bind(2, r.customer);
    st.bind(3, r.product);
    st.bind(4, level_text(r.level));
    bind_time(st, 5, r.until);
    st.bind(6, r.note);
    st.bind(7, r.actor);
    st.bind(8, unix_of(r.created));
    bind_time(st, 9, r.revoked_at);
    st.bind(10, r.revoked_by);
    st.bind(11, r.revoke_note);
    st.executeStep();
    return st.getColumn(0).getInt64();
}

bool revoke_override(Connection& db, const std::string& creator, std::int64_t id,
                     const std::string& actor, const std::string& note, Timestamp now) {
    CachedStatement st(
        db, "UPDATE access_overrides SET revoked_at = ?, revoked_by = ?, revoke_note = ? "
            "WHERE id = ? AND creator_id = ? AND revoked_at IS NULL");
    st.bind(1, unix_of(now));
    st.bind(2, actor);
    st.bind(3, note);
    st.bind(4, id);
    st.bind(5, creator);
    return st.exec() == 1;
}

std::optional<OverrideRecord> get_override(Connection& db, const std::string& creator,
                                           std::int64_t id) {
    CachedStatement st(db, std::string("SELECT ") + override_columns +
                               " FROM access_overrides WHERE id = ? AND creator_id = ?");
    st.bind(1, id);
    st.bind(2, creator);
    if (!st.executeStep()) return std::nullopt;
    return override_row(st);
}

std::vector<OverrideRecord> member_overrides(Connection& db, const std::string& creator,
                                             const std::string& customer) {
    CachedStatement st(
        db, std::string("SELECT ") + override_columns +
                " FROM access_overrides WHERE creator_id = ? AND customer_id = ? ORDER BY id");
    st.bind(1, creator);
    st.bind(2, customer);
    std::vector<OverrideRecord> out;
    while (st.executeStep())
        out.push_back(override_row(st));
    return out;
}

std::vector<AccessOverride> overrides_for(Connection& db, const EntitlementKey& key) {
    CachedStatement st(
        db, "SELECT id, level, created_at, until, revoked_at FROM access_overrides "
            "WHERE creator_id = ? AND customer_id = ? AND product_id IN (?, '') ORDER BY id");
    st.bind(1, key.creator);
    st.bind(2, key.customer);
    st.bind(3, key.product);
    std::vector<AccessOverride> out;
    while (st.executeStep()) {
        AccessOverride o;
        o.id = st.getColumn(0).getInt64();
        o.level = level_of(st.getColumn(1).getString());
        o.created = from_unix(st.getColumn(2).getInt64());
        o.until = time_of(st.getColumn(3));
        o.revoked_at = time_of(st.getColumn(4));
        out.push_back(o);
    }
    return out;
}

// ---- listener cursor

std::int64_t listener_cursor(Connection& db) {
    CachedStatement st(db, "SELECT history_id FROM access_listener_cursor WHERE id = 1");
    return st.executeStep() ? st.getColumn(0).getInt64() : 0;
}

void set_listener_cursor(Connection& db, std::int64_t history_id) {
    CachedStatement st(db, "INSERT INTO access_listener_cursor (id, history_id) VALUES (1, ?) "
                           "ON CONFLICT (id) DO UPDATE SET history_id = excluded.history_id");
    st.bind(1, history_id);
    st.exec();
}

} // namespace dunning::store
