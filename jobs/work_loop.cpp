#include "jobs/work_loop.hpp"

#include "jobs/inbox_processor.hpp"
#include "jobs/stripe_connection.hpp"
#include "store/access_store.hpp"
#include "store/cards.hpp"
#include "telemetry/log.hpp"

#include <chrono>

namespace dunning::jobs {

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

void WorkLoop::carry_deliveries(store::InboxWriter& writer) {
    if (db_->backend() == store::Backend::sqlite) riders_ = &writer;
}

void WorkLoop::stop() {
    loop_.stop();
    std::lock_guard wait_for(drain_mutex_); // a drain on another thread (the test clock) ends
}

void WorkLoop::wake() {
    woken_while_working_ = true;
    loop_.wake();
    host_.wake(); // a creator's command may have queued a notification itself
}

std::size_t WorkLoop::drain(const std::function<void()>& first) {
    const auto n = drain_own(first);
    host_.drain(); // callers of drain() (the test clock, tests) want the platform told as well
    return n;
}

namespace {
constexpr int timer_batch = 500; // due cases a round ticks
} // namespace

std::size_t WorkLoop::drain_own(const std::function<void()>& first) {
    std::lock_guard lock(drain_mutex_);
    if (first) first();
    std::size_t total = 0;
    // Bounded: each round does real work, but a bug must not spin here forever.
    for (int round = 0; round < 1000 && !loop_.stopping(); ++round) {
        auto n = drain_inbox();
        // One moment for the round's timers and rechecks: what falls due at one moment (a final
        // notice's end escalates the case and locks the course) is selected in one order, the
        // case's timer first, and not in the other when the clock moves between the two. The
        // rechecks wait while timers due by then may be left for the next round (a full batch
        // was found, or another instance held a due case's member).
        const auto due_by = engine_.clock().now();
        bool more_timers = false;
        n += run_due_timers(*db_, engine_, due_by, timer_batch, &more_timers);
        if (!more_timers) n += run_access_rechecks(due_by);
        n += feed_.deliver(*db_); // the listeners hear of the round's changes
        if (n > 0) host_.wake();  // the platform hears of it before the slower Stripe and mail work
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

// Batches of the pending rows (process_pending): each committed batch has the registry made to
// agree with the store before the next. The loop looks again when woken or within a second once a
// pass decided nothing.
std::size_t WorkLoop::drain_inbox() {
    woken_while_working_ = false; // what woke the loop is read below
    Passes passes;
    passes.read = 64;
    passes.now_ms = now_ms_;
    passes.stopping = [this] { return loop_.stopping(); };
    passes.after_batch = [this] { settle_connection_changes(*db_, engine_); };
    passes.riders = riders_;
    passes.seen = [this](const InboxRecord& row, RowOutcome outcome, std::int64_t now) {
        if (outcome == RowOutcome::skipped || outcome == RowOutcome::held) return;
        metrics_.event_processed(to_string(outcome), now - row.received_at_ms);
        if (outcome == RowOutcome::poison)
            log_warn("event in inbox row " + std::to_string(row.id) + " is poison; see its note");
    };
    return process_pending(*db_, engine_, passes);
}

std::size_t WorkLoop::run_access_rechecks(Timestamp due_by) {
    if (store::due_rechecks(*db_, due_by, 1).empty()) return 0; // no write lock for nothing
    store::Transaction tx(*db_);
    const auto n = engine_.run_due_rechecks(*db_, due_by);
    tx.commit();
    return n;
}

} // namespace dunning::jobs
