// The work loop's batches carry the inbox's deliveries on SQLite (Passes::riders): a delivery
// queued while a batch holds the write lock goes into that batch's transaction, is answered once
// it committed, and is decided in the same drain.
#include "jobs/inbox_processor.hpp"
#include "plugin/module.hpp"
#include "store/cases.hpp"
#include "store/inbox.hpp"
#include "support/inbox_rows.hpp"
#include "support/member_events.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace dunning::jobs {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class WorkerRides : public ::testing::Test {
  protected:
    WorkerRides()
        : config_(dunning::testing::test_config(dir_.path())), clock_(from_unix(1'780'000'000)),
          db_(store::open_store(plugin::store_options(config_.storage))), creators_(config_),
          engine_(config_, creators_, clock_),
          writer_(std::make_unique<store::InboxWriter>(plugin::store_options(config_.storage),
                                                       [] {})) {}

    json failed(const std::string& member) {
        auto e = dunning::testing::member_invoice_event("invoice.payment_failed", member,
                                                        to_unix(clock_.now()));
        e["id"] = "evt_failed_" + member;
        return e;
    }

    Passes passes() {
        Passes p;
        p.now_ms = [] { return std::int64_t{1'780'000'000'000}; };
        p.riders = writer_.get();
        return p;
    }

    bool has_case(const std::string& member) {
        return store::find_case_by_invoice(*db_, "alpha", "in_" + member).has_value();
    }

    dunning::testing::TempDir dir_;
    config::Config config_;
    FakeClock clock_;
    std::unique_ptr<store::Connection> db_;
    config::CreatorRegistry creators_;
    Engine engine_;
    std::unique_ptr<store::InboxWriter> writer_;
};

TEST_F(WorkerRides, ADeliveryQueuedDuringABatchRidesOnItsCommitAndIsDecidedInTheSameDrain) {
    ASSERT_EQ(store::insert_inbox_row(*db_, dunning::testing::inbox_row_of(failed("ann"))),
              store::AppendOutcome::inserted);
    // The writer's thread leaves its queue to a ride from here on: the batch's, once it runs.
    writer_->open_ride();
    auto bob = std::async(std::launch::async, [&] {
        return writer_->append(dunning::testing::inbox_row_of(failed("bob")));
    });
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (writer_->waiting() == 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::yield();
    ASSERT_EQ(writer_->waiting(), 1u);

    EXPECT_EQ(process_pending(*db_, engine_, passes()), 2u);

    const bool answered = bob.wait_for(10s) == std::future_status::ready;
    if (!answered) writer_.reset(); // commits it, so that the future can go
    ASSERT_TRUE(answered) << "the batch did not carry the delivery";
    EXPECT_EQ(bob.get(), store::AppendOutcome::inserted);
    EXPECT_TRUE(has_case("ann"));
    EXPECT_TRUE(has_case("bob")) << "the delivery was not decided in the drain that stored it";
}

} // namespace
} // namespace dunning::jobs
