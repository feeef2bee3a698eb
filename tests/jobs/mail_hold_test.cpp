// A stage email due together with a charge of its case waits while another instance answers the
// charge: a retry that succeeds makes the reminder needless, as it does on one instance, which
// answers a round's charges before it looks at emails.
#include "jobs/inbox_processor.hpp"
#include "jobs/mail_jobs.hpp"
#include "store/cases.hpp"
#include "store/inbox.hpp"
#include "store/job_queue.hpp"
#include "store/statement.hpp"
#include "support/inbox_rows.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace dunning::jobs {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const Timestamp start = from_unix(1'780'000'000);

class MailHold : public ::testing::Test {
  protected:
    testing::TempDir dir;
    config::Config config = testing::test_config(dir.path());
    FakeClock clock{start};
    std::unique_ptr<store::Connection> db =
        store::open_store({config.storage.sqlite_path, "normal"});
    config::CreatorRegistry creators{config};
    Engine engine{config, creators, clock};
    MailDispatcher mail{config, creators, make_transport(config)};
    const store::JobQueue charges{"instance-a", 300'000ms}; // another instance's run
    const store::JobQueue emails{"instance-b", 300'000ms};
    std::int64_t case_id = 0;

    void SetUp() override {
        deliver(event("invoice.payment_failed"));
        const auto c = store::find_case_by_invoice(*db, "alpha", "in_hold");
        ASSERT_TRUE(c);
        case_id = c->id;
        // What a wake-up queues when a retry and a stage fall on one moment.
        store::Transaction tx(*db);
        store::enqueue(*db,
                       {.payload = store::ChargeJob{2, "in_hold", ""},
                        .idempotency_key = "charge-in_hold-2",
                        .case_id = case_id},
                       clock.now());
        store::enqueue(*db,
                       {.payload = store::EmailJob{"reminder", 1},
                        .idempotency_key = "email-in_hold-1",
                        .case_id = case_id},
                       clock.now());
        tx.commit();
    }

    json event(const std::string& type) {
        auto e = testing::fixture(type);
        e["id"] = "evt_" + type;
        e["created"] = to_unix(clock.now());
        auto& o = e["data"]["object"];
        o["id"] = "in_hold";
        o["customer"] = "cus_hold";
        o["customer_email"] = "hold@example.com";
        return e;
    }
    void deliver(const json& e) {
        store::insert_inbox_row(*db, testing::inbox_row_of(e));
        for (const auto& r : pending_rows(*db, 64))
            ASSERT_EQ(process_row(*db, engine, r, 0), RowOutcome::done) << r.body;
    }
    // "state: result", or the note of a job put off.
    std::string reminder() {
        store::CachedStatement st(*db, "SELECT state || ': ' || coalesce(result, last_error, '') "
                                       "FROM jobs WHERE idempotency_key = ?");
        st.bind(1, std::string("email-in_hold-1"));
        return st.executeStep() ? st.getColumn(0).getString() : "(none)";
    }
    std::size_t emails_sent() const {
        const auto outbox = std::filesystem::path(config.mail.outbox_dir);
        if (!std::filesystem::exists(outbox)) return 0;
        std::size_t n = 0;
        for (const auto& f : std::filesystem::directory_iterator(outbox))
            n += f.path().extension() == ".eml";
        return n;
    }
};

TEST_F(MailHold, TheReminderWaitsForTheChargeAndASuccessfulRetryCancelsIt) {
    const auto claimed = charges.claim(*db, store::JobKind::charge, clock.now(), 100);
    ASSERT_EQ(claimed.size(), 1u); // instance A calls Stripe now

    EXPECT_EQ(mail.dispatch_due(*db, engine, emails), 1u);
    EXPECT_EQ(emails_sent(), 0u);
    EXPECT_EQ(reminder(), "pending: held: a charge of the case has no answer yet");
    EXPECT_TRUE(store::charge_under_way(*db, case_id, clock.now()));

    // A's retry succeeds: the charge is done and the invoice paid.
    {
        store::Transaction tx(*db);
        ASSERT_TRUE(store::finish_job(*db, claimed.front(), "done", "succeeded", clock.now()));
        tx.commit();
    }
    deliver(event("invoice.paid"));
    EXPECT_FALSE(store::charge_under_way(*db, case_id, clock.now()));

    clock.advance(1s);
    EXPECT_EQ(mail.dispatch_due(*db, engine, emails), 1u);
    EXPECT_EQ(reminder(), "cancelled: case is paid");
    EXPECT_EQ(emails_sent(), 0u);
}

TEST_F(MailHold, TheReminderGoesOutOnceTheChargeIsDeclined) {
    const auto claimed = charges.claim(*db, store::JobKind::charge, clock.now(), 100);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(mail.dispatch_due(*db, engine, emails), 1u);
    EXPECT_EQ(emails_sent(), 0u);
    {
        store::Transaction tx(*db);
        ASSERT_TRUE(store::finish_job(*db, claimed.front(), "done", "declined", clock.now()));
        tx.commit();
    }
    clock.advance(1s);
    EXPECT_EQ(mail.dispatch_due(*db, engine, emails), 1u);
    EXPECT_EQ(emails_sent(), 1u);
    EXPECT_EQ(reminder().substr(0, 6), "done: ") << reminder();
}

// A charge due later, or one already answered, holds nothing.
TEST_F(MailHold, OnlyAChargeDueByNowAndUnansweredHoldsTheEmail) {
    EXPECT_TRUE(store::charge_under_way(*db, case_id, clock.now()));
    EXPECT_FALSE(store::charge_under_way(*db, case_id, clock.now() - 1s));
    EXPECT_FALSE(store::charge_under_way(*db, case_id + 1, clock.now()));
}

} // namespace
} // namespace dunning::jobs
