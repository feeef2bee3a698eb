#include "core/case_engine.hpp"
#include "core/limitation.hpp"
#include "core/overloaded.hpp"
#include "core/promise.hpp"
#include "core/recovery.hpp"

#include <algorithm>

namespace dunning {

namespace {

using Outcome = ChargeAttempt::Outcome;

bool waiting_for_charge(const CaseState& s) {
    return s.payment_processing ||
           std::any_of(s.attempts.begin(), s.attempts.end(), [](const ChargeAttempt& a) {
               return a.outcome == Outcome::pending || a.outcome == Outcome::processing;
           });
}

int retries_done(const CaseState& s) {
    return static_cast<int>(std::count_if(s.attempts.begin(), s.attempts.end(), [](const auto& a) {
        return a.outcome != Outcome::abandoned;
    }));
}

RetryHistory retry_history(const CaseState& s, CardNetwork network) {
    RetryHistory h;
    for (const auto& a : s.attempts) {
        if (a.outcome == Outcome::abandoned) continue;
        ++h.retries_done;
        if (!h.last_retry || a.at > *h.last_retry) h.last_retry = a.at;
        if (a.network == network) h.network_retries.push_back(a.at);
    }
    return h;
}

CardNetwork failing_network(const CaseState& s) {
    return s.last_failure ? card_network_from(s.last_failure->card_brand) : CardNetwork::unknown;
}

bool is_sepa(const CaseState& s) {
    return s.last_failure && s.last_failure->method == PaymentMethodKind::sepa_debit;
}

void resolve_now(CaseState& s, Resolution r, Timestamp now) {
    if (r > s.resolution) {
        s.resolution = r;
        s.resolved_at = now;
    }
}

void record_result(CaseState& s, const ChargeResult& r, Timestamp now) {
    auto it = std::find_if(s.attempts.begin(), s.attempts.end(),
                           [&](const ChargeAttempt& a) { return a.number == r.attempt; });
    if (it == s.attempts.end()) return;
    const bool waiting = it->outcome == Outcome::pending || it->outcome == Outcome::processing;
    switch (r.kind) {
    case ChargeResult::Kind::succeeded:
        it->outcome = Outcome::succeeded;
        s.payment_processing = false;
        resolve_now(s, Resolution::paid, now);
        break;
    case ChargeResult::Kind::declined:
        if (!waiting) break; // a webhook already told us
        it->outcome = Outcome::declined;
        if (!s.last_failure || s.last_failure->at <= r.failure.at) s.last_failure = r.failure;
        break;
    case ChargeResult::Kind::processing:
        if (it->outcome == Outcome::pending) it->outcome = Outcome::processing;
        s.payment_processing = it->outcome == Outcome::processing;
        break;
    case ChargeResult::Kind::rejected:
        if (waiting) it->outcome = Outcome::rejected;
        break;
    case ChargeResult::Kind::abandoned:
        if (!waiting) break;
        it->outcome = Outcome::abandoned;
        // Never charged: the member's new method is still to be tried (charge() took it).
        if (!it->payment_method_id.empty() && s.new_payment_method.empty()) {
            s.new_payment_method = it->payment_method_id;
            s.new_payment_method_at = it->at;
        }
        break;
    }
}

void escalate(CaseState& s, Timestamp now, const CasePolicy& p, std::vector<Effect>& effects) {
    s.escalated_at = now;
    effects.emplace_back(std::in_place_type<NotifyHost>, NotifyHost{"case.escalated"});
    if (p.module_charges && p.retry.end_action != EndAction::leave)
        effects.push_back(
            EndOfSchedule{p.retry.end_action, s.invoice.invoice_id, s.invoice.subscription_id});
}

// "Paid offline" after a lost chargeback: the money came back outside Stripe.
void repaid_offline(CaseState& s, Timestamp now) {
    auto& d = s.dispute;
    if (!d || !d->lost_at || (d->repaid_at && *d->repaid_at >= *d->lost_at)) return;
    d->repaid_at = std::max(now, *d->lost_at);
}

// Failure emails count once they went out; the confirmation and the stage shown count them.
// The final notice's deadline runs from when it went out, not from when it was queued.
void record_sent(CaseState& s, const EmailSent& e, Timestamp now, const CasePolicy& p) {
    if (e.stage > 0) {
        s.stage_sent = std::max(s.stage_sent, e.stage);
        if (e.stage >= static_cast<int>(p.stages.size()) && !s.final_notice_at)
            s.final_notice_at = now;
    } else if (e.message == "action_required" || e.message == "update_payment_method")
        s.failure_email_sent = true;
}

// Applies `change` and keeps the waiting time: paused_at is when dunning stopped (a pause, a
// promise or an objection); when nothing holds it any more, the ladder moves on by as much.
template <class F> void halt_change(CaseState& s, Timestamp at, F change) {
    const bool was = s.halted();
    change();
    if (!was && s.halted()) s.paused_at = at;
    if (was && !s.halted()) {
        s.paused_seconds +=
            std::max<std::int64_t>(0, to_unix(at) - to_unix(s.paused_at.value_or(at)));
        s.paused_at.reset();
    }
}

// The creator's Stripe connection, as the policy has it, holds or releases the open case.
void follow_connection(CaseState& s, Timestamp now, bool disconnected) {
    const bool wait = disconnected && s.is_open();
    if (wait && !s.stripe_disconnected_at)
        halt_change(s, now, [&] { s.stripe_disconnected_at = now; });
    else if (!wait && s.stripe_disconnected_at)
        halt_change(s, now, [&] { s.stripe_disconnected_at.reset(); });
}

void promise(CaseState& s, const PromiseMade& m, Timestamp now, const CasePolicy& p,
             std::vector<Effect>& effects) {
    if (promise_refusal(s, m.promised, now, p.escalation.promise_max_days) != PromiseRefusal::none)
        return;
    halt_change(s, now, [&] {
        s.promise = PromiseToPay{promise_until(m.promised), now, !s.paused};
        s.paused = true;
    });
    effects.push_back(NotifyHost{"case.promise_to_pay"});
}

void objection(CaseState& s, const CreatorCommand& c, Timestamp now, std::vector<Effect>& effects) {
    if (c.kind == CreatorCommand::Kind::objection && s.is_open() && !s.objected()) {
        halt_change(s, now, [&] { s.objection = Objection{now, c.note, c.actor, std::nullopt}; });
        effects.push_back(NotifyHost{"case.objected"});
    } else if (c.kind == CreatorCommand::Kind::withdraw_objection && s.objected()) {
        halt_change(s, now, [&] { s.objection->withdrawn_at = now; });
        effects.push_back(NotifyHost{"case.objection_withdrawn"});
    }
}

void command(CaseState& s, const CreatorCommand& c, Timestamp now, const CasePolicy& p,
             std::vector<Effect>& effects) {
    const bool active = s.is_open() && !s.escalated_at && !s.objected();
    // The creator's pause or resume takes over from a promise's.
    auto over_promise = [&] {
        if (s.promise) s.promise->holds_pause = false;
    };
    switch (c.kind) {
    case CreatorCommand::Kind::pause:
        if (active && (!s.paused || (s.promise && s.promise->holds_pause)))
            halt_change(s, now, [&] {
                s.paused = true;
                over_promise();
            });
        break;
    case CreatorCommand::Kind::resume:
        if (s.paused)
            halt_change(s, now, [&] {
                s.paused = false;
                over_promise();
            });
        break;
    case CreatorCommand::Kind::mark_paid: {
        // Paid or voided in Stripe already: nothing to tell it.
        const bool settled = s.resolution == Resolution::paid || s.resolution == Resolution::voided;
        resolve_now(s, Resolution::paid, now);
        repaid_offline(s, now);
        if (!settled && p.module_charges && !s.invoice.invoice_id.empty())
            effects.push_back(MarkPaidOutOfBand{s.invoice.invoice_id});
        break;
    }
    case CreatorCommand::Kind::write_off:
        if (s.is_open()) {
            resolve_now(s, Resolution::written_off, now);
            s.resolution_reason = write_off_reason::creator;
        }
        break;
    case CreatorCommand::Kind::escalate:
        if (active) escalate(s, now, p, effects);
        break;
    case CreatorCommand::Kind::objection:
    case CreatorCommand::Kind::withdraw_objection:
        objection(s, c, now, effects);
        break;
    }
}

struct Planner {
    CaseState& s;
    Timestamp now;
    const CasePolicy& p;
    std::vector<Effect>& effects;
    std::optional<Timestamp> wake{};

    void wake_at(Timestamp t) {
        if (!wake || t < *wake) wake = t;
    }

    // The member hears once per failure when only they can fix it. One failure arrives as
    // several events (charge, payment intent, invoice); a new reason or a new charge of ours
    // that fails is a new failure.
    void notify_failure() {
        const auto cls = current_failure_class(s);
        if (!cls || !s.new_payment_method.empty()) return;
        // An inactive mandate after a failure the member heard of already is no news to them.
        const auto reason = s.last_failure ? s.last_failure->error.reason()
                                           : "mandate_inactive:" + s.mandate_inactive->mandate_id;
        const auto key = reason + "#" + std::to_string(s.attempts.size());
        if (s.failure_notified == key) return;
        if (*cls == FailureClass::authentication_required)
            effects.push_back(SendEmail{"action_required", 0});
        else if (*cls == FailureClass::hard || *cls == FailureClass::sepa_stop)
            effects.push_back(SendEmail{"update_payment_method", 0});
        else
            return;
        s.failure_notified = key;
    }

    void charge(const std::string& payment_method) {
        const int n = static_cast<int>(s.attempts.size()) + 1;
        s.attempts.push_back({n, now, payment_method, failing_network(s), Outcome::pending});
        effects.push_back(ChargeInvoice{n, s.invoice.invoice_id, payment_method});
        if (!payment_method.empty() && payment_method == s.new_payment_method)
            s.new_payment_method.clear();
    }

    std::optional<Timestamp> next_retry() const {
        const auto cls = current_failure_class(s).value_or(FailureClass::soft);
        if (cls == FailureClass::hard || cls == FailureClass::authentication_required ||
            cls == FailureClass::sepa_stop)
            return std::nullopt;
        if (is_sepa(s)) return next_sepa_retry(p.retry, retries_done(s), s.last_failure->at, now);
        const auto network = failing_network(s);
        return next_card_retry(p.retry, s.schedule_anchor(), retry_history(s, network), network,
                               now);
    }

    // A charge of the module is on its way or still planned.
    bool charges_ahead() const {
        if (!p.module_charges) return false;
        return waiting_for_charge(s) || !s.new_payment_method.empty() || next_retry().has_value();
    }

    void plan_charge() {
        if (!p.module_charges || waiting_for_charge(s)) return;
        if (!s.new_payment_method.empty()) {
            const auto due = *s.new_payment_method_at + p.retry.new_payment_method_delay;
            if (due <= now) return charge(s.new_payment_method);
            return wake_at(due);
        }
        const auto next = next_retry();
        if (!next) return;
        if (*next <= now) return charge("");
        wake_at(*next);
    }

    Timestamp stage_due(std::size_t i) const {
        return s.schedule_anchor() + std::chrono::seconds(s.paused_seconds) + p.stages[i].after;
    }

    // Only the newest stage that is due goes out: after downtime, no flood of older ones.
    void plan_stages() {
        std::size_t due = static_cast<std::size_t>(s.stage_queued);
        while (due < p.stages.size() && stage_due(due) <= now)
            ++due;
        if (due > static_cast<std::size_t>(s.stage_queued)) {
            s.stage_queued = static_cast<int>(due);
            effects.push_back(SendEmail{p.stages[due - 1].name, s.stage_queued});
        }
        if (due < p.stages.size()) wake_at(stage_due(due));
    }

    // Escalation (and the end action) also waits for the retry schedule: after downtime the
    // retries run later than planned, and they are not cut short. Each retry wakes the case.
    // The deadline counts from when the final notice went out; for a member without an email
    // address, whom no notice can reach, from when it was due.
    void plan_escalation() {
        const auto last = p.stages.size();
        const bool queued = last > 0 && s.stage_queued >= static_cast<int>(last);
        const bool unreachable = queued && s.invoice.customer_email.empty();
        // A final notice queued but never reported sent (the mail queue gave up on it, or
        // cancelled it): dunning still ends, counted from when the mail queue gave up at the
        // latest. No lock follows (the access rules lock only on a notice that went out).
        const bool lost =
            queued && !s.final_notice_at && now >= stage_due(last - 1) + final_notice_send_window;
        if (!s.final_notice_at && !unreachable && !lost) {
            if (queued) wake_at(stage_due(last - 1) + final_notice_send_window);
            return;
        }
        const auto from = s.final_notice_at ? *s.final_notice_at
                          : unreachable     ? stage_due(last - 1)
                                            : stage_due(last - 1) + final_notice_send_window;
        const auto due = from + p.final_notice_deadline;
        if (due > now) return wake_at(due);
        if (!charges_ahead()) end_dunning();
    }

    // Dunning ran out unpaid: the claim is written off, waits for the creator, or is marked for
    // handover, by its open amount and the creator's rules.
    void end_dunning() {
        const auto outcome =
            dunning_outcome(s.open_amount_minor(), s.invoice.currency, p.escalation);
        if (outcome != DunningOutcome::write_off) {
            escalate(s, now, p, effects);
            if (outcome == DunningOutcome::handover) s.handover_pending_at = now;
            return;
        }
        if (p.module_charges && p.retry.end_action != EndAction::leave)
            effects.push_back(
                EndOfSchedule{p.retry.end_action, s.invoice.invoice_id, s.invoice.subscription_id});
        resolve_now(s, Resolution::written_off, now);
        s.resolution_reason = write_off_reason::below_threshold;
        announce_resolution();
    }

    void run() {
        if (s.resolution != Resolution::none) return announce_resolution();
        if (!s.first_seen_at) s.first_seen_at = now;
        // The host hears of the case once an invoice event has said what it is about (amount,
        // products); a charge.failed alone, which often comes first, does not.
        if (!s.opened_announced && s.invoice_as_of != Timestamp{}) {
            s.opened_announced = true;
            effects.push_back(NotifyHost{"case.opened"});
        }
        end_promise();
        if (s.stripe_disconnected_at) wake_at(now + disconnected_recheck);
        if (s.escalated_at || s.halted()) return;
        notify_failure();
        plan_charge();
        plan_stages();
        plan_escalation();
        if (s.escalated_at || s.resolution != Resolution::none) wake.reset();
    }

    // A promise that held dunning ends on its date, as if dunning had resumed then.
    void end_promise() {
        if (!s.promise || !s.promise->holds_pause) return;
        const auto until = s.promise->until;
        if (until > now) return wake_at(until);
        halt_change(s, until, [&] {
            s.paused = false;
            s.promise->holds_pause = false;
        });
    }

    void announce_resolution() {
        if (!s.resolved_announced) {
            s.resolved_announced = true;
            if (s.opened_announced) effects.push_back(NotifyHost{"case.resolved"});
        }
        // Thanks only a member who was told of the failure: an email queued but cancelled
        // because the payment came first does not count. A failure email that was already on
        // its way when the payment arrived is thanked for once it is reported sent.
        if (s.resolution == Resolution::paid && s.member_dunned() && !s.confirmation_queued) {
            s.confirmation_queued = true;
            effects.push_back(SendEmail{"payment_received", 0});
        }
    }
};

// The platform hears before an outstanding claim becomes time-barred, once per warning.
std::optional<Timestamp> plan_limitation(CaseState& s, Timestamp now,
                                         std::vector<Effect>& effects) {
    if (!claim_outstanding(s)) return std::nullopt;
    const auto arose = claim_arose_on(s);
    if (!arose) return std::nullopt;
    const auto step = limitation_step(limitation_date(*arose), s.limitation_warned, now);
    if (step.warn_days_before != 0) {
        s.limitation_warned = step.warn_days_before;
        effects.push_back(NotifyHost{"claim.limitation_approaching", step.warn_days_before});
    }
    return step.wake;
}

} // namespace

const char* effect_kind(const Effect& e) {
    return std::visit(overloaded{[](const ChargeInvoice&) { return "charge"; },
                                 [](const SendEmail&) { return "email"; },
                                 [](const EndOfSchedule&) { return "end_of_schedule"; },
                                 [](const NotifyHost&) { return "notify_host"; },
                                 [](const MarkPaidOutOfBand&) { return "paid_out_of_band"; }},
                      e);
}

std::optional<FailureClass> current_failure_class(const CaseState& s) {
    if (mandate_stops(s)) return FailureClass::sepa_stop;
    if (!s.last_failure) return std::nullopt;
    return classify_failure(s.last_failure->error, s.last_failure->method);
}

Decision decide(CaseState s, const CaseInput& input, Timestamp now, const CasePolicy& p) {
    std::vector<Effect> effects;
    std::visit(overloaded{[&](const Event& e) { s = apply(std::move(s), e); }, [](const Tick&) {},
                          [&](const ChargeResult& r) { record_result(s, r, now); },
                          [&](const CreatorCommand& c) {
                              const bool was_paid = s.resolution == Resolution::paid;
                              command(s, c, now, p, effects);
                              // The creator's word is what recovered it (an agency's payment
                              // takes the path below and keeps its own steps).
                              if (c.kind == CreatorCommand::Kind::mark_paid && !was_paid &&
                                  s.resolution == Resolution::paid)
                                  s.resolution_reason = paid_reason::marked_paid;
                          },
                          [&](const EmailSent& e) { record_sent(s, e, now, p); },
                          [&](const PromiseMade& m) { promise(s, m, now, p, effects); },
                          [&](const CollectionReport& r) {
                              // Paid in full to the agency: closed as the creator's mark-paid.
                              if (record_collection(s, r, now))
                                  command(s, CreatorCommand{CreatorCommand::Kind::mark_paid}, now,
                                          p, effects);
                          }},
               input);
    s.next_wakeup.reset();
    if (s.failed) follow_connection(s, now, p.stripe_disconnected);
    if (s.failed) {
        Planner planner{s, now, p, effects};
        planner.run();
        s.next_wakeup = planner.wake;
    }
    if (const auto wake = plan_limitation(s, now, effects))
        if (!s.next_wakeup || *wake < *s.next_wakeup) s.next_wakeup = wake;
    return {std::move(s), std::move(effects)};
}

} // namespace dunning
