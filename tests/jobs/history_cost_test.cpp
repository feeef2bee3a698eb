// What the worker does for one member's payment failure and payment (the events, the emails, the
// host notifications) costs the same however much is stored: the member's paid history and open
// cases not yet dunned, other members' open cases, the jobs done before. Measured as the SQLite
// virtual-machine steps of the worker's statements (a count, not a time), and each statement's plan
// is an index search, none of them searching an index of several columns on the creator alone
// (which reads all of the creator's rows).
#include "jobs/inbox_processor.hpp"
#include "jobs/mail_jobs.hpp"
#include "store/cases.hpp"
#include "store/inbox.hpp"
#include "store/job_queue.hpp"
#include "support/inbox_rows.hpp"
#include "support/query_plans.hpp"
#include "support/service.hpp"

#include <gtest/gtest.h>

#include <set>

namespace dunning::jobs {
namespace {

using nlohmann::json;
using testing::TempDir;

const Timestamp start = from_unix(1'780'000'000);

class World {
  public:
    World()
        : config_(make_config(dir_.path())), clock_(start),
          db_(store::open_store({config_.storage.sqlite_path, "normal"})), creators_(config_),
          engine_(config_, creators_, clock_), mail_(config_, creators_, make_transport(config_)) {}

    // Member `member`'s invoice number `n` fails, then (when `paid`) is paid; everything the
    // worker and the notifier do about it is carried out.
    void invoice(const std::string& member, int n, bool paid) {
        deliver(invoice_event("invoice.payment_failed", member, n));
        settle();
        if (!paid) return;
        deliver(invoice_event("invoice.paid", member, n));
        settle();
    }

    store::Connection& db() { return *db_; }

  private:
    static config::Config make_config(const std::filesystem::path& dir) {
        auto c = dunning::testing::test_config(dir);
        c.host.webhook_url = "http://127.0.0.1:9/hooks"; // queued; "delivered" by settle()
        c.host.webhook_secret = "whsec_host_history";
        c.creators[0].products = {{"prod_history", {"course-1"}}};
        return c;
    }

    json invoice_event(const std::string& type, const std::string& member, int n) {
        auto e = dunning::testing::fixture(type);
        const auto suffix = member + "_" + std::to_string(n);
        e["created"] = to_unix(clock_.now());
        auto& o = e["data"]["object"];
        o["id"] = "in_" + suffix;
        o["customer"] = member;
        o["customer_email"] = member + "@example.com";
        o["payment_intent"] = "pi_" + suffix;
        o["charge"] = "ch_" + suffix;
        o["subscription"] = "sub_" + member; // each member's own, as the access rules read them
        for (auto& line : o["lines"]["data"]) {
            if (line.contains("price") && line["price"].is_object())
                line["price"]["product"] = "prod_history";
            if (line.contains("plan") && line["plan"].is_object())
                line["plan"]["product"] = "prod_history";
        }
        return e;
    }

    void deliver(const json& e) {
        store::insert_inbox_row(*db_, dunning::testing::inbox_row_of(e));
        for (const auto& r : pending_rows(*db_, 64))
            ASSERT_EQ(process_row(*db_, engine_, r, 0), RowOutcome::done) << r.body;
    }

    // The mail dispatcher's round, and the platform notifier's: every notification claimed and
    // marked delivered, as the notifier does once the platform answered.
    void settle() {
        while (mail_.dispatch_due(*db_, engine_, queue_) > 0) {
        }
        for (auto due =
                 queue_.claim(*db_, store::JobKind::platform_notification, clock_.now(), 100);
             !due.empty();
             due = queue_.claim(*db_, store::JobKind::platform_notification, clock_.now(), 100)) {
            store::Transaction tx(*db_);
            for (const auto& job : due)
                store::finish_job(*db_, job, "done", "200", clock_.now());
            tx.commit();
        }
    }

    TempDir dir_;
    config::Config config_;
    FakeClock clock_;
    std::unique_ptr<store::Connection> db_;
    config::CreatorRegistry creators_;
    Engine engine_;
    MailDispatcher mail_;
    store::JobQueue queue_;
};

struct Measured {
    std::int64_t steps = 0;
    std::vector<std::string> sql;
};

// A store holding `history` paid invoices of the member and `history` other members, each with a
// paid invoice of their own subscription and an open case; then the member's next invoice fails
// and is paid.
Measured one_more_invoice(int history) {
    World w;
    for (int n = 0; n < history; ++n) {
        w.invoice("cus_long", n, true);
        w.invoice("cus_other_" + std::to_string(n), 0, true);
        w.invoice("cus_other_" + std::to_string(n), 1, false);
    }
    w.db().statement_steps(true);
    w.invoice("cus_long", history, true);
    Measured m{w.db().statement_steps(), w.db().cached_sql()};
    const auto cases = store::invoices_of_customer(w.db(), "alpha", "cus_long");
    EXPECT_EQ(cases.size(), static_cast<std::size_t>(history + 1));
    EXPECT_EQ(store::cases_of_customer(w.db(), "alpha", "cus_long").size(), 0u) << "all paid";
    return m;
}

TEST(HistoryCost, AMembersPaymentCostsTheSameWithTenTimesTheStoredHistory) {
    const auto small = one_more_invoice(3);
    const auto large = one_more_invoice(30);
    EXPECT_GT(small.steps, 0);
    EXPECT_EQ(large.steps, small.steps)
        << "a failure and its payment ran more SQLite steps with more stored";
}

// A store holding `open` unpaid invoices of the member (open cases before their first reminder:
// quiet claims, core/access.hpp) and as many other members', each with an open case; then the
// member's next invoice fails.
std::int64_t one_more_failure(int open) {
    World w;
    for (int n = 0; n < open; ++n) {
        w.invoice("cus_many", n, false);
        w.invoice("cus_other_" + std::to_string(n), 0, false);
    }
    EXPECT_EQ(store::cases_of_customer(w.db(), "alpha", "cus_many").size(),
              static_cast<std::size_t>(open));
    w.db().statement_steps(true);
    w.invoice("cus_many", open, false);
    return w.db().statement_steps();
}

TEST(HistoryCost, AMembersFailureCostsTheSameWithTenTimesItsOpenCases) {
    const auto small = one_more_failure(3);
    const auto large = one_more_failure(30);
    EXPECT_GT(small, 0);
    EXPECT_EQ(large, small) << "the access rules read more of the member's open cases";
}

TEST(HistoryCost, EveryStatementOfTheWorkersPathIsAnIndexSearch) {
    auto m = one_more_invoice(3);
    ASSERT_FALSE(m.sql.empty());
    TempDir dir;
    auto db = store::open_store({(dir.path() / "plans.db").string(), "normal"});
    const auto scans = testing::creator_wide_reads(*db, m.sql);
    for (const auto& s : scans)
        ADD_FAILURE() << s;
}

} // namespace
} // namespace dunning::jobs
