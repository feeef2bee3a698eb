// jobs::BackgroundLoop: the thread behind the work loop, the platform notifier, the creators'
// refresh and the WAL's checkpoints. It runs its work when woken and every period anyway, says
// a failure once while it repeats and once more when rounds succeed again, and goes on.
#include "jobs/background_loop.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>

namespace dunning::jobs {
namespace {

using namespace std::chrono_literals;

// Rounds counted, and waited for: the test waits for a round to happen, never for a time.
class Rounds {
  public:
    void count() {
        std::lock_guard lock(mutex_);
        ++rounds_;
        changed_.notify_all();
    }
    int seen() {
        std::lock_guard lock(mutex_);
        return rounds_;
    }
    // True once `n` rounds ran; false only if they did not within ctest's patience.
    bool reach(int n) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, 10min, [&] { return rounds_ >= n; });
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int rounds_ = 0;
};

TEST(BackgroundLoop, RunsWhenWokenAndStops) {
    Rounds rounds;
    BackgroundLoop loop;
    // A period longer than any test: every round below was asked for.
    loop.start(
        "test loop", [&] { rounds.count(); }, {}, std::chrono::hours{1});
    loop.wake();
    ASSERT_TRUE(rounds.reach(1));
    loop.wake();
    ASSERT_TRUE(rounds.reach(2));
    loop.stop();
    EXPECT_TRUE(loop.stopping());
    const int at_stop = rounds.seen();
    loop.wake(); // after stop: nothing runs, nothing hangs
    loop.stop(); // twice is fine
    EXPECT_EQ(rounds.seen(), at_stop);
}

// Once a period (1 ms here): that the period given is the one waited for is not timed (the
// failure test below sees it named in the log).
TEST(BackgroundLoop, RunsWithoutBeingWoken) {
    Rounds rounds;
    BackgroundLoop loop;
    loop.start(
        "test loop", [&] { rounds.count(); }, {}, 1ms);
    EXPECT_TRUE(rounds.reach(3)); // never woken
}

TEST(BackgroundLoop, AFailureIsSaidOnceWhileItRepeatsAndOnceWhenRoundsWorkAgain) {
    std::mutex mutex;
    int round = 0;
    Rounds rounds;
    testing::internal::CaptureStderr();
    {
        BackgroundLoop loop;
        loop.start(
            "test loop",
            [&] {
                int now = 0;
                {
                    std::lock_guard lock(mutex);
                    now = ++round;
                }
                rounds.count();
                if (now <= 3) throw std::runtime_error("the disk is full");
                if (now == 4) throw std::runtime_error("the disk is gone");
            },
            {}, 1ms);
        ASSERT_TRUE(rounds.reach(6)); // the loop went on after each failure
    }
    const auto log = testing::internal::GetCapturedStderr();
    const auto count = [&](const std::string& what) {
        int n = 0;
        for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1))
            ++n;
        return n;
    };
    EXPECT_EQ(count("test loop: the disk is full; retrying every 1 ms"), 1) << log;
    EXPECT_EQ(count("test loop: the disk is gone; retrying every 1 ms (failed before with: the "
                    "disk is full)"),
              1)
        << log;
    EXPECT_EQ(count("test loop: working again after 4 failed round(s)"), 1) << log;
}

TEST(BackgroundLoop, OnStartRunsFirstOnTheLoopsThread) {
    std::mutex mutex;
    std::string order;
    Rounds rounds;
    BackgroundLoop loop;
    loop.start(
        "test loop",
        [&] {
            {
                std::lock_guard lock(mutex);
                order += "work ";
            }
            rounds.count();
        },
        [&] {
            std::lock_guard lock(mutex);
            order += "start ";
        },
        std::chrono::hours{1});
    loop.wake();
    ASSERT_TRUE(rounds.reach(1));
    loop.stop();
    std::lock_guard lock(mutex);
    EXPECT_EQ(order.substr(0, 11), "start work ");
}

} // namespace
} // namespace dunning::jobs
