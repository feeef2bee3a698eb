#include "jobs/background_loop.hpp"

#include "telemetry/log.hpp"

#include <chrono>

namespace dunning::jobs {

using telemetry::log_error;

void BackgroundLoop::start(std::string name, std::function<void()> work,
                           std::function<void()> on_start, std::chrono::milliseconds period) {
    name_ = std::move(name);
    work_ = std::move(work);
    period_ = period;
    thread_ = std::thread([this, on_start = std::move(on_start)] {
        if (on_start) on_start();
        run();
    });
}

void BackgroundLoop::wake() {
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
    }
    wake_.notify_one();
}

void BackgroundLoop::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void BackgroundLoop::run() {
    bool failed = false;
    for (;;) {
        {
            // After a failed round a wake does not cut the wait short: a store in trouble is
            // tried again after a period, not at every webhook.
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, period_, [&] { return stopping_ || (woken_ && !failed); });
            if (stopping_) return;
            woken_ = false;
        }
        failed = !round();
    }
}

// A store without space fails every round the same way: that is said once, not every round.
bool BackgroundLoop::round() {
    try {
        work_();
    } catch (const std::exception& e) {
        ++failed_rounds_;
        if (failing_with_ != e.what())
            log_error(
                name_ + ": " + e.what() + "; retrying every " +
                (period_ == std::chrono::seconds{1} ? "second"
                                                    : std::to_string(period_.count()) + " ms") +
                (failing_with_.empty() ? "" : " (failed before with: " + failing_with_ + ")"));
        failing_with_ = e.what();
        return false;
    }
    if (failed_rounds_ == 0) return true;
    telemetry::log_info(name_ + ": working again after " + std::to_string(failed_rounds_) +
                        " failed round(s)");
    failed_rounds_ = 0;
    failing_with_.clear();
    return true;
}

} // namespace dunning::jobs
