// The dashboard's login links and sessions in a real store (SQLite; PostgreSQL in
// store_postgres_dashboard_sessions_tests): a link is taken once and not
// after it expires, a session ends when idle, and only hashes are kept.
#include "core/access.hpp"
#include "crypto/crypto.hpp"
#include "store/access_store.hpp"
#include "store/creators.hpp"
#include "store/dashboard_sessions.hpp"
#include "store/database.hpp"
#include "store/statement.hpp"
#include "support/service.hpp"
#include "support/test_store.hpp"

#include <gtest/gtest.h>

namespace dunning::store {
namespace {

using crypto::sha256_hex;

class DashboardSessions : public ::testing::Test {
  protected:
    testing::TestStore store;
    StoreOptions options = [this] {
        auto o = store.options();
        o.synchronous = "full";
        return o;
    }();
    std::unique_ptr<Connection> db = open_store(options);
    const std::int64_t t = 1'800'000'000;
};

TEST_F(DashboardSessions, ALinkIsTakenOnceBeforeItExpires) {
    add_login_link(*db, sha256_hex("link-1"), "alpha", t, t + 300);
    add_login_link(*db, sha256_hex("link-2"), "beta", t, t + 300);
    EXPECT_EQ(use_login_link(*db, sha256_hex("unknown"), t + 1), std::nullopt);
    EXPECT_EQ(use_login_link(*db, sha256_hex("link-1"), t + 1), "alpha");
    EXPECT_EQ(use_login_link(*db, sha256_hex("link-1"), t + 2), std::nullopt) << "used";
    EXPECT_EQ(use_login_link(*db, sha256_hex("link-2"), t + 300), std::nullopt) << "expired";
    add_login_link(*db, sha256_hex("link-3"), "beta", t, t + 300);
    EXPECT_EQ(use_login_link(*db, sha256_hex("link-3"), t + 299), "beta");
}

TEST_F(DashboardSessions, LookingAtALinkTakesNothing) {
    add_login_link(*db, sha256_hex("link-4"), "alpha", t, t + 300);
    EXPECT_EQ(login_link_creator(*db, sha256_hex("link-4"), t + 1), "alpha");
    EXPECT_EQ(login_link_creator(*db, sha256_hex("link-4"), t + 2), "alpha");
    EXPECT_EQ(login_link_creator(*db, sha256_hex("link-4"), t + 300), std::nullopt) << "expired";
    EXPECT_EQ(use_login_link(*db, sha256_hex("link-4"), t + 3), "alpha");
    EXPECT_EQ(login_link_creator(*db, sha256_hex("link-4"), t + 4), std::nullopt) << "used";
    EXPECT_EQ(login_link_creator(*db, sha256_hex("unknown"), t + 4), std::nullopt);
}

TEST_F(DashboardSessions, PurgeTakesUsedAndExpiredLinksAndIdleSessions) {
    add_login_link(*db, sha256_hex("used"), "alpha", t, t + 300);
    add_login_link(*db, sha256_hex("expired"), "alpha", t - 600, t - 300);
    add_login_link(*db, sha256_hex("fresh"), "alpha", t, t + 300);
    ASSERT_EQ(use_login_link(*db, sha256_hex("used"), t), "alpha");
    add_session(*db, sha256_hex("idle"), "alpha", t - 1800);
    add_session(*db, sha256_hex("busy"), "alpha", t - 60);
    EXPECT_EQ(purge_dashboard_credentials(*db, t, 1800), 3);
    EXPECT_EQ(use_login_link(*db, sha256_hex("fresh"), t + 1), "alpha");
    EXPECT_EQ(touch_session(*db, sha256_hex("busy"), t, 1800), "alpha");
    EXPECT_EQ(purge_dashboard_credentials(*db, t, 1800), 1) << "the fresh link, used now";
}

TEST_F(DashboardSessions, ASessionEndsWhenIdle) {
    add_session(*db, sha256_hex("session-1"), "alpha", t);
    EXPECT_EQ(touch_session(*db, sha256_hex("session-1"), t + 1700, 1800), "alpha");
    // Each use moves the idle limit on.
    EXPECT_EQ(touch_session(*db, sha256_hex("session-1"), t + 3400, 1800), "alpha");
    EXPECT_EQ(touch_session(*db, sha256_hex("session-1"), t + 5200, 1800), std::nullopt);
    // Ended for good, also if the clock were to read an earlier time.
    EXPECT_EQ(touch_session(*db, sha256_hex("session-1"), t + 3500, 1800), std::nullopt);
    EXPECT_EQ(touch_session(*db, sha256_hex("unknown"), t, 1800), std::nullopt);
}

TEST_F(DashboardSessions, SignedOutIsGone) {
    add_session(*db, sha256_hex("session-2"), "alpha", t);
    delete_session(*db, sha256_hex("session-2"));
    EXPECT_EQ(touch_session(*db, sha256_hex("session-2"), t, 1800), std::nullopt);
}

TEST_F(DashboardSessions, OnlyHashesAreKept) {
    add_login_link(*db, sha256_hex("link-plain"), "alpha", t, t + 300);
    add_session(*db, sha256_hex("session-plain"), "alpha", t);
    for (const char* table : {"dashboard_login_links", "dashboard_sessions"}) {
        CachedStatement st(*db, std::string("SELECT token_hash FROM ") + table);
        ASSERT_TRUE(st.executeStep());
        const auto stored = st.getColumn(0).getString();
        EXPECT_EQ(stored.size(), 64u);
        EXPECT_EQ(stored.find("plain"), std::string::npos);
    }
}

// The summary's restricted members: only the locked and limited, in member and product order
// whatever their level (they are read in level order, through entitlements_restricted).
TEST_F(DashboardSessions, LockedAccessListsTheRestrictedByMemberAndProduct) {
    const auto at = from_unix(t);
    const auto save = [&](const char* creator, const char* member, const char* product,
                          AccessLevel level) {
        EntitlementState s;
        s.level = level;
        s.reason = "test";
        s.since = at;
        save_entitlement(*db, {creator, member, product}, s, std::nullopt, at);
    };
    save("alpha", "cus_b", "prod_2", AccessLevel::locked);
    save("alpha", "cus_a", "prod_9", AccessLevel::limited);
    save("alpha", "cus_c", "prod_1", AccessLevel::limited);
    save("alpha", "cus_b", "prod_1", AccessLevel::limited);
    save("alpha", "cus_a", "prod_1", AccessLevel::locked);
    save("alpha", "cus_d", "prod_1", AccessLevel::granted);
    save("alpha", "cus_e", "prod_1", AccessLevel::grace);
    save("beta", "cus_0", "prod_1", AccessLevel::locked);
    std::vector<std::string> listed;
    for (const auto& l : locked_access(*db, "alpha"))
        listed.push_back(l.member + " " + l.product + " " + l.level);
    EXPECT_EQ(listed, (std::vector<std::string>{"cus_a prod_1 locked", "cus_a prod_9 limited",
                                                "cus_b prod_1 limited", "cus_b prod_2 locked",
                                                "cus_c prod_1 limited"}));
}

} // namespace
} // namespace dunning::store
