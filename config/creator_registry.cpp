#include "config/creator_registry.hpp"

#include <mutex>

namespace dunning::config {

CreatorRegistry::CreatorRegistry(const Config& config) {
    for (const auto& creator : config.creators)
        replace(creator);
}

CreatorRegistry::Snapshot CreatorRegistry::find(std::string_view id) const {
    std::shared_lock lock(mutex_);
    const auto found = by_id_.find(id);
    return found == by_id_.end() ? nullptr : found->second;
}

CreatorRegistry::Snapshot CreatorRegistry::find_by_account(std::string_view stripe_account) const {
    if (stripe_account.empty()) return nullptr;
    std::shared_lock lock(mutex_);
    for (const auto& [id, creator] : by_id_)
        if (creator->stripe_account == stripe_account) return creator;
    return nullptr;
}

std::vector<CreatorRegistry::Snapshot> CreatorRegistry::all() const {
    std::shared_lock lock(mutex_);
    std::vector<Snapshot> out;
    out.reserve(by_id_.size());
    for (const auto& [id, creator] : by_id_)
        out.push_back(creator);
    return out;
}

bool CreatorRegistry::put(CreatorConfig creator) {
    auto snapshot = std::make_shared<const CreatorConfig>(std::move(creator));
    std::unique_lock lock(mutex_);
    const bool added = by_id_.emplace(snapshot->id, snapshot).second;
    if (added) ++version_;
    return added;
}

void CreatorRegistry::replace(CreatorConfig creator) {
    auto snapshot = std::make_shared<const CreatorConfig>(std::move(creator));
    std::unique_lock lock(mutex_);
    by_id_[snapshot->id] = std::move(snapshot);
    ++version_;
}

std::uint64_t CreatorRegistry::version() const {
    std::shared_lock lock(mutex_);
    return version_;
}

} // namespace dunning::config
