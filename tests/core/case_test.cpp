// Given a case, when an event arrives, then its state: the fold must not depend on delivery
// order or repetition.
#include "core/case.hpp"
#include "core/case_engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace dunning;

namespace {

Event invoice_event(EventKind kind, std::int64_t created, int attempt = 1,
                    std::string status = "open") {
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
    return Event{"evt_p" + std::to_string(created),
                 "payment_intent.payment_failed",
                 "",
                 from_unix(created),
                 EventKind::payment_failed,
                 p};
}

Event payment_succeeded(std::int64_t created) {
    PaymentFacts p;
    p.payment_intent_id = "pi_1";
    return Event{"evt_s" + std::to_string(created),
                 "payment_intent.succeeded",
                 "",
                 from_unix(created),
                 EventKind::payment_succeeded,
                 p};
}

CaseState fold(const std::vector<Event>& events) {
    CaseState s;
    s.creator_id = "c";
    for (const auto& e : events)
        s = apply(s, e);
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
    std::sort(events.begin(), events.end(),
              [](const Event& a, const Event& b) { return a.id < b.id; });
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
        Row{"action_required_opens",
            {invoice_event(EventKind::invoice_payment_action_required, 100)},
            "open"},
        Row{"payment_intent_failure_opens", {payment_failed(100, "insufficient_funds")}, "open"},
        Row{"paid_alone_is_no_case",
            {invoice_event(EventKind::invoice_paid, 100, 1, "paid")},
            "none"},
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
    const auto a =
        fold({payment_failed(100, "insufficient_funds"), payment_failed(200, "do_not_honor")});
    const auto b =
        fold({payment_failed(200, "do_not_honor"), payment_failed(100, "insufficient_funds")});
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
    const auto s =
        fold({invoice_event(EventKind::invoice_payment_failed, 100),
              invoice_event(EventKind::invoice_voided, 300, 1, "void"),
              invoice_event(EventKind::invoice_marked_uncollectible, 200, 1, "uncollectible")});
    EXPECT_STREQ(status_of(s), "voided");
}

// ---- disputes ----------------------------------------------------------------------------

Event dispute(EventKind kind, std::int64_t created, std::string status,
              PaymentMethodKind method = PaymentMethodKind::unknown) {
    DisputeFacts d;
    d.dispute_id = "dp_1";
    d.charge_id = "ch_1";
    d.status = std::move(status);
    d.method = method;
    return Event{
        "evt_d" + std::to_string(created), "charge.dispute.x", "", from_unix(created), kind, d};
}

Event succeeded_with(std::int64_t created, PaymentMethodKind method) {
    auto e = payment_succeeded(created);
    std::get<PaymentFacts>(e.facts).method = method;
    return e;
}

// Every order of the events, each also delivered twice, gives the same dispute record.
void expect_in_every_order(std::vector<Event> events, const DisputeRecord& expected) {
    auto by_id = [](const Event& a, const Event& b) { return a.id < b.id; };
    std::sort(events.begin(), events.end(), by_id);
    do {
        auto twice = events;
        twice.insert(twice.end(), events.begin(), events.end());
        for (const auto& s : {fold(events), fold(twice)}) {
            ASSERT_TRUE(s.dispute);
            EXPECT_EQ(s.dispute->status, expected.status);
            EXPECT_EQ(s.dispute->opened_at, expected.opened_at);
            EXPECT_EQ(s.dispute->lost_at, expected.lost_at);
            EXPECT_EQ(s.dispute->repaid_at, expected.repaid_at);
            EXPECT_EQ(s.dispute->as_of, expected.as_of);
        }
    } while (std::next_permutation(events.begin(), events.end(), by_id));
}

DisputeRecord record(std::string status, std::int64_t opened, std::int64_t as_of,
                     std::optional<std::int64_t> lost = {},
                     std::optional<std::int64_t> repaid = {}) {
    DisputeRecord d;
    d.status = std::move(status);
    d.opened_at = from_unix(opened);
    d.as_of = from_unix(as_of);
    if (lost) d.lost_at = from_unix(*lost);
    if (repaid) d.repaid_at = from_unix(*repaid);
    return d;
}

TEST(CaseDispute, LeavesTheDunningAlone) {
    const auto s = fold({invoice_event(EventKind::invoice_payment_failed, 100),
                         invoice_event(EventKind::invoice_paid, 200, 2, "paid"),
                         dispute(EventKind::dispute_closed, 400, "lost")});
    EXPECT_STREQ(status_of(s), "disputed") << "the lost dispute took the payment back";
    EXPECT_EQ(s.resolution, Resolution::paid);
    EXPECT_TRUE(s.failed);
    EXPECT_EQ(s.resolved_at, from_unix(200));
    ASSERT_TRUE(s.dispute);
    EXPECT_EQ(s.dispute->dispute_id, "dp_1");
    EXPECT_EQ(s.dispute->lost_at, from_unix(400));

    const auto never_failed = fold({dispute(EventKind::dispute_created, 300, "needs_response")});
    EXPECT_STREQ(status_of(never_failed), "none");
    EXPECT_FALSE(never_failed.failed);
}

TEST(CaseDispute, CardDisputeIsLostOnlyWhenStripeSaysSo) {
    expect_in_every_order(
        {dispute(EventKind::dispute_created, 300, "needs_response", PaymentMethodKind::card)},
        record("needs_response", 300, 300));
    expect_in_every_order(
        {dispute(EventKind::dispute_created, 300, "needs_response", PaymentMethodKind::card),
         dispute(EventKind::dispute_closed, 900, "lost")},
        record("lost", 300, 900, 900));
}

TEST(CaseDispute, SepaDisputeIsLostWhenItOpens) {
    // Known from the dispute itself.
    expect_in_every_order(
        {dispute(EventKind::dispute_created, 300, "needs_response", PaymentMethodKind::sepa_debit)},
        record("needs_response", 300, 300, 300));
    // Known from the payment, whichever arrives first.
    expect_in_every_order({succeeded_with(200, PaymentMethodKind::sepa_debit),
                           dispute(EventKind::dispute_created, 300, "needs_response")},
                          record("needs_response", 300, 300, 300));
    // Known from the failure that opened the case.
    auto sepa_failure = payment_failed(100, "");
    auto& p = std::get<PaymentFacts>(sepa_failure.facts);
    p.method = PaymentMethodKind::sepa_debit;
    p.error = PaymentError{};
    p.error.code = "insufficient_funds";
    expect_in_every_order({sepa_failure, dispute(EventKind::dispute_created, 300, "needs_response"),
                           dispute(EventKind::dispute_closed, 500, "lost")},
                          record("lost", 300, 500, 300));
}

TEST(CaseDispute, PaidWithIsTheSucceededPaymentsMethod) {
    EXPECT_EQ(fold({succeeded_with(200, PaymentMethodKind::card)}).paid_with,
              PaymentMethodKind::card);
    EXPECT_EQ(fold({succeeded_with(200, PaymentMethodKind::sepa_debit), payment_succeeded(300)})
                  .paid_with,
              PaymentMethodKind::sepa_debit)
        << "an event without the method keeps the known one";
}

TEST(CaseDispute, WonAfterLostUndoesTheLoss) {
    expect_in_every_order({dispute(EventKind::dispute_created, 300, "lost"),
                           dispute(EventKind::dispute_closed, 600, "won")},
                          record("won", 300, 600));
    // A SEPA dispute the creator won after all (say, the payer withdrew it).
    expect_in_every_order(
        {dispute(EventKind::dispute_created, 300, "needs_response", PaymentMethodKind::sepa_debit),
         dispute(EventKind::dispute_closed, 600, "won")},
        record("won", 300, 600));
    // Only the closing event seen: a won SEPA dispute was never lost.
    expect_in_every_order({succeeded_with(200, PaymentMethodKind::sepa_debit),
                           dispute(EventKind::dispute_closed, 600, "won")},
                          record("won", 600, 600));
    // An older "won" does not undo a newer loss.
    expect_in_every_order({dispute(EventKind::dispute_created, 300, "won"),
                           dispute(EventKind::dispute_closed, 600, "lost")},
                          record("lost", 300, 600, 600));
}

TEST(CaseDispute, APaymentAfterTheLossIsARepayment) {
    // The original payment (before the dispute) is no repayment; the later one is.
    const auto s = fold({invoice_event(EventKind::invoice_paid, 200, 1, "paid"),
                         dispute(EventKind::dispute_closed, 400, "lost"), payment_succeeded(700)});
    ASSERT_TRUE(s.dispute);
    EXPECT_EQ(s.dispute->repaid_at, from_unix(700));
    // The invoice's newest snapshot is kept, so its repayment counts in any order.
    expect_in_every_order({invoice_event(EventKind::invoice_paid, 200, 1, "paid"),
                           dispute(EventKind::dispute_closed, 400, "lost"),
                           invoice_event(EventKind::invoice_paid, 700, 1, "paid"),
                           invoice_event(EventKind::invoice_paid, 800, 1, "paid")},
                          record("lost", 400, 400, 400, 800));
}

TEST(CaseDispute, PaidOfflineAfterALostChargeback) {
    const CasePolicy policy;
    auto s = fold({invoice_event(EventKind::invoice_paid, 200, 1, "paid"),
                   dispute(EventKind::dispute_closed, 400, "lost")});
    const auto marked =
        decide(s, CreatorCommand{CreatorCommand::Kind::mark_paid}, from_unix(900), policy);
    ASSERT_TRUE(marked.next.dispute);
    EXPECT_EQ(marked.next.dispute->repaid_at, from_unix(900));
    EXPECT_TRUE(marked.effects.empty());
    // Marking again changes nothing: it is already repaid.
    const auto again = decide(marked.next, CreatorCommand{CreatorCommand::Kind::mark_paid},
                              from_unix(1000), policy);
    EXPECT_EQ(again.next.dispute->repaid_at, from_unix(900));
    // Without a lost dispute there is nothing to repay.
    const auto plain =
        decide(fold({invoice_event(EventKind::invoice_payment_failed, 100)}),
               CreatorCommand{CreatorCommand::Kind::mark_paid}, from_unix(900), policy);
    EXPECT_FALSE(plain.next.dispute);
}

} // namespace
