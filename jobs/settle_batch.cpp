#include "jobs/settle_batch.hpp"

#include "telemetry/log.hpp"

namespace dunning::jobs {

SettleBatch::SettleBatch(store::Connection& db, std::size_t max_units,
                         std::chrono::microseconds max_wait)
    : db_(db), max_units_(max_units), max_wait_(max_wait),
      since_(std::chrono::steady_clock::now()) {}

SettleBatch::~SettleBatch() {
    try {
        flush();
    } catch (const std::exception& e) {
        telemetry::log_error(std::string("job bookkeeping not stored, to be tried again: ") +
                             e.what());
    }
}

void SettleBatch::before(std::optional<std::int64_t> case_id) {
    if (case_id && cases_.contains(*case_id)) flush();
}

void SettleBatch::add(const store::Job& job, const store::BackoffPolicy& policy, Timestamp now,
                      std::string what, Unit unit) {
    push(job.case_id, {std::move(what), std::move(unit),
                       [job, policy, now](store::Connection& db, const std::string& error) {
                           store::fail_job(db, job, policy, error, now);
                       }});
}

void SettleBatch::add(std::optional<std::int64_t> case_id, std::string what, Unit unit) {
    push(case_id, {std::move(what), std::move(unit), {}});
}

void SettleBatch::push(std::optional<std::int64_t> case_id, Pending pending) {
    pending_.push_back(std::move(pending));
    if (case_id) cases_.insert(*case_id);
    if (pending_.size() >= max_units_ || std::chrono::steady_clock::now() - since_ >= max_wait_)
        flush();
}

void SettleBatch::flush() {
    since_ = std::chrono::steady_clock::now();
    if (pending_.empty()) return;
    auto units = std::move(pending_);
    pending_.clear();
    cases_.clear();
    store::Transaction tx(db_);
    for (auto& p : units) {
        store::Savepoint unit(db_);
        try {
            p.unit(db_);
        } catch (const std::exception& e) {
            if (store::store_in_trouble(e)) throw; // the store, not this unit: all tried again
            unit.rollback();
            telemetry::log_error(p.what + ": " + e.what());
            if (p.on_failure) p.on_failure(db_, e.what());
        }
    }
    tx.commit();
    since_ = std::chrono::steady_clock::now();
}

} // namespace dunning::jobs
