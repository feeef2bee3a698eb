#include "store/cards.hpp"

#include "core/card_expiry.hpp"
#include "store/cases.hpp"
#include "store/job_queue.hpp"

#include "store/statement.hpp"
#include <cstdio>

namespace dunning::store {

namespace {

struct Holder {
    std::string email, name;
};

// The newest case of the member knows their address, when there is one.
Holder holder_from_cases(Connection& db, const std::string& creator, const std::string& customer) {
    if (customer.empty()) return {};
    CachedStatement st(db, "SELECT id FROM cases WHERE creator_id = ? AND customer_id = ? "
                           "ORDER BY id DESC LIMIT 1");
    st.bind(1, creator);
    st.bind(2, customer);
    if (!st.executeStep()) return {};
    const auto c = load_case(db, st.getColumn(0).getInt64());
    if (!c) return {};
    return {c->state.invoice.customer_email, c->state.invoice.customer_name};
}

struct Candidate {
    std::string creator_id, payment_method_id, email, name;
    int exp_month = 0, exp_year = 0;
};

// Cards not yet reminded whose expiry month lies in the window; found by the partial index.
std::vector<Candidate> candidates(Connection& db, const CardExpiryWindow& window) {
    CachedStatement st(
        db, "SELECT creator_id, payment_method_id, email, name, exp_month, exp_year "
            "FROM cards WHERE reminded = 0 AND (exp_year, exp_month) BETWEEN (?, ?) AND (?, ?) "
            "AND email <> ''");
    st.bind(1, window.from.year);
    st.bind(2, window.from.month);
    st.bind(3, window.to.year);
    st.bind(4, window.to.month);
    std::vector<Candidate> out;
    while (st.executeStep()) {
        out.push_back({st.getColumn(0).getString(), st.getColumn(1).getString(),
                       st.getColumn(2).getString(), st.getColumn(3).getString(),
                       st.getColumn(4).getInt(), st.getColumn(5).getInt()});
    }
    return out;
}

// Marks the card and queues its email in one transaction; false when another drain was first.
bool queue_one(Connection& db, const Candidate& c, Timestamp now) {
    Transaction tx(db);
    CachedStatement mark(
        db, "UPDATE cards SET reminded = 1 WHERE creator_id = ? AND payment_method_id = ? "
            "AND reminded = 0 AND exp_month = ? AND exp_year = ?");
    mark.bind(1, c.creator_id);
    mark.bind(2, c.payment_method_id);
    mark.bind(3, c.exp_month);
    mark.bind(4, c.exp_year);
    if (mark.exec() == 0) return false;
    char key[32];
    std::snprintf(key, sizeof key, "-%04d-%02d", c.exp_year, c.exp_month);
    enqueue(db,
            {.payload = CardReminderJob{c.creator_id, c.payment_method_id, c.email, c.name,
                                        c.exp_month, c.exp_year},
             .idempotency_key = "card-" + c.creator_id + "-" + c.payment_method_id + key,
             .once = true},
            now);
    tx.commit();
    return true;
}

void remember_payment_method(Connection& db, const std::string& creator,
                             const PaymentMethodFacts& pm) {
    if (pm.customer_id.empty() || pm.payment_method_id.empty()) return;
    CachedStatement st(db, "INSERT INTO payment_methods (creator_id, payment_method_id, "
                           "customer_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
    st.bind(1, creator);
    st.bind(2, pm.payment_method_id);
    st.bind(3, pm.customer_id);
    st.exec();
}

} // namespace

std::string customer_of_payment_method(Connection& db, const std::string& creator,
                                       const std::string& payment_method) {
    CachedStatement st(db, "SELECT customer_id FROM payment_methods "
                           "WHERE creator_id = ? AND payment_method_id = ?");
    st.bind(1, creator);
    st.bind(2, payment_method);
    return st.executeStep() ? st.getColumn(0).getString() : std::string{};
}

void remember_card(Connection& db, const std::string& creator, const PaymentMethodFacts& pm) {
    remember_payment_method(db, creator, pm);
    if (pm.method != PaymentMethodKind::card || pm.card_exp_year <= 0 ||
        pm.payment_method_id.empty())
        return;
    const auto holder = holder_from_cases(db, creator, pm.customer_id);
    // A new expiry on the same card (card updater) earns a new reminder.
    CachedStatement st(db, R"sql(
        INSERT INTO cards (creator_id, customer_id, payment_method_id, exp_month, exp_year, email, name)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (creator_id, payment_method_id) DO UPDATE SET
            reminded = CASE WHEN cards.exp_month = excluded.exp_month
                                 AND cards.exp_year = excluded.exp_year
                            THEN cards.reminded ELSE 0 END,
            exp_month = excluded.exp_month, exp_year = excluded.exp_year,
            customer_id = CASE WHEN excluded.customer_id <> '' THEN excluded.customer_id
                               ELSE cards.customer_id END,
            email = CASE WHEN excluded.email <> '' THEN excluded.email ELSE cards.email END,
            name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE cards.name END)sql");
    st.bind(1, creator);
    st.bind(2, pm.customer_id);
    st.bind(3, pm.payment_method_id);
    st.bind(4, pm.card_exp_month);
    st.bind(5, pm.card_exp_year);
    st.bind(6, holder.email);
    st.bind(7, holder.name);
    st.exec();
}

void remember_card(Connection& db, const std::string& creator, const PaymentFacts& p) {
    remember_card(db, creator,
                  PaymentMethodFacts{p.customer_id, p.payment_method_id, p.method, p.card_exp_month,
                                     p.card_exp_year});
}

void remember_card_holder(Connection& db, const std::string& creator, const InvoiceFacts& inv) {
    if (inv.customer_id.empty() || inv.customer_email.empty()) return;
    CachedStatement st(db,
                       "UPDATE cards SET email = ?, name = CASE WHEN ? <> '' THEN ? ELSE name END "
                       "WHERE creator_id = ? AND customer_id = ?");
    st.bind(1, inv.customer_email);
    st.bind(2, inv.customer_name);
    st.bind(3, inv.customer_name);
    st.bind(4, creator);
    st.bind(5, inv.customer_id);
    st.exec();
}

std::size_t queue_card_reminders(Connection& db, Timestamp now) {
    std::size_t n = 0;
    for (const auto& c : candidates(db, card_reminder_window(now)))
        if (card_reminder_due({c.exp_month, c.exp_year}, c.email, now) && queue_one(db, c, now))
            ++n;
    return n;
}

std::string card_expiry_text(int month, int year) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d/%04d", month, year);
    return buf;
}

} // namespace dunning::store
