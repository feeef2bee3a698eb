#include "jobs/work_loop.hpp"

#include "jobs/inbox_processor.hpp"
#include "jobs/stripe_connection.hpp"
#include "store/access_store.hpp"
#include "store/cards.hpp"
#include "telemetry/log.hpp"

#include <chrono>

namespace dunning::jobs {

namespace {
// How long one batch of inbox rows may hold the store's write lock (checked after each row).
constexpr std::chrono::milliseconds inbox_batch_budget{8};
} // namespace

using store::connect_store;
using store::queue_card_reminders;
using store::StoreOptions;
using telemetry::log_warn;
using telemetry::Metrics;

WorkLoop::WorkLoop(const StoreOptions& store, Metrics& metrics, const Engine& engine,
                   StripeGateway& stripe, MailDispatcher& mail, PlatformNotifier& host,
                   AccessFeed& feed, MillisClock now_ms)
    : db_(connect_store(store)), metrics_(metrics), engine_(engine), stripe_(stripe), mail_(mail),
      host_(host), feed_(feed), now_ms_(std::move(now_ms)) {}

WorkLoop::~WorkLoop() {
    loop_.stop();
} // after the round in hand

// The loop runs at the receiver's priority: when it is the bottleneck (a flood of webhooks, a
// machine busy with other work), a lower priority only lets the backlog of stored events grow
// and delays every restore of access; the receiver's own work per webhook is short. It also
// holds the store's write lock in turns with the receiver: descheduled while holding it, a
// low-priority loop made the receiver's inserts wait on it.
void WorkLoop::start() {
    loop_.start("work loop", [this] { drain_own(); });
}

void WorkLoop::wake() {
    woken_while_working_ = true;
    loop_.wake();
    host_.wake(); // a creator's command may have queued a notification itself
}

std::size_t WorkLoop::drain() {
    const auto n = drain_own();
    host_.drain(); // callers of drain() (test clock, shutdown) want the platform told as well
    return n;
}

std::size_t WorkLoop::drain_own() {
    std::lock_guard lock(drain_mutex_);
    std::size_t total = 0;
    // Bounded: each round does real work, but a bug must not spin here forever.
    for (int round = 0; round < 1000 && !loop_.stopping(); ++round) {
        auto n = drain_inbox() + run_due_timers(*db_, engine_) + run_access_rechecks() +
                 feed_.deliver(*db_);
        if (n > 0) host_.wake(); // the platform hears of it before the slower Stripe and mail work
        // Charges are answered before emails are looked at: a retry that succeeds in this
        // round cancels the reminder queued with it.
        // When the charges gave way to webhooks, the emails wait for the next round, after the
        // charges not yet made.
        const auto charges = dispatch_due(*db_, engine_, stripe_, queue_, yield_to_webhooks());
        n += charges;
        if (charges == 0 || !woken_while_working_)
            n += mail_.dispatch_due(*db_, engine_, queue_, yield_to_webhooks()) +
                 queue_card_reminders(*db_, engine_.clock().now()) +
                 mail_.dispatch_card_reminders(*db_, engine_, queue_);
        if (n == 0) break;
        total += n;
        host_.wake(); // the platform's thread sends what this round queued
    }
    return total;
}

// A batch of charges or emails gives way to webhooks that came in while it ran, once it has had
// its slice: a payment waits for at most the slice and one job before its access is restored,
// not for up to a hundred emails or Stripe calls, and the jobs still progress under a steady
// stream of webhooks.
YieldCheck WorkLoop::yield_to_webhooks() {
    return [this, since = std::chrono::steady_clock::now()] {
        return woken_while_working_.load() &&
               std::chrono::steady_clock::now() - since >= std::chrono::milliseconds{5};
    };
}

// Small batches: one commit for many events, yet the inbox writer never waits long for the lock.
// The rows read are worked through in as many batches as their budget takes; they are read again
// only when all of them had their turn (a row another connection finished meanwhile is skipped).
// A pass that decided nothing ends the drain: its rows are another instance's (their member or
// the row itself held) or were finished meanwhile, and this loop looks again when woken or within
// a second, rather than reading the same rows again at once.
std::size_t WorkLoop::drain_inbox() {
    woken_while_working_ = false; // what woke the loop is read below
    std::size_t total = 0;
    for (auto rows = pending_rows(*db_, 64); !rows.empty() && !loop_.stopping();
         rows = pending_rows(*db_, 64)) {
        HeldKeys held;
        bool progress = false;
        for (std::span<const InboxRecord> left(rows); !left.empty() && !loop_.stopping();) {
            const auto now = now_ms_();
            const auto outcomes = process_rows(*db_, engine_, left, now, inbox_batch_budget, held);
            // Committed: the registry is made to agree with the store.
            settle_connection_changes(*db_, engine_);
            for (std::size_t i = 0; i < outcomes.size(); ++i) {
                if (outcomes[i] == RowOutcome::skipped || outcomes[i] == RowOutcome::held) continue;
                metrics_.event_processed(to_string(outcomes[i]), now - left[i].received_at_ms);
                if (outcomes[i] == RowOutcome::poison)
                    log_warn("event in inbox row " + std::to_string(left[i].id) +
                             " is poison; see its note");
                ++total;
                progress = true;
            }
            left = left.subspan(outcomes.size());
        }
        if (!progress) break;
    }
    return total;
}

std::size_t WorkLoop::run_access_rechecks() {
    if (store::due_rechecks(*db_, engine_.clock().now(), 1).empty())
        return 0; // no write lock for nothing
    store::Transaction tx(*db_);
    const auto n = engine_.run_due_rechecks(*db_);
    tx.commit();
    return n;
}

} // namespace dunning::jobs
