// Several instances on one PostgreSQL database decide for different members side by side: a
// batch of inbox rows takes each member's key, leaves a member another instance decides for to
// it (with that member's later rows, so one member's events keep their order), passes by a row
// another transaction holds, and an event that may concern any member (a dispute) waits until
// no member is decided for. Due timers take their member's key the same way, and job claims
// run beside all of these, passing by the jobs another claim holds. Built for PostgreSQL only:
// on SQLite one writer decides for all.
#include "jobs/access_feed.hpp"
#include "jobs/inbox_processor.hpp"
#include "jobs/stripe_jobs.hpp"
#include "plugin/module.hpp"
#include "store/access_store.hpp"
#include "store/cases.hpp"
#include "store/inbox.hpp"
#include "store/job_queue.hpp"
#include "store/statement.hpp"
#include "support/inbox_rows.hpp"
#include "support/member_events.hpp"
#include "support/service.hpp"
#include "webhook/event_parser.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace dunning::jobs {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using O = RowOutcome;

class KeyedInbox : public ::testing::Test {
  protected:
    KeyedInbox()
        : config_(dunning::testing::test_config(dir_.path())), clock_(from_unix(1'780'000'000)),
          db_(open()), creators_(config_), engine_(config_, creators_, clock_) {}

    // Another instance's connection; a lock not had within 300 ms is the store's trouble.
    std::unique_ptr<store::Connection> open() {
        auto o = plugin::store_options(config_.storage);
        o.lock_wait = 300ms;
        return store::open_store(o);
    }

    json invoice(const std::string& type, const std::string& member) {
        return dunning::testing::member_invoice_event(type, member, to_unix(clock_.now()));
    }
    json dispute(const std::string& member) {
        return {{"id", "evt_dispute_" + member},
                {"object", "event"},
                {"type", "charge.dispute.created"},
                {"created", to_unix(clock_.now())},
                {"data",
                 {{"object",
                   {{"id", "dp_" + member},
                    {"object", "dispute"},
                    {"amount", 4900},
                    {"currency", "eur"},
                    {"charge", "ch_" + member},
                    {"payment_intent", "pi_" + member},
                    {"reason", "fraudulent"},
                    {"status", "needs_response"}}}}}};
    }

    void deliver(const json& e) {
        ASSERT_EQ(store::insert_inbox_row(*db_, dunning::testing::inbox_row_of(e)),
                  store::AppendOutcome::inserted);
    }

    static std::optional<std::int32_t> key_of(const json& e) {
        auto parsed = webhook::parse_event(e.dump());
        EXPECT_TRUE(parsed) << e.dump();
        if (!parsed) return std::nullopt;
        return member_key("alpha", std::get<Event>(parsed.value()));
    }

    std::string status(const std::string& member) {
        const auto c = store::find_case_by_invoice(*db_, "alpha", "in_" + member);
        return c ? status_of(c->state) : "no case";
    }

    // One pass over the pending rows, as the work loop makes it.
    std::vector<O> pass() {
        HeldKeys held;
        const auto rows = pending_rows(*db_, 64);
        std::vector<O> out;
        for (std::span<const InboxRecord> left(rows); !left.empty();) {
            const auto batch = process_rows(*db_, engine_, left, 0, 10s, held);
            out.insert(out.end(), batch.begin(), batch.end());
            left = left.subspan(batch.size());
        }
        return out;
    }

    // The store's trouble (a lock not had within its wait), not a fault of the data.
    template <class F> static void expect_lock_not_had(F&& f) {
        try {
            f();
            ADD_FAILURE() << "ran beside another instance's open batch";
        } catch (const std::exception& e) {
            EXPECT_TRUE(store::store_in_trouble(e)) << e.what();
        }
    }

    dunning::testing::TempDir dir_;
    config::Config config_;
    FakeClock clock_;
    std::unique_ptr<store::Connection> db_;
    config::CreatorRegistry creators_;
    Engine engine_;
};

TEST_F(KeyedInbox, TheStoreLocksKeys) {
    EXPECT_TRUE(db_->locks_keys());
}

TEST_F(KeyedInbox, EveryInstanceComputesTheSameKeyForAMemberAndNoneForADispute) {
    const auto failed = key_of(invoice("invoice.payment_failed", "ann"));
    ASSERT_TRUE(failed);
    EXPECT_EQ(key_of(invoice("invoice.paid", "ann")), failed);
    EXPECT_NE(key_of(invoice("invoice.payment_failed", "bob")), failed);
    EXPECT_EQ(key_of(dispute("ann")), std::nullopt);
}

TEST_F(KeyedInbox, AMemberAnotherInstanceDecidesForIsLeftToItWithItsLaterRows) {
    const auto ann_failed = invoice("invoice.payment_failed", "ann");
    deliver(ann_failed);
    deliver(invoice("invoice.payment_failed", "bob"));
    deliver(invoice("invoice.paid", "ann"));
    const auto rows = pending_rows(*db_, 64);
    ASSERT_EQ(rows.size(), 3u);

    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed);
    ASSERT_TRUE(other->try_lock_key(*key_of(ann_failed)));

    // Bob's row is decided at once, beside the other instance's open transaction; Ann's waits.
    HeldKeys held;
    const auto first = std::span<const InboxRecord>(rows).first(2);
    EXPECT_EQ(process_rows(*db_, engine_, first, 0, 10s, held), (std::vector{O::held, O::done}));
    EXPECT_EQ(status("bob"), "open");
    EXPECT_EQ(status("ann"), "no case");

    // Ann's key is free again before this pass reaches her payment, which still waits: her
    // failure, earlier, is not decided yet.
    theirs->commit();
    const auto later = std::span<const InboxRecord>(rows).subspan(2);
    EXPECT_EQ(process_rows(*db_, engine_, later, 0, 10s, held), std::vector{O::held});
    EXPECT_EQ(status("ann"), "no case");

    // The next pass decides both, in their order.
    EXPECT_EQ(pass(), (std::vector{O::done, O::done}));
    EXPECT_EQ(status("ann"), "paid");
}

TEST_F(KeyedInbox, ThePassesOfTwoInstancesShareTheRowsAndDecideEachOnce) {
    for (const auto* member : {"ann", "bob", "cid", "dan"}) {
        deliver(invoice("invoice.payment_failed", member));
        deliver(invoice("invoice.paid", member));
    }
    // The other instance has locked Bob's and Dan's keys in a batch it has not committed.
    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed);
    ASSERT_TRUE(other->try_lock_key(*key_of(invoice("invoice.paid", "bob"))));
    ASSERT_TRUE(other->try_lock_key(*key_of(invoice("invoice.paid", "dan"))));
    EXPECT_EQ(pass(), (std::vector{O::done, O::done, O::held, O::held, O::done, O::done, O::held,
                                   O::held}));
    theirs->commit();
    EXPECT_EQ(pass(), (std::vector{O::done, O::done, O::done, O::done}));
    EXPECT_EQ(pass(), std::vector<O>{});
    for (const auto* member : {"ann", "bob", "cid", "dan"})
        EXPECT_EQ(status(member), "paid") << member;
}

TEST_F(KeyedInbox, AKeyIsRefusedWhileAnotherTransactionHoldsItAndFreeAfter) {
    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed);
    ASSERT_TRUE(other->try_lock_key(42));
    {
        store::Transaction mine(*db_, store::Transaction::keyed);
        EXPECT_FALSE(db_->try_lock_key(42));
        EXPECT_TRUE(db_->try_lock_key(43));
        mine.commit();
    }
    theirs.reset(); // rolled back: the key is free
    store::Transaction mine(*db_, store::Transaction::keyed);
    EXPECT_TRUE(db_->try_lock_key(42));
    mine.commit();
}

TEST_F(KeyedInbox, ARowAnotherTransactionHoldsIsPassedBy) {
    auto e = dunning::testing::fixture("customer.updated", "api-2025-03-31");
    e["type"] = "customer.created"; // a type the module does not act on: no member key
    deliver(e);
    const auto rows = pending_rows(*db_, 64);
    ASSERT_EQ(rows.size(), 1u);

    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed);
    ASSERT_TRUE(store::inbox_row_pending(*other, rows[0].id)); // and locked to it now

    EXPECT_EQ(pass(), std::vector{O::skipped});
    theirs.reset();
    EXPECT_EQ(pass(), std::vector{O::ignored});
    EXPECT_EQ(pass(), std::vector<O>{});
}

TEST_F(KeyedInbox, AnEventForAnyMemberWaitsUntilNoMemberIsDecidedFor) {
    deliver(invoice("invoice.payment_failed", "bob"));
    deliver(dispute("ann"));
    deliver(invoice("invoice.payment_failed", "cid"));
    const auto rows = pending_rows(*db_, 64);
    ASSERT_EQ(rows.size(), 3u);

    // A keyed batch ends before the dispute.
    HeldKeys held;
    EXPECT_EQ(process_rows(*db_, engine_, rows, 0, 10s, held), std::vector{O::done});

    // The dispute's batch takes the whole write lock: not while another instance decides.
    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed);
    const auto rest = std::span<const InboxRecord>(rows).subspan(1);
    expect_lock_not_had([&] { process_rows(*db_, engine_, rest, 0, 10s, held); });
    EXPECT_EQ(pending_rows(*db_, 64).size(), 2u);

    theirs->commit();
    EXPECT_EQ(process_rows(*db_, engine_, rest, 0, 10s, held), (std::vector{O::done, O::done}));
    EXPECT_EQ(status("cid"), "open");
}

// A dispute names no member: it may be the one another instance holds, whose earlier rows are
// not decided yet. It waits for the next pass, and so does every row after it.
TEST_F(KeyedInbox, AnEventForAnyMemberWaitsBehindAHeldMember) {
    const auto ann_failed = invoice("invoice.payment_failed", "ann");
    deliver(ann_failed);
    deliver(invoice("invoice.paid", "ann"));
    deliver(dispute("ann"));
    deliver(invoice("invoice.payment_failed", "cid"));

    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed);
    ASSERT_TRUE(other->try_lock_key(*key_of(ann_failed)));
    EXPECT_EQ(pass(), (std::vector{O::held, O::held, O::held, O::held}));
    EXPECT_EQ(status("cid"), "no case");

    theirs->commit();
    EXPECT_EQ(pass(), (std::vector{O::done, O::done, O::done, O::done}));
    const auto ann = store::find_case_by_invoice(*db_, "alpha", "in_ann");
    ASSERT_TRUE(ann);
    EXPECT_EQ(status_of(ann->state), std::string("paid"));
    EXPECT_TRUE(ann->state.dispute.has_value()) << "the dispute is Ann's case's";
    EXPECT_EQ(status("cid"), "open");
}

// Access changes of different members commit side by side, not in the order of their ids: the
// feed reads them under the whole write lock, so its cursor never passes one still being written.
TEST_F(KeyedInbox, TheAccessFeedSkipsNoChangeCommittedOutOfOrder) {
    AccessFeed feed(
        [](const std::string&, const std::string&) { return std::vector<std::string>{}; });
    std::vector<std::string> handed;
    feed.add([&](const AccessEvent& e) { handed.push_back(e.member); });
    const auto change = [](const std::string& reason) {
        AccessChange c;
        c.from = AccessLevel::granted;
        c.to = AccessLevel::locked;
        c.reason = reason;
        return c;
    };

    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed);
    store::append_history(*other, {"alpha", "cus_ann", "prod_1"}, change("ann's, written first"));
    {
        store::Transaction mine(*db_, store::Transaction::keyed);
        store::append_history(*db_, {"alpha", "cus_bob", "prod_1"},
                              change("bob's, committed first"));
        mine.commit();
    }
    expect_lock_not_had([&] { feed.deliver(*db_); });
    EXPECT_TRUE(handed.empty());

    theirs->commit();
    EXPECT_EQ(feed.deliver(*db_), 2u);
    EXPECT_EQ(handed, (std::vector<std::string>{"cus_ann", "cus_bob"}));
    EXPECT_EQ(feed.deliver(*db_), 0u);
}

// A payment names its own customer; should the case it finds through its invoice be another
// member's, that member's lock is taken too, and the row gives way while another instance holds it,
// together with the later rows of both members.
TEST_F(KeyedInbox, APaymentForAnotherMembersCaseWaitsForThatMember) {
    const auto ann_failed = invoice("invoice.payment_failed", "ann");
    deliver(ann_failed);
    EXPECT_EQ(pass(), std::vector{O::done});
    EXPECT_EQ(status("ann"), "open");

    auto payment = dunning::testing::fixture("payment_intent.succeeded");
    payment["created"] = to_unix(clock_.now());
    payment["data"]["object"]["invoice"] = "in_ann";
    payment["data"]["object"]["customer"] = "cus_zed";
    deliver(payment);
    ASSERT_NE(key_of(payment), key_of(ann_failed));
    auto card = dunning::testing::fixture("payment_method.attached");
    card["created"] = to_unix(clock_.now());
    card["data"]["object"]["customer"] = "cus_zed";
    deliver(card);
    ASSERT_EQ(key_of(card), key_of(payment));

    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed);
    ASSERT_TRUE(other->try_lock_key(*key_of(ann_failed)));
    // Zed's payment gives way, and Zed's card waits behind it although this batch has Zed's key.
    EXPECT_EQ(pass(), (std::vector{O::held, O::held}));
    EXPECT_EQ(status("ann"), "open");

    theirs->commit();
    EXPECT_EQ(pass(), (std::vector{O::done, O::done}));
    EXPECT_EQ(status("ann"), "paid");
    EXPECT_EQ(pass(), std::vector<O>{});
}

// A due timer changes its member's case: it takes the member's key as an event's unit does. A
// member another instance holds keeps its timer due for the next round (and the round says so,
// so that the access rechecks wait behind it); the others tick at once, beside that instance's
// open transaction instead of waiting for it.
TEST_F(KeyedInbox, ADueTimerWaitsForItsMemberAndTheOthersTickBesideIt) {
    const auto ann_failed = invoice("invoice.payment_failed", "ann");
    deliver(ann_failed);
    deliver(invoice("invoice.payment_failed", "bob"));
    EXPECT_EQ(pass(), (std::vector{O::done, O::done}));
    const auto wakeup = [&](const std::string& member) {
        const auto c = store::find_case_by_invoice(*db_, "alpha", "in_" + member);
        EXPECT_TRUE(c && c->state.next_wakeup) << member;
        return c && c->state.next_wakeup ? *c->state.next_wakeup : Timestamp{};
    };
    const auto ann_due = wakeup("ann");
    const auto bob_due = wakeup("bob");
    clock_.set(std::max(ann_due, bob_due));

    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed);
    ASSERT_TRUE(other->try_lock_key(*key_of(ann_failed)));
    bool more_due = false;
    EXPECT_EQ(run_due_timers(*db_, engine_, clock_.now(), 500, &more_due), 1u);
    EXPECT_TRUE(more_due) << "the round's access rechecks wait";
    EXPECT_EQ(wakeup("ann"), ann_due) << "left to the instance holding Ann";
    EXPECT_GT(wakeup("bob"), clock_.now());

    theirs->commit();
    EXPECT_EQ(run_due_timers(*db_, engine_, clock_.now(), 500, &more_due), 1u);
    EXPECT_FALSE(more_due);
    EXPECT_GT(wakeup("ann"), clock_.now());
    EXPECT_EQ(run_due_timers(*db_, engine_, clock_.now(), 500, &more_due), 0u);

    // A full list may leave more due: the rechecks wait for those too.
    clock_.set(std::max(wakeup("ann"), wakeup("bob")));
    EXPECT_EQ(run_due_timers(*db_, engine_, clock_.now(), 1, &more_due), 1u);
    EXPECT_TRUE(more_due);
    EXPECT_EQ(run_due_timers(*db_, engine_, clock_.now(), 500, &more_due), 1u);
    EXPECT_FALSE(more_due);
}

// Claims write only the claim of the jobs they take: they run beside the members being decided
// (and another instance's claims), and a job another claim has locked is passed by, not waited
// for. The whole write lock still keeps them out.
TEST_F(KeyedInbox, AClaimRunsBesideDecisionsAndPassesByAJobAnotherClaimHolds) {
    const auto add = [&](const std::string& message) {
        return store::enqueue(*db_,
                              {.payload = store::EmailJob{message, 0}, .idempotency_key = message},
                              clock_.now());
    };
    const auto first = add("first");
    add("second");
    const store::JobQueue mine{"mine"};
    const auto claim = [&] {
        std::vector<std::string> out;
        for (const auto& j : mine.claim(*db_, store::JobKind::email, clock_.now(), 100))
            out.push_back(std::get<store::EmailJob>(j.payload).message);
        return out;
    };

    auto other = open();
    std::optional<store::Transaction> theirs;
    theirs.emplace(*other, store::Transaction::keyed); // deciding for a member, or claiming
    store::CachedStatement lock(*other, "SELECT id FROM jobs WHERE id = ? FOR UPDATE");
    lock.bind(1, first);
    ASSERT_TRUE(lock.executeStep()); // as a claim in flight holds its rows
    lock.reset();
    EXPECT_EQ(claim(), std::vector<std::string>{"second"});
    theirs->commit();
    EXPECT_EQ(claim(), std::vector<std::string>{"first"});

    add("third");
    theirs.emplace(*other); // the whole write lock
    expect_lock_not_had([&] { claim(); });
    theirs.reset();
    EXPECT_EQ(claim(), std::vector<std::string>{"third"});
}

} // namespace
} // namespace dunning::jobs
