#include "engine.hpp"

#include "outbox.hpp"

namespace dunning::plugin {

CasePolicy policy_from_config(const config::CreatorConfig& creator) {
    CasePolicy p;
    p.module_charges = creator.retry.mode == config::RetryMode::plugin;
    p.retry = creator.retry.policy;
    p.stages = creator.dunning.stages;
    p.final_notice_deadline = creator.dunning.final_notice_deadline;
    return p;
}

Engine::Engine(const config::Config& config, const Clock& clock) : clock_(clock) {
    for (const auto& c : config.creators) policies_.emplace(c.id, policy_from_config(c));
}

const CasePolicy& Engine::policy_for(const std::string& creator) const {
    const auto it = policies_.find(creator);
    return it == policies_.end() ? fallback_ : it->second;
}

void Engine::run_case(SQLite::Database& db, CaseRecord& c, const CaseInput& input) const {
    const auto now = clock_.now();
    auto decision = decide(std::move(c.state), input, now, policy_for(c.state.creator_id));
    c.state = std::move(decision.next);
    save_case(db, c, to_unix(now));
    queue_effects(db, c.id, c.state, decision.effects, now);
}

} // namespace dunning::plugin
