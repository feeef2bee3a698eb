#pragma once
// The case engine: decide(state, input, now, policy) → next state and effects (as data).
// Every input first updates the facts, then plan() compares what should have happened by `now`
// with what the state records as done, and emits only the difference. Running it twice at the
// same time, or after a crash, emits nothing new.
#include "core/calendar.hpp"
#include "core/case.hpp"
#include "core/collection.hpp"
#include "core/escalation.hpp"
#include "core/retry_policy.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dunning {

// One rung of the dunning ladder: sent `after` the first failure (plus any time paused).
struct DunningStage {
    std::string name; // the message sent: "reminder", "formal_reminder", "final_notice"
    std::chrono::seconds after{};
    std::int64_t fee_minor = 0; // dunning fee added with this stage, in the invoice's minor units
};

// A final notice not reported sent this long after it was due is taken as lost (the mail queue
// gives up on an email after a week of retries, or cancelled it): dunning then ends without it.
inline constexpr std::chrono::seconds final_notice_send_window = std::chrono::days{8};

struct CasePolicy {
    bool module_charges = false; // retry mode "plugin"; "stripe" leaves charging to Stripe
    RetryPolicy retry;
    std::vector<DunningStage> stages = {{"reminder", std::chrono::days{3}},
                                        {"formal_reminder", std::chrono::days{10}},
                                        {"final_notice", std::chrono::days{20}}};
    std::chrono::seconds final_notice_deadline = std::chrono::days{14}; // then escalation
    EscalationPolicy escalation; // what the end of dunning leads to
    // The creator's Stripe account is disconnected: its open cases wait (no charge, no email)
    // until it is connected again, and the ladder then moves on by the time waited.
    bool stripe_disconnected = false;
};

// While a case waits for its creator's Stripe account, it is looked at this often: should the
// reconnection's own pass over the creator's cases be lost (a crash), they go on by then.
inline constexpr std::chrono::seconds disconnected_recheck = std::chrono::hours{1};

// Inputs besides Stripe events.
struct Tick {}; // a timer fired, or the scheduler looks again
struct ChargeResult {
    enum class Kind { succeeded, declined, processing, rejected, abandoned };
    int attempt = 0;
    Kind kind = Kind::declined;
    PaymentFailure failure{}; // for declined
};
struct CreatorCommand {
    enum class Kind {
        pause,
        resume,
        mark_paid,
        write_off,
        escalate,
        objection,
        withdraw_objection
    };
    Kind kind = Kind::pause;
    std::string note;  // objection: why (required by the API)
    std::string actor; // objection: who recorded it, may be empty
    CreatorCommand() = default;
    CreatorCommand(Kind k, std::string why = {}, std::string who = {}) // NOLINT: implicit
        : kind(k), note(std::move(why)), actor(std::move(who)) {}
};
// The member promised, through the emailed link, to pay by this day (core/promise.hpp says
// which days are taken; others change nothing).
struct PromiseMade {
    Date promised{};
};
// A failure email of the case (a ladder stage, "action_required", "update_payment_method")
// went out to the member: reported by the mail dispatcher once the transport accepted it.
struct EmailSent {
    std::string message;
    int stage = 0; // as in SendEmail
};
using CaseInput = std::variant<Event, Tick, ChargeResult, CreatorCommand, EmailSent, PromiseMade,
                               CollectionReport>;

// Effects, queued as jobs and carried out by the adapters.
struct ChargeInvoice {
    int attempt = 0;
    std::string invoice_id;
    std::string payment_method_id; // empty: the invoice's default method
};
struct SendEmail {
    std::string
        message; // a stage name, or "action_required", "update_payment_method", "payment_received"
    int stage = 0; // 1-based stage number for ladder emails, 0 otherwise
};
struct EndOfSchedule {
    EndAction action = EndAction::leave;
    std::string invoice_id;
    std::string subscription_id;
};
struct NotifyHost {
    std::string type;    // case.opened, case.escalated, case.resolved, case.promise_to_pay,
                         // case.objected, case.objection_withdrawn, claim.limitation_approaching
    int days_before = 0; // claim.limitation_approaching: 90 or 30 days before the limitation date
};
// The creator (or the collection agency) was paid outside Stripe: in plugin mode the invoice is
// marked paid out of band there, so Stripe stops asking. In stripe mode the module does not act.
struct MarkPaidOutOfBand {
    std::string invoice_id;
};
using Effect = std::variant<ChargeInvoice, SendEmail, EndOfSchedule, NotifyHost, MarkPaidOutOfBand>;
// "charge", "email", "end_of_schedule", "notify_host", "paid_out_of_band"
const char* effect_kind(const Effect& e);

struct Decision {
    CaseState next;
    std::vector<Effect> effects;
};

Decision decide(CaseState state, const CaseInput& input, Timestamp now, const CasePolicy& policy);

// The failure class of the newest failure, if there is one.
std::optional<FailureClass> current_failure_class(const CaseState& s);

} // namespace dunning
