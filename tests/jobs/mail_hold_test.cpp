// A stage email due together with a charge of its case waits while another instance answers the
// charge: a retry that succeeds makes the reminder needless, as it does on one instance, which
// answers a round's charges before it looks at emails. On SQLite; the question is one indexed
// read of the case's jobs on PostgreSQL as well.
#include "jobs/inbox_processor.hpp"
#include "jobs/mail_jobs.hpp"
#include "jobs/stripe_jobs.hpp"
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
using dunning::ChargeResult;
using nlohmann::json;

const Timestamp start = from_unix(1'780'000'000);

// This module makes the retries (not Stripe's Smart Retries).
config::Config plugin_mode(config::Config c) {
    c.creators[0].retry.mode = config::RetryMode::plugin;
    return c;
}

class MailHold : public ::testing::Test {
  protected:
    testing::TempDir dir;
    config::Config config = plugin_mode(testing::test_config(dir.path()));
    FakeClock clock{start};
    std::unique_ptr<store::Connection> db =
        store::open_store({config.storage.sqlite_path, "normal"});
    config::CreatorRegistry creators{config};
    Engine engine{config, creators, clock};
    MailDispatcher mail{config, creators, make_transport(config)};
    const store::JobQueue charges{"instance-a", 300'000ms}; // another instance's run
    const store::JobQueue emails{"instance-b", 300'000ms};
    std::int64_t case_id = 0;
    int attempt = 0;

    void SetUp() override {
        deliver(event("invoice.payment_failed"));
        const auto c = store::find_case_by_invoice(*db, "alpha", "in_hold");
        ASSERT_TRUE(c);
        case_id = c->id;
        // The first retry falls due: the case queues its charge (the engine's own job and
        // attempt), and a reminder is queued for the same moment.
        ASSERT_TRUE(c->state.next_wakeup);
        clock.set(*c->state.next_wakeup);
        ASSERT_EQ(run_due_timers(*db, engine, clock.now()), 1u);
        const auto queued = store::load_case(*db, case_id);
        ASSERT_TRUE(queued && !queued->state.attempts.empty());
        attempt = queued->state.attempts.back().number;
        store::Transaction tx(*db);
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
    void answer(const store::Job& charge, ChargeResult::Kind kind) {
        store::Transaction tx(*db);
        ASSERT_TRUE(store::finish_job(*db, charge, "done", "answered", clock.now()));
        auto c = store::load_case(*db, case_id);
        ASSERT_TRUE(c);
        engine.run_case(*db, *c, ChargeResult{attempt, kind});
        tx.commit();
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

    // A's retry succeeds: the charge is done and the case hears of it in one transaction, as the
    // charge dispatcher settles it (jobs/stripe_jobs.cpp).
    answer(claimed.front(), ChargeResult::Kind::succeeded);
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
    answer(claimed.front(), ChargeResult::Kind::declined);
    clock.advance(1s);
    EXPECT_EQ(mail.dispatch_due(*db, engine, emails), 1u);
    EXPECT_EQ(emails_sent(), 1u);
    EXPECT_EQ(reminder().substr(0, 6), "done: ") << reminder();
}

// A charge due later, or another case's, holds nothing; the question reads the case's own jobs.
TEST_F(MailHold, OnlyAChargeDueByNowAndUnansweredHoldsTheEmail) {
    EXPECT_TRUE(store::charge_under_way(*db, case_id, clock.now()));
    EXPECT_FALSE(store::charge_under_way(*db, case_id, clock.now() - 1s));
    EXPECT_FALSE(store::charge_under_way(*db, case_id + 1, clock.now()));
    std::string plan;
    for (const auto& sql : db->cached_sql())
        if (sql.find("kind || ''") != std::string::npos) {
            auto st = db->prepare("EXPLAIN QUERY PLAN " + sql);
            while (st->step())
                plan += std::string(st->text_at(3)) + "\n";
        }
    EXPECT_EQ(plan, "SEARCH jobs USING INDEX jobs_by_case (case_id=?)\n");
}

} // namespace
} // namespace dunning::jobs
