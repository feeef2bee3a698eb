// The access store against a real store (SQLite; PostgreSQL in access_postgres_store_tests),
// created through the store's migrations.
#include "store/access_store.hpp"
#include "store/database.hpp"
#include "support/service.hpp"
#include "support/test_store.hpp"

#include <gtest/gtest.h>

namespace dunning::store {
namespace {

Timestamp at(std::int64_t s) {
    return from_unix(1'760'000'000 + s);
}

class AccessStore : public ::testing::Test {
  protected:
    testing::TestStore store;
    std::unique_ptr<store::Connection> db = store::open_store(store.options());

    EntitlementKey key(const std::string& product = "prod_a",
                       const std::string& customer = "cus_1") {
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
    EXPECT_EQ(entitlement_products(*db, "alpha", "cus_1"),
              (std::vector<std::string>{"prod_a", "prod_b"}));
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
    append_history(*db, key("prod_a"),
                   {AccessLevel::granted, AccessLevel::grace, "final_notice", 1, 0, at(1)});
    append_history(*db, key("prod_b"),
                   {AccessLevel::granted, AccessLevel::locked, "dispute_lost", 2, 0, at(2)});
    append_history(*db, key("prod_a", "cus_2"),
                   {AccessLevel::granted, AccessLevel::limited, "x", 3, 0, at(3)});
    append_history(
        *db, key("prod_a"),
        {AccessLevel::grace, AccessLevel::locked, "final_notice_deadline_passed", 1, 0, at(4)});
    append_history(*db, key("prod_a"),
                   {AccessLevel::locked, AccessLevel::granted, "creator_override", 1, 9, at(5)});

    auto all = member_history(*db, "alpha", "cus_1");
    ASSERT_EQ(all.size(), 4u);
    EXPECT_TRUE(
        std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.id < b.id; }));
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
    EXPECT_EQ(save_subscription(*db, "alpha", sub("past_due"), at(20)),
              std::vector<std::string>{"prod_a"});
    auto s = subscriptions_for(*db, "alpha", "cus_1", "prod_a");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].subscription_id, "sub_1");
    EXPECT_EQ(s[0].status, "past_due");
    EXPECT_EQ(s[0].as_of, at(20));
    EXPECT_FALSE(s[0].last_paid_at);

    // Newer, with products: replaces them.
    EXPECT_EQ(save_subscription(*db, "alpha",
                                sub("canceled", {"prod_b", "prod_c"}, "payment_failed"), at(30)),
              (std::vector<std::string>{"prod_b", "prod_c"}));
    EXPECT_TRUE(subscriptions_for(*db, "alpha", "cus_1", "prod_a").empty());
    s = subscriptions_for(*db, "alpha", "cus_1", "prod_c");
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].status, "canceled");
    EXPECT_EQ(s[0].cancellation_reason, "payment_failed");
    EXPECT_EQ(subscription_products(*db, "alpha", "sub_1"),
              (std::vector<std::string>{"prod_b", "prod_c"}));
    EXPECT_TRUE(subscription_products(*db, "alpha", "sub_2").empty());
    EXPECT_TRUE(subscription_products(*db, "beta", "sub_1").empty());
}

TEST_F(AccessStore, AMembersSubscriptionsComeInIdOrderWhateverOrderTheyWereSaved) {
    // The access rules keep the first of two equally strict verdicts: the order is part of the
    // answer, and the same on both backends (bytes, not a collation: Stripe's ids mix cases).
    for (const auto* id : {"sub_b", "sub_a", "sub_B"}) {
        auto f = sub("past_due", {"prod_a"});
        f.subscription_id = id;
        save_subscription(*db, "alpha", f, at(10));
    }
    auto other = sub("past_due", {"prod_a"});
    other.subscription_id = "sub_0";
    other.customer_id = "cus_2";
    save_subscription(*db, "alpha", other, at(10));
    std::vector<std::string> ids;
    for (const auto& s : subscriptions_for(*db, "alpha", "cus_1", "prod_a"))
        ids.push_back(s.subscription_id);
    EXPECT_EQ(ids, (std::vector<std::string>{"sub_B", "sub_a", "sub_b"}));
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

OverrideRecord override_of(const std::string& creator, const std::string& product,
                           AccessLevel level, Timestamp created,
                           std::optional<Timestamp> until = std::nullopt) {
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
    const auto id =
        add_override(*db, override_of("alpha", "prod_a", AccessLevel::granted, at(10), at(1000)));
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
    const auto own =
        add_override(*db, override_of("alpha", "prod_a", AccessLevel::granted, at(10)));
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

} // namespace
} // namespace dunning::store
