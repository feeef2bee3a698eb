#include "store/case_json.hpp"

#include <ctime>

namespace dunning::store {

using nlohmann::json;

namespace {

json optional_time(const std::optional<Timestamp>& t) {
    return t ? json(to_unix(*t)) : json(nullptr);
}

std::optional<Timestamp> read_time(const json& j, const char* key) {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return from_unix(j.at(key).get<std::int64_t>());
}

PaymentMethodKind method_from(const std::string& s) {
    if (s == "card") return PaymentMethodKind::card;
    if (s == "sepa_debit") return PaymentMethodKind::sepa_debit;
    if (s == "other") return PaymentMethodKind::other;
    return PaymentMethodKind::unknown;
}

json invoice_to_json(const InvoiceFacts& i) {
    return {{"invoice_id", i.invoice_id},
            {"number", i.number},
            {"customer_id", i.customer_id},
            {"customer_email", i.customer_email},
            {"customer_name", i.customer_name},
            {"subscription_id", i.subscription_id},
            {"payment_intent_id", i.payment_intent_id},
            {"charge_id", i.charge_id},
            {"status", i.status},
            {"billing_reason", i.billing_reason},
            {"currency", i.currency},
            {"amount_due", i.amount_due},
            {"amount_remaining", i.amount_remaining},
            {"attempt_count", i.attempt_count},
            {"next_payment_attempt", optional_time(i.next_payment_attempt)},
            {"due_date", optional_time(i.due_date)},
            {"hosted_invoice_url", i.hosted_invoice_url},
            {"products", i.products}};
}

InvoiceFacts invoice_from_json(const json& j) {
    InvoiceFacts i;
    j.at("invoice_id").get_to(i.invoice_id);
    j.at("number").get_to(i.number);
    j.at("customer_id").get_to(i.customer_id);
    j.at("customer_email").get_to(i.customer_email);
    j.at("customer_name").get_to(i.customer_name);
    j.at("subscription_id").get_to(i.subscription_id);
    j.at("payment_intent_id").get_to(i.payment_intent_id);
    j.at("charge_id").get_to(i.charge_id);
    j.at("status").get_to(i.status);
    j.at("billing_reason").get_to(i.billing_reason);
    j.at("currency").get_to(i.currency);
    j.at("amount_due").get_to(i.amount_due);
    j.at("amount_remaining").get_to(i.amount_remaining);
    j.at("attempt_count").get_to(i.attempt_count);
    i.next_payment_attempt = read_time(j, "next_payment_attempt");
    i.due_date = read_time(j, "due_date");
    j.at("hosted_invoice_url").get_to(i.hosted_invoice_url);
    j.at("products").get_to(i.products);
    return i;
}

json failure_to_json(const PaymentFailure& f) {
    return {{"code", f.error.code},
            {"decline_code", f.error.decline_code},
            {"advice_code", f.error.advice_code},
            {"network_advice_code", f.error.network_advice_code},
            {"message", f.error.message},
            {"method", to_string(f.method)},
            {"payment_method_id", f.payment_method_id},
            {"card_brand", f.card_brand},
            {"at", to_unix(f.at)}};
}

PaymentFailure failure_from_json(const json& j) {
    PaymentFailure f;
    j.at("code").get_to(f.error.code);
    j.at("decline_code").get_to(f.error.decline_code);
    j.at("advice_code").get_to(f.error.advice_code);
    j.at("network_advice_code").get_to(f.error.network_advice_code);
    j.at("message").get_to(f.error.message);
    f.method = method_from(j.at("method").get<std::string>());
    j.at("payment_method_id").get_to(f.payment_method_id);
    j.at("card_brand").get_to(f.card_brand);
    f.at = from_unix(j.at("at").get<std::int64_t>());
    return f;
}

json attempts_to_json(const std::vector<ChargeAttempt>& attempts) {
    json out = json::array();
    for (const auto& a : attempts)
        out.push_back({{"number", a.number},
                       {"at", to_unix(a.at)},
                       {"payment_method_id", a.payment_method_id},
                       {"network", static_cast<int>(a.network)},
                       {"outcome", to_string(a.outcome)}});
    return out;
}

ChargeAttempt::Outcome outcome_from(const std::string& s) {
    using O = ChargeAttempt::Outcome;
    for (auto o : {O::pending, O::processing, O::succeeded, O::declined, O::rejected, O::abandoned})
        if (s == to_string(o)) return o;
    return O::pending;
}

std::vector<ChargeAttempt> attempts_from_json(const json& j) {
    std::vector<ChargeAttempt> out;
    for (const auto& a : j) {
        ChargeAttempt c;
        a.at("number").get_to(c.number);
        c.at = from_unix(a.at("at").get<std::int64_t>());
        a.at("payment_method_id").get_to(c.payment_method_id);
        c.network = static_cast<CardNetwork>(a.at("network").get<int>());
        c.outcome = outcome_from(a.at("outcome").get<std::string>());
        out.push_back(std::move(c));
    }
    return out;
}

json dispute_to_json(const std::optional<DisputeRecord>& d) {
    if (!d) return nullptr;
    return {{"dispute_id", d->dispute_id},
            {"status", d->status},
            {"opened_at", to_unix(d->opened_at)},
            {"lost_at", optional_time(d->lost_at)},
            {"repaid_at", optional_time(d->repaid_at)},
            {"as_of", to_unix(d->as_of)}};
}

std::optional<DisputeRecord> dispute_from_json(const json& j) {
    if (!j.contains("dispute") || j.at("dispute").is_null()) return std::nullopt;
    const json& d = j.at("dispute");
    DisputeRecord r;
    r.dispute_id = d.value("dispute_id", "");
    r.status = d.value("status", "");
    r.opened_at = from_unix(d.value("opened_at", std::int64_t{0}));
    r.lost_at = read_time(d, "lost_at");
    r.repaid_at = read_time(d, "repaid_at");
    r.as_of = from_unix(d.value("as_of", std::int64_t{0}));
    return r;
}

Resolution resolution_from(const std::string& s) {
    if (s == "written_off") return Resolution::written_off;
    if (s == "paid") return Resolution::paid;
    if (s == "voided") return Resolution::voided;
    if (s == "uncollectible") return Resolution::uncollectible;
    return Resolution::none;
}

} // namespace

json state_to_json(const CaseState& s) {
    return {{"creator_id", s.creator_id},
            {"invoice", invoice_to_json(s.invoice)},
            {"invoice_as_of", to_unix(s.invoice_as_of)},
            {"failed", s.failed},
            {"opened_at", optional_time(s.opened_at)},
            {"last_failure", s.last_failure ? failure_to_json(*s.last_failure) : json(nullptr)},
            {"action_required", s.action_required},
            {"resolution", to_string(s.resolution)},
            {"resolved_at", optional_time(s.resolved_at)},
            {"payment_processing", s.payment_processing},
            {"new_payment_method", s.new_payment_method},
            {"new_payment_method_at", optional_time(s.new_payment_method_at)},
            {"paid_with", to_string(s.paid_with)},
            {"dispute", dispute_to_json(s.dispute)},
            {"attempts", attempts_to_json(s.attempts)},
            {"stage_sent", s.stage_sent},
            {"final_notice_at", optional_time(s.final_notice_at)},
            {"failure_notified", s.failure_notified},
            {"paused", s.paused},
            {"paused_at", optional_time(s.paused_at)},
            {"paused_seconds", s.paused_seconds},
            {"escalated_at", optional_time(s.escalated_at)},
            {"first_seen_at", optional_time(s.first_seen_at)},
            {"opened_announced", s.opened_announced},
            {"resolved_announced", s.resolved_announced},
            {"next_wakeup", optional_time(s.next_wakeup)}};
}

CaseState state_from_json(const json& j) {
    CaseState s;
    j.at("creator_id").get_to(s.creator_id);
    s.invoice = invoice_from_json(j.at("invoice"));
    s.invoice_as_of = from_unix(j.at("invoice_as_of").get<std::int64_t>());
    j.at("failed").get_to(s.failed);
    s.opened_at = read_time(j, "opened_at");
    if (!j.at("last_failure").is_null()) s.last_failure = failure_from_json(j.at("last_failure"));
    j.at("action_required").get_to(s.action_required);
    s.resolution = resolution_from(j.at("resolution").get<std::string>());
    s.resolved_at = read_time(j, "resolved_at");
    // Fields below came with the case engine (schema 2); rows from before lack them.
    s.payment_processing = j.value("payment_processing", false);
    s.new_payment_method = j.value("new_payment_method", "");
    s.new_payment_method_at = read_time(j, "new_payment_method_at");
    if (j.contains("attempts")) s.attempts = attempts_from_json(j.at("attempts"));
    s.stage_sent = j.value("stage_sent", 0);
    s.final_notice_at = read_time(j, "final_notice_at");
    s.failure_notified = j.value("failure_notified", "");
    s.paused = j.value("paused", false);
    s.paused_at = read_time(j, "paused_at");
    s.paused_seconds = j.value("paused_seconds", std::int64_t{0});
    s.escalated_at = read_time(j, "escalated_at");
    s.first_seen_at = read_time(j, "first_seen_at");
    s.opened_announced = j.value("opened_announced", false);
    s.resolved_announced = j.value("resolved_announced", false);
    s.next_wakeup = read_time(j, "next_wakeup");
    // Fields below came with the access controller; rows from before lack them.
    s.paid_with = method_from(j.value("paid_with", ""));
    s.dispute = dispute_from_json(j);
    return s;
}

} // namespace dunning::store
