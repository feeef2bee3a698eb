#pragma once
// Sends the dunning emails the engine queued. At send time the case is looked at again:
// nothing goes out for a case that is paid, voided or written off, and nothing while it is
// paused. Each email has a Message-ID stable per case and message, so a crash between sending
// and bookkeeping repeats the send with the same id (the .eml outbox writes it once; an SMTP
// server may deliver it twice, which the member's mail client folds by Message-ID).
#include "config/config.hpp"
#include "config/creator_registry.hpp"
#include "core/access.hpp"
#include "core/interest.hpp"
#include "core/result.hpp"
#include "jobs/claimed_jobs.hpp"
#include "jobs/engine.hpp"
#include "jobs/settle_batch.hpp"
#include "mailer/render.hpp"
#include "mailer/transport.hpp"
#include "store/cards.hpp"
#include "store/database.hpp"
#include "store/job_queue.hpp"

#include <map>
#include <memory>
#include <mutex>

namespace dunning::jobs {

// The base-rate tables of the creators with interest on, by file, each read once: each
// creator's [creators.dunning] base_rates_file is its own. The service and `dunning preview`
// both look rates up here. Thread-safe: a creator added while the service runs has its table
// read at its first use.
class BaseRateTables {
  public:
    using ByFile = std::map<std::string, std::vector<BaseRate>>;
    // Throws std::runtime_error when the table of a creator of the file with interest on is
    // unreadable.
    explicit BaseRateTables(const config::Config& config);
    // The creator's table; empty when its interest is off (or its table became unreadable,
    // which is logged).
    std::vector<BaseRate> of(const config::CreatorConfig& creator) const;

    // The tables of the file's creators with interest on, each file read now; the first problem
    // when one cannot be read.
    static Result<ByFile, std::string> read(const config::Config& config);
    // Replaces every table held (SIGHUP): those of `tables`, any other read again at its next use.
    void replace(ByFile tables);

  private:
    mutable std::mutex mutex_;
    mutable ByFile by_file_;
};

// The Message-ID of the email whose job has idempotency key `key`: "<key@domain>".
std::string message_id_for(const config::Config& config, const std::string& key);

class MailDispatcher {
  public:
    const BaseRateTables& base_rates() const { return base_rates_; }
    BaseRateTables& base_rates() { return base_rates_; }
    // Throws std::runtime_error when the base-rate table of a creator with interest on is
    // unreadable.
    MailDispatcher(const config::Config& config, const config::CreatorRegistry& creators,
                   std::unique_ptr<mailer::Transport> transport);

    // Claims and sends due email jobs; returns how many it finished or rescheduled. Stops early
    // (giving back the emails not yet sent) when `yield` says webhooks are waiting.
    std::size_t dispatch_due(store::Connection& db, const Engine& engine,
                             const store::JobQueue& queue, const YieldCheck& yield = {});

    // Claims and sends due card reminders (store/cards.hpp); returns how many it handled.
    std::size_t dispatch_card_reminders(store::Connection& db, const Engine& engine,
                                        const store::JobQueue& queue);

    // The email a job would send, its Message-ID made of `key`; a skip reason when the case has
    // nothing to send now.
    struct Prepared {
        mailer::Email email;
        std::string skip_reason; // non-empty: do not send, and why
    };
    Prepared prepare(const store::CaseRecord& c, const store::EmailJob& job, const std::string& key,
                     Timestamp now, const AccessClaim* weighed = nullptr) const;

  private:
    void send_case_email(store::Connection& db, const Engine& engine, const store::Job& job,
                         Timestamp now, SettleBatch& batch);
    Prepared prepare_card_reminder(const store::CardReminderJob& r, const std::string& key,
                                   Timestamp now) const;
    void send_card_reminder(store::Connection& db, const store::Job& job, Timestamp now);

    const config::Config& config_;
    const config::CreatorRegistry& creators_;
    std::unique_ptr<mailer::Transport> transport_;
    BaseRateTables base_rates_;
};

// Builds the transport [mail] asks for.
std::unique_ptr<mailer::Transport> make_transport(const config::Config& config);

// The data a message shows, formatted for the creator's locale, interest at the creator's own
// base rates (also used by `dunning preview`). Dunning stages of a stored case (case_id > 0)
// carry the promise-to-pay link when [server] public_url and link_secret are set. `weighed`: the
// claim as the access rules weigh it (an instalment together with its plan), when it is not the
// case alone.
mailer::MessageData message_data(const config::Config& config, const config::CreatorConfig& creator,
                                 const CaseState& s, int stage, Timestamp now,
                                 const BaseRateTables& base_rates, std::int64_t case_id = 0,
                                 const AccessClaim* weighed = nullptr);

} // namespace dunning::jobs
