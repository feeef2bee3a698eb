#pragma once
// Invoices already past due when a creator is connected (POST /v1/creators with a
// stripe_account, PATCH of its stripe_account, the connect flows) are imported in the background
// (jobs/import_past_due.hpp), one creator after the other, so the request answers at once.
#include "config/creator_registry.hpp"
#include "core/time.hpp"
#include "jobs/stripe_jobs.hpp"
#include "store/database.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace dunning::plugin {

class PastDueImports {
  public:
    PastDueImports(const config::Config& config, const config::CreatorRegistry& creators,
                   store::StoreOptions store, const Clock& clock, std::function<void()> wake,
                   bool no_waiting);
    ~PastDueImports(); // finishes the creator under way, drops the rest
    PastDueImports(const PastDueImports&) = delete;
    PastDueImports& operator=(const PastDueImports&) = delete;

    void request(const std::string& creator);

  private:
    void run();
    void import_one(store::Connection& db, const std::string& creator);

    store::StoreOptions store_;
    const Clock& clock_;
    std::function<void()> wake_;
    std::unique_ptr<jobs::StripeGateway> stripe_;
    std::mutex mutex_;
    std::condition_variable wake_worker_;
    std::deque<std::string> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

} // namespace dunning::plugin
