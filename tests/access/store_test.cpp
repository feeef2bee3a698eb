// The access store against a real SQLite file, created through the store's migrations.
#include "store/access_store.hpp"
#include "store/database.hpp"
#include "support/service.hpp"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

namespace dunning::store {
namespace {

using nlohmann::json;
using testing::TempDir;

Timestamp at(std::int64_t s) { return from_unix(1'760'000'000 + s); }

class AccessStore : public ::testing::Test {
  protected:
    TempDir dir;
    std::unique_ptr<SQLite::Database> db =
        store::open_store({(dir.path() / "dunning.sqlite").string(), "normal"});

    EntitlementKey key(const std::string& product = "prod_a", const std::string& customer = "cus_1") {
        return {"alpha", customer, product};
    }
};

TEST_F(AccessStore, MigrationBringsTheSchemaToTheLatestVersion) {
    EXPECT_EQ(store::schema_version(*db), store::latest_schema_version());
    EXPECT_GE(store::latest_schema_version(), 4);
    EXPECT_EQ(listener_cursor(*db), 0);
}

TEST_F(AccessStore, EntitlementSaveLoadReplace) {
    EXPECT_FALSE(load_entitlement(*db, key()));

    EntitlementState s;
    s.level = AccessLevel::grace;
    s.reason = access_reason::final_notice;
    s.case_id = 7;
    s.lock_at = at(3600);
    s.since = at(10);
    save_entitlement(*db, key(), s, at(3600), at(11));

    auto got = load_entitlement(*db, key());
    ASSERT_TRUE(got);
    EXPECT_EQ(got->level, AccessLevel::grace);
    EXPECT_EQ(got->reason, access_reason::final_notice);
    EXPECT_EQ(got->case_id, 7);
    EXPECT_EQ(got->override_id, 0);
    EXPECT_EQ(got->lock_at, at(3600));
    EXPECT_EQ(got->since, at(10));

    EntitlementState locked;
    locked.level = AccessLevel::locked;
    locked.reason = access_reason::final_notice_deadline_passed;
    locked.case_id = 7;
    locked.override_id = 3;
    locked.since = at(3600);
    save_entitlement(*db, key(), locked, std::nullopt, at(3600));
    got = load_entitlement(*db, key());
    ASSERT_TRUE(got);
    EXPECT_EQ(got->level, AccessLevel::locked);
    EXPECT_EQ(got->reason, access_reason::final_notice_deadline_passed);
    EXPECT_EQ(got->override_id, 3);
    EXPECT_FALSE(got->lock_at);
    EXPECT_EQ(got->since, at(3600));

    // Other keys are separate rows.
    EXPECT_FALSE(load_entitlement(*db, key("prod_b")));
    EXPECT_FALSE(load_entitlement(*db, {"beta", "cus_1", "prod_a"}));
    save_entitlement(*db, key("prod_b"), s, std::nullopt, at(1));
    EXPECT_EQ(entitlement_products(*db, "alpha", "cus_1"), (std::vector<std::string>{"prod_a", "prod_b"}));
    EXPECT_TRUE(entitlement_products(*db, "alpha", "cus_2").empty());

    const auto rows = member_entitlements(*db, "alpha", "cus_1");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].first, "prod_a");
    EXPECT_EQ(rows[0].second.level, AccessLevel::locked);
    EXPECT_EQ(rows[1].first, "prod_b");
    EXPECT_EQ(rows[1].second.lock_at, at(3600));
    EXPECT_TRUE(member_entitlements(*db, "beta", "cus_1").empty());
}

TEST_F(AccessStore, DueRechecksOldestFirstAndOnlyWhenDue) {
    EntitlementState s;
    save_entitlement(*db, key("prod_late"), s, at(300), at(0));
    save_entitlement(*db, key("prod_early"), s, at(100), at(0));
    save_entitlement(*db, key("prod_never"), s, std::nullopt, at(0));
    save_entitlement(*db, key("prod_future"), s, at(10'000), at(0));

    EXPECT_TRUE(due_rechecks(*db, at(99), 10).empty());
    auto due = due_rechecks(*db, at(300), 10);
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0], key("prod_early"));
    EXPECT_EQ(due[1], key("prod_late"));
    EXPECT_EQ(due_rechecks(*db, at(300), 1).size(), 1u);

    // Saved without a recheck time: no longer due.
    save_entitlement(*db, key("prod_early"), s, std::nullopt, at(300));
    due = due_rechecks(*db, at(300), 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0], key("prod_late"));
}

TEST_F(AccessStore, HistoryIsOldestFirstPerMemberAndProduct) {
    append_history(*db, key("prod_a"), {AccessLevel::granted, AccessLevel::grace, "final_notice", 1, 0, at(1)});
    append_history(*db, key("prod_b"), {AccessLevel::granted, AccessLevel::locked, "dispute_lost", 2, 0, at(2)});
    append_history(*db, key("prod_a", "cus_2"), {AccessLevel::granted, AccessLevel::limited, "x", 3, 0, at(3)});
    append_history(*db, key("prod_a"), {AccessLevel::grace, AccessLevel::locked, "final_notice_deadline_passed", 1, 0, at(4)});
    append_history(*db, key("prod_a"), {AccessLevel::locked, AccessLevel::granted, "creator_override", 1, 9, at(5)});

    auto all = member_history(*db, "alpha", "cus_1");
    ASSERT_EQ(all.size(), 4u);
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.id < b.id; }));
    EXPECT_EQ(all[0].change.to, AccessLevel::grace);
    EXPECT_EQ(all[1].key.product, "prod_b");
    EXPECT_EQ(all[3].change.from, AccessLevel::locked);
    EXPECT_EQ(all[3].change.to, AccessLevel::granted);
    EXPECT_EQ(all[3].change.override_id, 9);
    EXPECT_EQ(all[3].change.at, at(5));

    auto a = member_history(*db, "alpha", "cus_1", "prod_a");
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[1].change.reason, "final_notice_deadline_passed");
    EXPECT_EQ(member_history(*db, "alpha", "cus_1", "", 2).size(), 2u);
    EXPECT_TRUE(member_history(*db, "beta", "cus_1").empty());

    auto after = history_after(*db, all[0].id, 100);
    ASSERT_EQ(after.size(), 4u); // every member
    EXPECT_EQ(after[0].id, all[1].id);
    EXPECT_EQ(after[1].key.customer, "cus_2");
    EXPECT_EQ(history_after(*db, all[0].id, 2).size(), 2u);
    EXPECT_TRUE(history_after(*db, all[3].id, 10).empty());

    set_listener_cursor(*db, all[2].id);
    EXPECT_EQ(listener_cursor(*db), all[2].id);
}

SubscriptionFacts sub(const std::string& status, std::vector<std::string> products = {},
                      const std::string& reason = "") {
    SubscriptionFacts f;
    f.subscription_id = "sub_1";
    f.customer_id = "cus_1";
    f.status = status;
    f.cancellation_reason = reason;
    f.products = std::move(products);
    return f;
}

TEST_F(AccessStore, SubscriptionNewestSnapshotWins) {
    EXPECT_EQ(save_subscription(*db, "alpha", sub("active", {"prod_a"}), at(10)),
              std::vector<std::string>{"prod_a"});
    // Newer, names no products: keeps the products on record.
    EXPECT_EQ(save_subscription(*db, "alpha", sub("past_due"), at(20)), std::vector<std::string>{"prod_a"});
    auto s = subscriptions_for(*db, "alpha", "cus_1", "prod_a");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].subscription_id, "sub_1");
    EXPECT_EQ(s[0].status, "past_due");
    EXPECT_EQ(s[0].as_of, at(20));
    EXPECT_FALSE(s[0].last_paid_at);

    // Newer, with products: replaces them.
    EXPECT_EQ(save_subscription(*db, "alpha", sub("canceled", {"prod_b", "prod_c"}, "payment_failed"), at(30)),
              (std::vector<std::string>{"prod_b", "prod_c"}));
    EXPECT_TRUE(subscriptions_for(*db, "alpha", "cus_1", "prod_a").empty());
    s = subscriptions_for(*db, "alpha", "cus_1", "prod_c");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].status, "canceled");
    EXPECT_EQ(s[0].cancellation_reason, "payment_failed");
    EXPECT_EQ(subscription_products(*db, "alpha", "sub_1"), (std::vector<std::string>{"prod_b", "prod_c"}));
    EXPECT_TRUE(subscription_products(*db, "alpha", "sub_2").empty());
    EXPECT_TRUE(subscription_products(*db, "beta", "sub_1").empty());
}

TEST_F(AccessStore, SubscriptionOlderSnapshotAfterNewerIsIgnored) {
    save_subscription(*db, "alpha", sub("unpaid", {"prod_a"}), at(50));
    // A late webhook from before: neither the status nor the products go back.
    EXPECT_EQ(save_subscription(*db, "alpha", sub("active", {"prod_old"}), at(40)),
              std::vector<std::string>{"prod_a"});
    auto s = subscriptions_for(*db, "alpha", "cus_1", "prod_a");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].status, "unpaid");
    EXPECT_EQ(s[0].as_of, at(50));
    EXPECT_TRUE(subscriptions_for(*db, "alpha", "cus_1", "prod_old").empty());
}

TEST_F(AccessStore, OlderSnapshotFillsProductsWhenNoneAreKnown) {
    save_subscription(*db, "alpha", sub("past_due"), at(50));
    EXPECT_EQ(save_subscription(*db, "alpha", sub("active", {"prod_a"}), at(40)),
              std::vector<std::string>{"prod_a"});
    auto s = subscriptions_for(*db, "alpha", "cus_1", "prod_a");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].status, "past_due");
}

TEST_F(AccessStore, PaymentNotedBeforeAnySnapshot) {
    note_subscription_paid(*db, "alpha", "sub_1", "cus_1", at(100));
    note_subscription_paid(*db, "alpha", "sub_1", "cus_1", at(80)); // older: max stays
    EXPECT_TRUE(subscription_products(*db, "alpha", "sub_1").empty());
    EXPECT_TRUE(subscriptions_for(*db, "alpha", "cus_1", "prod_a").empty()); // no products yet

    // The snapshot arrives later, older than the payment: status set, payment kept.
    EXPECT_EQ(save_subscription(*db, "alpha", sub("past_due", {"prod_a"}), at(90)),
              std::vector<std::string>{"prod_a"});
    auto s = subscriptions_for(*db, "alpha", "cus_1", "prod_a");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].status, "past_due");
    EXPECT_EQ(s[0].as_of, at(90));
    EXPECT_EQ(s[0].last_paid_at, at(100));

    note_subscription_paid(*db, "alpha", "sub_1", "cus_1", at(200));
    s = subscriptions_for(*db, "alpha", "cus_1", "prod_a");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].last_paid_at, at(200));
}

OverrideRecord override_of(const std::string& creator, const std::string& product, AccessLevel level,
                           Timestamp created, std::optional<Timestamp> until = std::nullopt) {
    OverrideRecord r;
    r.creator = creator;
    r.customer = "cus_1";
    r.product = product;
    r.level = level;
    r.until = until;
    r.note = "paid by bank transfer";
    r.actor = "api:" + creator;
    r.created = created;
    return r;
}

TEST_F(AccessStore, OverridesAddGetRevoke) {
    const auto id = add_override(*db, override_of("alpha", "prod_a", AccessLevel::granted, at(10), at(1000)));
    EXPECT_GT(id, 0);
    auto got = get_override(*db, "alpha", id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->id, id);
    EXPECT_EQ(got->customer, "cus_1");
    EXPECT_EQ(got->product, "prod_a");
    EXPECT_EQ(got->level, AccessLevel::granted);
    EXPECT_EQ(got->until, at(1000));
    EXPECT_EQ(got->note, "paid by bank transfer");
    EXPECT_EQ(got->actor, "api:alpha");
    EXPECT_EQ(got->created, at(10));
    EXPECT_FALSE(got->revoked_at);
    EXPECT_FALSE(get_override(*db, "beta", id)); // another creator's id

    EXPECT_FALSE(revoke_override(*db, "beta", id, "api:beta", "nope", at(20)));
    EXPECT_TRUE(revoke_override(*db, "alpha", id, "api:alpha", "sent by mistake", at(20)));
    EXPECT_FALSE(revoke_override(*db, "alpha", id, "api:alpha", "again", at(30))); // twice
    EXPECT_FALSE(revoke_override(*db, "alpha", id + 100, "api:alpha", "none", at(30)));

    got = get_override(*db, "alpha", id);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->revoked_at, at(20));
    EXPECT_EQ(got->revoked_by, "api:alpha");
    EXPECT_EQ(got->revoke_note, "sent by mistake");
    EXPECT_FALSE(got->as_rule().in_force(at(25)));
}

TEST_F(AccessStore, OverridesForIncludeMemberWideOnes) {
    const auto own = add_override(*db, override_of("alpha", "prod_a", AccessLevel::granted, at(10)));
    const auto wide = add_override(*db, override_of("alpha", "", AccessLevel::limited, at(20)));
    add_override(*db, override_of("alpha", "prod_b", AccessLevel::granted, at(30)));
    add_override(*db, override_of("beta", "", AccessLevel::granted, at(40)));
    auto other_member = override_of("alpha", "", AccessLevel::granted, at(50));
    other_member.customer = "cus_2";
    add_override(*db, other_member);
    ASSERT_TRUE(revoke_override(*db, "alpha", own, "api:alpha", "done", at(60)));

    auto rules = overrides_for(*db, key("prod_a"));
    ASSERT_EQ(rules.size(), 2u);
    EXPECT_EQ(rules[0].id, own);
    EXPECT_EQ(rules[0].revoked_at, at(60)); // revoked ones included
    EXPECT_FALSE(rules[0].in_force(at(70)));
    EXPECT_EQ(rules[1].id, wide);
    EXPECT_EQ(rules[1].level, AccessLevel::limited);
    EXPECT_TRUE(rules[1].in_force(at(70)));

    EXPECT_EQ(member_overrides(*db, "alpha", "cus_1").size(), 3u);
    EXPECT_EQ(overrides_for(*db, key("prod_z")).size(), 1u); // the member-wide one
}

TEST_F(AccessStore, NotificationBodyAndIds) {
    const auto id = queue_notification(*db, "alpha", "cus_1", "access.locked",
                                       json{{"course", "c1"}, {"level", "locked"}}, at(5));
    EXPECT_TRUE(std::regex_match(id, std::regex("dn_[0-9a-f]{24}"))) << id;
    auto due = due_notifications(*db, at(5), 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].id, id);
    EXPECT_EQ(due[0].creator, "alpha");
    EXPECT_EQ(due[0].customer, "cus_1");
    EXPECT_EQ(due[0].type, "access.locked");
    EXPECT_EQ(due[0].tries, 0);
    EXPECT_EQ(due[0].created, at(5));
    const auto body = json::parse(due[0].body);
    EXPECT_EQ(body["id"], id);
    EXPECT_EQ(body["object"], "event");
    EXPECT_EQ(body["type"], "access.locked");
    EXPECT_EQ(body["created"], to_unix(at(5)));
    EXPECT_EQ(body["creator"], "alpha");
    EXPECT_EQ(body["member"], "cus_1");
    EXPECT_EQ(body["data"], (json{{"course", "c1"}, {"level", "locked"}}));
    EXPECT_TRUE(due_notifications(*db, at(4), 10).empty());

    std::set<std::string> ids{id};
    for (int i = 0; i < 200; ++i) {
        const auto next = queue_notification(*db, "alpha", "cus_" + std::to_string(i), "case.opened", json::object(), at(6));
        EXPECT_TRUE(std::regex_match(next, std::regex("dn_[0-9a-f]{24}"))) << next;
        ids.insert(next);
    }
    EXPECT_EQ(ids.size(), 201u);
}

TEST_F(AccessStore, NotificationsKeepOrderPerMember) {
    queue_notification(*db, "alpha", "cus_a", "access.locked", json::object(), at(0));
    queue_notification(*db, "alpha", "cus_a", "access.restored", json::object(), at(1));
    queue_notification(*db, "alpha", "cus_b", "case.opened", json::object(), at(2));
    queue_notification(*db, "beta", "cus_a", "case.opened", json::object(), at(3)); // another creator's member

    auto due = due_notifications(*db, at(10), 10);
    ASSERT_EQ(due.size(), 3u);
    EXPECT_EQ(due[0].customer, "cus_a");
    EXPECT_EQ(due[0].type, "access.locked");
    EXPECT_EQ(due[1].customer, "cus_b");
    EXPECT_EQ(due[2].creator, "beta");
    EXPECT_EQ(due_notifications(*db, at(10), 1).size(), 1u);

    // A's first fails and is retried later: A's second still waits behind it; B is unaffected.
    notification_retry(*db, due[0].row, 1, at(100), "HTTP 503");
    due = due_notifications(*db, at(10), 10);
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0].customer, "cus_b");
    EXPECT_EQ(due[1].creator, "beta");
    notification_delivered(*db, due[0].row, "HTTP 200", at(10));
    notification_delivered(*db, due[1].row, "HTTP 200", at(10));
    EXPECT_TRUE(due_notifications(*db, at(99), 10).empty());

    // Queued while A's first is still being retried: waits behind both.
    queue_notification(*db, "alpha", "cus_a", "case.resolved", json::object(), at(50));
    EXPECT_TRUE(due_notifications(*db, at(99), 10).empty());

    auto counts = notification_counts(*db);
    EXPECT_EQ(counts.pending, 3);
    EXPECT_EQ(counts.oldest_pending, at(0));

    due = due_notifications(*db, at(100), 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].type, "access.locked");
    EXPECT_EQ(due[0].tries, 1);
    notification_delivered(*db, due[0].row, "HTTP 204", at(100));

    due = due_notifications(*db, at(100), 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].type, "access.restored");
    notification_delivered(*db, due[0].row, "HTTP 204", at(100));

    due = due_notifications(*db, at(100), 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].type, "case.resolved");
    notification_delivered(*db, due[0].row, "HTTP 204", at(100));
    EXPECT_TRUE(due_notifications(*db, at(1000), 10).empty());
    counts = notification_counts(*db);
    EXPECT_EQ(counts.pending, 0);
    EXPECT_FALSE(counts.oldest_pending);

    SQLite::Statement st(*db, "SELECT state, result, done_at FROM host_notifications WHERE id = ?");
    st.bind(1, due[0].row);
    ASSERT_TRUE(st.executeStep());
    EXPECT_EQ(st.getColumn(0).getString(), "done");
    EXPECT_EQ(st.getColumn(1).getString(), "HTTP 204");
    EXPECT_EQ(st.getColumn(2).getInt64(), to_unix(at(100)));

    // Nothing pending for A any more: the next one is due at once.
    const auto id = queue_notification(*db, "alpha", "cus_a", "case.opened", json::object(), at(200));
    due = due_notifications(*db, at(200), 10);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].id, id);
}

// Many members, each with a backlog behind a failing first notification (the host down for a
// while): only the members' first rows are ever returned, in due order, and the backlog drains
// in order once they are delivered.
TEST_F(AccessStore, NotificationBacklogDrainsInOrderPerMember) {
    for (int round = 0; round < 5; ++round)
        for (int m = 0; m < 20; ++m)
            queue_notification(*db, "alpha", "cus_" + std::to_string(m), "n" + std::to_string(round),
                               json::object(), at(round));
    auto due = due_notifications(*db, at(10), 100);
    ASSERT_EQ(due.size(), 20u);
    for (const auto& n : due) notification_retry(*db, n.row, 1, at(1000), "no answer");
    EXPECT_TRUE(due_notifications(*db, at(999), 100).empty());

    std::map<std::string, std::vector<std::string>> seen;
    for (int pass = 0; pass < 10; ++pass) {
        due = due_notifications(*db, at(1000 + pass), 7);
        for (const auto& n : due) {
            seen[n.customer].push_back(n.type);
            notification_delivered(*db, n.row, "HTTP 200", at(1000 + pass));
        }
    }
    while (!(due = due_notifications(*db, at(2000), 100)).empty())
        for (const auto& n : due) {
            seen[n.customer].push_back(n.type);
            notification_delivered(*db, n.row, "HTTP 200", at(2000));
        }
    ASSERT_EQ(seen.size(), 20u);
    for (const auto& [member, types] : seen)
        EXPECT_EQ(types, (std::vector<std::string>{"n0", "n1", "n2", "n3", "n4"})) << member;
    EXPECT_EQ(notification_counts(*db).pending, 0);
}

// A store made by a version without the access tables (schema 3) with a notify_host effect
// pending in the outbox: the upgrade cancels it (nothing ever sent those).
TEST(AccessMigration, UpgradeFromSchema3CancelsPendingHostNotificationsInTheOutbox) {
    TempDir dir;
    const store::StoreOptions options{(dir.path() / "old.sqlite").string(), "normal"};
    {
        // Schema 3 exactly: the latest schema less what migration 4 added.
        auto db = store::open_store(options);
        ASSERT_EQ(store::latest_schema_version(), 4) << "rebuild this test's schema-3 store";
        for (const char* table : {"entitlements", "access_history", "access_overrides", "subscriptions",
                                  "host_notifications", "access_listener_cursor"})
            db->exec(std::string("DROP TABLE ") + table);
        db->exec("PRAGMA user_version = 3");
        db->exec("INSERT INTO cases (id, creator_id, invoice_id, status, updated_at, state) "
                 "VALUES (1, 'alpha', 'in_1', 'open', 0, '{}')");
        db->exec("INSERT INTO outbox (id, case_id, kind, payload, idempotency_key, due_at, created_at) VALUES "
                 "(1, 1, 'notify_host', '{\"type\":\"case.opened\"}', 'case-1-case.opened', 0, 0), "
                 "(2, 1, 'email', '{}', 'case-1-reminder-1', 0, 0), "
                 "(3, 1, 'notify_host', '{\"type\":\"case.resolved\"}', 'case-1-case.resolved', 0, 0)");
        db->exec("UPDATE outbox SET state = 'done', result = 'old' WHERE id = 3");
    }
    auto db = store::open_store(options);
    EXPECT_EQ(store::schema_version(*db), 4);
    SQLite::Statement st(*db, "SELECT id, state, coalesce(result, '') FROM outbox ORDER BY id");
    std::vector<std::tuple<int, std::string, std::string>> rows;
    while (st.executeStep())
        rows.emplace_back(st.getColumn(0).getInt(), st.getColumn(1).getString(), st.getColumn(2).getString());
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0], std::make_tuple(1, std::string("cancelled"), std::string("superseded by host_notifications")));
    EXPECT_EQ(rows[1], std::make_tuple(2, std::string("pending"), std::string()));
    EXPECT_EQ(rows[2], std::make_tuple(3, std::string("done"), std::string("old")));
    // The new tables are there and usable.
    EXPECT_EQ(listener_cursor(*db), 0);
    EXPECT_TRUE(due_notifications(*db, from_unix(0), 10).empty());
}

} // namespace
} // namespace dunning::store
