#include "store/job_queue.hpp"

#include "retry/stripe_client.hpp"

#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <random>

namespace dunning::store {


namespace {

using nlohmann::json;

template <class... F> struct overloaded : F... {
    using F::operator()...;
};
template <class... F> overloaded(F...) -> overloaded<F...>;

struct Encoded {
    json payload;
    std::string key;
};

Encoded encode(std::int64_t case_id, const CaseState& s, const Effect& effect) {
    const std::string prefix = "case-" + std::to_string(case_id) + "-";
    return std::visit(
        overloaded{
            [&](const ChargeInvoice& c) {
                return Encoded{{{"attempt", c.attempt}, {"invoice_id", c.invoice_id},
                                {"payment_method_id", c.payment_method_id}},
                               retry::charge_idempotency_key(c.invoice_id, c.attempt)};
            },
            [&](const SendEmail& e) {
                return Encoded{{{"message", e.message}, {"stage", e.stage}},
                               prefix + e.message + "-" +
                                   (e.stage ? std::to_string(e.stage) : s.failure_notified)};
            },
            [&](const EndOfSchedule& e) {
                return Encoded{{{"action", to_string(e.action)}, {"invoice_id", e.invoice_id},
                                {"subscription_id", e.subscription_id}},
                               "dunning-end-" + e.invoice_id};
            },
            [&](const NotifyHost& n) { return Encoded{{{"type", n.type}}, prefix + n.type}; }},
        effect);
}

} // namespace

void queue_effects(SQLite::Database& db, std::int64_t case_id, const CaseState& state,
                   const std::vector<Effect>& effects, Timestamp now) {
    if (effects.empty()) return;
    SQLite::Statement st(db, "INSERT INTO outbox (case_id, kind, payload, idempotency_key, "
                             "due_at, created_at) VALUES (?, ?, ?, ?, ?, ?)");
    for (const auto& effect : effects) {
        if (std::holds_alternative<NotifyHost>(effect)) continue; // the host queue's (Engine::run_case)
        const auto e = encode(case_id, state, effect);
        st.bind(1, case_id);
        st.bind(2, effect_kind(effect));
        st.bind(3, e.payload.dump());
        st.bind(4, e.key);
        st.bind(5, static_cast<std::int64_t>(to_unix(now)));
        st.bind(6, static_cast<std::int64_t>(to_unix(now)));
        st.exec();
        st.reset();
    }
}

std::vector<OutboxRow> due_outbox(SQLite::Database& db, const std::string& kind, Timestamp now,
                                  int limit) {
    SQLite::Statement st(db, "SELECT id, case_id, kind, payload, idempotency_key, tries, created_at FROM outbox "
                             "WHERE state = 'pending' AND kind = ? AND due_at <= ? "
                             "ORDER BY due_at, id LIMIT ?");
    st.bind(1, kind);
    st.bind(2, static_cast<std::int64_t>(to_unix(now)));
    st.bind(3, limit);
    std::vector<OutboxRow> out;
    while (st.executeStep()) {
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64(),
                       st.getColumn(2).getString(), json::parse(st.getColumn(3).getString()),
                       st.getColumn(4).getString(), st.getColumn(5).getInt(),
                       st.getColumn(6).getInt64()});
    }
    return out;
}

void finish_outbox(SQLite::Database& db, std::int64_t id, const std::string& state,
                   const std::string& result, Timestamp now) {
    SQLite::Statement st(db, "UPDATE outbox SET state = ?, result = ?, done_at = ? WHERE id = ?");
    st.bind(1, state);
    st.bind(2, result);
    st.bind(3, static_cast<std::int64_t>(to_unix(now)));
    st.bind(4, id);
    st.exec();
}

Timestamp retry_time(Timestamp now, int tries) {
    static thread_local std::mt19937 rng{std::random_device{}()};
    const auto base = std::min<std::int64_t>(60LL << std::min(tries, 6), 3600);
    return now + std::chrono::seconds(base + std::uniform_int_distribution<int>(0, 30)(rng));
}

void retry_outbox_later(SQLite::Database& db, std::int64_t id, int tries, Timestamp due,
                        const std::string& error) {
    SQLite::Statement st(db, "UPDATE outbox SET tries = ?, due_at = ?, last_error = ? WHERE id = ?");
    st.bind(1, tries);
    st.bind(2, static_cast<std::int64_t>(to_unix(due)));
    st.bind(3, error);
    st.bind(4, id);
    st.exec();
}

std::vector<OutboxEntry> case_actions(SQLite::Database& db, std::int64_t case_id) {
    SQLite::Statement st(db, "SELECT kind, state, coalesce(result, ''), coalesce(last_error, ''), "
                             "payload, tries, created_at, done_at FROM outbox WHERE case_id = ? ORDER BY id");
    st.bind(1, case_id);
    std::vector<OutboxEntry> out;
    while (st.executeStep()) {
        OutboxEntry e{st.getColumn(0).getString(), st.getColumn(1).getString(),
                      st.getColumn(2).getString(), st.getColumn(3).getString(),
                      json::parse(st.getColumn(4).getString()), st.getColumn(5).getInt(),
                      st.getColumn(6).getInt64(), std::nullopt};
        if (!st.getColumn(7).isNull()) e.done_at = st.getColumn(7).getInt64();
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace dunning::store
