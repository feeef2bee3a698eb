#pragma once
// One run of the crash soak's script against the real binary, with `kills` kill -9 at seeded
// moments (0: the crash-free reference), and what it left behind: the fake Stripe's request log,
// the SMTP mailbox, the platform's notifications and the API's answers.
#include "plugin/soak_scenario.hpp"
#include "plugin/soak_service.hpp"

#include <algorithm>
#include <functional>
#include <iostream>
#include <numeric>
#include <random>
#include <regex>
#include <set>

namespace dunning::testing {

struct SoakOutcome {
    int kills = 0, kills_mid_step = 0;
    std::size_t stripe_events = 0, load_events = 0, pending_events = 0, poison_events = 0;
    std::vector<std::string> lost_events;                   // acknowledged, not in the inbox
    std::map<std::string, int> executions;                  // invoice → pay requests executed
    std::map<std::string, std::set<std::string>> keys;      // invoice → Idempotency-Keys executed
    std::map<std::string, std::string> invoice_status;      // as the fake Stripe has it
    std::map<std::string, std::vector<std::string>> emails; // recipient → Message-IDs, first seen
    std::vector<std::pair<std::string, std::string>> mail_log; // (recipient, Message-ID), in order
    std::vector<std::size_t> mail_after_step;                  // mailbox size after each step
    std::vector<std::int64_t> step_micros;                     // how long each step took
    std::vector<std::string> duplicate_emails;                 // Message-IDs received twice
    std::vector<std::size_t> repeats;         // mailbox index of each email received again
    std::vector<std::size_t> mail_at_restart; // mailbox size at each restart after a kill
    std::map<std::string, std::vector<std::string>> notifications; // member → types, by id
    std::vector<std::string> out_of_order;                         // members
    std::size_t notifications_received = 0;
    std::map<std::string, std::string> access; // member → level of its course
    std::size_t emails_received = 0, charges = 0;
};

class SoakRun {
  public:
    SoakRun()
        : smtp_(dir_.path() / "mailbox"),
          stripe_(soak_platform_key,
                  fakes::WebhookTarget{"", platform_secret, [this] { return from_unix(clock_); }}),
          service_(dir_.path(), stripe_.base_url(), smtp_.port(), host_.url()) {
        add_soak_invoices(stripe_);
    }
    ~SoakRun() { stop_load(); }

    // Runs the whole script; `kills` distinct steps (chosen by `seed`) get a kill -9 at a
    // random moment within them. With `busy` (the step_micros of a crash-free run), steps are
    // chosen in proportion to the work they did then, and the kill falls within that time, so
    // kills land while events, charges, emails and notifications are under way. `extra` clock
    // moments (minutes from the start) are stopped at too, and `at` runs at every moment before the
    // clock moves on (outages switch there). Progress goes to `progress` when given.
    SoakOutcome run(int kills, unsigned seed, const std::vector<std::int64_t>& busy = {},
                    std::ostream* progress = nullptr, std::vector<std::int64_t> extra = {},
                    const std::function<void(std::int64_t minute)>& at = {}) {
        auto moments = soak_moments();
        moments.insert(moments.end(), extra.begin(), extra.end());
        std::sort(moments.begin(), moments.end());
        moments.erase(std::unique(moments.begin(), moments.end()), moments.end());
        const int steps = static_cast<int>(moments.size()) - 1;
        std::mt19937 rng(seed);
        std::vector<std::int64_t> weight = busy;
        weight.resize(static_cast<std::size_t>(steps), busy.empty() ? 20'000 : 0);
        std::set<int> kill_at;
        while (static_cast<int>(kill_at.size()) < std::min(kills, steps)) {
            std::vector<double> w(weight.begin(), weight.end());
            for (int k : kill_at)
                w[static_cast<std::size_t>(k)] = 0;
            if (std::all_of(w.begin(), w.end(), [](double x) { return x <= 0; }))
                std::fill(w.begin(), w.end(), 1.0);
            kill_at.insert(std::discrete_distribution<int>(w.begin(), w.end())(rng));
        }
        SoakOutcome out;
        if (!restart(start_time)) return fail(out, "the service did not start");
        start_load(seed);
        for (int i = 0; i < steps; ++i) {
            soak_actions(stripe_, moments[i]);
            if (at) at(moments[i]);
            const Timestamp target = start_time + std::chrono::minutes(moments[i + 1]);
            std::thread killer;
            if (kill_at.contains(i)) {
                const auto span = std::max<std::int64_t>(weight[static_cast<std::size_t>(i)], 1);
                const auto delay = std::chrono::microseconds(rng() % span);
                killer = std::thread([pid = service_.pid(), delay] {
                    std::this_thread::sleep_for(delay);
                    ::kill(pid, SIGKILL);
                });
            }
            const auto began = std::chrono::steady_clock::now();
            const bool whole = step(target);
            out.step_micros.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::steady_clock::now() - began)
                                          .count());
            if (killer.joinable()) {
                killer.join();
                ++out.kills;
                out.kills_mid_step += whole ? 0 : 1;
                service_.reap_killed();
                if (!restart(target)) return fail(out, "no restart after a kill");
                out.mail_at_restart.push_back(smtp_.messages().size());
                if (progress)
                    *progress << "crash-soak: kill " << out.kills << "/" << kill_at.size()
                              << " on day " << moments[i] / (24 * 60) << ", hour "
                              << moments[i] % (24 * 60) / 60 << ", "
                              << (whole ? "after the step's work" : "mid-step") << "; restarted\n"
                              << std::flush;
            }
            // A step cut short by a kill, or too slow for a client's timeout (ThreadSanitizer),
            // is done again: what it did stays done, the clock does not move twice.
            bool done = whole;
            for (int retry = 0; !done && retry < 5; ++retry)
                done = step(target);
            if (!done) return fail(out, "a step did not complete in 5 tries");
            out.mail_after_step.push_back(smtp_.messages().size());
        }
        for (int i = 0; i < 8 && !stripe_.queued_types().empty(); ++i)
            step(from_unix(clock_));
        stop_load();
        // The load's last webhooks may have been acknowledged after the last step's drain; a
        // stop finishes only the round in hand and leaves stored events for the next start.
        if (!advance(0)) return fail(out, "the service did not take the last drain");
        observe(out);
        return out;
    }
    SmtpServer& smtp() { return smtp_; }
    HostReceiver& host() { return host_; }
    fakes::FakeStripe& stripe() { return stripe_; }
    static inline const Timestamp start_time = from_unix(1'800'000'000); // Fri 2027-01-15 08:00
    std::string log() const { return service_.log(); }
    std::string error;

  private:
    bool restart(Timestamp at) {
        clock_ = to_unix(at);
        if (!service_.start(at)) return false;
        stripe_.set_webhook_url(service_.url("/webhooks/stripe"));
        return true;
    }
    // The webhooks Stripe sent by then, the clock moved to `target` (everything due runs), the
    // SEPA debits due settled and their webhooks delivered. False when the service stopped
    // answering (it was killed).
    bool step(Timestamp target) {
        stripe_.deliver();
        const auto by = std::max<std::int64_t>(0, to_unix(target) - clock_);
        clock_ = to_unix(target);
        if (!advance(by)) return false;
        stripe_.settle();
        stripe_.deliver();
        return advance(0) && stripe_.queued_types().empty();
    }
    // True when the service's clock stands at the script's and everything due then has run. A
    // request whose answer timed out may still move the clock later; the step is done again.
    bool advance(std::int64_t seconds) {
        httplib::Client cli("127.0.0.1", service_.port());
        cli.set_read_timeout(120, 0);
        auto r = cli.Post("/v1/test-clock/advance", nlohmann::json{{"seconds", seconds}}.dump(),
                          "application/json");
        if (!r || r->status != 200) return false;
        const auto now = nlohmann::json::parse(r->body, nullptr, false);
        return now.is_object() && now.value("now", std::int64_t{0}) == clock_.load();
    }
    SoakOutcome& fail(SoakOutcome& out, const std::string& why) {
        error = why;
        stop_load();
        return out;
    }

    // Steady signed webhooks of types the module stores and ignores, from another client.
    void start_load(unsigned seed) {
        load_ = std::thread([this, seed] {
            std::mt19937 rng(seed);
            const char* types[] = {"customer.subscription.updated", "invoice.finalized",
                                   "checkout.session.completed"};
            while (!stop_load_) {
                const int port = service_.port();
                if (port == 0) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                    continue;
                }
                httplib::Client cli("127.0.0.1", port);
                auto e = fixture(types[rng() % 3]);
                e["account"] = "acct_alpha";
                auto r = post_signed(cli, "/webhooks/stripe", e.dump(), platform_secret);
                if (r && r->status == 200) {
                    std::lock_guard lock(load_mutex_);
                    load_acked_.push_back(e["id"].get<std::string>());
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(3));
            }
        });
    }
    void stop_load() {
        stop_load_ = true;
        if (load_.joinable()) load_.join();
    }

    void observe(SoakOutcome& out);

    TempDir dir_;
    HostReceiver host_;
    SmtpServer smtp_;
    std::atomic<std::int64_t> clock_{0};
    fakes::FakeStripe stripe_;
    SoakService service_;
    std::thread load_;
    std::atomic<bool> stop_load_{false};
    std::mutex load_mutex_;
    std::vector<std::string> load_acked_;
};

} // namespace dunning::testing

#include "plugin/soak_observe.hpp"
