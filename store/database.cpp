#include "store/database.hpp"

#include "store/access_store.hpp"

#include <SQLiteCpp/Transaction.h>

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <stdexcept>
#include <vector>

namespace dunning::store {

namespace {

// Append only: a released migration is never edited, the next change is a new entry.
const std::vector<const char*> migrations = {
    // 1: inbox, cases and the links between them.
    R"sql(
    CREATE TABLE inbox (
        id            INTEGER PRIMARY KEY,
        creator_id    TEXT NOT NULL,
        event_id      TEXT NOT NULL,
        type          TEXT NOT NULL,
        account       TEXT NOT NULL DEFAULT '',
        created       INTEGER NOT NULL DEFAULT 0,  -- Stripe's created, unix seconds
        received_at   INTEGER NOT NULL,            -- unix milliseconds
        source        TEXT NOT NULL,               -- connect | direct | replay
        body          TEXT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'pending', -- pending | done | ignored | poison
        note          TEXT,                        -- why ignored, or the poison error
        processed_at  INTEGER,                     -- unix milliseconds
        UNIQUE (creator_id, event_id)
    );
    CREATE INDEX inbox_pending ON inbox (id) WHERE state = 'pending';
    CREATE INDEX inbox_poison ON inbox (id) WHERE state = 'poison';

    CREATE TABLE cases (
        id                 INTEGER PRIMARY KEY,
        creator_id         TEXT NOT NULL,
        invoice_id         TEXT NOT NULL,
        status             TEXT NOT NULL,  -- none | open | paid | voided | uncollectible
        customer_id        TEXT NOT NULL DEFAULT '',
        payment_intent_id  TEXT NOT NULL DEFAULT '',
        charge_id          TEXT NOT NULL DEFAULT '',
        amount_due         INTEGER NOT NULL DEFAULT 0,
        currency           TEXT NOT NULL DEFAULT '',
        opened_at          INTEGER,        -- unix seconds
        updated_at         INTEGER NOT NULL,
        state              TEXT NOT NULL,  -- the whole CaseState as JSON
        UNIQUE (creator_id, invoice_id)
    );
    CREATE INDEX cases_by_status ON cases (creator_id, status, id);
    CREATE INDEX cases_by_payment_intent ON cases (creator_id, payment_intent_id)
        WHERE payment_intent_id <> '';
    CREATE INDEX cases_by_charge ON cases (creator_id, charge_id) WHERE charge_id <> '';

    CREATE TABLE case_events (
        case_id   INTEGER NOT NULL REFERENCES cases (id),
        inbox_id  INTEGER NOT NULL REFERENCES inbox (id),
        PRIMARY KEY (case_id, inbox_id)
    ) WITHOUT ROWID;

    -- Payment events that arrived before any event tied their payment to an invoice.
    CREATE TABLE unlinked_payments (
        creator_id  TEXT NOT NULL,
        payment_key TEXT NOT NULL,   -- pi_… or, without one, ch_…
        inbox_id    INTEGER NOT NULL REFERENCES inbox (id),
        PRIMARY KEY (creator_id, payment_key, inbox_id)
    ) WITHOUT ROWID;
    )sql",
    // 2: the case engine: timers (a case's next wake-up, found by index) and the outbox of
    // effects, written in the same transaction as the decision that made them.
    R"sql(
    ALTER TABLE cases ADD COLUMN next_wakeup_at INTEGER;  -- unix seconds, module clock
    CREATE INDEX cases_due ON cases (next_wakeup_at) WHERE next_wakeup_at IS NOT NULL;
    CREATE INDEX cases_by_customer ON cases (creator_id, customer_id);

    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        case_id          INTEGER NOT NULL REFERENCES cases (id),
        kind             TEXT NOT NULL,     -- charge | email | end_of_schedule | notify_host
        payload          TEXT NOT NULL,     -- the effect as JSON
        idempotency_key  TEXT NOT NULL,
        state            TEXT NOT NULL DEFAULT 'pending', -- pending | done | failed
        tries            INTEGER NOT NULL DEFAULT 0,      -- technical failures so far
        due_at           INTEGER NOT NULL,  -- unix seconds, module clock
        created_at       INTEGER NOT NULL,
        done_at          INTEGER,
        result           TEXT,              -- what the other side answered
        last_error       TEXT
    );
    CREATE INDEX outbox_due ON outbox (kind, due_at) WHERE state = 'pending';
    CREATE INDEX outbox_by_case ON outbox (case_id, id);
    )sql",
    // 3: cards on file, for the reminder before a card expires, and the queue of those
    // reminders (not cases, so not in the outbox, whose rows belong to a case).
    R"sql(
    CREATE TABLE cards (
        creator_id         TEXT NOT NULL,
        customer_id        TEXT NOT NULL DEFAULT '',
        payment_method_id  TEXT NOT NULL,
        exp_month          INTEGER NOT NULL,
        exp_year           INTEGER NOT NULL,
        email              TEXT NOT NULL DEFAULT '',  -- '' until an invoice or case names it
        name               TEXT NOT NULL DEFAULT '',
        reminded           INTEGER NOT NULL DEFAULT 0, -- 1: the reminder for this expiry is queued
        PRIMARY KEY (creator_id, payment_method_id)
    );
    CREATE INDEX cards_expiring ON cards (exp_year, exp_month) WHERE reminded = 0;
    CREATE INDEX cards_by_customer ON cards (creator_id, customer_id);

    CREATE TABLE card_reminders (
        id                 INTEGER PRIMARY KEY,
        creator_id         TEXT NOT NULL,
        payment_method_id  TEXT NOT NULL,
        exp_month          INTEGER NOT NULL,
        exp_year           INTEGER NOT NULL,
        email              TEXT NOT NULL,
        name               TEXT NOT NULL DEFAULT '',
        idempotency_key    TEXT NOT NULL UNIQUE, -- also the Message-ID
        state              TEXT NOT NULL DEFAULT 'pending', -- pending | done | failed | cancelled
        tries              INTEGER NOT NULL DEFAULT 0,
        due_at             INTEGER NOT NULL,  -- unix seconds, module clock
        created_at         INTEGER NOT NULL,
        done_at            INTEGER,
        result             TEXT,
        last_error         TEXT
    );
    CREATE INDEX card_reminders_due ON card_reminders (due_at) WHERE state = 'pending';
    )sql",
    // 4: access control: entitlements and their history, overrides, subscriptions, the queue
    // of notifications to the host platform (access/store.cpp has the text).
    store::access_schema_sql,
};

// SQLite's own busy timeout sleeps up to 100 ms at a time; the writers here are threads of one
// process holding the lock for a millisecond or two, so short waits keep latency low. Gives up
// after about ten seconds.
int wait_for_lock(void*, int count) {
    if (count >= 20000) return 0;
    std::this_thread::sleep_for(std::chrono::microseconds(count < 10 ? 50 : 500));
    return 1;
}

void set_pragmas(SQLite::Database& db, const StoreOptions& o) {
    if (o.synchronous != "full" && o.synchronous != "normal")
        throw std::runtime_error("storage.synchronous must be \"full\" or \"normal\"");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(o.synchronous == "full" ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    sqlite3_busy_handler(db.getHandle(), wait_for_lock, nullptr);
}

} // namespace

int latest_schema_version() { return static_cast<int>(migrations.size()); }

int schema_version(SQLite::Database& db) {
    return db.execAndGet("PRAGMA user_version").getInt();
}

std::unique_ptr<SQLite::Database> connect_store(const StoreOptions& o) {
    auto db = std::make_unique<SQLite::Database>(o.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    set_pragmas(*db, o);
    return db;
}

std::unique_ptr<SQLite::Database> open_store(const StoreOptions& o) {
    const auto dir = std::filesystem::path(o.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    std::unique_ptr<SQLite::Database> db;
    try {
        db = connect_store(o);
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error("cannot open database " + o.path + ": " + e.what());
    }
    SQLite::Transaction tx(*db, SQLite::TransactionBehavior::IMMEDIATE);
    const int have = schema_version(*db);
    if (have > latest_schema_version())
        throw std::runtime_error(o.path + " has schema version " + std::to_string(have) +
                                 ", newer than this binary knows (" +
                                 std::to_string(latest_schema_version()) + "); upgrade dunning");
    for (int v = have; v < latest_schema_version(); ++v) db->exec(migrations[v]);
    db->exec("PRAGMA user_version = " + std::to_string(latest_schema_version()));
    tx.commit();
    return db;
}

} // namespace dunning::store
