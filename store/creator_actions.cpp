#include "store/creator_actions.hpp"

#include "store/statement.hpp"

namespace dunning::store {

void add_creator_action(Connection& db, const CreatorActionRecord& r) {
    CachedStatement st(db, "INSERT INTO case_creator_actions (case_id, action, actor, note, at) "
                           "VALUES (?, ?, ?, ?, ?)");
    st.bind(1, r.case_id);
    st.bind(2, r.action);
    st.bind(3, r.actor);
    st.bind(4, r.note);
    st.bind(5, r.at);
    st.exec();
}

std::vector<CreatorActionRecord> creator_actions(Connection& db, std::int64_t case_id) {
    CachedStatement st(db, "SELECT case_id, action, actor, note, at FROM case_creator_actions "
                           "WHERE case_id = ? ORDER BY id");
    st.bind(1, case_id);
    std::vector<CreatorActionRecord> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(),
                       st.getColumn(2).getString(), st.getColumn(3).getString(),
                       st.getColumn(4).getInt64()});
    return out;
}

} // namespace dunning::store
