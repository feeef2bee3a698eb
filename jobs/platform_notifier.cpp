#include "jobs/platform_notifier.hpp"

#include "store/access_store.hpp"
#include "telemetry/log.hpp"
#include "store/job_queue.hpp"
#include "webhook/signature.hpp"

#include <SQLiteCpp/Transaction.h>

namespace dunning::jobs {

using store::StoreOptions;
using store::connect_store;
using store::retry_time;
using telemetry::log_warn;

namespace {

// "https://host:port/path?query" → origin and path (validated by the config: http(s) only).
std::pair<std::string, std::string> split_url(const std::string& url) {
    const auto scheme_end = url.find("://");
    const auto path_start = url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    if (path_start == std::string::npos) return {url, "/"};
    return {url.substr(0, path_start), url.substr(path_start)};
}

} // namespace

PlatformNotifier::PlatformNotifier(const config::HostConfig& host, const StoreOptions& store,
                               const Clock& clock)
    : url_(host.webhook_url), secret_(host.webhook_secret), clock_(clock) {
    if (url_.empty()) return;
    db_ = connect_store(store);
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

PlatformNotifier::~PlatformNotifier() { loop_.stop(); }

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
// their outcomes written in one transaction afterwards (a crash in between sends them again:
// at least once, and the platform dedupes on the id).
std::size_t PlatformNotifier::dispatch_due() {
    auto& db = *db_;
    const auto now = clock_.now();
    if (pause_until_ && now < *pause_until_) return 0;
    pause_until_.reset();
    struct Outcome {
        const store::HostNotification* note;
        bool ok;
        std::string result;
    };
    const auto due = store::due_notifications(db, now, 100);
    std::vector<Outcome> outcomes;
    for (const auto& note : due) {
        if (loop_.stopping()) break;
        Outcome o{&note, false, {}};
        o.ok = post(note.body, now, o.result);
        const bool unreachable = !o.ok && o.result.starts_with("no answer");
        if (o.ok) failures_in_a_row_ = 0;
        else log_warn("host notification " + note.id + " (" + note.type + "): " + o.result + "; will retry");
        outcomes.push_back(std::move(o));
        if (unreachable) {
            // The platform is unreachable: wait before calling it again for anyone.
            pause_until_ = retry_time(now, failures_in_a_row_++);
            break;
        }
    }
    if (outcomes.empty()) return 0;
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    for (const auto& o : outcomes) {
        if (o.ok) store::notification_delivered(db, o.note->row, o.result, now);
        else store::notification_retry(db, o.note->row, o.note->tries + 1, retry_time(now, o.note->tries), o.result);
    }
    tx.commit();
    return outcomes.size();
}

} // namespace dunning::jobs
