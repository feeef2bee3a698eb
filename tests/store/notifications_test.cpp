// Notifications to the host platform as jobs: their body and ids, and their order per member
// (SQLite; PostgreSQL in store_postgres_notifications_tests).
#include "store/database.hpp"
#include "store/notifications.hpp"
#include "store/statement.hpp"
#include "support/service.hpp"
#include "support/test_store.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

namespace dunning::store {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

Timestamp at(std::int64_t s) {
    return from_unix(1'760'000'000 + s);
}

const PlatformNotificationJob& note(const Job& j) {
    return std::get<PlatformNotificationJob>(j.payload);
}

class Notifications : public ::testing::Test {
  protected:
    testing::TestStore store;
    std::unique_ptr<store::Connection> db = open_store(store.options());

    // What a dispatcher would be handed now (a run of its own each time, whose claims the next
    // takes over at once: nothing held back). The test plays every run, so what it records of a
    // job is not fenced by the claim (Job::claimed_by left empty).
    std::vector<Job> due(Timestamp now, int limit) {
        auto jobs = JobQueue{"run " + std::to_string(++runs), std::chrono::milliseconds{0}}.claim(
            *db, JobKind::platform_notification, now, limit);
        for (auto& j : jobs)
            j.claimed_by.clear();
        return jobs;
    }
    int runs = 0;
    // Failed at `now`, due again at `again`.
    void retry(const Job& j, Timestamp now, Timestamp again, const std::string& error) {
        const BackoffPolicy policy{.base = std::chrono::seconds(to_unix(again) - to_unix(now)),
                                   .cap = 100000s,
                                   .jitter = 0s};
        ASSERT_EQ(fail_job(*db, j, policy, error, now), Retry::scheduled);
    }
};

TEST_F(Notifications, BodyAndIds) {
    const auto id = queue_notification(*db, "alpha", "cus_1", "access.locked",
                                       json{{"course", "c1"}, {"level", "locked"}}, at(5));
    EXPECT_TRUE(std::regex_match(id, std::regex("dn_[0-9a-f]{24}"))) << id;
    auto d = due(at(5), 10);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(note(d[0]).id, id);
    EXPECT_EQ(d[0].idempotency_key, id);
    EXPECT_EQ(d[0].tries, 0);
    EXPECT_EQ(d[0].created, at(5));
    const auto body = json::parse(payload_text(d[0].payload));
    EXPECT_EQ(body["id"], id);
    EXPECT_EQ(body["object"], "event");
    EXPECT_EQ(body["type"], "access.locked");
    EXPECT_EQ(body["created"], to_unix(at(5)));
    EXPECT_EQ(body["creator"], "alpha");
    EXPECT_EQ(body["member"], "cus_1");
    EXPECT_EQ(body["data"], (json{{"course", "c1"}, {"level", "locked"}}));
    EXPECT_TRUE(due(at(4), 10).empty());

    std::set<std::string> ids{id};
    for (int i = 0; i < 200; ++i) {
        const auto next = queue_notification(*db, "alpha", "cus_" + std::to_string(i),
                                             "case.opened", json::object(), at(6));
        EXPECT_TRUE(std::regex_match(next, std::regex("dn_[0-9a-f]{24}"))) << next;
        ids.insert(next);
    }
    EXPECT_EQ(ids.size(), 201u);
}

TEST_F(Notifications, KeepOrderPerMember) {
    queue_notification(*db, "alpha", "cus_a", "access.locked", json::object(), at(0));
    queue_notification(*db, "alpha", "cus_a", "access.restored", json::object(), at(1));
    queue_notification(*db, "alpha", "cus_b", "case.opened", json::object(), at(2));
    queue_notification(*db, "beta", "cus_a", "case.opened", json::object(),
                       at(3)); // another creator's member

    auto d = due(at(10), 10);
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(note(d[0]).member, "cus_a");
    EXPECT_EQ(note(d[0]).type, "access.locked");
    EXPECT_EQ(note(d[1]).member, "cus_b");
    EXPECT_EQ(note(d[2]).creator, "beta");
    EXPECT_EQ(due(at(10), 1).size(), 1u);

    // A's first fails and is retried later: A's second still waits behind it; B is unaffected.
    retry(d[0], at(10), at(100), "HTTP 503");
    d = due(at(10), 10);
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(note(d[0]).member, "cus_b");
    EXPECT_EQ(note(d[1]).creator, "beta");
    finish_job(*db, d[0], "done", "HTTP 200", at(10));
    finish_job(*db, d[1], "done", "HTTP 200", at(10));
    EXPECT_TRUE(due(at(99), 10).empty());

    // Queued while A's first is still being retried: waits behind both.
    queue_notification(*db, "alpha", "cus_a", "case.resolved", json::object(), at(50));
    EXPECT_TRUE(due(at(99), 10).empty());

    auto counts = notification_counts(*db);
    EXPECT_EQ(counts.pending, 3);
    EXPECT_EQ(counts.oldest_pending, at(0));

    std::int64_t last = 0;
    for (const char* type : {"access.locked", "access.restored", "case.resolved"}) {
        d = due(at(100), 10);
        ASSERT_EQ(d.size(), 1u);
        EXPECT_EQ(note(d[0]).type, type);
        EXPECT_EQ(d[0].tries, std::string(type) == "access.locked" ? 1 : 0);
        finish_job(*db, d[0], "done", "HTTP 204", at(100));
        last = d[0].id;
    }
    EXPECT_TRUE(due(at(1000), 10).empty());
    counts = notification_counts(*db);
    EXPECT_EQ(counts.pending, 0);
    EXPECT_FALSE(counts.oldest_pending);

    CachedStatement st(*db, "SELECT state, result, done_at FROM jobs WHERE id = ?");
    st.bind(1, last);
    ASSERT_TRUE(st.executeStep());
    EXPECT_EQ(st.getColumn(0).getString(), "done");
    EXPECT_EQ(st.getColumn(1).getString(), "HTTP 204");
    EXPECT_EQ(st.getColumn(2).getInt64(), to_unix(at(100)));

    // Nothing pending for A any more: the next one is due at once.
    const auto id =
        queue_notification(*db, "alpha", "cus_a", "case.opened", json::object(), at(200));
    d = due(at(200), 10);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(note(d[0]).id, id);
}

// Many members, each with a backlog behind a failing first notification (the host down for a
// while): only the members' first notifications are ever handed out, in due order, and the
// backlog drains in order once they are delivered.
TEST_F(Notifications, BacklogDrainsInOrderPerMember) {
    for (int round = 0; round < 5; ++round)
        for (int m = 0; m < 20; ++m)
            queue_notification(*db, "alpha", "cus_" + std::to_string(m),
                               "n" + std::to_string(round), json::object(), at(round));
    auto d = due(at(10), 100);
    ASSERT_EQ(d.size(), 20u);
    for (const auto& n : d)
        retry(n, at(10), at(1000), "no answer");
    EXPECT_TRUE(due(at(999), 100).empty());

    std::map<std::string, std::vector<std::string>> seen;
    for (int pass = 0; pass < 10; ++pass) {
        d = due(at(1000 + pass), 7);
        for (const auto& n : d) {
            seen[note(n).member].push_back(note(n).type);
            finish_job(*db, n, "done", "HTTP 200", at(1000 + pass));
        }
    }
    while (!(d = due(at(2000), 100)).empty())
        for (const auto& n : d) {
            seen[note(n).member].push_back(note(n).type);
            finish_job(*db, n, "done", "HTTP 200", at(2000));
        }
    ASSERT_EQ(seen.size(), 20u);
    for (const auto& [member, types] : seen)
        EXPECT_EQ(types, (std::vector<std::string>{"n0", "n1", "n2", "n3", "n4"})) << member;
    EXPECT_EQ(notification_counts(*db).pending, 0);
}

} // namespace
} // namespace dunning::store
