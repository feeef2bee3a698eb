#pragma once
// Shared pieces of the scheduler benchmarks: the simulated members and their Stripe events,
// the lifecycle each case is scripted to follow, the checks every finished case must pass,
// and the small measuring helpers (wall time, peak RSS).
#include "config/config.hpp"
#include "core/case_engine.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <sys/resource.h>

namespace schedbench {

using namespace dunning;
using namespace std::chrono_literals;

inline const std::string creator = "bench";

// Peak resident set (VmHWM) or current (VmRSS) in MiB, from /proc/self/status.
inline double proc_status_mib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) / 1024.0;
    return 0;
}
inline double peak_rss_mib() {
    return proc_status_mib("VmHWM");
}

// User + system CPU time of the whole process so far, all threads.
inline double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto secs = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return secs(u.ru_utime) + secs(u.ru_stime);
}

struct Stopwatch {
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    double micros() const { return seconds() * 1e6; }
};

// A bijection-ish scramble so that ids, start times and fates are not in lockstep.
inline std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

inline std::string id(const char* prefix, std::size_t i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%08zu", prefix, i);
    return buf;
}

// "in_b00001234" or "pi_b00001234" → 1234: a case index from its Stripe ids.
inline std::size_t index_of(const std::string& invoice_id) {
    return static_cast<std::size_t>(std::stoull(invoice_id.substr(4)));
}

// The facts Stripe sends about member i's failed subscription invoice (2025 API shape: no
// charge id on the invoice, the payment intent linked through payments).
inline InvoiceFacts invoice_facts(std::size_t i, bool paid) {
    InvoiceFacts f;
    f.invoice_id = id("in_b", i);
    f.number = id("BENCH-", i);
    f.customer_id = id("cus_b", i);
    f.customer_email = id("member", i) + "@example.com";
    f.customer_name = "Member " + std::to_string(i);
    f.subscription_id = id("sub_b", i);
    f.payment_intent_id = id("pi_b", i);
    f.status = paid ? "paid" : "open";
    f.billing_reason = "subscription_cycle";
    f.currency = "eur";
    f.amount_due = 5900; // above [escalation] write_off_below (50 EUR): never paid → escalated
    f.amount_remaining = paid ? 0 : 5900;
    f.attempt_count = 1;
    f.hosted_invoice_url = "https://invoice.stripe.com/i/acct_bench/" + id("test_", i);
    f.products = {"prod_membership"};
    return f;
}

inline Event invoice_event(std::size_t i, Timestamp at, EventKind kind, const char* type) {
    const bool paid = kind == EventKind::invoice_paid;
    return Event{
        id(paid ? "evt_paid_" : "evt_fail_", i), type, "", at, kind, invoice_facts(i, paid)};
}
inline Event invoice_failed(std::size_t i, Timestamp at) {
    return invoice_event(i, at, EventKind::invoice_payment_failed, "invoice.payment_failed");
}
inline Event invoice_paid(std::size_t i, Timestamp at) {
    return invoice_event(i, at, EventKind::invoice_paid, "invoice.paid");
}

inline PaymentError insufficient_funds() {
    return PaymentError{"card_declined", "insufficient_funds", "try_again_later", "",
                        "Your card has insufficient funds."};
}

inline Event payment_failed(std::size_t i, Timestamp at) {
    PaymentFacts p;
    p.payment_intent_id = id("pi_b", i);
    p.charge_id = id("ch_b", i);
    p.customer_id = id("cus_b", i);
    p.payment_method_id = id("pm_b", i);
    p.method = PaymentMethodKind::card;
    p.card_brand = "visa";
    p.card_network = "visa";
    p.card_exp_month = 12;
    p.card_exp_year = 2030;
    p.amount = 5900;
    p.currency = "eur";
    p.error = insufficient_funds();
    return Event{id("evt_pi_fail_", i),
                 "payment_intent.payment_failed",
                 "",
                 at,
                 EventKind::payment_failed,
                 p};
}

inline PaymentFailure decline(std::size_t i, Timestamp at) {
    return PaymentFailure{insufficient_funds(), PaymentMethodKind::card, id("pm_b", i), "visa", at};
}

// One creator, module-made charges (retry mode "plugin"), default schedule and ladder.
inline config::Config bench_config() {
    config::Config cfg;
    config::CreatorConfig c;
    c.id = creator;
    c.name = "Bench Creator";
    c.retry.mode = config::RetryMode::plugin;
    cfg.creators.push_back(c);
    cfg.host.webhook_url =
        "http://127.0.0.1:9/dunning"; // queued, never sent: counted from the store
    return cfg;
}

// ---- The scripted lifecycles ----------------------------------------------------------------

enum class Fate : std::uint8_t {
    recovers,         // retry number `succeeds_on` (1..6) is paid, the ones before are declined
    paid_after_final, // every retry declined; invoice.paid arrives after the final notice
    never,            // every retry declined; three emails, then escalation
};
struct Plan {
    Fate fate;
    int succeeds_on; // 1..6 for recovers, 0 otherwise
};
// 6/8 recover (after 1..6 retries, evenly), 1/8 pay after the final notice, 1/8 never pay.
inline Plan plan_for(std::size_t i) {
    const int r = static_cast<int>(mix(i ^ 0x5eed) % 8);
    if (r < 6) return {Fate::recovers, r + 1};
    return {r == 6 ? Fate::paid_after_final : Fate::never, 0};
}
inline constexpr auto paid_delay =
    std::chrono::days{25}; // after the failure: final notice is day 20, escalation day 34
inline constexpr std::int64_t start_window_minutes = 30 * 24 * 60;

// First failures spread over 30 days, on whole minutes.
inline Timestamp start_of(std::size_t i, Timestamp base) {
    return base + std::chrono::minutes(static_cast<std::int64_t>(mix(i) % start_window_minutes));
}

// What the answer to charge `attempt` of case i is.
inline ChargeResult charge_answer(std::size_t i, int attempt, Timestamp now) {
    const auto plan = plan_for(i);
    ChargeResult r;
    r.attempt = attempt;
    if (plan.fate == Fate::recovers && attempt >= plan.succeeds_on) {
        r.kind = ChargeResult::Kind::succeeded;
    } else {
        r.kind = ChargeResult::Kind::declined;
        r.failure = decline(i, now);
    }
    return r;
}

// ---- Counting effects and checking cases ----------------------------------------------------

enum Counter : int {
    c_charge,
    c_reminder,
    c_formal_reminder,
    c_final_notice,
    c_payment_received,
    c_other_email,
    c_opened,
    c_resolved,
    c_escalated,
    c_end_of_schedule,
    c_count
};
inline constexpr std::array<const char*, c_count> counter_names = {"charge",
                                                                   "email reminder",
                                                                   "email formal_reminder",
                                                                   "email final_notice",
                                                                   "email payment_received",
                                                                   "email other",
                                                                   "notify case.opened",
                                                                   "notify case.resolved",
                                                                   "notify case.escalated",
                                                                   "end_of_schedule"};

// Effects of one case, as counted from decide() results or from the outbox.
struct Track {
    std::array<std::uint8_t, c_count> n{};
    int max_attempt = 0; // highest ChargeInvoice.attempt seen
};

inline Counter counter_of(const std::string& kind, const std::string& message, int stage) {
    if (kind == "charge") return c_charge;
    if (kind == "end_of_schedule") return c_end_of_schedule;
    if (kind == "notify_host") {
        if (message == "case.opened") return c_opened;
        if (message == "case.resolved") return c_resolved;
        return c_escalated;
    }
    if (stage == 1) return c_reminder;
    if (stage == 2) return c_formal_reminder;
    if (stage == 3) return c_final_notice;
    return message == "payment_received" ? c_payment_received : c_other_email;
}

inline void count(Track& t, const Effect& e) {
    if (const auto* c = std::get_if<ChargeInvoice>(&e)) {
        ++t.n[c_charge];
        t.max_attempt = std::max(t.max_attempt, c->attempt);
    } else if (const auto* m = std::get_if<SendEmail>(&e)) {
        ++t.n[counter_of("email", m->message, m->stage)];
    } else if (const auto* h = std::get_if<NotifyHost>(&e)) {
        ++t.n[counter_of("notify_host", h->type, 0)];
    } else {
        ++t.n[c_end_of_schedule];
    }
}

struct Totals {
    std::array<std::uint64_t, c_count> effects{};
    std::uint64_t inputs = 0;
    std::uint64_t cases_checked = 0;
    std::uint64_t violations = 0;
    std::array<std::uint64_t, 3> fates{};
    std::vector<std::string> examples; // the first few violations, for the log

    void add(const Totals& o) {
        for (int k = 0; k < c_count; ++k)
            effects[k] += o.effects[k];
        for (int k = 0; k < 3; ++k)
            fates[k] += o.fates[k];
        inputs += o.inputs;
        cases_checked += o.cases_checked;
        violations += o.violations;
        for (const auto& e : o.examples)
            if (examples.size() < 10) examples.push_back(e);
    }
};

// The stages a case that is paid at retry k has been sent before then (a stage due with the
// successful retry is cancelled: the charge is answered first).
inline int stages_by(const CasePolicy& p, std::chrono::seconds when) {
    return static_cast<int>(std::count_if(p.stages.begin(), p.stages.end(),
                                          [&](const DunningStage& s) { return s.after < when; }));
}

// A failure email goes out when the mail dispatcher finds its case still open, not paused.
inline bool goes_out(const CaseState& s, const SendEmail& e) {
    return e.message != "payment_received" && s.is_open() && !s.paused;
}

// Every finished case: charged no more than the schedule allows (and exactly as scripted),
// every stage email at most once, ended paid or escalated with no timer left.
inline void check_case(std::size_t i, const CaseState& s, const Track& t, const CasePolicy& p,
                       Totals& totals) {
    const auto plan = plan_for(i);
    const int max_charges = static_cast<int>(p.retry.card_schedule.size());
    const bool paid = s.resolution == Resolution::paid;
    std::vector<std::string> bad;
    auto expect = [&](bool ok, const char* what) {
        if (!ok) bad.push_back(what);
    };
    expect(t.n[c_charge] <= max_charges && t.max_attempt <= max_charges,
           "more charges than the schedule allows");
    expect(t.n[c_reminder] <= 1 && t.n[c_formal_reminder] <= 1 && t.n[c_final_notice] <= 1,
           "a stage email went out twice");
    expect(t.n[c_opened] == 1, "case.opened not exactly once");
    expect(t.n[c_other_email] == 0, "unexpected member email (soft declines only)");
    expect(!s.next_wakeup, "finished case still has a timer");
    expect(paid != s.escalated_at.has_value(), "case neither paid nor escalated (or both)");
    switch (plan.fate) {
    case Fate::recovers: {
        const int stages = stages_by(p, p.retry.card_schedule[plan.succeeds_on - 1]);
        expect(paid && t.n[c_charge] == plan.succeeds_on,
               "recovering case: wrong charges or not paid");
        expect(s.stage_sent == stages, "recovering case: wrong number of stages sent");
        expect(t.n[c_payment_received] == (stages > 0 ? 1 : 0), "payment_received email wrong");
        expect(t.n[c_resolved] == 1 && t.n[c_escalated] == 0,
               "recovering case: wrong host notices");
        break;
    }
    case Fate::paid_after_final:
        expect(paid && t.n[c_charge] == max_charges && s.stage_sent == 3,
               "paid-after-final case wrong");
        expect(t.n[c_payment_received] == 1 && t.n[c_resolved] == 1 && t.n[c_escalated] == 0,
               "paid-after-final case: wrong notices");
        break;
    case Fate::never:
        expect(s.escalated_at && s.resolution == Resolution::none && t.n[c_charge] == max_charges &&
                   s.stage_sent == 3 && t.n[c_final_notice] == 1,
               "unpaid case not escalated after the full schedule");
        expect(t.n[c_escalated] == 1 && t.n[c_resolved] == 0, "unpaid case: wrong host notices");
        break;
    }
    ++totals.cases_checked;
    ++totals.fates[static_cast<int>(plan.fate)];
    for (int k = 0; k < c_count; ++k)
        totals.effects[k] += t.n[k];
    if (bad.empty()) return;
    ++totals.violations;
    if (totals.examples.size() < 10)
        totals.examples.push_back("case " + std::to_string(i) + ": " + bad.front());
}

inline void print_totals(const Totals& t) {
    std::printf(
        "  fates: %llu recover after 1..6 retries, %llu paid after final notice, %llu never pay\n",
        static_cast<unsigned long long>(t.fates[0]), static_cast<unsigned long long>(t.fates[1]),
        static_cast<unsigned long long>(t.fates[2]));
    std::printf("  effects by kind:\n");
    for (int k = 0; k < c_count; ++k)
        std::printf("    %-24s %10llu\n", counter_names[k],
                    static_cast<unsigned long long>(t.effects[k]));
    std::printf("  invariants: %llu cases checked, %llu violations\n",
                static_cast<unsigned long long>(t.cases_checked),
                static_cast<unsigned long long>(t.violations));
    for (const auto& e : t.examples)
        std::printf("    %s\n", e.c_str());
}

} // namespace schedbench
