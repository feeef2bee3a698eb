// Invoices in either API shape: before 2025-03-31 with subscription, charge and payment_intent
// at the top level and a price on each line; since then with parent.subscription_details,
// pricing.price_details on each line and, when asked for, the payments list.
#include "tests/fakes/fake_stripe_internal.hpp"

namespace dunning::fakes::detail {

namespace {

json line_json(const InvoiceRecord& r, bool basil) {
    const FakeInvoice& in = r.invoice;
    std::int64_t end = to_unix(r.created);
    std::int64_t start = end - 30 * 24 * 3600;
    bool subscribed = !in.subscription.empty();
    std::string price = "price_" + tail(in.product);
    json line = {{"id", "il_" + tail(in.id)},
                 {"object", "line_item"},
                 {"amount", in.amount_due},
                 {"currency", in.currency},
                 {"description", "1 × Membership"},
                 {"discount_amounts", json::array()},
                 {"discountable", true},
                 {"discounts", json::array()},
                 {"livemode", false},
                 {"metadata", json::object()},
                 {"period", {{"end", end}, {"start", start}}},
                 {"quantity", 1},
                 {"subscription", nullable(in.subscription)}};
    if (basil) {
        line["invoice"] = in.id;
        line["parent"] = {{"invoice_item_details", nullptr},
                          {"subscription_item_details", nullptr}};
        json details = {{"invoice_item", nullptr},
                        {"proration", false},
                        {"proration_details", {{"credited_items", nullptr}}}};
        if (subscribed) {
            details["subscription"] = in.subscription;
            details["subscription_item"] = "si_" + tail(in.subscription);
            line["parent"]["subscription_item_details"] = details;
            line["parent"]["type"] = "subscription_item_details";
        } else {
            details["invoice_item"] = "ii_" + tail(in.id);
            details["subscription"] = nullptr;
            line["parent"]["invoice_item_details"] = details;
            line["parent"]["type"] = "invoice_item_details";
        }
        line["pretax_credit_amounts"] = json::array();
        line["pricing"] = {{"price_details", {{"price", price}, {"product", in.product}}},
                           {"type", "price_details"},
                           {"unit_amount_decimal", std::to_string(in.amount_due)}};
        line["taxes"] = json::array();
        return line;
    }
    json recurring = nullptr;
    if (subscribed)
        recurring = {{"aggregate_usage", nullptr},
                     {"interval", "month"},
                     {"interval_count", 1},
                     {"trial_period_days", nullptr},
                     {"usage_type", "licensed"}};
    line["plan"] = nullptr;
    line["price"] = {{"id", price},
                     {"object", "price"},
                     {"active", true},
                     {"billing_scheme", "per_unit"},
                     {"currency", in.currency},
                     {"livemode", false},
                     {"metadata", json::object()},
                     {"product", in.product},
                     {"recurring", recurring},
                     {"type", subscribed ? "recurring" : "one_time"},
                     {"unit_amount", in.amount_due},
                     {"unit_amount_decimal", std::to_string(in.amount_due)}};
    line["proration"] = false;
    line["subscription_item"] = subscribed ? json("si_" + tail(in.subscription)) : json(nullptr);
    line["type"] = subscribed ? "subscription" : "invoiceitem";
    return line;
}

json payments_json(const InvoiceRecord& r) {
    json data = json::array();
    if (const auto& a = r.last_attempt) {
        bool paid = a->status == "succeeded";
        data.push_back(
            {{"id", "inpay_" + tail(a->payment_intent)},
             {"object", "invoice_payment"},
             {"amount_paid", paid ? json(a->amount) : json(nullptr)},
             {"amount_requested", a->amount},
             {"created", to_unix(a->created)},
             {"currency", a->currency},
             {"invoice", r.invoice.id},
             {"is_default", true},
             {"livemode", false},
             {"payment", {{"payment_intent", a->payment_intent}, {"type", "payment_intent"}}},
             {"status", paid ? "paid" : "open"},
             {"status_transitions", {{"canceled_at", nullptr}, {"paid_at", nullable(r.paid_at)}}}});
    }
    return {{"object", "list"},
            {"data", data},
            {"has_more", false},
            {"total_count", data.size()},
            {"url", "/v1/invoice_payments"}};
}

json address_json(const PostalAddress& a) {
    if (a.empty()) return nullptr;
    return {{"city", nullable(a.city)},
            {"country", nullable(a.country)},
            {"line1", nullable(a.line1)},
            {"line2", nullable(a.line2)},
            {"postal_code", nullable(a.postal_code)},
            {"state", nullable(a.state)}};
}

} // namespace

json invoice_json(const InvoiceRecord& r, bool basil, bool with_payments) {
    const FakeInvoice& in = r.invoice;
    bool paid = in.status == "paid";
    std::int64_t created = to_unix(r.created);
    json j = {
        {"id", in.id},
        {"object", "invoice"},
        {"account_country", "DE"},
        {"account_name", "Fake Academy"},
        {"amount_due", in.amount_due},
        {"amount_paid", paid ? in.amount_due : 0},
        {"amount_remaining", paid ? 0 : in.amount_due},
        {"attempt_count", in.attempt_count},
        {"attempted", in.attempt_count > 0},
        {"auto_advance", in.status == "open"},
        {"billing_reason", in.subscription.empty() ? "manual" : "subscription_cycle"},
        {"collection_method", in.collection_method},
        {"created", created},
        {"currency", in.currency},
        {"customer", in.customer},
        {"customer_address", address_json(in.customer_address)},
        {"customer_email", nullable(in.customer_email)},
        {"customer_name", nullable(in.customer_name)},
        {"default_payment_method", nullptr},
        {"description", nullptr},
        {"due_date", nullable(in.due_date)},
        {"hosted_invoice_url", "https://invoice.stripe.com/i/acct_fake/test_" + in.id},
        {"invoice_pdf", "https://pay.stripe.com/invoice/acct_fake/test_" + in.id + "/pdf?s=ap"},
        {"lines",
         {{"object", "list"},
          {"data", json::array({line_json(r, basil)})},
          {"has_more", false},
          {"total_count", 1},
          {"url", "/v1/invoices/" + in.id + "/lines"}}},
        {"livemode", false},
        {"metadata", json::object()},
        {"next_payment_attempt", nullable(in.next_payment_attempt)},
        {"number", r.number},
        {"period_end", created},
        {"period_start", created - 30 * 24 * 3600},
        {"status", in.status},
        {"status_transitions",
         {{"finalized_at", created},
          {"marked_uncollectible_at", nullable(r.uncollectible_at)},
          {"paid_at", nullable(r.paid_at)},
          {"voided_at", nullptr}}},
        {"subtotal", in.amount_due},
        {"test_clock", nullptr},
        {"total", in.amount_due},
    };
    json metadata = json::object();
    for (const auto& [key, value] : in.subscription_metadata)
        metadata[key] = value;
    if (basil) {
        j["parent"] = nullptr;
        if (!in.subscription.empty())
            j["parent"] = {{"quote_details", nullptr},
                           {"subscription_details",
                            {{"metadata", metadata}, {"subscription", in.subscription}}},
                           {"type", "subscription_details"}};
        if (with_payments) j["payments"] = payments_json(r);
        return j;
    }
    const auto& attempt = r.last_attempt;
    j["charge"] = attempt ? json(attempt->charge) : json(nullptr);
    j["paid"] = paid;
    j["paid_out_of_band"] = r.paid_out_of_band;
    j["payment_intent"] = attempt ? json(attempt->payment_intent) : json(nullptr);
    j["subscription"] = nullable(in.subscription);
    // Since 2022-11-15; the legacy fixtures' version had none.
    if (!in.subscription_metadata.empty()) j["subscription_details"] = {{"metadata", metadata}};
    return j;
}

} // namespace dunning::fakes::detail
