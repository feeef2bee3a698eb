// Stores of earlier versions keep their queued work: the rows of the outbox, card_reminders
// and host_notifications come up as jobs of the one queue. A SQLite-file test: the old stores are
// SQLite files written as earlier versions wrote them, and the migrations are SQLite's history.
// And a store file that another connection holds for a moment still opens.
#include "store/database.hpp"
#include "store/inbox.hpp"
#include "store/job_queue.hpp"
#include "store/notifications.hpp"
#include "support/service.hpp"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace dunning::store {
namespace {

using nlohmann::json;
using testing::read_file;
using testing::TempDir;

const auto fixture =
    std::filesystem::path(DUNNING_SOURCE_DIR) / "tests/fixtures/case_state/store_v4.sql";

bool has_table(Connection& db, const std::string& name) {
    auto st = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    st->bind(1, std::string_view(name));
    return st->step();
}

// The fixture's store (schema 4) at `path`, brought to `version` as that version's binary would
// have: the connection to write what that version wrote before the upgrade under test.
std::unique_ptr<Connection> fixture_store_at(const StoreOptions& options, int version) {
    {
        SQLite::Database old(options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        old.exec(read_file(fixture));
    }
    auto old = connect_store(options);
    migrate(*old, version);
    return old;
}

class Version4Store : public ::testing::Test {
  protected:
    TempDir dir;
    StoreOptions options{(dir.path() / "dunning.db").string(), "normal"};

    void SetUp() override {
        SQLite::Database old(options.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        old.exec(read_file(fixture));
        ASSERT_EQ(old.execAndGet("PRAGMA user_version").getInt(), 4);
        // Work still to do in each of the three queues of version 4.
        old.exec(R"sql(
            INSERT INTO outbox (id, case_id, kind, payload, idempotency_key, tries, due_at, created_at, last_error)
            VALUES (4, 1, 'charge', '{"attempt":3,"invoice_id":"in_1","payment_method_id":"pm_new_card"}',
                    'dunning-pay-in_1-3', 2, 1800290000, 1800288000, 'technical 503');
            INSERT INTO card_reminders (creator_id, payment_method_id, exp_month, exp_year, email, name,
                                        idempotency_key, due_at, created_at)
            VALUES ('alpha', 'pm_card_visa', 12, 2030, 'juergen@example.org', 'Jürgen Müßig',
                    'card-alpha-pm_card_visa-2030-12', 1800288000, 1800288000);
            INSERT INTO host_notifications (notification_id, creator_id, customer_id, type, body, state,
                                            due_at, created_at, done_at, result)
            VALUES ('dn_000000000000000000000001', 'alpha', 'cus_fake', 'case.opened',
                    '{"created":1800000000,"creator":"alpha","data":{},"id":"dn_000000000000000000000001","member":"cus_fake","object":"event","type":"case.opened"}',
                    'done', 1800000000, 1800000000, 1800000001, 'HTTP 200'),
                   ('dn_000000000000000000000002', 'alpha', 'cus_fake', 'access.locked',
                    '{"created":1800288000,"creator":"alpha","data":{"level":"locked"},"id":"dn_000000000000000000000002","member":"cus_fake","object":"event","type":"access.locked"}',
                    'pending', 1800288000, 1800288000, NULL, NULL),
                   ('dn_000000000000000000000003', 'alpha', 'cus_fake', 'access.restored',
                    '{"created":1800288001,"creator":"alpha","data":{"level":"granted"},"id":"dn_000000000000000000000003","member":"cus_fake","object":"event","type":"access.restored"}',
                    'pending', NULL, 1800288001, NULL, NULL);
        )sql");
    }
};

TEST_F(Version4Store, ComesUpWithItsPendingWorkAsJobs) {
    auto db = open_store(options);
    EXPECT_EQ(schema_version(*db), latest_schema_version());
    for (const char* table : {"outbox", "card_reminders", "host_notifications"})
        EXPECT_FALSE(has_table(*db, table)) << table;

    const auto now = from_unix(1800300000);
    JobQueue queue;
    auto charges = queue.claim(*db, JobKind::charge, now, 10);
    ASSERT_EQ(charges.size(), 1u);
    EXPECT_EQ(charges[0].payload, JobPayload(ChargeJob{3, "in_1", "pm_new_card"}));
    EXPECT_EQ(charges[0].idempotency_key, "dunning-pay-in_1-3");
    EXPECT_EQ(charges[0].case_id, 1);
    EXPECT_EQ(charges[0].tries, 2);
    EXPECT_EQ(charges[0].created, from_unix(1800288000));

    auto reminders = queue.claim(*db, JobKind::card_reminder, now, 10);
    ASSERT_EQ(reminders.size(), 1u);
    EXPECT_EQ(reminders[0].payload,
              JobPayload(CardReminderJob{"alpha", "pm_card_visa", "juergen@example.org",
                                         "Jürgen Müßig", 12, 2030}));
    EXPECT_EQ(reminders[0].idempotency_key, "card-alpha-pm_card_visa-2030-12");

    // The member's order holds across the upgrade: the second waits for the first.
    EXPECT_EQ(notification_counts(*db).pending, 2);
    auto notes = queue.claim(*db, JobKind::platform_notification, now, 10);
    ASSERT_EQ(notes.size(), 1u);
    const auto& locked = std::get<PlatformNotificationJob>(notes[0].payload);
    EXPECT_EQ(locked.id, "dn_000000000000000000000002");
    EXPECT_EQ(locked.data, (json{{"level", "locked"}}));
    EXPECT_EQ(
        payload_text(notes[0].payload),
        R"({"created":1800288000,"creator":"alpha","data":{"level":"locked"},"id":"dn_000000000000000000000002","member":"cus_fake","object":"event","type":"access.locked"})");
    finish_job(*db, notes[0], "done", "HTTP 200", now);
    notes = queue.claim(*db, JobKind::platform_notification, now, 10);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(std::get<PlatformNotificationJob>(notes[0].payload).type, "access.restored");

    // The case's history of actions is all there, in its order.
    const auto actions = case_actions(*db, 1);
    ASSERT_EQ(actions.size(), 4u);
    EXPECT_EQ(actions[0].kind, "charge");
    EXPECT_EQ(actions[0].state, "done");
    EXPECT_EQ(actions[0].result, "card_error 402 req_fake7b8600000006 insufficient_funds");
    EXPECT_EQ(actions[2].kind, "email");
    EXPECT_EQ(actions[3].state, "pending");
    EXPECT_EQ(actions[3].last_error, "technical 503");
}

// The sqlite3 shell or a backup holding the file while the service starts delays the start; the
// file's check before opening used to fail at once with "database is locked".
TEST(StoreOpening, WaitsWhileAnotherConnectionHoldsTheFile) {
    TempDir dir;
    const StoreOptions options{(dir.path() / "held.sqlite").string(), "normal"};
    open_store(options);
    std::optional<SQLite::Database> holder(std::in_place, options.path, SQLite::OPEN_READWRITE);
    holder->exec("PRAGMA locking_mode = EXCLUSIVE");
    holder->exec("BEGIN EXCLUSIVE");
    holder->exec("CREATE TABLE held (x)");
    {
        // The hold is real: a reader that does not wait is refused.
        SQLite::Database impatient(options.path, SQLite::OPEN_READONLY);
        EXPECT_THROW(impatient.exec("SELECT count(*) FROM sqlite_master"), SQLite::Exception);
    }
    std::thread lets_go([&holder] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        holder.reset(); // rolls back and closes: the lock goes
    });
    try {
        auto db = open_store(options);
        EXPECT_EQ(schema_version(*db), latest_schema_version());
    } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
    }
    lets_go.join();
}

// An upgrade runs in the opening transaction and may take long on a large store: the service
// says so before it begins, and again once it is committed; a new store or a current one is
// opened without a word.
TEST(StoreOpening, AnUpgradeIsToldBeforeItBeginsAndOnceItIsCommitted) {
    TempDir dir;
    StoreOptions options{(dir.path() / "old.sqlite").string(), "normal"};
    fixture_store_at(options, 19);
    const auto latest = std::to_string(latest_schema_version());
    std::vector<std::string> lines;
    std::vector<int> committed; // the schema another connection sees at each line
    options.on_upgrade = [&](const std::string& line) {
        lines.push_back(line);
        committed.push_back(schema_version(*connect_store(StoreOptions{options.path, "normal"})));
    };
    open_store(options);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[0].find("upgrading the store " + options.path + " from schema 19 to " + latest),
              std::string::npos)
        << lines[0];
    EXPECT_NE(lines[1].find("the store " + options.path + " is at schema " + latest),
              std::string::npos)
        << lines[1];
    EXPECT_EQ(committed, (std::vector<int>{19, latest_schema_version()}))
        << "the first line while nothing is committed, the second once it is";

    lines.clear();
    open_store(options);
    EXPECT_TRUE(lines.empty()) << "already at the latest schema";
    StoreOptions fresh{(dir.path() / "new.sqlite").string(), "normal"};
    fresh.on_upgrade = options.on_upgrade;
    open_store(fresh);
    EXPECT_TRUE(lines.empty()) << "a new store";
}

// Every save since schema 15 writes the case's figures (the summary and the open items read
// them); a store older than that gets them for every case when it opens, from the cases' JSON.
TEST(Version14Store, EveryCaseGetsItsFiguresWhenTheStoreOpens) {
    TempDir dir;
    const StoreOptions options{(dir.path() / "old.sqlite").string(), "normal"};
    ASSERT_FALSE(has_table(*fixture_store_at(options, 14), "case_figures"));
    auto db = open_store(options);
    auto st = db->prepare("SELECT case_id, status, customer_id FROM case_figures");
    ASSERT_TRUE(st->step());
    EXPECT_EQ(st->int64_at(0), 1);
    EXPECT_EQ(st->text_at(1), "paused");
    EXPECT_EQ(st->text_at(2), "cus_fake");
    EXPECT_FALSE(st->step());
}

// Schema 20 keeps an event's body in inbox_bodies: a store of schema 19 keeps every event, the
// pending one still read with its body, and an event appended after the upgrade gets its body
// there too (a duplicate none).
TEST(Version19Store, EveryEventKeepsItsBodyInATableOfItsOwn) {
    TempDir dir;
    const StoreOptions options{(dir.path() / "old.sqlite").string(), "normal"};
    fixture_store_at(options, 19)
        ->exec("INSERT INTO inbox (id, creator_id, event_id, type, received_at, source, body) "
               "VALUES (40, 'alpha', 'evt_pending', 'invoice.paid', 1796253890100, 'direct', "
               "'{\"id\":\"evt_pending\"}')");
    auto db = open_store(options);
    EXPECT_EQ(schema_version(*db), latest_schema_version());
    const auto count = [&](const std::string& sql) {
        auto st = db->prepare(sql);
        EXPECT_TRUE(st->step());
        return st->int64_at(0);
    };
    EXPECT_EQ(count("SELECT count(*) FROM pragma_table_info('inbox') WHERE name = 'body'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM inbox"), 12);
    EXPECT_EQ(count("SELECT count(*) FROM inbox_bodies b JOIN inbox i ON i.id = b.inbox_id"), 12);
    {
        auto st = db->prepare("SELECT body FROM inbox_bodies WHERE inbox_id = 3");
        ASSERT_TRUE(st->step());
        EXPECT_NE(st->text_at(0).find(R"("id":"evt_fake7b8600000005")"), std::string::npos);
    }
    auto pending = pending_inbox_rows(*db, 10);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].id, 40);
    EXPECT_EQ(pending[0].body, R"({"id":"evt_pending"})");

    InboxRow row{"alpha",    "evt_new",    "invoice.paid", "", "direct", R"({"id":"evt_new"})",
                 1800000000, 1796253890200};
    EXPECT_EQ(insert_inbox_row(*db, row), AppendOutcome::inserted);
    row.body = R"({"id":"evt_new","again":true})";
    EXPECT_EQ(insert_inbox_row(*db, row), AppendOutcome::duplicate);
    pending = pending_inbox_rows(*db, 10);
    ASSERT_EQ(pending.size(), 2u);
    EXPECT_EQ(pending[1].body, R"({"id":"evt_new"})");
    EXPECT_EQ(count("SELECT count(*) FROM inbox_bodies"), 13);

    // A body belongs to a row; a row without one (none is written so) is read as an empty event,
    // which the worker marks poison, instead of staying pending unseen.
    EXPECT_THROW(db->exec("INSERT INTO inbox_bodies (inbox_id, body) VALUES (999, '{}')"),
                 StoreError);
    db->exec("INSERT INTO inbox (id, creator_id, event_id, type, received_at, source) "
             "VALUES (50, 'alpha', 'evt_bodiless', 'invoice.paid', 1796253890300, 'direct')");
    pending = pending_inbox_rows(*db, 10);
    ASSERT_EQ(pending.size(), 3u);
    EXPECT_EQ(pending[2].id, 50);
    EXPECT_EQ(pending[2].body, "");
}

// A store made by a version without the access tables (schema 3) with a notify_host effect
// pending in the outbox: the upgrade cancels it (nothing ever sent those) and keeps the rest.
TEST(Version3Store, UpgradeCancelsPendingHostNotificationsOfTheOutbox) {
    TempDir dir;
    const StoreOptions options{(dir.path() / "old.sqlite").string(), "normal"};
    {
        auto old = connect_store(options);
        migrate(*old, 3);
        auto& db = *old;
        db.exec("INSERT INTO cases (id, creator_id, invoice_id, status, updated_at, state) "
                "VALUES (1, 'alpha', 'in_1', 'open', 0, '{}')");
        db.exec(
            "INSERT INTO outbox (id, case_id, kind, payload, idempotency_key, due_at, created_at) "
            "VALUES "
            "(1, 1, 'notify_host', '{\"type\":\"case.opened\"}', 'case-1-case.opened', 0, 0), "
            "(2, 1, 'email', '{\"message\":\"reminder\",\"stage\":1}', 'case-1-reminder-1', 0, 0), "
            "(3, 1, 'notify_host', '{\"type\":\"case.resolved\"}', 'case-1-case.resolved', 0, 0)");
        db.exec("UPDATE outbox SET state = 'done', result = 'old' WHERE id = 3");
    }
    auto db = open_store(options);
    EXPECT_EQ(schema_version(*db), latest_schema_version());
    const auto actions = case_actions(*db, 1);
    ASSERT_EQ(actions.size(), 3u);
    EXPECT_EQ(actions[0].state, "cancelled");
    EXPECT_EQ(actions[0].result, "superseded by host_notifications");
    EXPECT_EQ(actions[1].state, "pending");
    EXPECT_EQ(actions[2].state, "done");
    EXPECT_EQ(actions[2].result, "old");
    auto emails = JobQueue{}.claim(*db, JobKind::email, from_unix(0), 10);
    ASSERT_EQ(emails.size(), 1u);
    EXPECT_EQ(emails[0].payload, JobPayload(EmailJob{"reminder", 1}));
    EXPECT_EQ(notification_counts(*db).pending, 0);
}

} // namespace
} // namespace dunning::store
