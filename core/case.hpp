#pragma once
// A payment case: one failed invoice of one creator, from the first failure until it is paid,
// voided, written off or handed over. Facts from Stripe are folded in by apply(): each field is
// a maximum over what was seen (newest snapshot, highest attempt count, strongest resolution),
// so duplicate and out-of-order webhooks converge. What the module has done about the case
// (charges, emails, escalation) is recorded beside the facts by the engine (case_engine.hpp).
#include "core/event.hpp"
#include "core/retry_policy.hpp"

#include <optional>
#include <string>
#include <vector>

namespace dunning {

// Ordered by strength: a paid invoice stays paid whatever arrives after it; an uncollectible or
// written-off one can still be paid; a voided one cannot be paid.
enum class Resolution { none = 0, written_off = 1, uncollectible = 2, voided = 3, paid = 4 };

const char* to_string(Resolution r);

struct PaymentFailure {
    PaymentError error;
    PaymentMethodKind method = PaymentMethodKind::unknown;
    std::string payment_method_id;
    std::string card_brand;
    Timestamp at{}; // when Stripe created the event (or we got the answer) that reported it
    bool operator==(const PaymentFailure&) const = default;
};

// The SEPA mandate behind the failing payment method was revoked or became inactive
// (mandate.updated): that method can no longer be debited.
struct InactiveMandate {
    std::string mandate_id;
    std::string payment_method_id; // the method it authorised
    Timestamp at{};                // created time of the event that said so
    bool operator==(const InactiveMandate&) const = default;
};

// A charge the module itself made (plugin mode). Technical failures never become attempts.
struct ChargeAttempt {
    enum class Outcome { pending, processing, succeeded, declined, rejected, abandoned };
    int number = 0; // 1, 2, …: part of the Idempotency-Key
    Timestamp at{};
    std::string payment_method_id; // explicit new method, or empty for the invoice's default
    CardNetwork network = CardNetwork::unknown;
    Outcome outcome = Outcome::pending;
    bool operator==(const ChargeAttempt&) const = default;
};
const char* to_string(ChargeAttempt::Outcome o);

// A dispute (chargeback) on the case's payment. A SEPA debit's dispute cannot be defended:
// the money is gone when it is opened, so it counts as lost at once.
struct DisputeRecord {
    std::string dispute_id;
    std::string
        status; // Stripe's: warning_needs_response, needs_response, under_review, won, lost, …
    Timestamp opened_at{};
    std::optional<Timestamp> lost_at; // lost (or a SEPA dispute opened)
    std::optional<Timestamp>
        repaid_at;     // paid again after it was lost (a newer payment, or "paid offline")
    Timestamp as_of{}; // created time of the newest dispute event merged
    bool operator==(const DisputeRecord&) const = default;
};

// The member's promise to pay by `until`, made once per case through the emailed link. While it
// holds the pause, dunning waits; at `until` the ladder resumes where it stood.
struct PromiseToPay {
    Timestamp until{};
    Timestamp made_at{};
    bool holds_pause = false; // false once the creator paused or resumed over it
    bool operator==(const PromiseToPay&) const = default;
};

// The member disputes the claim (Widerspruch), recorded by the creator: dunning and handover
// stop until the creator withdraws it, writes the claim off or marks it paid.
struct Objection {
    Timestamp at{};
    std::string note;  // why, in the creator's words
    std::string actor; // who recorded it, may be empty
    std::optional<Timestamp> withdrawn_at;
    bool operator==(const Objection&) const = default;
};

// One step of a claim handed to a collection agency (core/handover.hpp).
struct CollectionStep {
    std::string what;              // handed_over, partial_payment, paid, uncollectible, returned
    Timestamp at{};                // when the module recorded it
    std::string batch;             // handed_over: the handover batch's id
    std::int64_t amount_minor = 0; // payments: what the agency collected
    std::string date;              // the agency's date, YYYY-MM-DD, or empty
    std::string reference;         // the agency's reference, or empty
    std::string note;
    bool operator==(const CollectionStep&) const = default;
};

struct Collection {
    std::optional<Timestamp> handed_over_at; // with an agency now (reset when returned)
    std::string batch;                       // the handover batch it is in now
    std::string agency_reference;            // the agency's newest reference
    std::int64_t collected_minor = 0;        // paid to the agency so far: off the open amount
    std::vector<CollectionStep> steps;
    bool operator==(const Collection&) const = default;
};

// Stored as JSON (plugin/case_json.cpp); that file stops compiling when a field is added here
// until the field is written and read there too.
struct CaseState {
    // Facts from Stripe.
    std::string creator_id;
    InvoiceFacts invoice;               // merged: newer non-empty values win
    Timestamp invoice_as_of{};          // created time of the newest invoice snapshot merged
    bool failed = false;                // a payment for this invoice has failed: the case exists
    std::optional<Timestamp> opened_at; // earliest failure seen
    std::optional<PaymentFailure> last_failure; // the newest failure with a reason
    bool action_required = false; // the bank asks the member to authenticate (SCA/3DS)
    Resolution resolution = Resolution::none;
    std::optional<Timestamp> resolved_at;
    std::string resolution_reason;   // why the module or the creator resolved it (write_off_reason)
    bool payment_processing = false; // a SEPA debit is on its way (payment_intent.processing)
    std::string new_payment_method;  // a method the member added after the failure, not yet charged
    std::optional<Timestamp> new_payment_method_at;
    std::optional<InactiveMandate> mandate_inactive; // of the failing method, once reported
    PaymentMethodKind paid_with =
        PaymentMethodKind::unknown; // the method of the successful payment
    std::optional<DisputeRecord> dispute;

    // What the module did (written by the engine only).
    std::vector<ChargeAttempt> attempts;
    int stage_queued = 0;             // dunning stages decided and queued: 0 none, 1 the first, …
    int stage_sent = 0;               // … the newest of them that went out to the member
    bool failure_email_sent = false;  // "action required" or "update your payment method" went out
    bool confirmation_queued = false; // "payment received" was queued
    std::optional<Timestamp> final_notice_at;
    std::string failure_notified; // the failure the member was last told about (reason#attempts)
    bool paused = false;
    std::optional<Timestamp> paused_at;
    std::int64_t paused_seconds = 0; // total time spent paused: the ladder moves on by as much
    // Dunning waits because the creator's Stripe account is disconnected (since then).
    std::optional<Timestamp> stripe_disconnected_at;
    std::optional<PromiseToPay> promise;
    std::optional<Objection> objection; // the newest one
    std::optional<Timestamp> escalated_at;
    std::optional<Timestamp> handover_pending_at; // escalated and marked for handover
    Collection collection;     // handover to a collection agency and what came back
    int limitation_warned = 0; // the most urgent limitation warning sent: 0 none, 90, 30 (days)
    std::optional<Timestamp> first_seen_at; // when the engine first saw the case open
    bool opened_announced = false;
    bool resolved_announced = false;
    std::optional<Timestamp> next_wakeup; // when the scheduler must look at the case again

    bool is_open() const { return failed && resolution == Resolution::none; }
    bool objected() const { return objection && !objection->withdrawn_at; }
    // Dunning waits (paused_at is when it started waiting): paused, an objection stands, or the
    // creator's Stripe account is disconnected.
    bool halted() const { return paused || objected() || stripe_disconnected_at.has_value(); }
    // The member received an email about the failure (a ladder stage or a failure email).
    bool member_dunned() const { return stage_sent > 0 || failure_email_sent; }
    bool operator==(const CaseState&) const = default;

    // The amount still owed on the invoice (minor units), without fees and interest, less what
    // a collection agency collected.
    std::int64_t open_amount_minor() const {
        const auto owed =
            invoice.amount_remaining > 0 ? invoice.amount_remaining : invoice.amount_due;
        return owed > collection.collected_minor ? owed - collection.collected_minor : 0;
    }

    // What the retry schedule and the ladder count from: the first failure, but never more than
    // a day before the module learned of it, so late or replayed events cause no burst.
    Timestamp schedule_anchor() const;
};

// Folds one Stripe event about this case's invoice into the facts. Pure; applying the same
// event twice, or two events in either order, gives the same facts.
CaseState apply(CaseState state, const Event& event);

// The status word the API shows: "open", "paused", "objected", "escalated", "handover_pending"
// (escalated and marked for handover to a collection agency), "handed_over" (with the agency),
// "paid", "voided", "uncollectible", "written_off", "disputed" (a lost dispute took the payment
// back and it was not paid again); "none" for an invoice that is known (say, paid) but never
// failed, which is not a case.
const char* status_of(const CaseState& state);

// Why a case in status "paused" waits: "stripe_disconnected", "promise" (the member's promise
// to pay), "creator" (the creator's pause); nullptr when it does not.
const char* pause_reason(const CaseState& state);

// The failing payment method's SEPA mandate is inactive and no other method is waiting to be
// charged: that method must not be debited again.
bool mandate_stops(const CaseState& state);

// Money is still owed on the claim and nobody has settled it: open, paused, objected, escalated,
// handover_pending, handed_over or disputed.
bool claim_outstanding(const CaseState& state);
// The same for a status as status_of names it.
bool claim_outstanding(std::string_view status);

} // namespace dunning
