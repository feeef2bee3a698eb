#pragma once
// What every path into a case shares (webhooks, timers, charge results, creator commands):
// load, decide, save the new state with its next wake-up, queue the effects — all in the
// caller's transaction.
#include "cases_repo.hpp"
#include "config/config.hpp"
#include "core/case_engine.hpp"

#include <SQLiteCpp/Database.h>

#include <map>
#include <string>

namespace dunning::plugin {

class Engine {
  public:
    Engine(const config::Config& config, const Clock& clock);

    const Clock& clock() const { return clock_; }
    const CasePolicy& policy_for(const std::string& creator) const;

    void run_case(SQLite::Database& db, CaseRecord& c, const CaseInput& input) const;

  private:
    const Clock& clock_;
    std::map<std::string, CasePolicy, std::less<>> policies_;
    CasePolicy fallback_;
};

CasePolicy policy_from_config(const config::CreatorConfig& creator);

} // namespace dunning::plugin
