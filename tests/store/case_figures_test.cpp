// The summary and the open-items list read in SQL (store/case_figures.hpp) say what the pure
// computations over every case's state say (summarize_recovery, open_item + matches +
// sort_open_items + totals_by_currency), on a varied set of cases; and the figures of cases stored
// before the table existed are filled in from their JSON. SQLite; PostgreSQL in
// store_postgres_case_figures_tests.
#include "core/open_items.hpp"
#include "core/recovery.hpp"
#include "store/case_figures.hpp"
#include "store/case_json.hpp"
#include "store/cases.hpp"
#include "store/database.hpp"
#include "support/service.hpp"
#include "support/store_queries.hpp"
#include "support/test_store.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace dunning::store {
namespace {

using namespace std::chrono;

const Timestamp t0 = from_unix(1'800'000'000); // 2027-01-15 08:00 UTC

// Case i of a varied set: paid in many ways, written off, open at each stage, paused, escalated,
// in two currencies, over 500 days of failures, with and without a product and a method.
CaseState varied(int i) {
    CaseState s;
    s.creator_id = i % 17 == 0 ? "beta" : "alpha";
    s.failed = i % 23 != 0;
    s.opened_at = t0 - days{i * 7 % 500} - hours{i % 24};
    s.invoice.invoice_id = "in_" + std::to_string(i);
    s.invoice.customer_id = "cus_" + std::to_string(i % 40);
    s.invoice.currency = i % 5 == 0 ? "usd" : "eur";
    s.invoice.amount_due = s.invoice.amount_remaining = 1000 + (i % 9) * 750;
    if (i % 3 == 0) s.invoice.products = {"prod_course", "prod_book"};
    if (i % 4 == 1) s.invoice.products = {"prod_book"};
    s.paid_with = i % 2 == 0 ? PaymentMethodKind::card : PaymentMethodKind::sepa_debit;
    s.stage_sent = i % 4;
    switch (i % 8) {
    case 0:
    case 1:
        s.resolution = Resolution::paid;
        s.resolved_at = *s.opened_at + days{i % 40};
        s.invoice.amount_remaining = 0;
        if (i % 16 == 0) s.resolution_reason = paid_reason::marked_paid;
        if (i % 16 == 1) s.final_notice_at = *s.opened_at + days{1};
        break;
    case 2:
        s.resolution = Resolution::written_off;
        s.resolved_at = *s.opened_at + days{60};
        break;
    case 3:
        s.paused = true;
        s.paused_at = *s.opened_at + days{2};
        break;
    case 4:
        s.escalated_at = *s.opened_at + days{30};
        break;
    case 5:
        s.invoice.amount_remaining = s.invoice.amount_due / 2; // partly paid
        break;
    default:
        break;
    }
    return s;
}

class CaseFigures : public ::testing::Test {
  protected:
    testing::TestStore store;
    StoreOptions options = [this] {
        auto o = store.options();
        o.synchronous = "full";
        return o;
    }();
    std::unique_ptr<Connection> db = open_store(options);
    std::vector<CaseRecord> cases;

    void SetUp() override {
        for (int i = 0; i < 400; ++i) {
            CaseRecord r{0, varied(i)};
            save_case(*db, r, to_unix(t0));
            cases.push_back(std::move(r));
        }
    }

    std::vector<const CaseState*> of_alpha() const {
        std::vector<const CaseState*> out;
        for (const auto& c : cases)
            if (c.state.creator_id == "alpha") out.push_back(&c.state);
        return out;
    }
};

void expect_same(const RecoverySummary& sql, const RecoverySummary& pure) {
    EXPECT_EQ(sql.by_currency, pure.by_currency);
    EXPECT_EQ(sql.cohorts, pure.cohorts);
    EXPECT_EQ(sql.recovered_by_month, pure.recovered_by_month);
    EXPECT_EQ(sql.recovered_by_source, pure.recovered_by_source);
    EXPECT_EQ(sql.by_status, pure.by_status);
    EXPECT_EQ(sql.outstanding_by_stage, pure.outstanding_by_stage);
}

TEST_F(CaseFigures, TheSummaryInSqlEqualsTheSummaryOfEveryCase) {
    for (const auto& [from, to] :
         {std::pair{t0 - days{365}, t0 + days{1}}, std::pair{t0 - days{90}, t0 - days{30}},
          std::pair{t0 - days{1000}, t0 + days{1000}}}) {
        const auto pure = summarize_recovery(of_alpha(), from, to);
        ASSERT_FALSE(pure.by_currency.empty());
        expect_same(recovery_summary(*db, "alpha", to_unix(from), to_unix(to)), pure);
    }
}

std::map<std::string, CurrencyTotals> totals(const std::vector<OpenItem>& items) {
    return totals_by_currency(items);
}

void expect_same(const std::map<std::string, CurrencyTotals>& a,
                 const std::map<std::string, CurrencyTotals>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [currency, t] : a) {
        const auto& u = b.at(currency);
        EXPECT_EQ(t.count, u.count) << currency;
        EXPECT_EQ(t.principal_minor, u.principal_minor) << currency;
        EXPECT_EQ(t.fees_minor, u.fees_minor) << currency;
        EXPECT_EQ(t.interest_minor, u.interest_minor) << currency;
    }
}

TEST_F(CaseFigures, AnOpenItemsPageInSqlEqualsTheListOfEveryCase) {
    ClaimCharges charges;
    charges.stages = {{"reminder", days{3}, 0},
                      {"formal_reminder", days{10}, 500},
                      {"final_notice", days{20}, 1000}};
    charges.interest = true;
    charges.base_rates = {{Date{2020y / 1 / 1}, 0}, {Date{2026y / 7 / 1}, 127}};
    const auto now = t0 + hours{5};
    const Date today(floor<days>(now));
    std::vector<OpenItemFilter> filters(10);
    filters[1].statuses = {"paused", "escalated"};
    filters[2].stage = 2;
    filters[3].age_bucket = "31-60";
    filters[4].age_bucket = "90+";
    filters[4].amount_min_minor = 3000;
    filters[5].amount_max_minor = 4000;
    filters[5].payment_method = "card";
    filters[6].product = "prod_book";
    filters[7].member = "cus_7";
    filters[8].expiring_within_days = 400;
    filters[9].age_bucket = "0-30";
    for (const bool interest : {true, false}) {
        charges.interest = interest;
        for (const auto& f : filters) {
            std::vector<OpenItem> all;
            for (const auto& c : cases)
                if (c.state.creator_id == "alpha")
                    if (auto item = open_item(c.id, c.state, charges, now);
                        item && matches(*item, f))
                        all.push_back(*item);
            expect_same(open_item_totals(*db, "alpha", f, today, charges), totals(all));
            for (const auto order :
                 {OpenItemOrder::case_id, OpenItemOrder::arose_on, OpenItemOrder::amount,
                  OpenItemOrder::limitation_date, OpenItemOrder::stage})
                for (const bool descending : {false, true}) {
                    auto sorted = all;
                    sort_open_items(sorted, order, descending);
                    std::vector<std::int64_t> want;
                    for (std::size_t i = 5; i < sorted.size() && i < 25; ++i)
                        want.push_back(sorted[i].case_id);
                    EXPECT_EQ(open_item_ids(*db, "alpha", f, today, order, descending, 20, 5),
                              want);
                }
        }
    }
}

TEST_F(CaseFigures, CasesStoredBeforeTheTableAreFilledInFromTheirJson) {
    const auto from = t0 - days{1000}, to = t0 + days{1000};
    const auto before = recovery_summary(*db, "alpha", to_unix(from), to_unix(to));
    db->exec("DELETE FROM case_figures WHERE case_id % 3 = 0");
    EXPECT_EQ(fill_missing_case_figures(*db), 400 / 3);
    expect_same(recovery_summary(*db, "alpha", to_unix(from), to_unix(to)), before);
    EXPECT_EQ(fill_missing_case_figures(*db), 0);
}

// save_case skips the figures row when the row it replaces was saved by this connection with the
// same figures; a figure that the state's JSON did not determine would make that unsafe.
TEST_F(CaseFigures, TheFiguresOfAStateAreTheFiguresOfItsJson) {
    for (const auto& c : cases) {
        const auto text = state_to_json(c.state).dump();
        EXPECT_EQ(case_figures_of(state_from_json(nlohmann::json::parse(text))),
                  case_figures_of(c.state))
            << c.id;
    }
}

std::string stored_status(Connection& db, std::int64_t id) {
    const auto rows = testing::query_rows(db, "SELECT status FROM case_figures WHERE case_id = " +
                                                  std::to_string(id));
    return rows.empty() ? "" : rows.front().front();
}

void pay(CaseState& s) {
    s.resolution = Resolution::paid;
    s.resolved_at = t0 + days{1};
    s.invoice.amount_remaining = 0;
}

// The connection remembers the figures it saved with each case; a save rolled back leaves the
// stored row as it was, and saving the same state again writes the figures the dashboard shows.
TEST_F(CaseFigures, ASaveRolledBackIsNotTakenForTheStoredFigures) {
    auto r = cases[6];
    ASSERT_EQ(stored_status(*db, r.id), "open");
    pay(r.state);
    {
        Transaction tx(*db);
        save_case(*db, r, to_unix(t0));
        EXPECT_EQ(stored_status(*db, r.id), "paid");
    } // rolled back
    EXPECT_EQ(stored_status(*db, r.id), "open");
    save_case(*db, r, to_unix(t0) + 60);
    EXPECT_EQ(stored_status(*db, r.id), "paid");
    const auto from = t0 - days{1000}, to = t0 + days{1000};
    cases[6] = r;
    expect_same(recovery_summary(*db, "alpha", to_unix(from), to_unix(to)),
                summarize_recovery(of_alpha(), from, to));
}

// A page's reads (its cases, then their totals) inside one ReadSnapshot see the store as it was
// when the first of them ran, while another connection commits: on PostgreSQL each statement of
// READ COMMITTED would see the commit (a case's page showed one event's state beside the events
// of the next).
TEST_F(CaseFigures, AReadSnapshotSeesOneMomentWhileAnotherConnectionCommits) {
    const auto from = t0 - days{1000}, to = t0 + days{1000};
    const auto before = summarize_recovery(of_alpha(), from, to);
    auto other = open_store(options);
    auto r = cases[6];
    ASSERT_EQ(stored_status(*db, r.id), "open");
    pay(r.state);
    {
        ReadSnapshot snapshot(*db);
        EXPECT_EQ(stored_status(*db, r.id), "open");
        {
            Transaction tx(*other);
            save_case(*other, r, to_unix(t0) + 60);
            tx.commit();
        }
        EXPECT_EQ(stored_status(*other, r.id), "paid");
        EXPECT_EQ(stored_status(*db, r.id), "open");
        expect_same(recovery_summary(*db, "alpha", to_unix(from), to_unix(to)), before);
    }
    EXPECT_EQ(stored_status(*db, r.id), "paid");
    cases[6] = r;
    expect_same(recovery_summary(*db, "alpha", to_unix(from), to_unix(to)),
                summarize_recovery(of_alpha(), from, to));
}

// SharedConnection::read, the way the API's and the dashboard's views read: all its reads see
// one moment, and the connection is free again afterwards (use() then sees the commit).
TEST_F(CaseFigures, ASharedConnectionsReadSeesOneMomentWhileAnotherConnectionCommits) {
    auto other = open_store(options);
    SharedConnection shared(connect_store(options));
    auto r = cases[6];
    pay(r.state);
    const auto seen = shared.read([&](Connection& c) {
        const auto first = stored_status(c, r.id);
        Transaction tx(*other);
        save_case(*other, r, to_unix(t0) + 60);
        tx.commit();
        return std::pair{first, stored_status(c, r.id)};
    });
    EXPECT_EQ(seen.first, "open");
    EXPECT_EQ(seen.second, "open") << "a read after another connection's commit saw it";
    EXPECT_EQ(shared.use([&](Connection& c) { return stored_status(c, r.id); }), "paid");
}

TEST_F(CaseFigures, ASaveUndoneByItsSavepointIsNotTakenForTheStoredFigures) {
    auto r = cases[7];
    ASSERT_EQ(stored_status(*db, r.id), "open");
    pay(r.state);
    Transaction tx(*db);
    {
        Savepoint unit(*db);
        save_case(*db, r, to_unix(t0));
        unit.rollback();
    }
    EXPECT_EQ(stored_status(*db, r.id), "open");
    save_case(*db, r, to_unix(t0) + 60);
    tx.commit();
    EXPECT_EQ(stored_status(*db, r.id), "paid");
}

// A row whose figures are missing (a case written by another program) gets them at its next
// save by a connection that only read it, its state unchanged.
TEST_F(CaseFigures, ACaseReadWithoutItsFiguresGetsThemAtItsNextSave) {
    db->exec("DELETE FROM case_figures WHERE case_id = " + std::to_string(cases[6].id));
    auto other = connect_store(options);
    auto r = load_case(*other, cases[6].id);
    ASSERT_TRUE(r);
    save_case(*other, *r, to_unix(t0) + 60);
    EXPECT_EQ(stored_status(*db, r->id), "open");
}

// The same row, its unchanged state saved inside a transaction that rolls back (taking the
// figures written then with it), then saved with a state whose figures are the same: the figures
// are written again, not taken for stored.
TEST_F(CaseFigures, FiguresWrittenInARolledBackSaveOfAnUnchangedStateAreWrittenAgain) {
    db->exec("DELETE FROM case_figures WHERE case_id = " + std::to_string(cases[6].id));
    auto other = connect_store(options);
    auto r = load_case(*other, cases[6].id);
    ASSERT_TRUE(r);
    {
        Transaction tx(*other);
        save_case(*other, *r, to_unix(t0) + 60);
        EXPECT_EQ(stored_status(*other, r->id), "open");
    } // rolled back: no figures row again
    EXPECT_EQ(stored_status(*db, r->id), "");
    const auto figures = case_figures_of(r->state);
    r->state.next_wakeup = t0 + days{3}; // another text, the same figures
    ASSERT_EQ(case_figures_of(r->state), figures);
    save_case(*other, *r, to_unix(t0) + 120);
    EXPECT_EQ(stored_status(*db, r->id), "open");
}

} // namespace
} // namespace dunning::store
