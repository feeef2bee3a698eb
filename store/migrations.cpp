// Every room's schema, as one list of migrations (applied by store/database.cpp).
#include "store/migrations.hpp"

namespace dunning::store {

namespace {

// Migration 5.
const char* const jobs_table_sql = R"sql(
    -- Jobs to carry out: charges, emails and end-of-schedule actions of a case, card
    -- reminders, notifications to the host platform. Jobs with the same order_key run one at a
    -- time, oldest first: only a key's oldest pending job has a due_at, its later ones wait with
    -- due_at NULL and become due when the one before them finishes, so the scan for due jobs
    -- never walks over waiting ones.
    CREATE TABLE jobs (
        id               INTEGER PRIMARY KEY,
        kind             TEXT NOT NULL,  -- charge | email | end_of_schedule | card_reminder | platform_notification
        case_id          INTEGER REFERENCES cases (id), -- NULL: no case's
        order_key        TEXT,           -- NULL: no order to keep
        payload          TEXT NOT NULL,  -- the job as JSON (store/job_payload.hpp)
        idempotency_key  TEXT NOT NULL,  -- Idempotency-Key, Message-ID or notification id
        state            TEXT NOT NULL DEFAULT 'pending', -- pending | done | failed | cancelled
        claimed_by       TEXT,           -- the run carrying it out; another run may take it over
        tries            INTEGER NOT NULL DEFAULT 0,      -- failures so far
        due_at           INTEGER,        -- unix seconds, module clock; NULL: waiting for its key
        created_at       INTEGER NOT NULL,
        done_at          INTEGER,
        result           TEXT,           -- what the other side answered
        last_error       TEXT
    );
    CREATE INDEX jobs_due ON jobs (kind, due_at, id) WHERE state = 'pending';
    CREATE INDEX jobs_by_case ON jobs (case_id, id) WHERE case_id IS NOT NULL;
    CREATE INDEX jobs_by_order_key ON jobs (order_key, id) WHERE state = 'pending' AND order_key IS NOT NULL;
    CREATE INDEX jobs_by_idempotency_key ON jobs (kind, idempotency_key);
    CREATE INDEX jobs_oldest ON jobs (kind, created_at) WHERE state = 'pending';

    INSERT INTO jobs (kind, case_id, payload, idempotency_key, state, tries, due_at, created_at,
                      done_at, result, last_error)
        SELECT kind, case_id, payload, idempotency_key, state, tries, due_at, created_at, done_at,
               result, last_error
        FROM outbox ORDER BY id;
    INSERT INTO jobs (kind, payload, idempotency_key, state, tries, due_at, created_at, done_at,
                      result, last_error)
        SELECT 'card_reminder',
               json_object('creator_id', creator_id, 'payment_method_id', payment_method_id,
                           'email', email, 'name', name, 'exp_month', exp_month, 'exp_year', exp_year),
               idempotency_key, state, tries, due_at, created_at, done_at, result, last_error
        FROM card_reminders ORDER BY id;
    INSERT INTO jobs (kind, order_key, payload, idempotency_key, state, tries, due_at, created_at,
                      done_at, result, last_error)
        SELECT 'platform_notification', creator_id || '/' || customer_id, body, notification_id,
               state, tries, due_at, created_at, done_at, result, last_error
        FROM host_notifications ORDER BY id;

    DROP TABLE outbox;
    DROP TABLE card_reminders;
    DROP TABLE host_notifications;
)sql";

const std::vector<const char*> all = {
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
    // of notifications to the host platform.
    R"sql(
    -- One row per (creator, member, product): the level now, and why.
    CREATE TABLE entitlements (
        creator_id   TEXT NOT NULL,
        customer_id  TEXT NOT NULL,
        product_id   TEXT NOT NULL,
        level        TEXT NOT NULL,              -- granted | grace | limited | locked
        reason       TEXT NOT NULL,
        case_id      INTEGER NOT NULL DEFAULT 0, -- the claim behind the level, 0 if none
        override_id  INTEGER NOT NULL DEFAULT 0, -- the override behind it, 0 if none
        lock_at      INTEGER,                    -- an announced lock (grace), unix seconds
        since        INTEGER NOT NULL,           -- when the level last changed
        recheck_at   INTEGER,                    -- when time alone can change it
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (creator_id, customer_id, product_id)
    ) WITHOUT ROWID;
    CREATE INDEX entitlements_recheck ON entitlements (recheck_at) WHERE recheck_at IS NOT NULL;

    CREATE TABLE access_history (
        id           INTEGER PRIMARY KEY,
        creator_id   TEXT NOT NULL,
        customer_id  TEXT NOT NULL,
        product_id   TEXT NOT NULL,
        from_level   TEXT NOT NULL,
        to_level     TEXT NOT NULL,
        reason       TEXT NOT NULL,
        case_id      INTEGER NOT NULL DEFAULT 0,
        override_id  INTEGER NOT NULL DEFAULT 0,
        at           INTEGER NOT NULL
    );
    CREATE INDEX access_history_by_member ON access_history (creator_id, customer_id, id);

    -- Audited: revoked, never deleted.
    CREATE TABLE access_overrides (
        id           INTEGER PRIMARY KEY,
        creator_id   TEXT NOT NULL,
        customer_id  TEXT NOT NULL,
        product_id   TEXT NOT NULL DEFAULT '',   -- '' = every product of the member
        level        TEXT NOT NULL,
        until        INTEGER,                    -- none: until revoked
        note         TEXT NOT NULL DEFAULT '',
        actor        TEXT NOT NULL DEFAULT '',
        created_at   INTEGER NOT NULL,
        revoked_at   INTEGER,
        revoked_by   TEXT NOT NULL DEFAULT '',
        revoke_note  TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX access_overrides_by_member ON access_overrides (creator_id, customer_id);

    -- Subscriptions as Stripe last described them (newest snapshot by as_of).
    CREATE TABLE subscriptions (
        creator_id           TEXT NOT NULL,
        subscription_id      TEXT NOT NULL,
        customer_id          TEXT NOT NULL DEFAULT '',
        status               TEXT NOT NULL DEFAULT '', -- '' unknown: never described
        cancellation_reason  TEXT NOT NULL DEFAULT '',
        products             TEXT NOT NULL DEFAULT '[]', -- JSON array of product ids
        as_of                INTEGER NOT NULL DEFAULT 0, -- the snapshot's event created time
        last_paid_at         INTEGER,
        PRIMARY KEY (creator_id, subscription_id)
    );
    CREATE INDEX subscriptions_by_customer ON subscriptions (creator_id, customer_id);

    -- Signed webhooks to the host platform, delivered in order per member: only a member's
    -- oldest pending row is ever sent. Its later rows wait with due_at NULL and become due when
    -- the one before them is delivered, so the scan for due rows never walks over waiting ones.
    CREATE TABLE host_notifications (
        id               INTEGER PRIMARY KEY,
        notification_id  TEXT NOT NULL UNIQUE,     -- dn_…, the host dedupes on it
        creator_id       TEXT NOT NULL,
        customer_id      TEXT NOT NULL,
        type             TEXT NOT NULL,
        body             TEXT NOT NULL,            -- the JSON POSTed, fixed when queued
        state            TEXT NOT NULL DEFAULT 'pending', -- pending | done
        tries            INTEGER NOT NULL DEFAULT 0,
        due_at           INTEGER,                  -- unix seconds, module clock; NULL: waiting
        created_at       INTEGER NOT NULL,
        done_at          INTEGER,
        result           TEXT,
        last_error       TEXT
    );
    CREATE INDEX host_notifications_member_pending ON host_notifications (creator_id, customer_id, id)
        WHERE state = 'pending';
    CREATE INDEX host_notifications_due ON host_notifications (due_at, id) WHERE state = 'pending';
    CREATE INDEX host_notifications_oldest ON host_notifications (created_at) WHERE state = 'pending';

    CREATE TABLE access_listener_cursor (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        history_id  INTEGER NOT NULL
    );
    INSERT INTO access_listener_cursor (id, history_id) VALUES (1, 0);

    -- Older versions queued host notifications in the outbox with nothing to send them.
    UPDATE outbox SET state = 'cancelled', result = 'superseded by host_notifications'
        WHERE kind = 'notify_host' AND state = 'pending';
)sql",
    // 5: one queue for all jobs (see job_queue.hpp): the rows of the outbox, of card_reminders
    // and of host_notifications, done or not, are copied over (a case's jobs stay its history
    // in the API) and the three tables dropped.
    jobs_table_sql,
    // 6: outstanding claims warn before they become time-barred (the case engine plans the
    // warnings as wake-ups); escalated and disputed cases had none, so each is looked at once.
    R"sql(
    UPDATE cases SET next_wakeup_at = 0 WHERE next_wakeup_at IS NULL
        AND status IN ('open', 'paused', 'escalated', 'disputed');
    )sql",
    // 7: claims handed to a collection agency, in batches; a case's own record of it (batch,
    // the agency's reference, what came back) is in its state.
    R"sql(
    CREATE TABLE handover_batches (
        id          INTEGER PRIMARY KEY,
        creator_id  TEXT NOT NULL,
        agency      TEXT NOT NULL DEFAULT '',
        created_at  INTEGER NOT NULL  -- unix seconds, module clock
    );
    CREATE INDEX handover_batches_by_creator ON handover_batches (creator_id, id);
    CREATE TABLE handover_cases (
        batch_id  INTEGER NOT NULL REFERENCES handover_batches (id),
        case_id   INTEGER NOT NULL REFERENCES cases (id),
        PRIMARY KEY (batch_id, case_id)
    );
    )sql",
    // 8: creators' secrets, each sealed (store/secrets.hpp): never a plaintext in the file.
    R"sql(
    CREATE TABLE creator_secrets (
        creator_id  TEXT NOT NULL,
        name        TEXT NOT NULL,    -- stripe_secret_key, webhook_secret, oauth_access_token, …
        sealed      TEXT NOT NULL,    -- v1:<key id>:<base64(nonce | ciphertext | tag)>
        key_id      TEXT NOT NULL,    -- the key it is sealed under, for a rotation
        updated_at  INTEGER NOT NULL, -- unix seconds, module clock
        PRIMARY KEY (creator_id, name)
    ) WITHOUT ROWID;
    )sql",
    // 9: creators as data (store/creators.hpp): those of the file, upserted at every start, and
    // those made through the admin API. Their secrets are not here.
    R"sql(
    CREATE TABLE creators (
        id              TEXT PRIMARY KEY,
        source          TEXT NOT NULL CHECK (source IN ('config', 'api')),
        settings        TEXT NOT NULL,  -- the creator's own keys as JSON, without secrets
        disabled        INTEGER NOT NULL DEFAULT 0,
        api_token_hash  TEXT NOT NULL,  -- SHA-256 of the API token, lowercase hex
        created_at      INTEGER NOT NULL, -- unix seconds, module clock
        updated_at      INTEGER NOT NULL
    );
    )sql",
    // 10: how each creator reaches Stripe (store/stripe_connections.hpp); its secrets stay in
    // creator_secrets. OAuth states are single-use: their nonces are kept once used.
    R"sql(
    CREATE TABLE stripe_connections (
        creator_id        TEXT PRIMARY KEY,
        method            TEXT NOT NULL CHECK (method IN ('oauth', 'platform', 'key')),
        account           TEXT NOT NULL DEFAULT '',
        status            TEXT NOT NULL CHECK (status IN ('connected', 'disconnected')),
        key_last4         TEXT NOT NULL DEFAULT '',
        webhook_endpoint  TEXT NOT NULL DEFAULT '',
        connected_at      INTEGER NOT NULL, -- unix seconds, module clock
        updated_at        INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE oauth_nonces (
        nonce       TEXT PRIMARY KEY,
        creator_id  TEXT NOT NULL,
        used_at     INTEGER NOT NULL
    ) WITHOUT ROWID;
    )sql",
    // 11: whose payment method is whose, from payment and payment-method events: a mandate
    // event names only the method, and its member's cases are found through it. The cases
    // already stored tell the methods that failed before.
    R"sql(
    CREATE TABLE payment_methods (
        creator_id         TEXT NOT NULL,
        payment_method_id  TEXT NOT NULL,
        customer_id        TEXT NOT NULL,
        PRIMARY KEY (creator_id, payment_method_id)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO payment_methods (creator_id, payment_method_id, customer_id)
        SELECT creator_id, json_extract(state, '$.last_failure.payment_method_id'), customer_id
        FROM cases
        WHERE customer_id <> ''
          AND coalesce(json_extract(state, '$.last_failure.payment_method_id'), '') <> '';
    )sql",
    // 12: the creator's dashboard (store/dashboard_sessions.hpp): one-time login links and the
    // sessions they open, each kept as the SHA-256 of its token only.
    R"sql(
    CREATE TABLE dashboard_login_links (
        token_hash  TEXT PRIMARY KEY,  -- SHA-256 of the link's token, lowercase hex
        creator_id  TEXT NOT NULL,
        created_at  INTEGER NOT NULL,  -- unix seconds, module clock
        expires_at  INTEGER NOT NULL,
        used_at     INTEGER            -- taken once
    ) WITHOUT ROWID;
    CREATE TABLE dashboard_sessions (
        token_hash    TEXT PRIMARY KEY, -- SHA-256 of the session cookie's value
        creator_id    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        last_seen_at  INTEGER NOT NULL  -- idle sessions end (config [dashboard])
    ) WITHOUT ROWID;
    )sql",
    // 13: who took a creator's decision on a case and why (store/creator_actions.hpp).
    R"sql(
    CREATE TABLE case_creator_actions (
        id       INTEGER PRIMARY KEY,
        case_id  INTEGER NOT NULL,
        action   TEXT NOT NULL,   -- as in the API's path: pause, mark-paid, hand-over, …
        actor    TEXT NOT NULL,   -- api:<creator> or dashboard:<creator>, with the caller's name
        note     TEXT NOT NULL,   -- why; may be empty
        at       INTEGER NOT NULL -- unix seconds, module clock
    );
    CREATE INDEX case_creator_actions_by_case ON case_creator_actions (case_id, id);
    )sql",
    // 14: a member's cases by status, so that the access rules read only the cases that can
    // restrict access, never the member's paid history (it replaces cases_by_customer, whose
    // columns lead this one); handover_cases by case, for the foreign key check of a case's row.
    R"sql(
    CREATE INDEX cases_by_customer_status ON cases (creator_id, customer_id, status);
    DROP INDEX cases_by_customer;
    CREATE INDEX handover_cases_by_case ON handover_cases (case_id);
    )sql",
    // 15: each case's figures for the summary and the open-items list (store/case_figures.hpp),
    // written with the case; the cases stored before are filled in from their JSON when the store
    // opens (fill_missing_case_figures).
    R"sql(
    CREATE TABLE case_figures (
        case_id         INTEGER PRIMARY KEY REFERENCES cases (id),
        creator_id      TEXT NOT NULL,
        customer_id     TEXT NOT NULL,
        failed_at       INTEGER,          -- first failure, unix seconds; NULL: not in a summary
        failed_month    TEXT NOT NULL,    -- YYYY-MM of failed_at
        status          TEXT NOT NULL,    -- as the API names it (status_of)
        currency        TEXT NOT NULL,
        amount_due      INTEGER NOT NULL, -- minor units
        open_amount     INTEGER NOT NULL,
        stage           INTEGER NOT NULL, -- the newest reminder stage sent
        paid_month      TEXT NOT NULL,    -- YYYY-MM of the payment; '' if not paid
        recovered_by    TEXT NOT NULL,    -- what recovered a paid case; '' if not paid
        arose_on        INTEGER,          -- the day the claim arose, days since 1970-01-01
        limitation_on   INTEGER,          -- its limitation date, days since 1970-01-01
        anchor_at       INTEGER,          -- the ladder's start, unix seconds
        payment_method  TEXT NOT NULL,
        products        TEXT NOT NULL     -- ' a b ': each product between spaces
    );
    -- The summary's groups in index order (read whole, no sort) and the open items' totals and
    -- pages: only the outstanding claims.
    CREATE INDEX case_figures_summary ON case_figures (creator_id, currency, failed_month,
        status, stage, paid_month, recovered_by, failed_at, amount_due, open_amount);
    CREATE INDEX case_figures_outstanding ON case_figures (creator_id, case_id)
        WHERE status IN ('open', 'paused', 'objected', 'escalated', 'handover_pending',
                         'handed_over', 'disputed');
    CREATE INDEX case_figures_owed ON case_figures (creator_id, currency, stage, anchor_at,
        open_amount, status, arose_on, limitation_on, payment_method, customer_id, products)
        WHERE status IN ('open', 'paused', 'objected', 'escalated', 'handover_pending',
                         'handed_over', 'disputed');
    )sql",
    // 16: a claim on a job lasts until claimed_until (unix milliseconds, the machine's clock);
    // after it another instance may take the job over (store/job_queue.hpp).
    R"sql(
    ALTER TABLE jobs ADD COLUMN claimed_until INTEGER;
    )sql",
    // 17: a creator's restricted entitlements, for the summary's list of locked members
    // (locked_access), without walking every entitlement of the creator; only restricted ones
    // are in it, so granting access writes no entry.
    R"sql(
    CREATE INDEX entitlements_restricted ON entitlements (creator_id, level)
        WHERE level IN ('locked', 'limited');
    )sql",
    // 18: case_figures' partial indexes on an OR chain of the outstanding statuses instead of
    // their list: for a list SQLite built a temporary B-tree at every write of a figures row
    // (store/case_statuses.hpp, outstanding_condition_sql, which the queries name).
    R"sql(
    DROP INDEX case_figures_outstanding;
    DROP INDEX case_figures_owed;
    CREATE INDEX case_figures_outstanding ON case_figures (creator_id, case_id)
        WHERE (status = 'open' OR status = 'paused' OR status = 'objected' OR status = 'escalated' OR
               status = 'handover_pending' OR status = 'handed_over' OR status = 'disputed');
    CREATE INDEX case_figures_owed ON case_figures (creator_id, currency, stage, anchor_at,
        open_amount, status, arose_on, limitation_on, payment_method, customer_id, products)
        WHERE (status = 'open' OR status = 'paused' OR status = 'objected' OR status = 'escalated' OR
               status = 'handover_pending' OR status = 'handed_over' OR status = 'disputed');
    )sql",
    // 19: no index of the pending jobs by age. It was written at every enqueue, claim and finish
    // (about a ninth of the pages a lifecycle writes) for the metrics' oldest pending job alone,
    // which now reads the pending jobs of its kind (store/job_queue.cpp, pending_jobs).
    R"sql(
    DROP INDEX jobs_oldest;
    )sql",
    // 20: an event's body in a table of its own, written once. In the inbox row the worker's
    // update of its state rewrote the whole record, the body's overflow pages included: 1.25 of
    // the 2.96 pages the worker wrote to the WAL per event (bench/ingest/README.md, "The event's
    // body apart from its row").
    R"sql(
    CREATE TABLE inbox_bodies (
        inbox_id  INTEGER PRIMARY KEY REFERENCES inbox (id),
        body      TEXT NOT NULL  -- the event as Stripe sent it
    );
    INSERT INTO inbox_bodies (inbox_id, body) SELECT id, body FROM inbox;
    ALTER TABLE inbox DROP COLUMN body;
    )sql",
    // 21: whether a case's claim is quiet (core/access.hpp, quiet_claim), and a member's open
    // cases by it: the access rules read a member's quiet cases only up to the oldest one of each
    // product, instead of every open case for every event of the member (bench/ingest/README.md,
    // "One member"). Cases stored before are not quiet until saved again (they are read as
    // before). The index of a member's cases by status stays as it is for the other queries.
    R"sql(
    ALTER TABLE cases ADD COLUMN access_quiet INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX cases_open_by_customer ON cases (creator_id, customer_id, access_quiet, id)
        WHERE status = 'open';
    )sql",
};

} // namespace

const std::vector<const char*>& migrations() {
    return all;
}

} // namespace dunning::store
