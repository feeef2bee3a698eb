// The statements around every unit of work on SQLite (BEGIN IMMEDIATE, COMMIT and the savepoint
// of each event or job) are prepared once per connection and run again and again: a failed one
// must leave its transaction as SQLite does and be ready for the next use, with SQLite's own
// message.
#include "store/database.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dunning::store {
namespace {

using testing::TempDir;

class SqliteUnits : public ::testing::Test {
  protected:
    TempDir dir;
    StoreOptions options{(dir.path() / "units.db").string(), "normal"};
    std::unique_ptr<Connection> db;

    void SetUp() override {
        open_store(options);
        db = connect_store(options);
        db->exec("CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                 "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES "
                 "parent (id) DEFERRABLE INITIALLY DEFERRED)");
    }

    std::vector<std::int64_t> ids(const std::string& table) {
        auto st = db->prepare("SELECT id FROM " + table + " ORDER BY id");
        std::vector<std::int64_t> out;
        while (st->step())
            out.push_back(st->int64_at(0));
        return out;
    }
    void insert(const std::string& table, std::int64_t id) {
        db->exec("INSERT INTO " + table + " (id) VALUES (" + std::to_string(id) + ")");
    }
    // `unit` must be refused with a StoreError holding SQLite's `message`, the store's trouble or
    // not as `trouble` says.
    static void expect_refused(const std::function<void()>& unit, const std::string& message,
                               bool trouble) {
        try {
            unit();
        } catch (const StoreError& e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
            EXPECT_EQ(e.trouble(), trouble) << e.what();
            return;
        }
        ADD_FAILURE() << "went through; expected a refusal with \"" << message << "\"";
    }
};

TEST_F(SqliteUnits, EachSavepointKeepsOrDropsItsOwnWritesTransactionAfterTransaction) {
    for (std::int64_t round = 0; round < 3; ++round) {
        db->begin_immediate();
        insert("parent", 10 * round + 1);
        {
            Savepoint dropped(*db);
            insert("parent", 10 * round + 2);
            dropped.rollback();
        }
        {
            Savepoint kept(*db);
            insert("parent", 10 * round + 3);
        }
        db->commit();
    }
    EXPECT_EQ(ids("parent"), (std::vector<std::int64_t>{1, 3, 11, 13, 21, 23}));
}

TEST_F(SqliteUnits, ACommitRefusedLeavesTheTransactionOpenAndCommitsOnceMended) {
    db->begin_immediate();
    db->exec("INSERT INTO child (id, parent_id) VALUES (1, 7)"); // no parent 7 yet
    expect_refused([&] { db->commit(); }, "FOREIGN KEY constraint failed", false);
    insert("parent", 7); // still in the same transaction
    db->commit();
    EXPECT_EQ(ids("child"), std::vector<std::int64_t>{1});

    // And the next transaction begins and commits with the same statements.
    db->begin_immediate();
    insert("parent", 8);
    db->commit();
    EXPECT_EQ(ids("parent"), (std::vector<std::int64_t>{7, 8}));
}

TEST_F(SqliteUnits, AReleaseWithoutItsSavepointFailsWithSqlitesMessageAndHarmsNothing) {
    expect_refused([&] { db->exec("RELEASE unit"); }, "no such savepoint: unit", false);
    db->begin_immediate();
    {
        Savepoint unit(*db);
        insert("parent", 1);
    }
    db->commit();
    EXPECT_EQ(ids("parent"), std::vector<std::int64_t>{1});
}

TEST_F(SqliteUnits, ABeginRefusedWhileAnotherHoldsTheLockIsTroubleAndTheNextOneBegins) {
    db->lock_wait.limit = std::chrono::milliseconds{50};
    {
        const auto other = connect_store(options); // another connection, holding the lock
        other->begin_immediate();
        expect_refused([&] { db->begin_immediate(); }, "database is locked", true);
        other->rollback();
    }
    db->begin_immediate();
    insert("parent", 1);
    db->commit();
    EXPECT_EQ(ids("parent"), std::vector<std::int64_t>{1});
}

} // namespace
} // namespace dunning::store
