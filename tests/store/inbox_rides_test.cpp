// Deliveries that arrive while another connection of the process holds the write lock (the work
// loop's batch) ride on that transaction's commit: they are answered once it committed, and
// handed back to the inbox writer's own thread when it did not, or when they cannot be stored.
#include "store/inbox.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace dunning::store {
namespace {

using testing::TempDir;
using namespace std::chrono_literals;

// What another thread is about to do: true once `done` holds, false after 10 s.
bool eventually(const std::function<bool()>& done) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::yield();
    }
    return true;
}

// A ride opened for a test's scope: should the test stop halfway, its deliveries go back to the
// writer (declare their futures before it, so that they are answered before they go).
class OpenRide {
  public:
    explicit OpenRide(InboxWriter& writer) : writer_(writer) { writer_.open_ride(); }
    ~OpenRide() {
        if (!closed_) writer_.close_ride(false);
    }
    OpenRide(const OpenRide&) = delete;
    OpenRide& operator=(const OpenRide&) = delete;
    void close(bool committed) {
        closed_ = true;
        writer_.close_ride(committed);
    }

  private:
    InboxWriter& writer_;
    bool closed_ = false;
};

class InboxRides : public ::testing::Test {
  protected:
    TempDir dir;
    StoreOptions options{(dir.path() / "rides.db").string(), "normal"};
    std::unique_ptr<Connection> rider; // the work loop's connection
    std::atomic<int> commits{0};       // on_commit: the writer's own commits and rides'
    std::unique_ptr<InboxWriter> writer;

    void SetUp() override {
        open_store(options);
        rider = connect_store(options);
        writer = std::make_unique<InboxWriter>(options, [this] { ++commits; });
    }

    static InboxRow row(const std::string& event_id) {
        InboxRow r;
        r.creator_id = "creator_a";
        r.event_id = event_id;
        r.type = "invoice.payment_failed";
        r.source = "direct";
        r.body = R"({"id":")" + event_id + R"("})";
        r.created = 1700000000;
        r.received_at_ms = 1700000000000;
        return r;
    }

    std::future<AppendOutcome> deliver(const std::string& event_id) {
        return std::async(std::launch::async,
                          [this, event_id] { return writer->append(row(event_id)); });
    }

    // Boards until `n` deliveries are aboard (each delivery's thread queues it when it gets to);
    // false when they never come.
    bool board(std::size_t n) {
        std::size_t aboard = 0;
        return eventually([&] {
            aboard += writer->board(*rider);
            return aboard >= n;
        });
    }

    // Called with every ride closed. Should the answer not come, the writer is shut down, which
    // commits what it holds: the future can then go without waiting forever.
    bool answered(std::future<AppendOutcome>& f) {
        if (f.wait_for(10s) == std::future_status::ready) return true;
        writer.reset();
        return false;
    }

    long long stored(const std::string& event_id) {
        auto db = connect_store(options);
        auto st = db->prepare("SELECT count(*) FROM inbox JOIN inbox_bodies ON inbox_id = id "
                              "WHERE event_id = ?");
        st->bind(1, event_id);
        st->step();
        return st->int64_at(0);
    }
};

TEST_F(InboxRides, DeliveriesAreAnsweredWhenTheTransactionTheyRodeOnCommits) {
    EXPECT_EQ(writer->append(row("evt_before")), AppendOutcome::inserted);
    ASSERT_TRUE(eventually([&] { return commits == 1; }));
    {
        std::future<AppendOutcome> first, again;
        Transaction tx(*rider);
        OpenRide ride(*writer);
        first = deliver("evt_first");
        again = deliver("evt_before");
        // The writer's thread leaves them to the ride: were it to commit them itself, waiting for
        // the write lock the ride holds, they would never come aboard.
        ASSERT_TRUE(board(2));
        EXPECT_EQ(first.wait_for(0ms), std::future_status::timeout)
            << "answered before the transaction it rode on committed";
        tx.commit();
        ride.close(true);
        ASSERT_TRUE(answered(first) && answered(again));
        EXPECT_EQ(first.get(), AppendOutcome::inserted);
        EXPECT_EQ(again.get(), AppendOutcome::duplicate);
    }
    EXPECT_EQ(stored("evt_first"), 1);
    EXPECT_TRUE(eventually([&] { return commits == 2; })) << "the worker was not woken";
    // Once the ride is over, the writer's thread commits on its own again.
    auto after = deliver("evt_after");
    ASSERT_TRUE(answered(after));
    EXPECT_EQ(after.get(), AppendOutcome::inserted);
    EXPECT_EQ(stored("evt_after"), 1);
}

TEST_F(InboxRides, ADeliveryQueuedAfterTheLastBoardingIsCommittedByTheWriterOnceTheRideEnds) {
    std::future<AppendOutcome> late;
    Transaction tx(*rider);
    OpenRide ride(*writer);
    EXPECT_EQ(writer->board(*rider), 0u);
    late = deliver("evt_late");
    ASSERT_TRUE(eventually([&] { return writer->waiting() == 1; }));
    tx.commit();
    ride.close(true);
    ASSERT_TRUE(answered(late)) << "left in the queue after the ride";
    EXPECT_EQ(late.get(), AppendOutcome::inserted);
    EXPECT_EQ(stored("evt_late"), 1);
}

TEST_F(InboxRides, ARideThatDidNotCommitHandsItsDeliveriesBackToTheWriter) {
    std::future<AppendOutcome> delivery;
    {
        OpenRide ride(*writer);
        {
            Transaction tx(*rider);
            delivery = deliver("evt_rolled_back");
            ASSERT_TRUE(board(1));
        } // rolled back
        ride.close(false);
    }
    ASSERT_TRUE(answered(delivery));
    EXPECT_EQ(delivery.get(), AppendOutcome::inserted);
    EXPECT_EQ(stored("evt_rolled_back"), 1);
}

// A good delivery boarded together with the refused one is undone with it (the savepoint) and
// handed back too: the writer's own commit of the two then fails as a whole, as a group commit
// with a refused row always has, and both are answered the error (Stripe delivers them again).
TEST_F(InboxRides, ADeliveryThatCannotBeStoredCostsTheRideNothingAndIsAnsweredWithItsError) {
    rider->exec("CREATE TRIGGER refuse BEFORE INSERT ON inbox WHEN NEW.event_id = 'evt_bad' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    std::future<AppendOutcome> good, bad;
    {
        Transaction tx(*rider);
        OpenRide ride(*writer);
        insert_inbox_row(*rider, row("evt_rider_own"));
        good = deliver("evt_good");
        ASSERT_TRUE(eventually([&] { return writer->waiting() == 1; }));
        bad = deliver("evt_bad");
        ASSERT_TRUE(eventually([&] { return writer->waiting() == 2; }));
        EXPECT_EQ(writer->board(*rider), 0u);
        EXPECT_EQ(writer->waiting(), 2u) << "not handed back to the writer's queue";
        tx.commit();
        EXPECT_EQ(stored("evt_good"), 0) << "the refused delivery's boarding left a row behind";
        ride.close(true);
    }
    ASSERT_TRUE(answered(bad) && answered(good));
    for (auto* f : {&good, &bad})
        try {
            f->get();
            ADD_FAILURE() << "a delivery whose commit failed was answered as stored";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("refused by the test"), std::string::npos)
                << e.what();
        }
    EXPECT_EQ(stored("evt_rider_own"), 1) << "the ride's own writes were lost";
    EXPECT_EQ(stored("evt_good"), 0);
    EXPECT_EQ(stored("evt_bad"), 0);
}

} // namespace
} // namespace dunning::store
