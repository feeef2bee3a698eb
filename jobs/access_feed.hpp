#pragma once
// Access changes for a host that links the module in: every change of an entitlement's level or
// reason, in the order it was made, handed to the registered listeners from the worker thread.
// At least once: the position is stored after the listeners return, so after a crash the last
// changes may be handed over again (dedupe on `sequence`).
#include "core/access.hpp"
#include "store/database.hpp"

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace dunning::jobs {

struct AccessEvent {
    std::int64_t sequence = 0; // increasing, unique per store
    std::string creator;
    std::string member;               // Stripe customer id
    std::string product;              // Stripe product id
    std::vector<std::string> courses; // the host's course ids of that product
    AccessLevel from = AccessLevel::granted;
    AccessLevel to = AccessLevel::granted;
    std::string reason;
    std::int64_t case_id = 0;
    Timestamp at{};
};

using AccessListener = std::function<void(const AccessEvent&)>;

class AccessFeed {
  public:
    using CoursesOf = std::function<std::vector<std::string>(const std::string& creator,
                                                             const std::string& product)>;
    explicit AccessFeed(CoursesOf courses_of) : courses_of_(std::move(courses_of)) {}

    void add(AccessListener listener);
    // Hands new history rows to the listeners; returns how many rows. A listener that throws is
    // logged and the rows are handed over again on the next call.
    std::size_t deliver(store::Connection& db);

  private:
    CoursesOf courses_of_;
    std::mutex mutex_;
    std::vector<AccessListener> listeners_;
};

} // namespace dunning::jobs
