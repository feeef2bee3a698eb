#pragma once
// The creators the service runs with, changeable while it runs (the admin API). Readers get a
// snapshot: a creator's settings as they were when looked up, kept alive as long as it is held,
// so a change never alters what a running request or job already holds.
#include "config/config.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::config {

class CreatorRegistry {
  public:
    using Snapshot = std::shared_ptr<const CreatorConfig>;

    CreatorRegistry() = default;
    // Every [[creators]] table of `config` (for the commands that read only the file).
    explicit CreatorRegistry(const Config& config);

    Snapshot find(std::string_view id) const;                        // null when unknown
    Snapshot find_by_account(std::string_view stripe_account) const; // null for ""
    std::vector<Snapshot> all() const;                               // ordered by id
    // Adds a creator whose id is new; false (and nothing changed) when the id is taken.
    bool put(CreatorConfig creator);
    // Adds or replaces the creator with this id.
    void replace(CreatorConfig creator);
    // Counts every change, so a cache built from snapshots can tell it is stale.
    std::uint64_t version() const;
    // Held by every read-modify-write of a creator (the admin routes, connecting Stripe, the
    // SIGHUP reload), so none overwrites another's change: an id or account checked free stays
    // free until it is taken. Never held across a call to Stripe.
    std::mutex& changes() { return changes_; }

  private:
    std::mutex changes_;
    mutable std::shared_mutex mutex_;
    std::map<std::string, Snapshot, std::less<>> by_id_;
    std::uint64_t version_ = 0;
};

} // namespace dunning::config
