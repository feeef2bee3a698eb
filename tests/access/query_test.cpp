// The access query: courses to products, the least restricted product wins, the JSON answer.
#include "access/query.hpp"
#include "store/database.hpp"
#include "support/service.hpp"
#include "support/test_store.hpp"

#include <gtest/gtest.h>

namespace dunning::access {
namespace {

using nlohmann::json;
using namespace dunning::store;

Timestamp at(std::int64_t s) {
    return from_unix(1'760'000'000 + s);
}

CourseMap course_map() {
    CourseMap m;
    m.add("prod_monthly", {"course_python", "course_sql"});
    m.add("prod_lifetime", {"course_python"});
    m.add("legacy_product", {"course_old"});
    return m;
}

TEST(CourseMap, ProductsFor) {
    const auto m = course_map();
    EXPECT_EQ(m.products_for("course_python"),
              (std::vector<std::string>{"prod_monthly", "prod_lifetime"}));
    EXPECT_EQ(m.products_for("course_sql"), std::vector<std::string>{"prod_monthly"});
    EXPECT_EQ(m.products_for("prod_lifetime"), std::vector<std::string>{"prod_lifetime"});
    EXPECT_EQ(m.products_for("legacy_product"),
              std::vector<std::string>{"legacy_product"}); // mapped
    EXPECT_EQ(m.products_for("prod_unmapped"),
              std::vector<std::string>{"prod_unmapped"}); // looks like one
    EXPECT_TRUE(m.products_for("course_unknown").empty());
    EXPECT_EQ(m.courses_of("prod_monthly"),
              (std::vector<std::string>{"course_python", "course_sql"}));
    EXPECT_TRUE(m.courses_of("prod_unmapped").empty());
    EXPECT_TRUE(m.is_course("course_sql"));
    EXPECT_FALSE(m.is_course("prod_monthly"));
}

class AccessQuery : public ::testing::Test {
  protected:
    testing::TestStore store;
    std::unique_ptr<store::Connection> db = store::open_store(store.options());
    CourseMap map = course_map();

    void set(const std::string& product, AccessLevel level, const std::string& reason,
             std::int64_t case_id, Timestamp since, std::optional<Timestamp> lock_at = std::nullopt,
             const std::string& member = "cus_1") {
        EntitlementState s;
        s.level = level;
        s.reason = reason;
        s.case_id = case_id;
        s.since = since;
        s.lock_at = lock_at;
        save_entitlement(*db, {"alpha", member, product}, s, std::nullopt, since);
    }
};

TEST_F(AccessQuery, NoRowIsGranted) {
    const auto a = query_access(*db, "alpha", map, "cus_1", "course_python");
    EXPECT_EQ(a.level, AccessLevel::granted);
    EXPECT_EQ(a.reason, access_reason::in_good_standing);
    EXPECT_EQ(a.product, "");
    EXPECT_FALSE(a.since);
    EXPECT_EQ(a.products, (std::vector<std::string>{"prod_monthly", "prod_lifetime"}));

    const auto j = to_json(a, map);
    EXPECT_EQ(j["object"], "access");
    EXPECT_EQ(j["member"], "cus_1");
    EXPECT_EQ(j["course"], "course_python");
    EXPECT_EQ(j["level"], "granted");
    EXPECT_EQ(j["blocked"], false);
    EXPECT_TRUE(j["product"].is_null());
    EXPECT_TRUE(j["case"].is_null());
    EXPECT_TRUE(j["since"].is_null());
    EXPECT_TRUE(j["lock_at"].is_null());
    EXPECT_EQ(j["courses"], json::array({"course_python"}));
}

TEST_F(AccessQuery, CourseIsOpenAsFarAsTheLeastRestrictedProductAllows) {
    set("prod_monthly", AccessLevel::locked, access_reason::final_notice_deadline_passed, 7,
        at(100));
    auto a = query_access(*db, "alpha", map, "cus_1", "course_python");
    EXPECT_EQ(a.level, AccessLevel::locked);
    EXPECT_EQ(a.product, "prod_monthly");
    EXPECT_EQ(a.case_id, 7);
    EXPECT_EQ(a.since, at(100));

    set("prod_lifetime", AccessLevel::grace, access_reason::final_notice, 8, at(50), at(500));
    a = query_access(*db, "alpha", map, "cus_1", "course_python");
    EXPECT_EQ(a.level, AccessLevel::grace);
    EXPECT_EQ(a.reason, access_reason::final_notice);
    EXPECT_EQ(a.product, "prod_lifetime");
    EXPECT_EQ(a.case_id, 8);
    EXPECT_EQ(a.lock_at, at(500));

    // course_sql only comes with the monthly product.
    a = query_access(*db, "alpha", map, "cus_1", "course_sql");
    EXPECT_EQ(a.level, AccessLevel::locked);
    auto j = to_json(a, map);
    EXPECT_EQ(j["blocked"], true);
    EXPECT_EQ(j["level"], "locked");
    EXPECT_EQ(j["reason"], "final_notice_deadline_passed");
    EXPECT_EQ(j["product"], "prod_monthly");
    EXPECT_EQ(j["products"], json::array({"prod_monthly"}));
    EXPECT_EQ(j["courses"], json::array({"course_sql"}));
    EXPECT_EQ(j["case"], 7);
    EXPECT_EQ(j["since"], "2025-10-09T08:55:00Z"); // 1'760'000'100
    EXPECT_TRUE(j["lock_at"].is_null());

    // Asked by product: the courses it unlocks.
    a = query_access(*db, "alpha", map, "cus_1", "prod_lifetime");
    j = to_json(a, map);
    EXPECT_EQ(j["level"], "grace");
    EXPECT_EQ(j["blocked"], false);
    EXPECT_EQ(j["courses"], json::array({"course_python"}));
    EXPECT_EQ(j["lock_at"], "2025-10-09T09:01:40Z");

    // Other members and creators see nothing of this.
    EXPECT_EQ(query_access(*db, "alpha", map, "cus_2", "course_sql").level, AccessLevel::granted);
    EXPECT_EQ(query_access(*db, "beta", map, "cus_1", "course_sql").level, AccessLevel::granted);
}

TEST_F(AccessQuery, LimitedBeatsLocked) {
    set("prod_monthly", AccessLevel::locked, access_reason::dispute_lost, 1, at(1));
    set("prod_lifetime", AccessLevel::limited, access_reason::subscription_unpaid, 2, at(2));
    const auto a = query_access(*db, "alpha", map, "cus_1", "course_python");
    EXPECT_EQ(a.level, AccessLevel::limited);
    EXPECT_EQ(a.product, "prod_lifetime");
    EXPECT_TRUE(to_json(a, map)["blocked"].get<bool>());
}

TEST_F(AccessQuery, UnknownCourse) {
    set("prod_monthly", AccessLevel::locked, access_reason::dispute_lost, 1, at(1));
    const auto a = query_access(*db, "alpha", map, "cus_1", "course_nope");
    EXPECT_TRUE(a.products.empty());
    EXPECT_EQ(a.level, AccessLevel::granted);
    EXPECT_EQ(a.product, "");
    const auto j = to_json(a, map);
    EXPECT_EQ(j["products"], json::array());
    EXPECT_EQ(j["courses"], json::array());

    // A Stripe product id not in the config is still looked up.
    set("prod_unmapped", AccessLevel::locked, access_reason::dispute_lost, 3, at(1));
    EXPECT_EQ(query_access(*db, "alpha", map, "cus_1", "prod_unmapped").level, AccessLevel::locked);
}

TEST_F(AccessQuery, MemberAccessOneAnswerPerProduct) {
    EXPECT_TRUE(member_access(*db, "alpha", map, "cus_1").empty());
    set("prod_monthly", AccessLevel::locked, access_reason::dispute_lost, 1, at(1));
    set("prod_lifetime", AccessLevel::granted, access_reason::in_good_standing, 0, at(2));
    set("prod_monthly", AccessLevel::grace, access_reason::final_notice, 9, at(3), at(9), "cus_2");
    const auto answers = member_access(*db, "alpha", map, "cus_1");
    ASSERT_EQ(answers.size(), 2u);
    for (const auto& a : answers) {
        EXPECT_EQ(a.course, a.product);
        EXPECT_EQ(a.products, std::vector<std::string>{a.product});
        if (a.product == "prod_monthly") {
            EXPECT_EQ(a.level, AccessLevel::locked);
            EXPECT_EQ(to_json(a, map)["courses"], json::array({"course_python", "course_sql"}));
        } else {
            EXPECT_EQ(a.product, "prod_lifetime");
            EXPECT_EQ(a.level, AccessLevel::granted);
            EXPECT_EQ(a.since, at(2));
        }
    }
}

} // namespace
} // namespace dunning::access
