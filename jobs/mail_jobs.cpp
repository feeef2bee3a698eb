#include "jobs/mail_jobs.hpp"

#include "config/base_rates.hpp"
#include "core/money.hpp"
#include "core/open_items.hpp"
#include "core/promise.hpp"
#include "jobs/claimed_jobs.hpp"
#include "jobs/promise_link.hpp"
#include "telemetry/log.hpp"

#include <cmath>
#include <sstream>

namespace dunning::jobs {

using store::card_expiry_text;
using store::CardReminderJob;
using store::CaseRecord;
using store::EmailJob;
using store::Job;
using store::load_case;
using telemetry::log_error;
using telemetry::log_warn;

namespace {

// A mail server down for a week: tell the operator.
const store::BackoffPolicy mail_backoff{.give_up_after = std::chrono::days{7}};
// A 5xx is meant as final, but servers also use it for passing policy refusals; try it twice
// more before calling the email failed.
const store::BackoffPolicy refused_mail_backoff{.max_attempts = 3,
                                                .give_up_after = std::chrono::days{7}};

// A case can be opened by charge.failed or payment_intent.payment_failed before the invoice
// event that names the member's address has been processed; the email waits for it as long as
// Stripe keeps delivering a webhook (three days), looking again every few minutes.
const std::string no_address = "no email address for the member";
// A disabled creator's emails wait (store/job_queue postpone) until it is enabled again.
const std::string creator_disabled = "creator disabled";
// … and so do those of a creator whose Stripe account is disconnected, until it connects again.
const std::string creator_disconnected = "creator's Stripe account disconnected";

// Why none of the creator's emails may go out now; empty when they may.
const std::string& creator_hold(const config::CreatorConfig& c) {
    static const std::string none;
    return c.disabled ? creator_disabled : c.stripe_disconnected ? creator_disconnected : none;
}

bool held_by_creator(const std::string& skip) {
    return skip == creator_disabled || skip == creator_disconnected;
}
constexpr std::chrono::hours disabled_recheck{1};
// A stage email due with a charge of its case that another instance is answering waits for the
// answer, which may make it needless (a retry that succeeds cancels the reminder queued with it).
const std::string charge_under_way = "a charge of the case has no answer yet";
constexpr std::chrono::seconds charge_recheck{1};
constexpr std::chrono::days address_wait{3};
constexpr std::chrono::minutes address_recheck{5};

Date date_of(Timestamp t) {
    return Date(std::chrono::floor<std::chrono::days>(t));
}

bool german(const config::CreatorConfig& c) {
    return c.locale == "de";
}

std::string percent(double p, bool de) {
    std::ostringstream o;
    o.precision(2);
    o << std::fixed << p;
    auto s = o.str();
    if (de) std::replace(s.begin(), s.end(), '.', ',');
    return s + " %";
}

struct Totals {
    std::vector<mailer::FeeLine> lines;
    std::int64_t extra_minor = 0;
};

void add_stage_fees(Totals& t, const config::CreatorConfig& c, const CaseState& s, int stage) {
    const auto& stages = c.dunning.stages;
    for (int i = 0; i < stage && i < static_cast<int>(stages.size()); ++i) {
        if (stages[i].fee_minor <= 0) continue;
        t.lines.push_back({german(c) ? "Mahngebühr (Stufe " + std::to_string(i + 1) + ")"
                                     : "Dunning fee (stage " + std::to_string(i + 1) + ")",
                           format_money(stages[i].fee_minor, s.invoice.currency, c.locale)});
        t.extra_minor += stages[i].fee_minor;
    }
}

// Default (Verzug) starts the day after the first reminder went out; interest runs to today.
void add_interest(Totals& t, const config::CreatorConfig& c, const CaseState& s, Timestamp now,
                  const std::vector<BaseRate>& rates) {
    if (!c.dunning.interest || !s.opened_at || c.dunning.stages.empty()) return;
    const auto from = *interest_from(s, c.dunning.stages); // the open-items list counts the same
    const auto to = date_of(now);
    if (std::chrono::sys_days(to) < std::chrono::sys_days(from)) return;
    const auto b =
        default_interest(s.invoice.amount_due, from, to, rates, c.dunning.business_debtor);
    const bool de = german(c);
    for (const auto& p : b.periods) {
        t.lines.push_back({(de ? "Verzugszinsen " : "Default interest ") +
                               percent(p.rate_percent, de) + (de ? " p. a. vom " : " p.a. from ") +
                               format_date(p.from, c.locale) + (de ? " bis " : " to ") +
                               format_date(p.to, c.locale),
                           format_money(p.interest_minor, s.invoice.currency, c.locale)});
    }
    t.extra_minor += b.total_minor;
    if (c.dunning.business_debtor && s.invoice.currency == "eur") {
        t.lines.push_back(
            {de ? "Verzugspauschale (§ 288 Abs. 5 BGB)" : "Late-payment flat fee (§ 288 (5) BGB)",
             format_money(b2b_flat_fee_eur_minor, "eur", c.locale)});
        t.extra_minor += b2b_flat_fee_eur_minor;
    }
}

std::string mailbox(const std::string& name, const std::string& address) {
    return name.empty() ? address : name + " <" + address + ">";
}

std::string domain_of(const config::Config& c) {
    if (!c.mail.message_id_domain.empty()) return c.mail.message_id_domain;
    const auto addr = mailer::address_of(c.mail.from);
    const auto at = addr.find('@');
    return at == std::string::npos ? "dunning.invalid" : addr.substr(at + 1);
}

// An email from the creator, its Message-ID stable for `key` (its job's idempotency key).
mailer::Email compose(const config::Config& config, const config::CreatorConfig& creator,
                      std::string to, mailer::RenderedMessage rendered, const std::string& key,
                      Timestamp now) {
    mailer::Email e;
    e.from = config.mail.from;
    e.to = std::move(to);
    e.reply_to = creator.reply_to;
    e.subject = std::move(rendered.subject);
    e.text = std::move(rendered.text);
    e.html = std::move(rendered.html);
    e.message_id = message_id_for(config, key);
    e.date = now;
    return e;
}

// The bookkeeping after a send, the same for case emails and card reminders: done, retried
// after the backoff, or failed for good. In the caller's transaction.
// Records what the mail server answered; true when the email went out and this run recorded it.
bool record_send(store::Connection& db, const Job& job, const mailer::SendResult& sent,
                 const std::string& log, const std::string& what, Timestamp now) {
    // A job another instance took over meanwhile is theirs to record (and to report sent).
    if (sent.kind == mailer::SendResult::Kind::sent)
        return store::finish_job(db, job, "done", log, now);
    const auto& policy =
        sent.kind == mailer::SendResult::Kind::permanent ? refused_mail_backoff : mail_backoff;
    const auto retry = store::fail_job(db, job, policy, log, now);
    if (retry == store::Retry::gave_up)
        log_error(what + " failed: " + log);
    else if (retry == store::Retry::scheduled)
        log_warn(what + " delayed: " + log);
    return false;
}

// Why a queued email must not go out now; empty when it may.
std::string hold_reason(const CaseState& s, const std::string& message) {
    if (message == "payment_received")
        return s.resolution == Resolution::paid ? "" : "case is not paid";
    if (s.resolution != Resolution::none) return std::string("case is ") + to_string(s.resolution);
    if (s.halted()) return "paused"; // paused, promised or objected: held until it resumes
    return "";
}

// The case counts an email once it went out: its stage, and the confirmation a payment earns.
void report_sent(store::Connection& db, const Engine& engine, const Job& job) {
    auto fresh =
        job.case_id ? load_case(db, *job.case_id) : std::nullopt; // the worker may have moved it on
    const auto& email = std::get<EmailJob>(job.payload);
    if (fresh) engine.run_case(db, *fresh, EmailSent{email.message, email.stage});
}

} // namespace

std::unique_ptr<mailer::Transport> make_transport(const config::Config& c) {
    if (c.mail.transport != "smtp") return mailer::make_outbox_transport(c.mail.outbox_dir);
    mailer::SmtpOptions o;
    o.url = c.mail.smtp_url;
    o.username = c.mail.smtp_username;
    o.password = c.mail.smtp_password;
    o.allow_plaintext = c.mail.smtp_allow_plaintext;
    o.ca_file = c.mail.smtp_ca_file;
    return mailer::make_smtp_transport(std::move(o));
}

BaseRateTables::BaseRateTables(const config::Config& config) {
    auto tables = read(config);
    if (!tables) throw std::runtime_error(tables.error());
    by_file_ = std::move(tables).value();
}

Result<BaseRateTables::ByFile, std::string> BaseRateTables::read(const config::Config& config) {
    ByFile out;
    for (const auto& c : config.creators) { // creators often share one file
        if (!c.dunning.interest || out.contains(c.dunning.base_rates_file)) continue;
        auto rates = config::load_base_rates(c.dunning.base_rates_file);
        if (!rates) return err(rates.error());
        out.emplace(c.dunning.base_rates_file, std::move(rates).value());
    }
    return out;
}

void BaseRateTables::replace(ByFile tables) {
    std::lock_guard lock(mutex_);
    by_file_ = std::move(tables);
}

std::vector<BaseRate> BaseRateTables::of(const config::CreatorConfig& c) const {
    if (!c.dunning.interest) return {};
    std::lock_guard lock(mutex_);
    const auto& file = c.dunning.base_rates_file;
    if (const auto found = by_file_.find(file); found != by_file_.end()) return found->second;
    auto rates = config::load_base_rates(file);
    if (!rates) {
        log_error("creator " + c.id + ": no interest: " + rates.error());
        return {};
    }
    return by_file_.emplace(file, std::move(rates).value()).first->second;
}

mailer::MessageData message_data(const config::Config& config, const config::CreatorConfig& c,
                                 const CaseState& s, int stage, Timestamp now,
                                 const BaseRateTables& rates, std::int64_t case_id,
                                 const AccessClaim* weighed) {
    mailer::MessageData d;
    d.creator_name = c.name;
    d.creator_email = c.reply_to.empty() ? config.mail.from : c.reply_to;
    d.member_name = s.invoice.customer_name;
    d.invoice_number = s.invoice.number.empty() ? s.invoice.invoice_id : s.invoice.number;
    if (s.opened_at) d.invoice_date = format_date(date_of(*s.opened_at), c.locale);
    d.amount_due = format_money(s.invoice.amount_due, s.invoice.currency, c.locale);
    d.pay_url = s.invoice.hosted_invoice_url;
    d.update_payment_url = c.update_payment_url;
    if (stage > 0 && case_id > 0 && promise_refusal(s) == PromiseRefusal::none)
        d.promise_url =
            promise_url(config.server.public_url, config.server.link_secret, c.id, case_id, now);
    // The deadline the case engine escalates and the access rules lock at, counted from when the
    // final notice goes out (it is rendered as it is sent), so the letter and the lock name the
    // same day.
    d.deadline = format_date(
        date_of(s.final_notice_at.value_or(now) + c.dunning.final_notice_deadline), c.locale);
    // The notice announces the lock exactly when the access rules will carry it out.
    d.access_will_be_locked =
        deadline_locks(weighed ? *weighed : claim_of(0, s, {}), c.access.policy);
    // … and a handover exactly when the creator's escalation rules will mark the claim for one.
    d.handover_announced =
        handover_will_follow(s.open_amount_minor(), s.invoice.currency, c.escalation.policy);
    Totals t;
    add_stage_fees(t, c, s, stage);
    add_interest(t, c, s, now, rates.of(c));
    d.fees = std::move(t.lines);
    d.total_due = format_money(s.invoice.amount_due + t.extra_minor, s.invoice.currency, c.locale);
    return d;
}

namespace {

// An instalment as the access rules weigh it: together with its plan's earlier unpaid
// instalments. Nothing for an invoice that is not part of a plan (the case alone is weighed).
std::optional<AccessClaim> as_weighed(store::Connection& db, const CaseRecord& c) {
    if (c.state.invoice.plan_instalments <= 0) return std::nullopt;
    std::vector<AccessClaim> claims;
    for (const auto& other :
         store::cases_of_customer(db, c.state.creator_id, c.state.invoice.customer_id))
        claims.push_back(claim_of(other.id, other.state, {}));
    see_plans_as_one(claims);
    for (const auto& claim : claims)
        if (claim.case_id == c.id) return claim;
    return std::nullopt;
}

} // namespace

MailDispatcher::MailDispatcher(const config::Config& config,
                               const config::CreatorRegistry& creators,
                               std::unique_ptr<mailer::Transport> transport)
    : config_(config), creators_(creators), transport_(std::move(transport)), base_rates_(config) {}

MailDispatcher::Prepared MailDispatcher::prepare(const CaseRecord& c, const EmailJob& job,
                                                 const std::string& key, Timestamp now,
                                                 const AccessClaim* weighed) const {
    Prepared p;
    const auto creator = creators_.find(c.state.creator_id);
    if (!creator) return {{}, "creator no longer configured"};
    if (const auto& hold = creator_hold(*creator); !hold.empty()) return {{}, hold};
    if (p.skip_reason = hold_reason(c.state, job.message); !p.skip_reason.empty()) return p;
    if (c.state.invoice.customer_email.empty()) return {{}, no_address};
    const auto data =
        message_data(config_, *creator, c.state, job.stage, now, base_rates_, c.id, weighed);
    auto rendered =
        mailer::render_message(job.message, creator->locale, data, creator->dunning.template_dir);
    if (!rendered) return {{}, "template: " + rendered.error()};
    p.email = compose(config_, *creator,
                      mailbox(c.state.invoice.customer_name, c.state.invoice.customer_email),
                      std::move(rendered).value(), key, now);
    return p;
}

void MailDispatcher::send_case_email(store::Connection& db, const Engine& engine, const Job& job,
                                     Timestamp now, SettleBatch& batch) {
    batch.before(job.case_id);
    const auto& email = std::get<EmailJob>(job.payload);
    // One instance answers a round's charges before it looks at emails; with several, another
    // may be answering this case's charge right now. Asked before the case is read: a charge
    // answered in between is then read with its outcome.
    const bool waits_for_charge = job.case_id && email.message != "payment_received" &&
                                  store::charge_under_way(db, *job.case_id, now);
    const auto c = job.case_id && !waits_for_charge ? load_case(db, *job.case_id) : std::nullopt;
    const auto weighed = c ? as_weighed(db, *c) : std::nullopt;
    auto p = waits_for_charge ? Prepared{{}, charge_under_way}
             : c ? prepare(*c, email, job.idempotency_key, now, weighed ? &*weighed : nullptr)
                 : Prepared{{}, "case not found"};
    std::optional<mailer::SendResult> sent;
    if (p.skip_reason.empty())
        sent = transport_->send(p.email, mailer::build_mime(p.email)); // outside any transaction
    const auto what = "email for case " + std::to_string(job.case_id.value_or(0));
    std::string log;
    if (sent)
        log = "to " + mailer::address_of(p.email.to) + " " + p.email.message_id + ": " +
              sent->server_answer;
    batch.add(
        job, mail_backoff, now, what,
        [&engine, job, now, sent, log, what, skip = p.skip_reason](store::Connection& db) {
            if (skip == "paused")
                store::postpone_job(db, job, now + std::chrono::hours{1}, "held: case paused");
            else if (skip == charge_under_way)
                store::postpone_job(db, job, now + charge_recheck, "held: " + skip);
            else if (held_by_creator(skip))
                store::postpone_job(db, job, now + disabled_recheck, "held: " + skip);
            else if (skip == no_address && now - job.created < address_wait)
                store::postpone_job(db, job, now + address_recheck, "held: " + no_address + " yet");
            else if (!sent)
                store::finish_job(db, job, "cancelled", skip, now);
            else if (record_send(db, job, *sent, log, what, now))
                report_sent(db, engine, job);
        });
    // An email the server took is on record before the next one goes out: a crash can then
    // repeat at most the one between the server's answer and this commit, not a whole batch.
    if (sent) batch.flush();
}

std::size_t MailDispatcher::dispatch_due(store::Connection& db, const Engine& engine,
                                         const store::JobQueue& queue, const YieldCheck& yield) {
    const auto now = engine.clock().now();
    SettleBatch batch(db);
    return carry_out(
        db, queue, queue.claim(db, store::JobKind::email, now, 100), mail_backoff, now, &batch,
        [&](const Job& job) { send_case_email(db, engine, job, now, batch); }, yield);
}

MailDispatcher::Prepared MailDispatcher::prepare_card_reminder(const CardReminderJob& r,
                                                               const std::string& key,
                                                               Timestamp now) const {
    const auto creator = creators_.find(r.creator_id);
    if (!creator) return {{}, "creator no longer configured"};
    if (const auto& hold = creator_hold(*creator); !hold.empty()) return {{}, hold};
    mailer::MessageData d;
    d.creator_name = creator->name;
    d.creator_email = creator->reply_to.empty() ? config_.mail.from : creator->reply_to;
    d.member_name = r.name;
    d.update_payment_url = creator->update_payment_url;
    d.card_expiry = card_expiry_text(r.exp_month, r.exp_year);
    auto rendered =
        mailer::render_message("card_expiring", creator->locale, d, creator->dunning.template_dir);
    if (!rendered) return {{}, "template: " + rendered.error()};
    Prepared p;
    p.email =
        compose(config_, *creator, mailbox(r.name, r.email), std::move(rendered).value(), key, now);
    return p;
}

void MailDispatcher::send_card_reminder(store::Connection& db, const Job& job, Timestamp now) {
    const auto& r = std::get<CardReminderJob>(job.payload);
    auto p = prepare_card_reminder(r, job.idempotency_key, now);
    std::optional<mailer::SendResult> sent;
    if (p.skip_reason.empty())
        sent = transport_->send(p.email, mailer::build_mime(p.email)); // outside any transaction
    store::Transaction tx(db);
    if (held_by_creator(p.skip_reason))
        store::postpone_job(db, job, now + disabled_recheck, "held: " + p.skip_reason);
    else if (!sent)
        store::finish_job(db, job, "cancelled", p.skip_reason, now);
    else
        record_send(db, job, *sent,
                    "to " + r.email + " " + p.email.message_id + ": " + sent->server_answer,
                    "card reminder " + std::to_string(job.id), now);
    tx.commit();
}

std::size_t MailDispatcher::dispatch_card_reminders(store::Connection& db, const Engine& engine,
                                                    const store::JobQueue& queue) {
    const auto now = engine.clock().now();
    return carry_out(db, queue, queue.claim(db, store::JobKind::card_reminder, now, 100),
                     mail_backoff, now, nullptr,
                     [&](const Job& job) { send_card_reminder(db, job, now); });
}

std::string message_id_for(const config::Config& config, const std::string& key) {
    return "<" + key + "@" + domain_of(config) + ">";
}

} // namespace dunning::jobs
