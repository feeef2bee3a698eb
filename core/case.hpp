#pragma once
// A payment case: one failed invoice of one creator, from the first failure until it is paid,
// voided or written off. The state is recomputed from facts so that duplicate and out-of-order
// webhooks converge: each field is a maximum over what was seen (latest snapshot, highest
// attempt count, strongest resolution).
#include "event.hpp"

#include <optional>
#include <string>

namespace dunning {

// Ordered by strength: a paid invoice stays paid whatever arrives after it, an uncollectible
// one can still be paid, a voided one cannot be paid.
enum class Resolution { none = 0, uncollectible = 1, voided = 2, paid = 3 };

const char* to_string(Resolution r);

struct PaymentFailure {
    PaymentError error;
    PaymentMethodKind method = PaymentMethodKind::unknown;
    std::string payment_method_id;
    std::string card_brand;
    Timestamp at{}; // when Stripe created the event that reported it
};

struct CaseState {
    std::string creator_id;
    InvoiceFacts invoice;   // merged: newer non-empty values win
    Timestamp invoice_as_of{}; // created time of the newest invoice snapshot merged
    bool failed = false;      // a payment for this invoice has failed: the case exists
    std::optional<Timestamp> opened_at; // earliest failure seen
    std::optional<PaymentFailure> last_failure; // the newest failure with a reason
    bool action_required = false; // the bank asks the member to authenticate (SCA/3DS)
    Resolution resolution = Resolution::none;
    std::optional<Timestamp> resolved_at;

    bool is_open() const { return failed && resolution == Resolution::none; }
};

// Folds one event about this case's invoice into the state. Pure; applying the same event
// twice, or two events in either order, gives the same state.
CaseState apply(CaseState state, const Event& event);

// The status word the API shows: "open", "paid", "voided", "uncollectible"; "none" for an
// invoice that is known (say, paid) but never failed, which is not a case.
const char* status_of(const CaseState& state);

} // namespace dunning
