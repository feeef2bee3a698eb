#include "jobs/background_loop.hpp"

#include "telemetry/log.hpp"

#include <chrono>

namespace dunning::jobs {

using telemetry::log_error;

void BackgroundLoop::start(std::string name, std::function<void()> work,
                           std::function<void()> on_start) {
    name_ = std::move(name);
    work_ = std::move(work);
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
    using namespace std::chrono_literals;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, 1s, [&] { return stopping_ || woken_; });
            if (stopping_) return;
            woken_ = false;
        }
        try {
            work_();
        } catch (const std::exception& e) {
            log_error(name_ + ": " + e.what() + "; retrying");
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, 1s, [&] { return stopping_.load(); });
        }
    }
}

} // namespace dunning::jobs
