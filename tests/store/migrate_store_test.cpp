// A SQLite store copied into PostgreSQL (store/migrate_store.hpp), both real: a store filled
// through the store's own functions is read back through them from PostgreSQL, every row of every
// table equal; a second run is harmless and brings over what SQLite gained since; ids continue
// after the copied ones; a failure midway and a short count leave PostgreSQL as it was.
#include "core/base64.hpp"
#include "store/cases.hpp"
#include "store/database.hpp"
#include "store/inbox.hpp"
#include "store/job_queue.hpp"
#include "store/migrate_store.hpp"
#include "store/secrets.hpp"
#include "store/statement.hpp"
#include "support/postgres.hpp"
#include "support/secrets.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dunning::store {
namespace {

using namespace std::chrono;

const auto* const postgres_environment =
    ::testing::AddGlobalTestEnvironment(new testing::PostgresEnvironment);

const Timestamp t0 = from_unix(1'800'000'000);

const SecretKey key = *secret_key_from_bytes(*base64_decode(testing::secrets_key));

// Every table's rows, each cell as its text (nullopt: NULL), rows sorted: what two stores must
// agree on after a copy.
using Rows = std::vector<std::vector<std::optional<std::string>>>;
using Dump = std::map<std::string, Rows>;

Dump dump(Connection& db, const std::vector<TableSchema>& tables) {
    Dump out;
    for (const auto& t : tables) {
        std::string columns;
        for (const auto& c : t.columns)
            columns += (columns.empty() ? "" : ", ") + c;
        CachedStatement st(db, "SELECT " + columns + " FROM " + t.name);
        auto& rows = out[t.name];
        while (st.executeStep()) {
            auto& row = rows.emplace_back();
            for (int i = 0; i < static_cast<int>(t.columns.size()); ++i)
                row.push_back(st.isColumnNull(i) ? std::nullopt
                                                 : std::optional(st.getColumn(i).getString()));
        }
        std::sort(rows.begin(), rows.end());
    }
    return out;
}

CaseState a_case(const std::string& invoice, const std::string& customer) {
    CaseState s;
    s.creator_id = "alpha";
    s.failed = true;
    s.opened_at = t0 - days{3};
    s.invoice.invoice_id = invoice;
    s.invoice.customer_id = customer;
    s.invoice.currency = "eur";
    s.invoice.amount_due = s.invoice.amount_remaining = 4900;
    s.invoice.products = {"prod_kurs"};
    s.stage_sent = 1;
    return s;
}

InboxRow an_event(const std::string& id) {
    // Not only ASCII: the bytes must arrive as they are.
    return {"alpha",
            id,
            "invoice.payment_failed",
            "acct_1",
            "connect",
            R"({"id":")" + id + R"(","note":"Gebühr für den Kurs — 49 €"})",
            1'799'999'000,
            1'800'000'000'123};
}

class MigrateStore : public ::testing::Test {
  protected:
    testing::TempDir dir;
    testing::ScratchDatabase database{testing::postgres_cluster()};
    StoreOptions sqlite_options = [this] {
        StoreOptions o;
        o.path = (dir.path() / "dunning.db").string();
        o.synchronous = "normal";
        return o;
    }();
    StoreOptions postgres_options = [this] {
        StoreOptions o;
        o.postgres_url = database.url();
        return o;
    }();
    std::unique_ptr<Connection> sqlite = open_store(sqlite_options);
    std::unique_ptr<Connection> postgres = open_store(postgres_options);
    SecretBox box{key};
    std::vector<std::int64_t> case_ids;
    std::vector<std::int64_t> job_ids;

    void fill() {
        std::vector<std::int64_t> inbox_ids;
        for (const auto* id : {"evt_1", "evt_2", "evt_3"}) {
            ASSERT_EQ(insert_inbox_row(*sqlite, an_event(id)), AppendOutcome::inserted);
            inbox_ids.push_back(last_id(*sqlite, "inbox"));
        }
        mark_inbox_row(*sqlite, inbox_ids[0], "done", "", 1'800'000'001'000);
        mark_inbox_row(*sqlite, inbox_ids[1], "ignored", "not ours", 1'800'000'002'000);
        for (int i = 0; i < 2; ++i) {
            CaseRecord r{0, a_case("in_" + std::to_string(i), "cus_" + std::to_string(i))};
            save_case(*sqlite, r, to_unix(t0));
            case_ids.push_back(r.id);
            link_case_event(*sqlite, r.id, inbox_ids[static_cast<std::size_t>(i)]);
        }
        job_ids.push_back(enqueue(*sqlite,
                                  {.payload = EmailJob{"reminder", 1},
                                   .idempotency_key = "msg-1@alpha",
                                   .case_id = case_ids[0]},
                                  t0));
        job_ids.push_back(
            enqueue(*sqlite,
                    {.payload = CardReminderJob{"alpha", "pm_1", "a@example.org", "Anna", 3, 2027},
                     .idempotency_key = "card-1@alpha",
                     .order_key = std::string("alpha/cus_0")},
                    t0));
        ASSERT_TRUE(
            put_secret(*sqlite, box, "alpha", "stripe_secret_key", testing::alpha_stripe_key, t0));
        ASSERT_TRUE(put_secret(*sqlite, box, "alpha", "webhook_secret", testing::alpha_secret, t0));
    }
    static std::int64_t last_id(Connection& db, const std::string& table) {
        CachedStatement st(db, "SELECT max(id) FROM " + table);
        st.executeStep();
        return st.getColumn(0).getInt64();
    }
    std::vector<TableSchema> tables() { return store_tables(*sqlite); }
    Dump sqlite_rows() { return dump(*sqlite, tables()); }
    Dump postgres_rows() { return dump(*postgres, tables()); }
    std::map<std::string, TableCopy> by_table(const CopyReport& report) {
        std::map<std::string, TableCopy> out;
        for (const auto& t : report.tables)
            out[t.table] = t;
        return out;
    }
};

TEST_F(MigrateStore, BothStoresDescribeTheSameTables) {
    const auto a = store_tables(*sqlite);
    const auto b = store_tables(*postgres);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].name, b[i].name);
        auto ca = a[i].columns, cb = b[i].columns;
        std::sort(ca.begin(), ca.end());
        std::sort(cb.begin(), cb.end());
        EXPECT_EQ(ca, cb) << a[i].name;
        EXPECT_EQ(a[i].primary_key, b[i].primary_key) << a[i].name;
        EXPECT_EQ(a[i].references, b[i].references) << a[i].name;
    }
    const auto jobs = std::find_if(b.begin(), b.end(), [](auto& t) { return t.name == "jobs"; });
    ASSERT_NE(jobs, b.end());
    EXPECT_EQ(jobs->primary_key, std::vector<std::string>{"id"});
    EXPECT_EQ(jobs->references, std::vector<std::string>{"cases"});
    EXPECT_TRUE(
        std::none_of(a.begin(), a.end(), [](auto& t) { return t.name == "schema_version"; }));
}

TEST_F(MigrateStore, CopiesEveryRowAndTheStoreReadsThemBackFromPostgres) {
    fill();
    std::vector<std::string> shown;
    const auto report =
        copy_store(*sqlite, *postgres, [&](const TableCopy& t) { shown.push_back(t.table); });
    ASSERT_TRUE(report.committed);
    EXPECT_TRUE(report.short_tables().empty());
    EXPECT_EQ(shown.size(), tables().size());
    // Parents before children.
    const auto at = [&](const std::string& name) {
        return std::find(shown.begin(), shown.end(), name) - shown.begin();
    };
    EXPECT_LT(at("cases"), at("jobs"));
    EXPECT_LT(at("inbox"), at("case_events"));
    EXPECT_LT(at("cases"), at("case_figures"));

    const auto counts = by_table(report);
    EXPECT_EQ(counts.at("inbox").source, 3);
    EXPECT_EQ(counts.at("inbox").target, 3);
    EXPECT_EQ(counts.at("inbox").written, 3);
    EXPECT_EQ(counts.at("cases").target, 2);
    EXPECT_EQ(counts.at("jobs").target, 2);
    EXPECT_EQ(counts.at("creator_secrets").target, 2);
    EXPECT_EQ(counts.at("access_listener_cursor").target, 1);
    for (const auto& t : report.tables)
        EXPECT_EQ(t.source, t.target) << t.table;

    // Every cell of every table, byte for byte.
    EXPECT_EQ(postgres_rows(), sqlite_rows());

    // Through the store's functions, from PostgreSQL.
    for (std::size_t i = 0; i < case_ids.size(); ++i) {
        const auto c = load_case(*postgres, case_ids[i]);
        ASSERT_TRUE(c) << case_ids[i];
        EXPECT_EQ(c->state.invoice.invoice_id, "in_" + std::to_string(i));
        EXPECT_EQ(c->state.invoice.amount_due, 4900);
        const auto events = case_events(*postgres, case_ids[i]);
        ASSERT_EQ(events.size(), 1u);
        EXPECT_EQ(events[0].event_id, "evt_" + std::to_string(i + 1));
    }
    const auto pending = pending_inbox_rows(*postgres, 10);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].body, an_event("evt_3").body);
    const auto actions = case_actions(*postgres, case_ids[0]);
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].kind, "email");
    EXPECT_EQ(pending_jobs(*postgres, JobKind::card_reminder).count, 1);
    // Sealed in SQLite, opened from PostgreSQL.
    EXPECT_EQ(get_secret(*postgres, box, "alpha", "stripe_secret_key").value(),
              testing::alpha_stripe_key);
    EXPECT_EQ(get_secret(*postgres, box, "alpha", "webhook_secret").value(), testing::alpha_secret);
}

TEST_F(MigrateStore, NewRowsInPostgresTakeIdsAfterTheCopiedOnes) {
    fill();
    ASSERT_TRUE(copy_store(*sqlite, *postgres).committed);
    const auto job = enqueue(*postgres,
                             {.payload = EmailJob{"reminder", 2},
                              .idempotency_key = "msg-2@alpha",
                              .case_id = case_ids[1]},
                             t0);
    EXPECT_EQ(job, job_ids.back() + 1);
    const auto inbox_before = last_id(*postgres, "inbox");
    ASSERT_EQ(insert_inbox_row(*postgres, an_event("evt_new")), AppendOutcome::inserted);
    EXPECT_EQ(last_id(*postgres, "inbox"), inbox_before + 1);
    CaseRecord r{0, a_case("in_new", "cus_new")};
    save_case(*postgres, r, to_unix(t0));
    EXPECT_EQ(r.id, case_ids.back() + 1);
}

TEST_F(MigrateStore, ASecondRunBringsOverWhatIsNewOrChangedAndChangesNothingElse) {
    fill();
    ASSERT_TRUE(copy_store(*sqlite, *postgres).committed);
    const auto again = copy_store(*sqlite, *postgres);
    ASSERT_TRUE(again.committed);
    for (const auto& t : again.tables) {
        EXPECT_EQ(t.written, 0) << t.table;
        EXPECT_EQ(t.target, t.source) << t.table;
    }
    EXPECT_EQ(postgres_rows(), sqlite_rows());

    // The old installation goes on: a new event, one processed, a new job, a secret replaced.
    ASSERT_EQ(insert_inbox_row(*sqlite, an_event("evt_4")), AppendOutcome::inserted);
    const auto pending = pending_inbox_rows(*sqlite, 10);
    ASSERT_EQ(pending.size(), 2u);
    mark_inbox_row(*sqlite, pending[0].id, "done", "", 1'800'000'003'000);
    enqueue(*sqlite,
            {.payload = EmailJob{"final_notice", 2},
             .idempotency_key = "msg-3@alpha",
             .case_id = case_ids[1]},
            t0 + hours{1});
    ASSERT_TRUE(put_secret(*sqlite, box, "alpha", "webhook_secret", "whsec_replaced", t0));

    const auto third = by_table(copy_store(*sqlite, *postgres));
    EXPECT_EQ(third.at("inbox").written, 2); // one new, one changed
    EXPECT_EQ(third.at("inbox").target, 4);
    EXPECT_EQ(third.at("jobs").written, 1);
    EXPECT_EQ(third.at("creator_secrets").written, 1);
    EXPECT_EQ(third.at("cases").written, 0);
    EXPECT_EQ(postgres_rows(), sqlite_rows());
    EXPECT_EQ(get_secret(*postgres, box, "alpha", "webhook_secret").value(), "whsec_replaced");
}

TEST_F(MigrateStore, WhatTheSourceDeletedSinceGoesFromPostgresToo) {
    fill();
    ASSERT_TRUE(copy_store(*sqlite, *postgres).committed);
    // Revoked in the old installation after the first run: must not come back to life.
    ASSERT_TRUE(delete_secret(*sqlite, "alpha", "stripe_secret_key"));
    const auto again = copy_store(*sqlite, *postgres);
    ASSERT_TRUE(again.committed);
    EXPECT_EQ(by_table(again).at("creator_secrets").deleted, 1);
    EXPECT_EQ(by_table(again).at("creator_secrets").target, 1);
    EXPECT_EQ(by_table(again).at("inbox").deleted, 0);
    EXPECT_FALSE(get_secret(*postgres, box, "alpha", "stripe_secret_key").value().has_value());
    EXPECT_EQ(postgres_rows(), sqlite_rows());
}

TEST_F(MigrateStore, EventsOnlyInPostgresRefuseTheCopy) {
    fill();
    ASSERT_TRUE(copy_store(*sqlite, *postgres).committed);
    // A service ran on PostgreSQL and took a webhook: a copy would delete it.
    ASSERT_EQ(insert_inbox_row(*postgres, an_event("evt_only_in_postgres")),
              AppendOutcome::inserted);
    ASSERT_TRUE(delete_secret(*sqlite, "alpha", "stripe_secret_key"));
    const auto before = postgres_rows();
    const auto again = copy_store(*sqlite, *postgres);
    EXPECT_FALSE(again.committed);
    EXPECT_EQ(again.events_only_in_target, 1);
    EXPECT_EQ(postgres_rows(), before) << "nothing written, nothing deleted";
}

TEST_F(MigrateStore, AFailureMidwayLeavesPostgresAsItWas) {
    fill();
    ASSERT_TRUE(copy_store(*sqlite, *postgres).committed);
    const auto before = postgres_rows();
    // A new event (inbox is copied before jobs), then a value PostgreSQL's BIGINT refuses in
    // jobs: SQLite keeps what it is given.
    ASSERT_EQ(insert_inbox_row(*sqlite, an_event("evt_5")), AppendOutcome::inserted);
    sqlite->exec("UPDATE jobs SET tries = 'many' WHERE id = " + std::to_string(job_ids[0]));
    std::vector<std::string> shown;
    EXPECT_ANY_THROW(
        copy_store(*sqlite, *postgres, [&](const TableCopy& t) { shown.push_back(t.table); }));
    EXPECT_NE(std::find(shown.begin(), shown.end(), "inbox"), shown.end());
    EXPECT_EQ(postgres_rows(), before);

    // Mended at the source, the next run copies all of it.
    sqlite->exec("UPDATE jobs SET tries = 0 WHERE id = " + std::to_string(job_ids[0]));
    ASSERT_TRUE(copy_store(*sqlite, *postgres).committed);
    EXPECT_EQ(postgres_rows(), sqlite_rows());
}

TEST_F(MigrateStore, FewerRowsInPostgresThanInSqliteRollBackTheCopy) {
    fill();
    // A trigger that swallows the inserts of creator_secrets (no table references it): the
    // target would come out short.
    postgres->exec("CREATE FUNCTION swallow() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RETURN NULL; END $$; "
                   "CREATE TRIGGER swallow_secrets BEFORE INSERT ON creator_secrets "
                   "FOR EACH ROW EXECUTE FUNCTION swallow()");
    const auto before = postgres_rows();
    const auto report = copy_store(*sqlite, *postgres);
    EXPECT_FALSE(report.committed);
    EXPECT_EQ(report.short_tables(), std::vector<std::string>{"creator_secrets"});
    EXPECT_EQ(by_table(report).at("creator_secrets").source, 2);
    EXPECT_EQ(by_table(report).at("creator_secrets").target, 0);
    EXPECT_EQ(by_table(report).at("cases").target, 2); // counted inside the transaction
    EXPECT_EQ(postgres_rows(), before);
    EXPECT_FALSE(load_case(*postgres, case_ids[0]));
}

TEST_F(MigrateStore, StoresAtDifferentSchemaVersionsAreRefused) {
    fill();
    const auto before = postgres_rows();
    sqlite->set_schema_version(latest_schema_version() - 1);
    try {
        copy_store(*sqlite, *postgres);
        ADD_FAILURE() << "copied between schema versions";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("schema version"), std::string::npos) << e.what();
    }
    sqlite->set_schema_version(latest_schema_version());
    EXPECT_EQ(postgres_rows(), before);
}

} // namespace
} // namespace dunning::store
