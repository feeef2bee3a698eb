#include "jobs/inbox_processor.hpp"

#include "jobs/stripe_connection.hpp"
#include "store/access_store.hpp"
#include "store/cards.hpp"
#include "store/cases.hpp"
#include "webhook/event_parser.hpp"

#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "store/inbox.hpp"

namespace dunning::jobs {

using store::active_cases_of_customer;
using store::CaseRecord;
using store::Connection;
using store::find_case_by_invoice;
using store::find_case_by_payment;
using store::link_case_event;
using store::load_case;
using store::remember_card;
using store::remember_card_holder;

namespace {

struct Outcome {
    RowOutcome kind;
    std::string note;
};

void remember_unlinked(Connection& db, const InboxRecord& row, const std::string& payment_intent,
                       const std::string& charge) {
    store::remember_unlinked(db, row.creator_id, payment_intent.empty() ? charge : payment_intent,
                             row.id);
}

// Payment events that arrived before their invoice tied them to this case are applied now,
// so the result does not depend on the order Stripe delivered them in.
void absorb_unlinked(Connection& db, const Engine& engine, CaseRecord& c) {
    const auto& inv = c.state.invoice;
    for (const auto& waiting :
         store::take_unlinked(db, c.state.creator_id, inv.payment_intent_id, inv.charge_id)) {
        auto parsed = webhook::parse_event(waiting.body);
        if (!parsed || !std::holds_alternative<Event>(parsed.value())) continue;
        engine.run_case(db, c, std::get<Event>(parsed.value()));
        link_case_event(db, c.id, waiting.inbox_id);
    }
}

std::optional<CaseRecord> case_for_payment(Connection& db, const std::string& creator,
                                           const PaymentFacts& p) {
    if (!p.invoice_id.empty()) {
        if (auto c = find_case_by_invoice(db, creator, p.invoice_id)) return c;
        CaseRecord fresh;
        fresh.state.creator_id = creator;
        fresh.state.invoice.invoice_id = p.invoice_id;
        fresh.state.invoice.customer_id = p.customer_id;
        return fresh;
    }
    return find_case_by_payment(db, creator, p.payment_intent_id, p.charge_id);
}

Outcome apply_to_case(Connection& db, const Engine& engine, const InboxRecord& row, const Event& e,
                      CaseRecord c) {
    engine.run_case(db, c, e);
    link_case_event(db, c.id, row.id);
    absorb_unlinked(db, engine, c);
    return {RowOutcome::done, {}};
}

// A new payment method concerns every case of that member still being worked on.
Outcome apply_to_customer(Connection& db, const Engine& engine, const InboxRecord& row,
                          const Event& e, const std::string& customer) {
    const auto ids = active_cases_of_customer(db, row.creator_id, customer);
    for (const auto id : ids) {
        if (auto c = load_case(db, id)) {
            engine.run_case(db, *c, e);
            link_case_event(db, c->id, row.id);
        }
    }
    return {RowOutcome::done, ids.empty() ? "no open case for this customer" : ""};
}

// Stripe's word on a subscription (unpaid, canceled for non-payment, active again) bears on
// the access to every product it includes.
Outcome apply_subscription(Connection& db, const Engine& engine, const InboxRecord& row,
                           const Event& e, const SubscriptionFacts& sub) {
    auto products = store::save_subscription(db, row.creator_id, sub, e.created);
    if (sub.customer_id.empty() || products.empty())
        return {RowOutcome::done, "subscription without a customer or products"};
    engine.refresh_access(db, row.creator_id, sub.customer_id, std::move(products));
    return {RowOutcome::done, {}};
}

// A dispute concerns the case of the payment it reverses (a paid invoice's case included).
Outcome apply_dispute(Connection& db, const Engine& engine, const InboxRecord& row, const Event& e,
                      const DisputeFacts& d) {
    auto c = find_case_by_payment(db, row.creator_id, d.payment_intent_id, d.charge_id);
    if (c) return apply_to_case(db, engine, row, e, std::move(*c));
    remember_unlinked(db, row, d.payment_intent_id, d.charge_id);
    return {RowOutcome::done, "dispute not yet tied to an invoice"};
}

// A paid invoice of a subscription outdates whatever Stripe said about it before.
void note_paid_subscription(Connection& db, const Engine& engine, const std::string& creator,
                            const Event& e, const InvoiceFacts& inv) {
    if (e.kind != EventKind::invoice_paid || inv.subscription_id.empty()) return;
    store::note_subscription_paid(db, creator, inv.subscription_id, inv.customer_id, e.created);
    auto products = store::subscription_products(db, creator, inv.subscription_id);
    if (!products.empty() && !inv.customer_id.empty())
        engine.refresh_access(db, creator, inv.customer_id, std::move(products));
}

// A mandate names only its payment method: the member is the one that method was seen with.
Outcome apply_mandate(Connection& db, const Engine& engine, const InboxRecord& row, const Event& e,
                      const MandateFacts& m) {
    if (m.status != "inactive") return {RowOutcome::done, "mandate " + m.status};
    const auto customer =
        store::customer_of_payment_method(db, row.creator_id, m.payment_method_id);
    if (customer.empty()) return {RowOutcome::done, "no member known for this payment method"};
    return apply_to_customer(db, engine, row, e, customer);
}

Outcome apply_account(Connection& db, const Engine& engine, const InboxRecord& row, const Event& e,
                      const AccountFacts& a) {
    if (e.kind == EventKind::account_deauthorized)
        return {RowOutcome::done,
                stripe_deauthorized(db, engine, row.creator_id, a.account_id, e.created)
                    ? "creator disconnected; its open cases wait"
                    : "creator was not connected to this account"};
    return {RowOutcome::done, stripe_authorized(db, engine, row.creator_id, a.account_id, e.created)
                                  ? "creator connected again; its open cases go on"
                                  : "no disconnected platform connection to this account"};
}

} // namespace

// FNV-1a: every instance and every build computes it alike; two members sharing a key only wait
// for each other.
std::int32_t member_lock_key(const std::string& creator, const std::string& customer) {
    std::uint32_t h = 2166136261u;
    const auto add = [&h](std::string_view text) {
        for (const unsigned char c : text) {
            h ^= c;
            h *= 16777619u;
        }
    };
    add(creator);
    add(std::string_view("\0", 1));
    add(customer);
    return static_cast<std::int32_t>(h);
}

// None for the events that find their member through the store (a dispute, a mandate) or concern
// the whole creator (its Stripe account), nor for an object that names no customer.
std::optional<std::int32_t> member_key(const std::string& creator, const Event& e) {
    const std::string* customer = nullptr;
    if (const auto* inv = std::get_if<InvoiceFacts>(&e.facts)) customer = &inv->customer_id;
    if (const auto* pay = std::get_if<PaymentFacts>(&e.facts)) customer = &pay->customer_id;
    if (const auto* pm = std::get_if<PaymentMethodFacts>(&e.facts)) customer = &pm->customer_id;
    if (const auto* sub = std::get_if<SubscriptionFacts>(&e.facts)) customer = &sub->customer_id;
    if (customer == nullptr || customer->empty()) return std::nullopt;
    return member_lock_key(creator, *customer);
}

namespace {

Outcome route_event(Connection& db, const Engine& engine, const InboxRecord& row, const Event& e,
                    MemberLocks& locks) {
    if (const auto* inv = std::get_if<InvoiceFacts>(&e.facts)) {
        remember_card_holder(db, row.creator_id, *inv);
        note_paid_subscription(db, engine, row.creator_id, e, *inv);
        auto c = find_case_by_invoice(db, row.creator_id, inv->invoice_id);
        if (!c) {
            c = CaseRecord{};
            c->state.creator_id = row.creator_id;
        }
        return apply_to_case(db, engine, row, e, std::move(*c));
    }
    if (const auto* pay = std::get_if<PaymentFacts>(&e.facts)) {
        remember_card(db, row.creator_id, *pay);
        auto c = case_for_payment(db, row.creator_id, *pay);
        if (c && locks.cover(row.creator_id, c->state.invoice.customer_id)) {
            c = case_for_payment(db, row.creator_id, *pay); // read again, under its member's lock
            if (c) locks.cover(row.creator_id, c->state.invoice.customer_id);
        }
        if (c) return apply_to_case(db, engine, row, e, std::move(*c));
        remember_unlinked(db, row, pay->payment_intent_id, pay->charge_id);
        return {RowOutcome::done, "payment not yet tied to an invoice"};
    }
    if (const auto* pm = std::get_if<PaymentMethodFacts>(&e.facts)) {
        remember_card(db, row.creator_id, *pm);
        return apply_to_customer(db, engine, row, e, pm->customer_id);
    }
    if (const auto* sub = std::get_if<SubscriptionFacts>(&e.facts))
        return apply_subscription(db, engine, row, e, *sub);
    if (const auto* d = std::get_if<DisputeFacts>(&e.facts))
        return apply_dispute(db, engine, row, e, *d);
    if (const auto* m = std::get_if<MandateFacts>(&e.facts))
        return apply_mandate(db, engine, row, e, *m);
    if (const auto* a = std::get_if<AccountFacts>(&e.facts))
        return apply_account(db, engine, row, e, *a);
    return {RowOutcome::done, "no effect on cases or access"};
}

// An inbox row read in full, and the member it concerns.
struct ReadRow {
    Result<webhook::Parsed, std::string> parsed;
    std::optional<std::int32_t> key; // the member's lock key
    bool any_member = false;         // an event that may concern any member of its creator
};

ReadRow read_row(const InboxRecord& row) {
    ReadRow r{webhook::parse_event(row.body), std::nullopt, false};
    if (r.parsed)
        if (const auto* e = std::get_if<Event>(&r.parsed.value())) {
            r.key = member_key(row.creator_id, *e);
            r.any_member = !r.key;
        }
    return r;
}

Outcome decide_row(Connection& db, const Engine& engine, const InboxRecord& row, const ReadRow& r,
                   MemberLocks& locks) {
    if (!r.parsed) return {RowOutcome::poison, r.parsed.error()};
    if (const auto* ignored = std::get_if<webhook::Ignored>(&r.parsed.value()))
        return {RowOutcome::ignored, ignored->reason};
    return route_event(db, engine, row, std::get<Event>(r.parsed.value()), locks);
}

} // namespace

const char* to_string(RowOutcome o) {
    switch (o) {
    case RowOutcome::done:
        return "done";
    case RowOutcome::ignored:
        return "ignored";
    case RowOutcome::poison:
        return "poison";
    case RowOutcome::skipped:
        return "skipped";
    case RowOutcome::held:
        return "held";
    }
    return "poison";
}

std::vector<InboxRecord> pending_rows(Connection& db, int limit) {
    return store::pending_inbox_rows(db, limit);
}

namespace {

// One row inside the batch's transaction; its own savepoint keeps a poison row's half-done
// writes out while the rows around it commit.
RowOutcome process_in_batch(Connection& db, const Engine& engine, const InboxRecord& row,
                            const ReadRow& r, MemberLocks& locks, HeldKeys& held,
                            std::int64_t now_ms) {
    if (!store::inbox_row_pending(db, row.id)) return RowOutcome::skipped;
    Outcome outcome;
    {
        store::Savepoint unit(db);
        locks.begin_unit();
        try {
            outcome = decide_row(db, engine, row, r, locks);
        } catch (const HeldElsewhere& h) {
            unit.rollback(); // left pending, for the next pass
            locks.undo_unit();
            held.members.insert(h.key); // that member's later rows wait behind this one
            return RowOutcome::held;
        } catch (const std::exception& e) {
            if (store::store_in_trouble(e)) throw; // the store is in trouble, not the event
            outcome = {RowOutcome::poison, e.what()};
        }
        if (outcome.kind == RowOutcome::poison) {
            unit.rollback();
            locks.undo_unit();
        }
    }
    store::mark_inbox_row(db, row.id, to_string(outcome.kind), outcome.note, now_ms);
    return outcome.kind;
}

} // namespace

namespace {

// A ride of the inbox's deliveries on a batch (Passes::riders), closed when the batch ends.
class Ride {
  public:
    explicit Ride(store::InboxWriter* riders) : riders_(riders) {
        if (riders_) riders_->open_ride();
    }
    ~Ride() {
        if (riders_) riders_->close_ride(committed_);
    }
    Ride(const Ride&) = delete;
    Ride& operator=(const Ride&) = delete;
    void board(Connection& db) {
        if (riders_) riders_->board(db);
    }
    void committed() { committed_ = true; }

  private:
    store::InboxWriter* riders_;
    bool committed_ = false;
};

// `rows` with each one's event read (`read`, as many): the events are parsed before the batch's
// transaction begins, so that the write lock, which the webhook receiver waits for (or rides on),
// is not held while they are.
std::vector<RowOutcome> process_read_rows(Connection& db, const Engine& engine,
                                          std::span<const InboxRecord> rows,
                                          std::span<const ReadRow> read, std::int64_t now_ms,
                                          std::chrono::microseconds budget, HeldKeys& held,
                                          store::InboxWriter* riders = nullptr) {
    std::vector<RowOutcome> out;
    if (rows.empty()) return out;
    const auto& first = read.front();
    // An event that may concern any member waits behind a member held by another instance: it
    // may be that member's, and its rows before it are not decided yet.
    if (first.any_member && !held.members.empty()) held.everything = true;
    if (held.everything) return std::vector<RowOutcome>(rows.size(), RowOutcome::held);
    out.reserve(rows.size());
    const auto until = std::chrono::steady_clock::now() + budget;
    // Where transactions run side by side (PostgreSQL, several instances), a batch takes the
    // key of each member it decides for; an event that may concern any member is decided in a
    // batch of its own kind, under the whole write lock, where no other batch runs.
    const bool keyed = db.locks_keys() && !first.any_member;
    std::optional<store::Transaction> tx;
    if (keyed)
        tx.emplace(db, store::Transaction::keyed);
    else
        tx.emplace(db);
    // Opened once the write lock is held: while this batch waits for another process, deliveries
    // keep their own commits and their own limit on that wait.
    Ride ride(riders);
    MemberLocks locks(db, keyed, held);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = read[i];
        if (r.any_member && !held.members.empty()) held.everything = true;
        if (held.everything) {
            out.push_back(RowOutcome::held);
            continue;
        }
        if (keyed && r.any_member) break; // the next batch's first row
        // A member another transaction decides for is left to it, with all its later rows in
        // this pass: one member's events are decided in their order.
        if (r.key && !locks.take(*r.key)) {
            held.members.insert(*r.key);
            out.push_back(RowOutcome::held);
            continue;
        }
        out.push_back(process_in_batch(db, engine, rows[i], r, locks, held, now_ms));
        if (out.back() == RowOutcome::held) { // its case is a member another instance holds
            if (r.key)
                held.members.insert(*r.key);
            else
                held.everything = true;
        }
        if (std::chrono::steady_clock::now() > until) break;
    }
    ride.board(db);
    tx->commit();
    ride.committed();
    return out;
}

std::vector<ReadRow> read_rows(std::span<const InboxRecord> rows) {
    std::vector<ReadRow> read;
    read.reserve(rows.size());
    for (const auto& row : rows)
        read.push_back(read_row(row));
    return read;
}

} // namespace

std::vector<RowOutcome> process_rows(Connection& db, const Engine& engine,
                                     std::span<const InboxRecord> rows, std::int64_t now_ms,
                                     std::chrono::microseconds budget, HeldKeys& held) {
    const auto read = read_rows(rows);
    return process_read_rows(db, engine, rows, read, now_ms, budget, held);
}

std::vector<RowOutcome> process_rows(Connection& db, const Engine& engine,
                                     std::span<const InboxRecord> rows, std::int64_t now_ms,
                                     std::chrono::microseconds budget) {
    HeldKeys held;
    return process_rows(db, engine, rows, now_ms, budget, held);
}

RowOutcome process_row(Connection& db, const Engine& engine, const InboxRecord& row,
                       std::int64_t now_ms) {
    return process_rows(db, engine, std::span(&row, 1), now_ms, std::chrono::seconds{1}).front();
}

std::size_t process_pending(Connection& db, const Engine& engine, const Passes& passes) {
    const auto stopping = [&passes] { return passes.stopping && passes.stopping(); };
    std::size_t decided = 0;
    for (auto rows = pending_rows(db, passes.read); !rows.empty() && !stopping();
         rows = pending_rows(db, passes.read)) {
        HeldKeys held;
        const auto before = decided;
        const auto read = read_rows(rows); // once for the pass, outside every batch
        std::span<const ReadRow> read_left(read);
        for (std::span<const InboxRecord> left(rows); !left.empty() && !stopping();) {
            const auto now = passes.now_ms();
            const auto outcomes = process_read_rows(db, engine, left, read_left, now, passes.budget,
                                                    held, passes.riders);
            if (passes.after_batch) passes.after_batch();
            for (std::size_t i = 0; i < outcomes.size(); ++i) {
                if (outcomes[i] != RowOutcome::skipped && outcomes[i] != RowOutcome::held)
                    ++decided;
                if (passes.seen) passes.seen(left[i], outcomes[i], now);
            }
            left = left.subspan(outcomes.size());
            read_left = read_left.subspan(outcomes.size());
        }
        if (decided == before) break;
    }
    return decided;
}

} // namespace dunning::jobs
