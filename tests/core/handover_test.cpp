// Handing claims to a collection agency: the agency's results on the case, the export rows and
// their CSV (hostile names included), interest up to the export date, court dunning data.
#include "core/case_engine.hpp"
#include "core/court_dunning.hpp"
#include "core/handover.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono;
using Kind = CollectionReport::Kind;

namespace {

const Timestamp t0 = from_unix(1'800'000'000); // 2027-01-15 08:00 UTC

CaseState escalated(std::int64_t amount_minor) {
    CaseState s;
    s.creator_id = "alpha";
    s.failed = true;
    s.opened_at = s.first_seen_at = t0;
    s.escalated_at = t0 + days{34};
    s.stage_sent = s.stage_queued = 3;
    auto& i = s.invoice;
    i.invoice_id = "in_1";
    i.number = "A-0001";
    i.customer_id = "cus_1";
    i.customer_name = "Mia Member";
    i.customer_email = "mia@example.org";
    i.customer_address = {"Hauptstr. 1", "", "10115", "Berlin", "", "DE"};
    i.amount_due = i.amount_remaining = amount_minor;
    i.currency = "eur";
    i.created = t0 - hours{1};
    i.period_start = t0 - days{30};
    i.description = "1 × Membership";
    i.products = {"prod_course"};
    return s;
}

CollectionReport report(Kind kind, std::optional<std::int64_t> amount = std::nullopt) {
    CollectionReport r;
    r.kind = kind;
    r.amount_minor = amount;
    r.batch = kind == Kind::handed_over ? "7" : "";
    return r;
}

ClaimCharges charges() {
    ClaimCharges c;
    c.stages = CasePolicy{}.stages;
    c.stages[1].fee_minor = 250;
    c.stages[2].fee_minor = 250;
    c.interest = true;
    c.base_rates = {{Date{2027y / January / 1}, 2.0}, {Date{2027y / July / 1}, 1.5}};
    return c;
}

} // namespace

TEST(Collection, OnlyEscalatedOrPendingCasesAreHandedOverAndOnlyHandedOverOnesTakeResults) {
    auto s = escalated(9900);
    EXPECT_EQ(collection_refusal(s, report(Kind::paid)),
              "is escalated: only a handed_over case takes a collection result");
    EXPECT_FALSE(record_collection(s, report(Kind::paid), t0));
    EXPECT_EQ(s.collection.collected_minor, 0);
    auto open = s;
    open.escalated_at.reset();
    EXPECT_EQ(collection_refusal(open, report(Kind::handed_over)),
              "is open: only escalated or handover_pending cases can be handed over");

    ASSERT_FALSE(collection_refusal(s, report(Kind::handed_over)));
    EXPECT_FALSE(record_collection(s, report(Kind::handed_over), t0 + days{40}));
    EXPECT_STREQ(status_of(s), "handed_over");
    EXPECT_TRUE(claim_outstanding(s));
    EXPECT_EQ(s.collection.batch, "7");
    EXPECT_EQ(collection_refusal(s, report(Kind::handed_over)),
              "is handed_over: only escalated or handover_pending cases can be handed over");
}

TEST(Collection, APartialPaymentLowersTheOpenAmountAFullOneSettlesIt) {
    auto s = escalated(9900);
    record_collection(s, report(Kind::handed_over), t0 + days{40});
    auto part = report(Kind::paid, 4000);
    part.reference = "AG-77";
    EXPECT_FALSE(record_collection(s, part, t0 + days{50}));
    EXPECT_EQ(s.open_amount_minor(), 5900);
    EXPECT_EQ(s.collection.agency_reference, "AG-77");
    EXPECT_EQ(s.collection.steps.back().what, "partial_payment");
    EXPECT_STREQ(status_of(s), "handed_over");

    const auto d = decide(s, report(Kind::paid), t0 + days{60}, CasePolicy{});
    EXPECT_EQ(d.next.resolution, Resolution::paid);
    EXPECT_EQ(d.next.collection.collected_minor, 9900);
    EXPECT_EQ(d.next.open_amount_minor(), 0);
    EXPECT_EQ(d.next.collection.steps.back().what, "paid");
    EXPECT_EQ(d.next.collection.steps.back().amount_minor, 5900);
    EXPECT_STREQ(status_of(d.next), "paid");
}

TEST(Collection, PaidInFullToTheAgencyMarksTheInvoicePaidOutOfBandInPluginMode) {
    auto s = escalated(9900);
    record_collection(s, report(Kind::handed_over), t0 + days{40});
    CasePolicy plugin;
    plugin.module_charges = true;
    const auto marks = [](const Decision& d) {
        std::vector<std::string> out;
        for (const auto& e : d.effects)
            if (const auto* m = std::get_if<MarkPaidOutOfBand>(&e)) out.push_back(m->invoice_id);
        return out;
    };
    auto part = decide(s, report(Kind::paid, 4000), t0 + days{50}, plugin);
    EXPECT_TRUE(marks(part).empty()) << "a part payment leaves the invoice open";
    const auto full = decide(part.next, report(Kind::paid), t0 + days{60}, plugin);
    EXPECT_EQ(marks(full), std::vector<std::string>{"in_1"});
    EXPECT_TRUE(marks(decide(s, report(Kind::paid), t0 + days{60}, CasePolicy{})).empty())
        << "stripe mode: not the module's to do";
}

TEST(Collection, ReturnedGoesBackToEscalatedUncollectibleResolves) {
    auto s = escalated(9900);
    s.handover_pending_at = s.escalated_at;
    record_collection(s, report(Kind::handed_over), t0 + days{40});
    auto back = s;
    record_collection(back, report(Kind::returned), t0 + days{45});
    EXPECT_STREQ(status_of(back), "escalated");
    EXPECT_TRUE(back.collection.batch.empty());

    const auto d = decide(s, report(Kind::uncollectible), t0 + days{45}, CasePolicy{});
    EXPECT_EQ(d.next.resolution, Resolution::uncollectible);
    EXPECT_EQ(d.next.resolution_reason, collection_agency_reason);
}

TEST(Collection, AHandedOverCaseIsNotDunnedFurther) {
    auto s = escalated(9900);
    record_collection(s, report(Kind::handed_over), t0 + days{40});
    const auto d = decide(s, Tick{}, t0 + days{100}, CasePolicy{});
    for (const auto& e : d.effects)
        EXPECT_STRNE(effect_kind(e), "email");
    EXPECT_EQ(d.next.stage_queued, 3);
}

TEST(HandoverRow, CarriesEveryFieldWithInterestUpToTheExportDate) {
    auto s = escalated(10000);
    record_collection(s, report(Kind::handed_over), t0 + days{40});
    const std::vector<ReminderSent> sent = {
        {"reminder", t0 + days{3}, "<case-1-reminder-1@alpha.example>"}};
    const auto row = handover_row(1, s, {"Alpha", "Alpha GmbH", "Weg 2\n20095 Hamburg"}, charges(),
                                  sent, Date{2027y / July / 10});
    EXPECT_EQ(row.status, "handed_over");
    EXPECT_EQ(row.debtor_address.city, "Berlin");
    EXPECT_EQ(row.invoice_date, Date{2027y / January / 15});
    EXPECT_EQ(row.due_date, Date{2027y / January / 15}); // no due date: due on the invoice date
    EXPECT_EQ(row.contract_date, Date{2026y / December / 16});
    EXPECT_EQ(row.contract_subject, "1 × Membership");
    EXPECT_EQ(row.amounts.principal_minor, 10000);
    EXPECT_EQ(row.amounts.fees_minor, 500);
    EXPECT_EQ(row.amounts.interest_from, Date{2027y / January / 19});
    // 2027-01-19..06-30: 163 days at 7.00 % = 312.60; 07-01..07-10: 10 days at 6.50 % = 17.81.
    EXPECT_EQ(row.amounts.interest_minor, 31260 / 100 + 1 + 18);
    EXPECT_EQ(row.reminders, sent);

    const auto court = court_dunning(row, 16, charges(), Date{2027y / July / 10});
    ASSERT_EQ(court.periods.size(), 2u);
    EXPECT_EQ(court.periods[0].from, Date{2027y / January / 19});
    EXPECT_EQ(court.periods[0].to, Date{2027y / June / 30});
    EXPECT_DOUBLE_EQ(court.periods[0].rate_percent, 7.0);
    EXPECT_EQ(court.periods[1].days, 10);
    EXPECT_DOUBLE_EQ(court.periods[1].rate_percent, 6.5);
    EXPECT_EQ(court.interest_points_above_base, 5);
}

TEST(HandoverRow, CsvQuotesAndNeutralisesHostileNames) {
    auto s = escalated(4999);
    s.invoice.customer_name = "=HYPERLINK(\"x\"); \"Boss\"\nNext";
    s.invoice.customer_email = "@evil.example";
    s.invoice.customer_address = {"+49 Street", "-1 floor", "10115", "Berlin;Mitte", "", "DE"};
    s.invoice.number = "";
    const auto row =
        handover_row(3, s, {"Alpha; \"Academy\"", "", ""}, {}, {}, Date{2027y / March / 1});
    const auto csv = handover_csv({row}, ';');
    const auto line = csv.substr(csv.find("\r\n") + 2);
    EXPECT_EQ(line, "3;escalated;\"Alpha; \"\"Academy\"\"\";;;cus_1;"
                    "\"'=HYPERLINK(\"\"x\"\"); \"\"Boss\"\"\nNext\";'+49 Street;'-1 floor;10115;"
                    "\"Berlin;Mitte\";;DE;'@evil.example;in_1;;2027-01-15;2027-01-15;EUR;49.99;"
                    "0.00;0.00;;49.99;0.00;1 × Membership;2026-12-16;;\r\n");
    EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
              "case;status;creditor_name;creditor_legal_name;creditor_address;debtor_id;"
              "debtor_name;debtor_address_line1;debtor_address_line2;debtor_postal_code;"
              "debtor_city;debtor_state;debtor_country;debtor_email;invoice;invoice_number;"
              "invoice_date;due_date;currency;principal;fees;interest;interest_from;total;"
              "collected;contract_subject;contract_date;reminders;agency_reference");
}

TEST(CourtDunning, ClaimTypeIsTheCreatorsUnlessAProductOverridesIt) {
    const std::map<std::string, int, std::less<>> per_product = {{"prod_book", 28}};
    EXPECT_EQ(court_claim_type({"prod_course"}, 16, per_product), 16);
    EXPECT_EQ(court_claim_type({"prod_course", "prod_book"}, 16, per_product), 28);
    EXPECT_EQ(court_claim_type({}, 43, {}), 43);
    EXPECT_STREQ(court_claim_name(16), "Lehrgangs-/Unterrichtskosten");
}
