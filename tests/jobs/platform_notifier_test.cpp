// The platform notifier marks each notification delivered as soon as the platform answered
// it: a crash in the middle of a batch sends again at most the one in flight.
#include "jobs/platform_notifier.hpp"
#include "store/notifications.hpp"
#include "support/service.hpp"
#include "support/store_queries.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <mutex>
#include <thread>

namespace dunning::jobs {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::TempDir;

// A platform that refuses the notification about one member and, while that request is in
// flight, notes what the store says about every notification (what a crash right then would
// leave behind).
class Platform {
  public:
    Platform(std::string db_path, std::string refused)
        : db_path_(std::move(db_path)), refused_(std::move(refused)) {
        server_.Post("/hooks", [this](const httplib::Request& req, httplib::Response& res) {
            const auto member = json::parse(req.body).value("member", "");
            std::lock_guard lock(mutex_);
            members_.push_back(member);
            if (member == refused_ && states_during_refusal_.empty())
                states_during_refusal_ = states();
            res.status = member == refused_ ? 500 : 200;
        });
        port_ = server_.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        for (int i = 0; i < 5000 && !server_.is_running(); ++i)
            std::this_thread::sleep_for(1ms);
    }
    ~Platform() {
        server_.stop();
        thread_.join();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks"; }
    std::vector<std::string> members() {
        std::lock_guard lock(mutex_);
        return members_;
    }
    std::map<std::string, std::string> states_during_refusal() {
        std::lock_guard lock(mutex_);
        return states_during_refusal_;
    }

  private:
    std::map<std::string, std::string> states() const {
        auto db = testing::connect_to_store(db_path_);
        std::map<std::string, std::string> out;
        for (const auto& row : testing::query_rows(*db, "SELECT payload, state FROM jobs WHERE "
                                                        "kind = 'platform_notification'"))
            out[json::parse(row[0]).value("member", "")] = row[1];
        return out;
    }

    std::string db_path_, refused_;
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
    std::mutex mutex_;
    std::vector<std::string> members_;
    std::map<std::string, std::string> states_during_refusal_;
};

TEST(PlatformNotifier, EachNotificationIsMarkedDeliveredAsSoonAsThePlatformAnswers) {
    TempDir dir;
    const store::StoreOptions options{(dir.path() / "dunning.sqlite").string(), "normal"};
    auto db = store::open_store(options);
    FakeClock clock{from_unix(1'800'000'000)};
    for (const char* member : {"cus_1", "cus_2", "cus_3", "cus_4", "cus_5"})
        store::queue_notification(*db, "alpha", member, "access.locked", json::object(),
                                  clock.now());

    Platform platform(options.path, "cus_3");
    PlatformNotifier notifier({platform.url(), "whsec_test"}, options, clock);
    EXPECT_EQ(notifier.drain(), 5u);

    // While the platform had the third in hand, the first two were already delivered.
    const std::map<std::string, std::string> at_the_third = {{"cus_1", "done"},
                                                             {"cus_2", "done"},
                                                             {"cus_3", "pending"},
                                                             {"cus_4", "pending"},
                                                             {"cus_5", "pending"}};
    EXPECT_EQ(platform.states_during_refusal(), at_the_third);
    EXPECT_EQ(platform.members(),
              (std::vector<std::string>{"cus_1", "cus_2", "cus_3", "cus_4", "cus_5"}));
    EXPECT_EQ(store::notification_counts(*db).pending, 1);

    // Only the refused one is sent again, once its backoff is over.
    EXPECT_EQ(notifier.drain(), 0u);
    clock.advance(2min);
    EXPECT_EQ(notifier.drain(), 1u);
    EXPECT_EQ(platform.members(),
              (std::vector<std::string>{"cus_1", "cus_2", "cus_3", "cus_4", "cus_5", "cus_3"}));
}

} // namespace
} // namespace dunning::jobs
