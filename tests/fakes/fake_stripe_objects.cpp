// Stripe objects as the fake renders them: the fields of the real wire format that matter to a
// dunning module, in the 2020-08-27 shape or the 2025-03-31.basil one. Invoices live in
// fake_stripe_invoice_json.cpp.
#include "tests/fakes/fake_stripe_internal.hpp"

#include <atomic>
#include <cstdio>
#include <random>

namespace dunning::fakes::detail {

json nullable(const std::string& s) {
    return s.empty() ? json(nullptr) : json(s);
}

json nullable(const std::optional<Timestamp>& t) {
    return t ? json(to_unix(*t)) : json(nullptr);
}

// The part of an id after the prefix, to derive related ids (il_…, si_…) from it.
std::string tail(const std::string& id) {
    auto underscore = id.find('_');
    return underscore == std::string::npos ? id : id.substr(underscore + 1);
}

std::string doc_url(std::string code) {
    for (char& c : code)
        if (c == '_') c = '-';
    return "https://stripe.com/docs/error-codes/" + code;
}

const char* type_name(PaymentMethodKind kind) {
    switch (kind) {
    case PaymentMethodKind::sepa_debit:
        return "sepa_debit";
    case PaymentMethodKind::other:
        return "paypal";
    default:
        return "card";
    }
}

namespace {

std::string last4(const std::string& brand) {
    if (brand == "mastercard") return "4444";
    if (brand == "amex") return "8431";
    return "4242";
}

json card_json(const PaymentMethodRecord& m) {
    return {{"brand", m.brand},
            {"checks",
             {{"address_line1_check", nullptr},
              {"address_postal_code_check", nullptr},
              {"cvc_check", "pass"}}},
            {"country", "DE"},
            {"display_brand", m.brand},
            {"exp_month", m.exp_month},
            {"exp_year", m.exp_year},
            {"fingerprint", "fp" + tail(m.id)},
            {"funding", "credit"},
            {"generated_from", nullptr},
            {"last4", last4(m.brand)},
            {"networks", {{"available", json::array({m.brand})}, {"preferred", nullptr}}},
            {"three_d_secure_usage", {{"supported", true}}},
            {"wallet", nullptr}};
}

json sepa_json(const PaymentMethodRecord& m) {
    return {{"bank_code", "37040044"},
            {"branch_code", ""},
            {"country", "DE"},
            {"fingerprint", "fp" + tail(m.id)},
            {"generated_from", {{"charge", nullptr}, {"setup_attempt", nullptr}}},
            {"last4", "3000"}};
}

json last_payment_error_json(const Attempt& a) {
    const PaymentError& e = a.error;
    json error = {{"charge", a.charge},
                  {"code", e.code},
                  {"doc_url", doc_url(e.code)},
                  {"message", e.message},
                  {"payment_method", payment_method_json(a.method)},
                  {"type", "card_error"}};
    if (!e.decline_code.empty()) error["decline_code"] = e.decline_code;
    if (!e.advice_code.empty()) error["advice_code"] = e.advice_code;
    if (!e.network_advice_code.empty()) error["network_advice_code"] = e.network_advice_code;
    if (a.method.kind != PaymentMethodKind::card)
        error["payment_method_type"] = type_name(a.method.kind);
    return error;
}

json outcome_json(const Attempt& a) {
    bool sepa = a.method.kind == PaymentMethodKind::sepa_debit;
    json outcome = {{"advice_code", nullptr},
                    {"network_advice_code", nullptr},
                    {"network_status", "approved_by_network"},
                    {"reason", nullptr},
                    {"risk_level", sepa ? "not_assessed" : "normal"},
                    {"seller_message", "Payment complete."},
                    {"type", "authorized"}};
    if (a.status != "requires_payment_method") return outcome;
    const PaymentError& e = a.error;
    outcome["network_status"] = "declined_by_network";
    outcome["type"] = "issuer_declined";
    outcome["advice_code"] = nullable(e.advice_code);
    outcome["network_advice_code"] = nullable(e.network_advice_code);
    if (!sepa) outcome["reason"] = nullable(e.decline_code);
    outcome["seller_message"] =
        sepa || !e.decline_code.empty()
            ? "The bank returned the decline code `" + e.reason() + "`."
            : std::string("The bank did not return any further details with this decline.");
    return outcome;
}

} // namespace

bool is_basil_or_later(const std::string& api_version) {
    return api_version.size() >= 10 && api_version.compare(0, 10, "2025-03-31") >= 0;
}

std::string new_id(const std::string& prefix) {
    static const unsigned tag = std::random_device{}() % 0x10000;
    static std::atomic<unsigned long long> counter{0};
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%s_fake%04x%08llu", prefix.c_str(), tag, ++counter);
    return buffer;
}

json payment_method_json(const PaymentMethodRecord& m) {
    json j = {{"id", m.id},
              {"object", "payment_method"},
              {"allow_redisplay", "unspecified"},
              {"billing_details",
               {{"address",
                 {{"city", nullptr},
                  {"country", "DE"},
                  {"line1", nullptr},
                  {"line2", nullptr},
                  {"postal_code", nullptr},
                  {"state", nullptr}}},
                {"email", nullptr},
                {"name", nullptr},
                {"phone", nullptr}}},
              {"created", to_unix(m.created)},
              {"customer", nullable(m.customer)},
              {"livemode", false},
              {"metadata", json::object()},
              {"type", type_name(m.kind)}};
    if (m.kind == PaymentMethodKind::sepa_debit)
        j["sepa_debit"] = sepa_json(m);
    else if (m.kind != PaymentMethodKind::other)
        j["card"] = card_json(m);
    return j;
}

json charge_json(const Attempt& a, bool basil) {
    bool failed = a.status == "requires_payment_method";
    bool succeeded = a.status == "succeeded";
    bool sepa = a.method.kind == PaymentMethodKind::sepa_debit;
    json details = {{"type", type_name(a.method.kind)}};
    if (sepa) {
        json sepa_details = sepa_json(a.method);
        sepa_details.erase("generated_from");
        sepa_details["mandate"] = "mandate_" + tail(a.method.id);
        details["sepa_debit"] = sepa_details;
    } else if (a.method.kind != PaymentMethodKind::other) {
        json card = card_json(a.method);
        for (const char* key :
             {"display_brand", "generated_from", "networks", "three_d_secure_usage"})
            card.erase(key);
        card["network"] = a.method.brand;
        card["three_d_secure"] = nullptr;
        details["card"] = card;
    }
    json j = {{"id", a.charge},
              {"object", "charge"},
              {"amount", a.amount},
              {"amount_captured", succeeded || (sepa && !failed) ? a.amount : 0},
              {"amount_refunded", 0},
              {"balance_transaction", succeeded ? json("txn_" + tail(a.charge)) : json(nullptr)},
              {"calculated_statement_descriptor", "FAKE ACADEMY"},
              {"captured", succeeded || sepa},
              {"created", to_unix(a.created)},
              {"currency", a.currency},
              {"customer", a.customer},
              {"description", "Subscription update"},
              {"disputed", false},
              {"failure_code", failed ? json(a.error.code) : json(nullptr)},
              {"failure_message", failed ? json(a.error.message) : json(nullptr)},
              {"fraud_details", json::object()},
              {"livemode", false},
              {"metadata", json::object()},
              {"outcome", outcome_json(a)},
              {"paid", succeeded},
              {"payment_intent", a.payment_intent},
              {"payment_method", a.method.id},
              {"payment_method_details", details},
              {"refunded", false},
              {"status", succeeded ? "succeeded"
                         : failed  ? "failed"
                                   : "pending"}};
    if (!basil) j["invoice"] = nullable(a.invoice);
    return j;
}

json payment_intent_json(const Attempt& a, bool basil) {
    bool failed = a.status == "requires_payment_method";
    json j = {{"id", a.payment_intent},
              {"object", "payment_intent"},
              {"amount", a.amount},
              {"amount_capturable", 0},
              {"amount_received", a.status == "succeeded" ? a.amount : 0},
              {"canceled_at", nullptr},
              {"cancellation_reason", nullptr},
              {"capture_method", "automatic"},
              {"client_secret", a.payment_intent + "_secret_fake"},
              {"confirmation_method", "automatic"},
              {"created", to_unix(a.created)},
              {"currency", a.currency},
              {"customer", a.customer},
              {"description", "Subscription update"},
              {"last_payment_error", failed ? last_payment_error_json(a) : json(nullptr)},
              {"livemode", false},
              {"metadata", json::object()},
              {"next_action", nullptr},
              {"payment_method", failed ? json(nullptr) : json(a.method.id)},
              {"payment_method_types", json::array({type_name(a.method.kind)})},
              {"processing", nullptr},
              {"setup_future_usage", "off_session"},
              {"status", a.status}};
    if (basil) {
        j["latest_charge"] = a.charge;
        return j;
    }
    j["invoice"] = nullable(a.invoice);
    j["charges"] = {{"object", "list"},
                    {"data", json::array({charge_json(a, basil)})},
                    {"has_more", false},
                    {"total_count", 1},
                    {"url", "/v1/charges?payment_intent=" + a.payment_intent}};
    return j;
}

json customer_json(const CustomerRecord& c) {
    return {{"id", c.id},
            {"object", "customer"},
            {"address", nullptr},
            {"balance", 0},
            {"created", to_unix(c.created)},
            {"currency", "eur"},
            {"default_source", nullptr},
            {"delinquent", false},
            {"description", nullptr},
            {"email", nullable(c.email)},
            {"invoice_prefix", "FAKE"},
            {"invoice_settings",
             {{"custom_fields", nullptr},
              {"default_payment_method", nullable(c.default_payment_method)},
              {"footer", nullptr},
              {"rendering_options", nullptr}}},
            {"livemode", false},
            {"metadata", json::object()},
            {"name", nullable(c.name)},
            {"phone", nullptr},
            {"preferred_locales", json::array()},
            {"shipping", nullptr},
            {"tax_exempt", "none"},
            {"test_clock", nullptr}};
}

json subscription_json(const SubscriptionRecord& s) {
    bool canceled = s.status == "canceled";
    json item = {{"id", "si_" + tail(s.id)},
                 {"object", "subscription_item"},
                 {"created", to_unix(s.created)},
                 {"metadata", json::object()},
                 {"price",
                  {{"id", "price_" + tail(s.product)},
                   {"object", "price"},
                   {"product", s.product},
                   {"type", "recurring"}}},
                 {"quantity", 1},
                 {"subscription", s.id}};
    return {{"id", s.id},
            {"object", "subscription"},
            {"cancel_at", nullptr},
            {"cancel_at_period_end", false},
            {"canceled_at", nullable(s.canceled_at)},
            {"cancellation_details",
             {{"comment", nullptr},
              {"feedback", nullptr},
              {"reason", canceled ? json("cancellation_requested") : json(nullptr)}}},
            {"collection_method", "charge_automatically"},
            {"created", to_unix(s.created)},
            {"customer", s.customer},
            {"default_payment_method", nullptr},
            {"ended_at", nullable(s.canceled_at)},
            {"items",
             {{"object", "list"},
              {"data", json::array({item})},
              {"has_more", false},
              {"total_count", 1},
              {"url", "/v1/subscription_items?subscription=" + s.id}}},
            {"latest_invoice", nullable(s.latest_invoice)},
            {"livemode", false},
            {"metadata", json::object()},
            {"status", s.status}};
}

json error_json(const std::string& type, const std::string& message, const std::string& code,
                const std::string& param) {
    json error = {{"message", message}, {"type", type}};
    if (!code.empty()) {
        error["code"] = code;
        error["doc_url"] = doc_url(code);
    }
    if (!param.empty()) error["param"] = param;
    return {{"error", error}};
}

json card_error_json(const Attempt& a, bool basil) {
    json error = last_payment_error_json(a);
    error["payment_intent"] = payment_intent_json(a, basil);
    error["request_log_url"] = "https://dashboard.stripe.com/test/logs/" + new_id("req");
    return {{"error", error}};
}

std::string default_failure_message(const PaymentError& e, PaymentMethodKind kind) {
    const std::string& reason = e.reason();
    if (kind == PaymentMethodKind::sepa_debit) {
        if (reason == "insufficient_funds")
            return "The customer's account has insufficient funds to cover this payment.";
        if (reason == "account_closed") return "The customer's bank account has been closed.";
        if (reason == "debit_not_authorized")
            return "The customer has notified their bank that this payment was unauthorized.";
        return "The payment could not be processed.";
    }
    if (reason == "insufficient_funds") return "Your card has insufficient funds.";
    if (reason == "expired_card") return "Your card has expired.";
    if (reason == "incorrect_cvc") return "Your card's security code is incorrect.";
    if (reason == "processing_error")
        return "An error occurred while processing your card. Try again in a little bit.";
    if (reason == "authentication_required")
        return "Your card was declined. This transaction requires authentication.";
    return "Your card was declined.";
}

} // namespace dunning::fakes::detail