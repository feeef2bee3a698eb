// Given a case, when an event arrives, then its state: the fold must not depend on delivery
// order or repetition.
#include "core/case.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace dunning;

namespace {

Event invoice_event(EventKind kind, std::int64_t created, int attempt = 1, std::string status = "open") {
    InvoiceFacts f;
    f.invoice_id = "in_1";
    f.customer_id = "cus_1";
    f.payment_intent_id = "pi_1";
    f.amount_due = 4900;
    f.currency = "eur";
    f.attempt_count = attempt;
    f.status = std::move(status);
    return Event{"evt_" + std::to_string(created), "x", "", from_unix(created), kind, f};
}

Event payment_failed(std::int64_t created, std::string decline) {
    PaymentFacts p;
    p.payment_intent_id = "pi_1";
    p.method = PaymentMethodKind::card;
    p.card_brand = "visa";
    p.error.code = "card_declined";
    p.error.decline_code = std::move(decline);
    return Event{"evt_p" + std::to_string(created), "payment_intent.payment_failed", "",
                 from_unix(created), EventKind::payment_failed, p};
}

Event payment_succeeded(std::int64_t created) {
    PaymentFacts p;
    p.payment_intent_id = "pi_1";
    return Event{"evt_s" + std::to_string(created), "payment_intent.succeeded", "",
                 from_unix(created), EventKind::payment_succeeded, p};
}

CaseState fold(const std::vector<Event>& events) {
    CaseState s;
    s.creator_id = "c";
    for (const auto& e : events) s = apply(s, e);
    return s;
}

struct Row {
    const char* name;
    std::vector<Event> given_and_when;
    const char* then_status;
};

class CaseTransitions : public ::testing::TestWithParam<Row> {};

TEST_P(CaseTransitions, ReachTheExpectedStatusInEveryOrder) {
    auto events = GetParam().given_and_when;
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.id < b.id; });
    do {
        EXPECT_STREQ(status_of(fold(events)), GetParam().then_status);
        auto twice = events;
        twice.insert(twice.end(), events.begin(), events.end());
        EXPECT_STREQ(status_of(fold(twice)), GetParam().then_status);
    } while (std::next_permutation(events.begin(), events.end(),
                                   [](const Event& a, const Event& b) { return a.id < b.id; }));
}

INSTANTIATE_TEST_SUITE_P(
    Table, CaseTransitions,
    ::testing::Values(
        Row{"failure_opens", {invoice_event(EventKind::invoice_payment_failed, 100)}, "open"},
        Row{"action_required_opens", {invoice_event(EventKind::invoice_payment_action_required, 100)}, "open"},
        Row{"payment_intent_failure_opens", {payment_failed(100, "insufficient_funds")}, "open"},
        Row{"paid_alone_is_no_case", {invoice_event(EventKind::invoice_paid, 100, 1, "paid")}, "none"},
        Row{"failed_then_paid",
            {invoice_event(EventKind::invoice_payment_failed, 100),
             invoice_event(EventKind::invoice_paid, 200, 2, "paid")},
            "paid"},
        Row{"failed_then_pi_succeeded",
            {invoice_event(EventKind::invoice_payment_failed, 100), payment_succeeded(300)},
            "paid"},
        Row{"failed_then_voided",
            {invoice_event(EventKind::invoice_payment_failed, 100),
             invoice_event(EventKind::invoice_voided, 200, 1, "void")},
            "voided"},
        Row{"failed_then_uncollectible",
            {invoice_event(EventKind::invoice_payment_failed, 100),
             invoice_event(EventKind::invoice_marked_uncollectible, 200, 1, "uncollectible")},
            "uncollectible"},
        Row{"uncollectible_then_paid_is_paid",
            {invoice_event(EventKind::invoice_payment_failed, 100),
             invoice_event(EventKind::invoice_marked_uncollectible, 200, 1, "uncollectible"),
             invoice_event(EventKind::invoice_paid, 300, 1, "paid")},
            "paid"},
        Row{"several_failures_then_paid",
            {invoice_event(EventKind::invoice_payment_failed, 100, 1),
             payment_failed(101, "insufficient_funds"),
             invoice_event(EventKind::invoice_payment_failed, 200, 2),
             invoice_event(EventKind::invoice_paid, 300, 3, "paid")},
            "paid"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Case, KeepsTheNewestFailureReasonWhateverTheOrder) {
    const auto a = fold({payment_failed(100, "insufficient_funds"), payment_failed(200, "do_not_honor")});
    const auto b = fold({payment_failed(200, "do_not_honor"), payment_failed(100, "insufficient_funds")});
    ASSERT_TRUE(a.last_failure && b.last_failure);
    EXPECT_EQ(a.last_failure->error.decline_code, "do_not_honor");
    EXPECT_EQ(b.last_failure->error.decline_code, "do_not_honor");
    EXPECT_EQ(a.opened_at, from_unix(100));
    EXPECT_EQ(b.opened_at, from_unix(100));
}

TEST(Case, KeepsTheHighestAttemptAndNewestSnapshot) {
    auto late = invoice_event(EventKind::invoice_payment_failed, 300, 3);
    std::get<InvoiceFacts>(late.facts).hosted_invoice_url = "https://pay/new";
    auto early = invoice_event(EventKind::invoice_payment_failed, 100, 1);
    std::get<InvoiceFacts>(early.facts).hosted_invoice_url = "https://pay/old";
    std::get<InvoiceFacts>(early.facts).customer_email = "a@example.org";
    const auto s = fold({late, early});
    EXPECT_EQ(s.invoice.attempt_count, 3);
    EXPECT_EQ(s.invoice.hosted_invoice_url, "https://pay/new");
    EXPECT_EQ(s.invoice.customer_email, "a@example.org"); // older but only source
    EXPECT_EQ(s.invoice_as_of, from_unix(300));
}

TEST(Case, LateFailureDoesNotReopenAPaidInvoice) {
    const auto s = fold({invoice_event(EventKind::invoice_paid, 200, 2, "paid"),
                         invoice_event(EventKind::invoice_payment_failed, 100, 1)});
    EXPECT_STREQ(status_of(s), "paid");
    EXPECT_FALSE(s.is_open());
    EXPECT_EQ(s.resolved_at, from_unix(200));
}

TEST(Case, VoidedInvoiceIsNotMadePaidByAnUncollectibleMark) {
    const auto s = fold({invoice_event(EventKind::invoice_payment_failed, 100),
                         invoice_event(EventKind::invoice_voided, 300, 1, "void"),
                         invoice_event(EventKind::invoice_marked_uncollectible, 200, 1, "uncollectible")});
    EXPECT_STREQ(status_of(s), "voided");
}

} // namespace
