#include "jobs/stripe_jobs.hpp"

#include "jobs/claimed_jobs.hpp"
#include "jobs/inbox_processor.hpp"
#include "jobs/settle_batch.hpp"
#include "store/job_queue.hpp"
#include "telemetry/log.hpp"

namespace dunning::jobs {

using store::CaseRecord;
using store::ChargeJob;
using store::due_cases;
using store::EndOfScheduleJob;
using store::Job;
using store::load_case;
using store::PaidOutOfBandJob;
using telemetry::log_error;
using telemetry::log_info;
using telemetry::log_warn;

namespace {

using retry::ApiResult;
// Stripe down that long: try the schedule's next slot.
const store::BackoffPolicy stripe_backoff{.give_up_after = std::chrono::days{3}};

ChargeResult charge_result(const ChargeJob& job, const CaseState& s, const ApiResult& r,
                           Timestamp now) {
    ChargeResult out{job.attempt};
    switch (r.kind) {
    case ApiResult::Kind::ok: {
        const auto body = nlohmann::json::parse(r.body, nullptr, false);
        const bool paid = body.is_object() && body.value("status", "") == "paid";
        out.kind = paid ? ChargeResult::Kind::succeeded : ChargeResult::Kind::processing;
        break;
    }
    case ApiResult::Kind::card_error:
        out.kind = ChargeResult::Kind::declined;
        out.failure.error = r.error;
        out.failure.method = s.last_failure ? s.last_failure->method : PaymentMethodKind::card;
        out.failure.card_brand = s.last_failure ? s.last_failure->card_brand : "";
        out.failure.payment_method_id = job.payment_method_id;
        out.failure.at = now;
        break;
    default:
        out.kind = ChargeResult::Kind::rejected;
        break;
    }
    return out;
}

ApiResult call_stripe(StripeGateway& stripe, const retry::StripeAuth& auth, const Job& job) {
    if (const auto* c = std::get_if<ChargeJob>(&job.payload)) {
        const auto& pm = c->payment_method_id;
        return stripe.client().pay_invoice(auth, c->invoice_id,
                                           pm.empty() ? std::nullopt : std::optional(pm),
                                           job.idempotency_key);
    }
    if (const auto* p = std::get_if<PaidOutOfBandJob>(&job.payload))
        return stripe.client().pay_out_of_band(auth, p->invoice_id, job.idempotency_key);
    const auto& e = std::get<EndOfScheduleJob>(job.payload);
    if (e.action == EndAction::cancel_subscription)
        return stripe.client().cancel_subscription(auth, e.subscription_id, job.idempotency_key);
    return stripe.client().mark_uncollectible(auth, e.invoice_id, job.idempotency_key);
}

// Paid, or no longer open, in Stripe already (paid by the member meanwhile, or an earlier
// try went through): what the job wanted is true, so it is done, not tried again.
bool invoice_already_settled(const ApiResult& r) {
    return r.kind == ApiResult::Kind::request_error &&
           (r.error.code == "invoice_not_open" ||
            r.error.message.find("already paid") != std::string::npos);
}

// The job's state and result for an answer that is not a technical failure.
std::pair<std::string, std::string> outcome_of(const Job& job, std::int64_t case_id,
                                               const ApiResult& r, const std::string& summary) {
    const auto detail = summary + (r.error.reason().empty() ? "" : " " + r.error.reason());
    if (!std::holds_alternative<PaidOutOfBandJob>(job.payload))
        return {r.ok() || r.kind == ApiResult::Kind::card_error ? "done" : "failed", detail};
    const auto what = "stripe paid_out_of_band for case " + std::to_string(case_id) + ": ";
    if (r.ok()) {
        log_info(what + "invoice marked paid out of band");
        return {"done", detail};
    }
    if (invoice_already_settled(r)) {
        log_info(what + "invoice already closed in Stripe (" + detail + "), nothing to do");
        return {"done", "already closed: " + detail + " " + r.error.message};
    }
    log_error(what + "refused (" + detail + " " + r.error.message +
              "); the invoice stays as it is in Stripe");
    return {"failed", detail + " " + r.error.message};
}

void settle(SettleBatch& batch, const Engine& engine, const Job& job, const CaseRecord& c,
            const std::string& state, const std::string& result,
            const std::optional<ChargeResult>& outcome) {
    batch.add(job, stripe_backoff, engine.clock().now(), "charge job " + std::to_string(job.id),
              [&engine, job, id = c.id, state, result, outcome](store::Connection& db) {
                  // Taken over by another instance meanwhile: its answer is the one recorded.
                  if (!store::finish_job(db, job, state, result, engine.clock().now())) return;
                  if (!outcome) return;
                  auto fresh = load_case(db, id); // the worker may have moved it on meanwhile
                  if (fresh) engine.run_case(db, *fresh, *outcome);
              });
}

// A technical failure: tried again after the backoff, or given up (the case then hears the
// charge was abandoned).
void settle_failure(SettleBatch& batch, const Engine& engine, const Job& job, std::int64_t case_id,
                    const std::string& what, const std::string& summary,
                    const std::optional<ChargeResult>& if_charge) {
    batch.add(job, stripe_backoff, engine.clock().now(), what,
              [&engine, job, case_id, what, summary, if_charge](store::Connection& db) {
                  const auto now = engine.clock().now();
                  const auto retry = store::fail_job(db, job, stripe_backoff, summary, now);
                  if (retry == store::Retry::not_held) return; // another instance's now
                  if (retry == store::Retry::scheduled) return log_warn(what + ", will retry");
                  log_error(what + "; giving up after " + std::to_string(job.tries + 1) + " tries");
                  if (!if_charge) return;
                  auto fresh = load_case(db, case_id);
                  if (fresh) engine.run_case(db, *fresh, *if_charge);
              });
}

void dispatch_job(store::Connection& db, const Engine& engine, StripeGateway& stripe,
                  const Job& job, SettleBatch& batch) {
    batch.before(job.case_id);
    auto c = job.case_id ? load_case(db, *job.case_id) : std::nullopt;
    const auto now = engine.clock().now();
    const auto* charge = std::get_if<ChargeJob>(&job.payload);
    const std::string kind = store::kind_name(store::kind_of(job.payload));
    ChargeResult abandoned{charge ? charge->attempt : 0, ChargeResult::Kind::abandoned};
    const auto if_charge = charge ? std::optional(abandoned) : std::nullopt;
    if (!c) {
        store::Transaction tx(db);
        store::finish_job(db, job, "failed", "case not found", now);
        tx.commit();
        return;
    }
    if (stripe.disabled(c->state.creator_id))
        return batch.add(
            job, stripe_backoff, now, kind + " held", [job, now](store::Connection& db) {
                store::postpone_job(db, job, now + std::chrono::hours{1}, "held: creator disabled");
            });
    if (charge && !c->state.is_open())
        return settle(batch, engine, job, *c, "cancelled", "case no longer open", abandoned);
    // Planned before the account left or the mandate ended: the case plans again when it can.
    if (charge && stripe.disconnected(c->state.creator_id))
        return settle(batch, engine, job, *c, "cancelled", "creator's Stripe account disconnected",
                      abandoned);
    if (charge && mandate_stops(c->state) &&
        (charge->payment_method_id.empty() ||
         charge->payment_method_id == c->state.mandate_inactive->payment_method_id))
        return settle(batch, engine, job, *c, "cancelled", "SEPA mandate inactive", abandoned);
    if (stripe.disconnected(c->state.creator_id))
        return batch.add(job, stripe_backoff, now, kind + " held",
                         [job, now](store::Connection& db) {
                             store::postpone_job(db, job, now + std::chrono::hours{1},
                                                 "held: creator's Stripe account disconnected");
                         });
    const auto auth = stripe.auth_for(c->state.creator_id);
    if (!auth)
        return settle(batch, engine, job, *c, "failed", "no Stripe API key for this creator",
                      if_charge);
    const auto r = call_stripe(stripe, *auth, job);
    const std::string summary = std::string(retry::to_string(r.kind)) + " " +
                                std::to_string(r.http_status) +
                                (r.request_id.empty() ? "" : " " + r.request_id);
    if (r.kind != ApiResult::Kind::technical) {
        std::optional<ChargeResult> outcome;
        if (charge) outcome = charge_result(*charge, c->state, r, now);
        const auto [state, result] = outcome_of(job, c->id, r, summary);
        return settle(batch, engine, job, *c, state, result, outcome);
    }
    const auto what = "stripe " + kind + " for case " + std::to_string(c->id) + ": " + summary;
    settle_failure(batch, engine, job, c->id, what, summary, if_charge);
}

} // namespace

StripeGateway::StripeGateway(const config::Config& config, const config::CreatorRegistry& creators,
                             retry::StripeClientOptions options)
    : config_(config), creators_(creators), client_(std::move(options)) {}

std::optional<retry::StripeAuth> StripeGateway::auth_for(const std::string& creator) const {
    const auto c = creators_.find(creator);
    if (!c || c->stripe_disconnected) return std::nullopt;
    if (!c->stripe_secret_key.empty()) return retry::StripeAuth{c->stripe_secret_key, ""};
    if (!config_.stripe.platform_secret_key.empty() && !c->stripe_account.empty())
        return retry::StripeAuth{config_.stripe.platform_secret_key, c->stripe_account};
    return std::nullopt;
}

bool StripeGateway::disabled(const std::string& creator) const {
    const auto c = creators_.find(creator);
    return c && c->disabled;
}

bool StripeGateway::disconnected(const std::string& creator) const {
    const auto c = creators_.find(creator);
    return c && c->stripe_disconnected;
}

std::size_t dispatch_due(store::Connection& db, const Engine& engine, StripeGateway& stripe,
                         const store::JobQueue& queue, const YieldCheck& yield) {
    std::size_t n = 0;
    for (const auto kind : {store::JobKind::charge, store::JobKind::end_of_schedule,
                            store::JobKind::paid_out_of_band}) {
        if (n > 0 && yield && yield()) break;
        const auto now = engine.clock().now();
        SettleBatch batch(db);
        n += carry_out(
            db, queue, queue.claim(db, kind, now, 100), stripe_backoff, now, &batch,
            [&](const Job& job) { dispatch_job(db, engine, stripe, job, batch); }, yield);
    }
    return n;
}

namespace {

// Many due cases share a commit: with synchronous = full each commit is a disk sync.
constexpr std::size_t timers_per_commit = 64;

// `member`: the keyed path's check that the case read under a member's lock is that member's.
bool tick_if_due(store::Connection& db, const Engine& engine, std::int64_t id, Timestamp due_by,
                 const store::DueCase* member = nullptr) {
    auto c = load_case(db, id);
    if (!c || !c->state.next_wakeup || *c->state.next_wakeup > due_by) return false;
    if (member && (c->state.creator_id != member->creator_id ||
                   c->state.invoice.customer_id != member->customer_id))
        return false;
    engine.run_case(db, *c, Tick{});
    return true;
}

// Each case after its member's lock; the case is read once the lock is had, so what another
// instance committed before is seen. A member whose lock was refused keeps all its due cases for
// the next round (in their order). A case that names no member is ticked under the whole write
// lock, as an event that may concern any member is decided.
std::size_t run_due_timers_keyed(store::Connection& db, const Engine& engine, Timestamp due_by,
                                 int limit, bool* more_due) {
    const auto due = store::due_cases_with_members(db, to_unix(due_by), limit);
    if (more_due && due.size() >= static_cast<std::size_t>(limit)) *more_due = true;
    std::size_t n = 0;
    std::vector<std::int64_t> memberless;
    HeldKeys held; // the members refused in this call: their later cases wait for the next round
    for (std::size_t i = 0; i < due.size(); i += timers_per_commit) {
        store::Transaction tx(db, store::Transaction::keyed);
        MemberLocks locks(db, true, held);
        for (std::size_t j = i; j < std::min(due.size(), i + timers_per_commit); ++j) {
            const auto& d = due[j];
            if (d.customer_id.empty()) {
                memberless.push_back(d.id);
                continue;
            }
            const auto key = member_lock_key(d.creator_id, d.customer_id);
            if (!locks.take(key)) {
                if (held.members.insert(key).second && more_due) *more_due = true;
                continue;
            }
            if (tick_if_due(db, engine, d.id, due_by, &d)) ++n;
        }
        tx.commit();
    }
    if (!memberless.empty()) {
        store::Transaction tx(db);
        for (const auto id : memberless)
            if (tick_if_due(db, engine, id, due_by)) ++n;
        tx.commit();
    }
    return n;
}

} // namespace

std::size_t run_due_timers(store::Connection& db, const Engine& engine, Timestamp due_by, int limit,
                           bool* more_due) {
    if (more_due) *more_due = false;
    if (db.locks_keys()) return run_due_timers_keyed(db, engine, due_by, limit, more_due);
    const auto ids = due_cases(db, to_unix(due_by), limit);
    if (more_due && ids.size() >= static_cast<std::size_t>(limit)) *more_due = true;
    std::size_t n = 0;
    for (std::size_t i = 0; i < ids.size(); i += timers_per_commit) {
        store::Transaction tx(db);
        for (std::size_t j = i; j < std::min(ids.size(), i + timers_per_commit); ++j)
            if (tick_if_due(db, engine, ids[j], due_by)) ++n;
        tx.commit();
    }
    return n;
}

} // namespace dunning::jobs
