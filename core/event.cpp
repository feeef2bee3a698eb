#include "core/event.hpp"

namespace dunning {

const char* to_string(EventKind kind) {
    switch (kind) {
    case EventKind::invoice_payment_failed:
        return "invoice_payment_failed";
    case EventKind::invoice_payment_action_required:
        return "invoice_payment_action_required";
    case EventKind::invoice_paid:
        return "invoice_paid";
    case EventKind::invoice_voided:
        return "invoice_voided";
    case EventKind::invoice_marked_uncollectible:
        return "invoice_marked_uncollectible";
    case EventKind::payment_failed:
        return "payment_failed";
    case EventKind::payment_processing:
        return "payment_processing";
    case EventKind::payment_succeeded:
        return "payment_succeeded";
    case EventKind::dispute_created:
        return "dispute_created";
    case EventKind::dispute_closed:
        return "dispute_closed";
    case EventKind::subscription_updated:
        return "subscription_updated";
    case EventKind::subscription_deleted:
        return "subscription_deleted";
    case EventKind::payment_method_attached:
        return "payment_method_attached";
    case EventKind::setup_intent_succeeded:
        return "setup_intent_succeeded";
    case EventKind::default_payment_method_changed:
        return "default_payment_method_changed";
    case EventKind::mandate_updated:
        return "mandate_updated";
    case EventKind::account_deauthorized:
        return "account_deauthorized";
    case EventKind::account_authorized:
        return "account_authorized";
    }
    return "unknown";
}

const char* to_string(PaymentMethodKind k) {
    switch (k) {
    case PaymentMethodKind::card:
        return "card";
    case PaymentMethodKind::sepa_debit:
        return "sepa_debit";
    case PaymentMethodKind::other:
        return "other";
    case PaymentMethodKind::unknown:
        return "unknown";
    }
    return "unknown";
}

} // namespace dunning
