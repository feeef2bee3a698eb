#include "store/handovers.hpp"

#include "store/statement.hpp"

#include <nlohmann/json.hpp>

namespace dunning::store {

namespace {

std::vector<std::int64_t> batch_cases(Connection& db, std::int64_t batch_id) {
    CachedStatement st(db,
                       "SELECT case_id FROM handover_cases WHERE batch_id = ? ORDER BY case_id");
    st.bind(1, batch_id);
    std::vector<std::int64_t> out;
    while (st.executeStep())
        out.push_back(st.getColumn(0).getInt64());
    return out;
}

HandoverBatch read_batch(Connection& db, CachedStatement& st) {
    HandoverBatch b{st.getColumn(0).getInt64(),
                    st.getColumn(1).getString(),
                    st.getColumn(2).getString(),
                    st.getColumn(3).getInt64(),
                    {}};
    b.case_ids = batch_cases(db, b.id);
    return b;
}

} // namespace

std::int64_t create_handover_batch(Connection& db, const std::string& creator,
                                   const std::string& agency, std::int64_t now_unix,
                                   const std::vector<std::int64_t>& case_ids) {
    CachedStatement st(db, "INSERT INTO handover_batches (creator_id, agency, created_at) "
                           "VALUES (?, ?, ?) RETURNING id");
    st.bind(1, creator);
    st.bind(2, agency);
    st.bind(3, now_unix);
    st.executeStep();
    const auto id = st.getColumn(0).getInt64();
    st.reset();
    for (const auto case_id : case_ids) {
        CachedStatement add(db, "INSERT INTO handover_cases (batch_id, case_id) VALUES (?, ?)");
        add.bind(1, id);
        add.bind(2, case_id);
        add.exec();
    }
    return id;
}

std::optional<HandoverBatch> get_handover_batch(Connection& db, const std::string& creator,
                                                std::int64_t id) {
    CachedStatement st(db, "SELECT id, creator_id, agency, created_at FROM handover_batches "
                           "WHERE creator_id = ? AND id = ?");
    st.bind(1, creator);
    st.bind(2, id);
    if (!st.executeStep()) return std::nullopt;
    return read_batch(db, st);
}

std::vector<HandoverBatch> list_handover_batches(Connection& db, const std::string& creator) {
    CachedStatement st(db, "SELECT id, creator_id, agency, created_at FROM handover_batches "
                           "WHERE creator_id = ? ORDER BY id");
    st.bind(1, creator);
    std::vector<HandoverBatch> out;
    while (st.executeStep())
        out.push_back(read_batch(db, st));
    return out;
}

std::vector<std::int64_t> cases_ready_for_handover(Connection& db, const std::string& creator) {
    CachedStatement st(db, "SELECT id FROM cases WHERE creator_id = ? "
                           "AND status IN ('escalated', 'handover_pending') ORDER BY id");
    st.bind(1, creator);
    std::vector<std::int64_t> out;
    while (st.executeStep())
        out.push_back(st.getColumn(0).getInt64());
    return out;
}

std::vector<SentEmail> ladder_emails_sent(Connection& db, std::int64_t case_id) {
    CachedStatement st(db, "SELECT payload, done_at, idempotency_key FROM jobs WHERE case_id = ? "
                           "AND kind = 'email' AND state = 'done' ORDER BY done_at, id");
    st.bind(1, case_id);
    std::vector<SentEmail> out;
    while (st.executeStep()) {
        const auto payload = nlohmann::json::parse(st.getColumn(0).getString());
        if (payload.value("stage", 0) <= 0) continue;
        out.push_back({payload.value("message", ""), st.getColumn(1).getInt64(),
                       st.getColumn(2).getString()});
    }
    return out;
}

} // namespace dunning::store
