#pragma once
// Nothing missed: the events Stripe kept for a creator (GET /v1/events, the last 30 days) go
// into the inbox exactly as their webhooks would have, so events sent while the service was down
// or unreachable are processed once. The inbox skips the ones already stored by event id.
#include "core/result.hpp"
#include "core/time.hpp"
#include "jobs/stripe_jobs.hpp"
#include "store/database.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace dunning::jobs {

// How far back Stripe's Events API reaches.
inline constexpr std::chrono::days stripe_event_retention{30};
// Read again before the newest stored event: Stripe does not deliver in creation order, so an
// event a little older than it may still have been missing.
inline constexpr std::chrono::minutes backfill_overlap{10};

struct BackfillOptions {
    std::string creator;
    // From when: this time, else the newest event stored for the creator less backfill_overlap;
    // never further back than Stripe keeps events.
    std::optional<Timestamp> since;
    // A creator that has never received an event is skipped unless this is set (then the whole
    // 30 days are read).
    bool include_new_creators = false;
    // Only events received before this (our clock, unix milliseconds) count as "stored": the first
    // fresh delivery after an outage, stored before the backfill looks, says nothing about the
    // gap before it. Unset: every event stored so far.
    std::optional<std::int64_t> received_before_ms;
};

struct BackfillReport {
    bool skipped = false;         // the creator has no stored event and none was asked for
    std::int64_t created_gte = 0; // the created[gte] asked of Stripe
    int pages = 0;                // pages fetched
    std::int64_t fetched = 0;     // events in them
    std::int64_t inserted = 0;    // new to the inbox
    std::int64_t duplicates = 0;  // already stored (delivered as webhooks or backfilled before)
    std::int64_t not_handled = 0; // types the module does not act on, not stored
    std::string error;            // Stripe's error after the retries; nothing was stored then
    bool ok() const { return error.empty(); }
};

struct BackfillHooks {
    std::function<void(const BackfillReport&)> on_page; // after each page fetched
    std::function<bool()> stopping;                     // checked between pages
};

// Reads the creator's events newest first, paged with starting_after, and stores them oldest
// first in the caller's store. A Stripe error (after the client's retries with backoff) stores
// nothing: a partial run would move "the newest stored event" past a gap.
BackfillReport backfill_creator(store::Connection& db, StripeGateway& stripe,
                                const BackfillOptions& options, Timestamp now,
                                const BackfillHooks& hooks = {});

// "Stripe answered 401 (invalid_request_error): Invalid API Key provided" and the like.
std::string describe_stripe_error(const retry::ApiResult& result);

// One page of a Stripe list (GET `path`, paged with starting_after=`after`): its items appended to
// `items`; the id to continue after, "" when it was the last page, or what went wrong.
Result<std::string, std::string> read_list_page(const retry::ApiResult& answer,
                                                const std::string& path, const std::string& after,
                                                std::vector<nlohmann::json>& items);

} // namespace dunning::jobs
