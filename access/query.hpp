#pragma once
// Answers "may this member use this course?" from the entitlement rows. A course maps to the
// Stripe products that unlock it ([[creators.products]]); with no row for any of them the
// module knows of no unpaid claim and the answer is `granted`.
#include "store/access_store.hpp"
#include "store/database.hpp"

#include <map>
#include <set>

namespace dunning::access {

// One creator's products and courses, both ways.
class CourseMap {
  public:
    void add(const std::string& product, const std::vector<std::string>& courses);
    // The products behind `course_or_product`: a course id's products, or the product itself
    // when it is one we map (or looks like a Stripe product id, "prod_…"). Empty: unknown.
    std::vector<std::string> products_for(const std::string& course_or_product) const;
    std::vector<std::string> courses_of(const std::string& product) const; // may be empty
    bool is_course(const std::string& id) const { return by_course_.contains(id); }
    std::vector<std::string> products() const; // every mapped product

  private:
    std::map<std::string, std::vector<std::string>, std::less<>> by_product_;
    std::map<std::string, std::vector<std::string>, std::less<>> by_course_;
};

struct AccessAnswer {
    std::string member;
    std::string course;                // as asked: a course id or a product id
    std::vector<std::string> products; // the products considered
    AccessLevel level = AccessLevel::granted;
    std::string reason = access_reason::in_good_standing;
    std::string product; // the product the answer comes from; "" when none has a row
    std::int64_t case_id = 0;
    std::optional<Timestamp> since;   // when the level was reached; none without a row
    std::optional<Timestamp> lock_at; // an announced lock (grace)
};

// A course reachable through several products is open as far as the least restricted of the
// member's products allows (the member may hold one of them in good standing).
AccessAnswer query_access(store::Connection& db, const std::string& creator, const CourseMap& map,
                          const std::string& member, const std::string& course_or_product);

// Every product the member has a row for, with its courses; one answer per product.
std::vector<AccessAnswer> member_access(store::Connection& db, const std::string& creator,
                                        const CourseMap& map, const std::string& member);

nlohmann::json to_json(const AccessAnswer& answer, const CourseMap& map);

} // namespace dunning::access
