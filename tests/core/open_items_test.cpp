// The open-items list: CSV made safe for spreadsheets, what each row carries, filters, order and
// totals per currency.
#include "core/csv.hpp"
#include "core/limitation.hpp"
#include "core/open_items.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace std::chrono;

namespace {

const Timestamp t0 = from_unix(1'800'000'000); // 2027-01-15 08:00 UTC

CaseState outstanding(std::int64_t amount_minor, std::string currency, Timestamp opened) {
    CaseState s;
    s.creator_id = "alpha";
    s.failed = true;
    s.opened_at = s.first_seen_at = opened;
    s.invoice.invoice_id = "in_" + std::to_string(amount_minor);
    s.invoice.customer_id = "cus_" + std::to_string(amount_minor);
    s.invoice.amount_due = amount_minor;
    s.invoice.currency = std::move(currency);
    s.invoice.products = {"prod_a"};
    return s;
}

} // namespace

TEST(Csv, PlainFieldsStayAsTheyAre) {
    EXPECT_EQ(csv_field("Mia Member"), "Mia Member");
    EXPECT_EQ(csv_field("49.99"), "49.99");
    EXPECT_EQ(csv_field(""), "");
    EXPECT_EQ(csv_field("Müller, Jürgen", ';'), "Müller, Jürgen"); // no ; in it
    EXPECT_EQ(csv_record({"a", "b", ""}), "a,b,\r\n");
    EXPECT_EQ(csv_record({"a", "b"}, ';'), "a;b\r\n");
}

TEST(Csv, HostileNamesAreQuotedAndNeutralised) {
    struct Row {
        const char* in;
        char delimiter;
        const char* out;
    };
    const Row rows[] = {
        {R"(say "hi")", ',', R"("say ""hi""")"},
        {"a,b", ',', R"("a,b")"},
        {"a;b", ',', "a;b"},
        {"a;b", ';', R"("a;b")"},
        {"a,b", ';', "a,b"},
        {"line\nbreak", ',', "\"line\nbreak\""},
        {"cr\r\nlf", ';', "\"cr\r\nlf\""},
        {"=HYPERLINK(\"http://evil\",\"x\")", ',', R"csv("'=HYPERLINK(""http://evil"",""x"")")csv"},
        {"=1+1", ';', "'=1+1"},
        {"+49 170", ',', "'+49 170"},
        {"-2+3", ',', "'-2+3"},
        {"@SUM(A1)", ',', "'@SUM(A1)"},
        {"\tTAB", ',', "'\tTAB"},
        {"=cmd;x", ';', R"("'=cmd;x")"},
        {"a=b", ',', "a=b"}, // only a leading one is a formula
    };
    for (const auto& r : rows) {
        SCOPED_TRACE(r.in);
        EXPECT_EQ(csv_field(r.in, r.delimiter), r.out);
    }
}

TEST(OpenItems, AgeBuckets) {
    EXPECT_STREQ(age_bucket(0), "0-30");
    EXPECT_STREQ(age_bucket(30), "0-30");
    EXPECT_STREQ(age_bucket(31), "31-60");
    EXPECT_STREQ(age_bucket(60), "31-60");
    EXPECT_STREQ(age_bucket(61), "61-90");
    EXPECT_STREQ(age_bucket(90), "61-90");
    EXPECT_STREQ(age_bucket(91), "90+");
}

TEST(OpenItems, ARowCarriesAmountsAgeAndLimitation) {
    auto s = outstanding(4900, "eur", t0);
    s.stage_sent = 2;
    ClaimCharges charges;
    charges.stages = {{"reminder", days{3}, 0},
                      {"formal_reminder", days{10}, 250},
                      {"final_notice", days{20}, 250}};
    const auto item = open_item(7, s, charges, t0 + days{45});
    ASSERT_TRUE(item);
    EXPECT_EQ(item->case_id, 7);
    EXPECT_EQ(item->status, "open");
    EXPECT_EQ(item->stage, 2);
    EXPECT_EQ(item->principal_minor, 4900);
    EXPECT_EQ(item->fees_minor, 250);   // the fees of the stages sent
    EXPECT_EQ(item->interest_minor, 0); // interest is off
    EXPECT_EQ(item->total_minor(), 5150);
    EXPECT_EQ(iso_date(item->arose_on), "2027-01-15");
    EXPECT_EQ(iso_date(item->limitation_date), "2030-12-31");
    EXPECT_EQ(item->age_days, 45);
    EXPECT_STREQ(age_bucket(item->age_days), "31-60");
    EXPECT_EQ(item->days_to_limitation, 1401); // 2027-03-01 → 2030-12-31
}

TEST(OpenItems, InterestRunsFromTheDayAfterTheFirstReminder) {
    auto s = outstanding(100'000, "eur", t0);
    ClaimCharges charges;
    charges.interest = true;
    charges.stages = {{"reminder", days{3}, 0}};
    charges.base_rates = {{Date{year{2020}, January, day{1}}, 1.0}}; // 6 % for a consumer
    EXPECT_EQ(interest_from(s, charges.stages), (Date{year{2027}, January, day{19}}));
    const auto item = open_item(1, s, charges, t0 + days{3} + days{365});
    ASSERT_TRUE(item);
    // 19 Jan 2027 to 18 Jan 2028 inclusive: 365 days at 6 % of 1000.00 EUR.
    EXPECT_EQ(item->interest_minor, 6000);
}

TEST(OpenItems, ClosedOrUnknownCasesAreNoOpenItems) {
    auto paid = outstanding(4900, "eur", t0);
    paid.resolution = Resolution::paid;
    EXPECT_FALSE(open_item(1, paid, {}, t0));
    auto written_off = outstanding(4900, "eur", t0);
    written_off.resolution = Resolution::written_off;
    EXPECT_FALSE(open_item(1, written_off, {}, t0));
    auto escalated = outstanding(4900, "eur", t0);
    escalated.escalated_at = t0;
    ASSERT_TRUE(open_item(1, escalated, {}, t0));
    EXPECT_EQ(open_item(1, escalated, {}, t0)->status, "escalated");
}

TEST(OpenItems, FiltersOrderAndTotals) {
    const Timestamp now = t0 + days{100};
    std::vector<OpenItem> items;
    auto a = outstanding(4900, "eur", t0); // 100 days old
    a.escalated_at = t0 + days{34};
    auto b = outstanding(12000, "eur", t0 + days{80}); // 20 days old
    b.last_failure = PaymentFailure{{}, PaymentMethodKind::sepa_debit, "pm", "", t0};
    b.stage_sent = 1;
    auto c = outstanding(3000, "jpy", t0 + days{50}); // 50 days old
    c.invoice.products = {"prod_b"};
    std::int64_t id = 0;
    for (const auto* s : {&a, &b, &c})
        items.push_back(*open_item(++id, *s, {}, now));

    auto filter = [](auto set) {
        OpenItemFilter f;
        set(f);
        return f;
    };
    auto ids = [&](const OpenItemFilter& f) {
        std::vector<std::int64_t> out;
        for (const auto& i : items)
            if (matches(i, f)) out.push_back(i.case_id);
        return out;
    };
    using V = std::vector<std::int64_t>;
    EXPECT_EQ(ids(OpenItemFilter{}), (V{1, 2, 3}));
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.statuses = {"escalated"}; })), V{1});
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.statuses = {"open", "paused"}; })), (V{2, 3}));
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.stage = 1; })), V{2});
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.age_bucket = "90+"; })), V{1});
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.age_bucket = "0-30"; })), V{2});
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.age_bucket = "31-60"; })), V{3});
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) {
                  f.amount_min_minor = 4900;
                  f.amount_max_minor = 12000;
              })),
              (V{1, 2}));
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.amount_max_minor = 4899; })), V{3});
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.payment_method = "sepa_debit"; })), V{2});
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.product = "prod_b"; })), V{3});
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.member = "cus_12000"; })), V{2});
    // All arose in 2027: time-barred after 2030-12-31, 1346 days from 2027-04-25.
    EXPECT_EQ(items[0].days_to_limitation, 1346);
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.expiring_within_days = 1345; })), V{});
    EXPECT_EQ(ids(filter([](OpenItemFilter& f) { f.expiring_within_days = 1346; })), (V{1, 2, 3}));

    sort_open_items(items, OpenItemOrder::amount, true);
    EXPECT_EQ(items[0].case_id, 2);
    EXPECT_EQ(items[1].case_id, 1);
    EXPECT_EQ(items[2].case_id, 3);
    sort_open_items(items, OpenItemOrder::arose_on, false);
    EXPECT_EQ(items[0].case_id, 1);
    EXPECT_EQ(items[1].case_id, 3);
    sort_open_items(items, OpenItemOrder::case_id, false);
    EXPECT_EQ(items[0].case_id, 1);

    const auto totals = totals_by_currency(items);
    ASSERT_EQ(totals.size(), 2u);
    EXPECT_EQ(totals.at("eur").count, 2);
    EXPECT_EQ(totals.at("eur").principal_minor, 16900);
    EXPECT_EQ(totals.at("jpy").count, 1);
    EXPECT_EQ(totals.at("jpy").principal_minor, 3000);
}
