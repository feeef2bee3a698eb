#include "jobs/stripe_jobs.hpp"

#include "telemetry/log.hpp"
#include "store/job_queue.hpp"

#include <SQLiteCpp/Transaction.h>

#include <random>

namespace dunning::jobs {

using store::CaseRecord;
using store::OutboxRow;
using store::due_cases;
using store::due_outbox;
using store::finish_outbox;
using store::load_case;
using store::retry_outbox_later;
using store::retry_time;
using telemetry::log_error;
using telemetry::log_warn;

namespace {

using retry::ApiResult;
constexpr auto give_up_after = std::chrono::days{3}; // Stripe down that long: try the schedule's next slot

ChargeResult charge_result(const OutboxRow& row, const CaseState& s, const ApiResult& r, Timestamp now) {
    ChargeResult out{row.payload.at("attempt").get<int>()};
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
        out.failure.payment_method_id = row.payload.value("payment_method_id", "");
        out.failure.at = now;
        break;
    default: out.kind = ChargeResult::Kind::rejected; break;
    }
    return out;
}

ApiResult call_stripe(StripeGateway& stripe, const retry::StripeAuth& auth, const OutboxRow& row) {
    const auto& p = row.payload;
    if (row.kind == "charge") {
        const auto pm = p.value("payment_method_id", "");
        return stripe.client().pay_invoice(auth, p.at("invoice_id"),
                                           pm.empty() ? std::nullopt : std::optional(pm),
                                           row.idempotency_key);
    }
    if (p.at("action") == "cancel_subscription")
        return stripe.client().cancel_subscription(auth, p.at("subscription_id"), row.idempotency_key);
    return stripe.client().mark_uncollectible(auth, p.at("invoice_id"), row.idempotency_key);
}

void settle(SQLite::Database& db, const Engine& engine, const OutboxRow& row, CaseRecord& c,
            const std::string& state, const std::string& result,
            const std::optional<ChargeResult>& outcome) {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    finish_outbox(db, row.id, state, result, engine.clock().now());
    if (outcome) {
        auto fresh = load_case(db, c.id); // the worker may have moved it on meanwhile
        if (fresh) engine.run_case(db, *fresh, *outcome);
    }
    tx.commit();
}

void dispatch_row(SQLite::Database& db, const Engine& engine, StripeGateway& stripe, const OutboxRow& row) {
    auto c = load_case(db, row.case_id);
    const auto now = engine.clock().now();
    const bool is_charge = row.kind == "charge";
    ChargeResult abandoned{is_charge ? row.payload.at("attempt").get<int>() : 0, ChargeResult::Kind::abandoned};
    if (!c) return;
    if (is_charge && !c->state.is_open())
        return settle(db, engine, row, *c, "cancelled", "case no longer open", abandoned);
    const auto auth = stripe.auth_for(c->state.creator_id);
    if (!auth)
        return settle(db, engine, row, *c, "failed", "no Stripe API key for this creator",
                      is_charge ? std::optional(abandoned) : std::nullopt);
    const auto r = call_stripe(stripe, *auth, row);
    const std::string summary = std::string(retry::to_string(r.kind)) + " " + std::to_string(r.http_status) +
                                (r.request_id.empty() ? "" : " " + r.request_id);
    if (r.kind != ApiResult::Kind::technical) {
        std::optional<ChargeResult> outcome;
        if (is_charge) outcome = charge_result(row, c->state, r, now);
        return settle(db, engine, row, *c, r.ok() || r.kind == ApiResult::Kind::card_error ? "done" : "failed",
                      summary + (r.error.reason().empty() ? "" : " " + r.error.reason()), outcome);
    }
    if (now - from_unix(row.created_at) > give_up_after) {
        log_error("stripe " + row.kind + " for case " + std::to_string(row.case_id) + ": " + summary +
                  "; giving up after " + std::to_string(row.tries + 1) + " tries");
        return settle(db, engine, row, *c, "failed", summary,
                      is_charge ? std::optional(abandoned) : std::nullopt);
    }
    log_warn("stripe " + row.kind + " for case " + std::to_string(row.case_id) + ": " + summary + ", will retry");
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    retry_outbox_later(db, row.id, row.tries + 1, retry_time(now, row.tries), summary);
    tx.commit();
}

} // namespace

StripeGateway::StripeGateway(const config::Config& config, retry::StripeClientOptions options)
    : config_(config), client_(std::move(options)) {}

std::optional<retry::StripeAuth> StripeGateway::auth_for(const std::string& creator) const {
    const auto* c = config_.find_creator(creator);
    if (!c) return std::nullopt;
    if (!c->stripe_secret_key.empty()) return retry::StripeAuth{c->stripe_secret_key, ""};
    if (!config_.stripe.platform_secret_key.empty() && !c->stripe_account.empty())
        return retry::StripeAuth{config_.stripe.platform_secret_key, c->stripe_account};
    return std::nullopt;
}

std::size_t dispatch_due(SQLite::Database& db, const Engine& engine, StripeGateway& stripe) {
    std::size_t n = 0;
    for (const char* kind : {"charge", "end_of_schedule"}) {
        for (const auto& row : due_outbox(db, kind, engine.clock().now(), 100)) {
            dispatch_row(db, engine, stripe, row);
            ++n;
        }
    }
    return n;
}

std::size_t run_due_timers(SQLite::Database& db, const Engine& engine, int limit) {
    const auto now = engine.clock().now();
    const auto ids = due_cases(db, to_unix(now), limit);
    std::size_t n = 0;
    // Many due cases share a commit: with synchronous = full each commit is a disk sync.
    constexpr std::size_t per_commit = 64;
    for (std::size_t i = 0; i < ids.size(); i += per_commit) {
        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        for (std::size_t j = i; j < std::min(ids.size(), i + per_commit); ++j) {
            auto c = load_case(db, ids[j]);
            if (c && c->state.next_wakeup && *c->state.next_wakeup <= now) {
                engine.run_case(db, *c, Tick{});
                ++n;
            }
        }
        tx.commit();
    }
    return n;
}

} // namespace dunning::jobs
