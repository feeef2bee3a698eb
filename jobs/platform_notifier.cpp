#include "jobs/platform_notifier.hpp"

#include "telemetry/log.hpp"
#include "webhook/signature.hpp"

namespace dunning::jobs {

using store::connect_store;
using store::PlatformNotificationJob;
using store::StoreOptions;
using telemetry::log_warn;

namespace {

// Retried forever: the platform may be down for days, and it dedupes on the id.
const store::BackoffPolicy platform_backoff{};

// "https://host:port/path?query" → origin and path (validated by the config: http(s) only).
std::pair<std::string, std::string> split_url(const std::string& url) {
    const auto scheme_end = url.find("://");
    const auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    if (path_start == std::string::npos) return {url, "/"};
    return {url.substr(0, path_start), url.substr(path_start)};
}

// The notifier writes only bookkeeping (claims, delivery or retry marks, which also make the
// member's next notification due); each notification was made durable by the commit that queued
// it. Its connection runs at synchronous = normal: a process crash loses no mark, a power cut may
// send the last ones again (README, "Notifications to the platform"), and at full each mark's
// fsync held SQLite's write lock and set the pace of every restore under load
// (bench/access/README.md). PostgreSQL ignores the setting.
StoreOptions bookkeeping(StoreOptions store) {
    store.synchronous = "normal";
    return store;
}

} // namespace

PlatformNotifier::PlatformNotifier(const config::HostConfig& host, const StoreOptions& store,
                                   const Clock& clock)
    : url_(host.webhook_url), secret_(host.webhook_secret), clock_(clock) {
    if (url_.empty()) return;
    db_ = connect_store(bookkeeping(store));
    std::tie(origin_, path_) = split_url(url_);
    client_ = std::make_unique<httplib::Client>(origin_);
    client_->set_connection_timeout(5, 0);
    client_->set_read_timeout(10, 0);
    client_->set_write_timeout(10, 0);
    client_->set_keep_alive(true);
    client_->set_tcp_nodelay(true); // headers and body go out in two writes: no Nagle wait between
    client_->set_follow_location(false);
    if (url_.starts_with("https://")) client_->enable_server_certificate_verification(true);
}

PlatformNotifier::~PlatformNotifier() {
    loop_.stop();
}

void PlatformNotifier::start() {
    if (enabled()) loop_.start("host notifications", [this] { drain(); });
}

void PlatformNotifier::wake() {
    if (enabled()) loop_.wake();
}

std::size_t PlatformNotifier::drain() {
    if (!enabled()) return 0;
    std::lock_guard lock(drain_mutex_);
    std::size_t total = 0;
    for (int round = 0; round < 1000 && !loop_.stopping(); ++round) {
        const auto n = dispatch_due();
        if (n == 0) break;
        total += n;
    }
    return total;
}

bool PlatformNotifier::post(const std::string& body, Timestamp now, std::string& result) {
    httplib::Headers headers{{"Dunning-Signature", webhook::sign_payload(body, secret_, now)},
                             {"User-Agent", std::string("dunning/") + DUNNING_VERSION}};
    const auto res = client_->Post(path_, headers, body, "application/json");
    if (!res) {
        result = "no answer: " + httplib::to_string(res.error());
        return false;
    }
    result = "HTTP " + std::to_string(res->status);
    return res->status >= 200 && res->status < 300;
}

// One round: the next notification of each member that has one due, sent one after another,
// each marked delivered (or to be retried) as soon as the platform answered it, so a crash
// sends again at most the one in flight (at least once; the platform dedupes on the id).
std::size_t PlatformNotifier::dispatch_due() {
    auto& db = *db_;
    const auto now = clock_.now();
    if (pause_until_ && now < *pause_until_) return 0;
    pause_until_.reset();
    auto due = queue_.claim(db, store::JobKind::platform_notification, now, 100);
    std::size_t sent = 0;
    // What this round did not get to goes back at once, also when the store throws.
    struct GiveBack {
        const store::JobQueue& queue;
        store::Connection& db;
        const std::vector<store::Job>& due;
        const std::size_t& sent;
        ~GiveBack() {
            try {
                queue.release(db, {due.begin() + static_cast<std::ptrdiff_t>(sent), due.end()});
            } catch (const std::exception& e) {
                log_warn(std::string("could not give notifications back (the next start takes "
                                     "them up): ") +
                         e.what());
            }
        }
    } give_back{queue_, db, due, sent};
    for (; sent < due.size() && !loop_.stopping(); ++sent) {
        const auto& job = due[sent];
        const auto& note = std::get<PlatformNotificationJob>(job.payload);
        if (!queue_.hold(db, job)) continue; // another instance took it over: theirs to send
        std::string result;
        const bool ok = post(store::payload_text(job.payload), now, result);
        const bool unreachable = !ok && result.starts_with("no answer");
        store::Transaction tx(db);
        if (ok)
            store::finish_job(db, job, "done", result, now);
        else
            store::fail_job(db, job, platform_backoff, result, now);
        tx.commit();
        if (ok) {
            failures_in_a_row_ = 0;
            continue;
        }
        log_warn("host notification " + note.id + " (" + note.type + "): " + result +
                 "; will retry");
        if (unreachable) {
            // The platform is unreachable: wait before calling it again for anyone.
            pause_until_ = platform_backoff.next_try(now, ++failures_in_a_row_);
            ++sent;
            break;
        }
    }
    return sent;
}

} // namespace dunning::jobs
