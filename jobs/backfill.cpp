#include "jobs/backfill.hpp"

#include "store/inbox.hpp"
#include "webhook/event_parser.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace dunning::jobs {

namespace {

using nlohmann::json;

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<std::int64_t> start_from(store::Connection& db, const BackfillOptions& o,
                                       Timestamp now) {
    const std::int64_t oldest = to_unix(now - stripe_event_retention);
    std::optional<std::int64_t> from;
    if (o.since)
        from = to_unix(*o.since);
    else if (auto newest = store::newest_event_created(db, o.creator,
                                                       o.received_before_ms.value_or(wall_ms())))
        from = *newest - std::chrono::seconds(backfill_overlap).count();
    else if (o.include_new_creators)
        from = oldest;
    if (!from) return std::nullopt;
    return std::max(*from, oldest);
}

// Every page, newest first; false (with the error in the report) when Stripe fails.
bool fetch_all(StripeGateway& stripe, const retry::StripeAuth& auth, BackfillReport& r,
               const BackfillHooks& hooks, std::vector<json>& events) {
    std::string after;
    for (;;) {
        if (hooks.stopping && hooks.stopping()) {
            r.error = "stopped before the backfill finished";
            return false;
        }
        const auto answer = stripe.client().list_events(auth, r.created_gte, after, 100);
        const auto before = events.size();
        const auto next = read_list_page(answer, "/v1/events", after, events);
        if (!next.ok()) {
            r.error = next.error();
            return false;
        }
        ++r.pages;
        r.fetched += static_cast<std::int64_t>(events.size() - before);
        if (hooks.on_page) hooks.on_page(r);
        if (next.value().empty()) return true;
        after = next.value();
    }
}

void store_oldest_first(store::Connection& db, const std::string& creator,
                        const std::vector<json>& events, BackfillReport& r) {
    store::Transaction tx(db);
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
        const std::string body = it->dump();
        auto env = webhook::parse_envelope(body);
        if (!env || !webhook::handled_event_type(env.value().type)) {
            ++r.not_handled;
            continue;
        }
        const auto& e = env.value();
        store::InboxRow row{creator,  e.id, e.type, e.account, "backfill", body, to_unix(e.created),
                            wall_ms()};
        ++(store::insert_inbox_row(db, row) == store::AppendOutcome::inserted ? r.inserted
                                                                              : r.duplicates);
    }
    tx.commit();
}

} // namespace

Result<std::string, std::string> read_list_page(const retry::ApiResult& answer,
                                                const std::string& path, const std::string& after,
                                                std::vector<json>& items) {
    if (!answer.ok()) return err(describe_stripe_error(answer));
    const auto page = json::parse(answer.body, nullptr, false);
    if (!page.is_object() || !page.contains("data") || !page["data"].is_array())
        return err("Stripe's answer to GET " + path + " is not a list");
    for (const auto& item : page["data"])
        items.push_back(item);
    const auto more = page.find("has_more");
    if (more == page.end() || !more->is_boolean() || !more->get<bool>() || page["data"].empty())
        return std::string();
    const auto& last = page["data"].back();
    if (!last.is_object() || !last.contains("id") || !last["id"].is_string() ||
        last["id"].get<std::string>().empty() || last["id"] == json(after))
        return err("Stripe's page of " + path + " ends without a new id to continue from");
    return last["id"].get<std::string>();
}

std::string describe_stripe_error(const retry::ApiResult& result) {
    if (result.http_status == 0)
        return "Stripe could not be reached after " + std::to_string(result.tries) +
               " tries: " + (result.error.message.empty() ? "no answer" : result.error.message);
    std::string out = "Stripe answered " + std::to_string(result.http_status);
    if (!result.error_type.empty()) out += " (" + result.error_type + ")";
    if (!result.error.message.empty()) out += ": " + result.error.message;
    if (result.kind == retry::ApiResult::Kind::technical)
        out += " after " + std::to_string(result.tries) + " tries";
    return out;
}

BackfillReport backfill_creator(store::Connection& db, StripeGateway& stripe,
                                const BackfillOptions& o, Timestamp now,
                                const BackfillHooks& hooks) {
    BackfillReport r;
    const auto auth = stripe.auth_for(o.creator);
    if (!auth) {
        r.error = "creator " + o.creator +
                  " has no Stripe key (stripe_secret_key, or stripe_account with [stripe] "
                  "platform_secret_key)";
        return r;
    }
    const auto from = start_from(db, o, now);
    if (!from) {
        r.skipped = true;
        return r;
    }
    r.created_gte = *from;
    std::vector<json> events;
    if (!fetch_all(stripe, *auth, r, hooks, events)) return r;
    store_oldest_first(db, o.creator, events, r);
    return r;
}

} // namespace dunning::jobs
