#include "access/query.hpp"
#include "store/json_time.hpp"

#include <algorithm>
#include <ctime>

namespace dunning::access {

using store::member_entitlements;
using store::time_or_null;

namespace {

using nlohmann::json;

void add_unique(std::vector<std::string>& to, const std::string& value) {
    if (std::find(to.begin(), to.end(), value) == to.end()) to.push_back(value);
}

AccessAnswer answer_from(AccessAnswer a, const std::string& product, const EntitlementState& s) {
    a.level = s.level;
    a.reason = s.reason;
    a.product = product;
    a.case_id = s.case_id;
    // A member at their first level (granted, say) has no known start: no "since".
    if (s.since != Timestamp{}) a.since = s.since;
    a.lock_at = s.lock_at;
    return a;
}

} // namespace

void CourseMap::add(const std::string& product, const std::vector<std::string>& courses) {
    auto& mine = by_product_[product];
    for (const auto& course : courses) {
        add_unique(mine, course);
        add_unique(by_course_[course], product);
    }
}

std::vector<std::string> CourseMap::products_for(const std::string& course_or_product) const {
    if (const auto c = by_course_.find(course_or_product); c != by_course_.end()) return c->second;
    if (by_product_.contains(course_or_product)) return {course_or_product};
    if (course_or_product.starts_with("prod_")) return {course_or_product};
    return {};
}

std::vector<std::string> CourseMap::products() const {
    std::vector<std::string> out;
    for (const auto& [product, courses] : by_product_)
        out.push_back(product);
    return out;
}

std::vector<std::string> CourseMap::courses_of(const std::string& product) const {
    if (const auto p = by_product_.find(product); p != by_product_.end()) return p->second;
    return {};
}

AccessAnswer query_access(store::Connection& db, const std::string& creator, const CourseMap& map,
                          const std::string& member, const std::string& course_or_product) {
    AccessAnswer base;
    base.member = member;
    base.course = course_or_product;
    base.products = map.products_for(course_or_product);

    if (base.products.empty()) return base;
    // One read of the member's few rows rather than one statement per product.
    const auto rows = member_entitlements(db, creator, member);
    std::optional<AccessAnswer> best;
    for (const auto& product : base.products) { // config order breaks ties
        const auto row = std::find_if(rows.begin(), rows.end(),
                                      [&](const auto& r) { return r.first == product; });
        if (row == rows.end()) continue;
        if (!best || row->second.level < best->level)
            best = answer_from(base, product, row->second);
    }
    return best ? *best : base;
}

std::vector<AccessAnswer> member_access(store::Connection& db, const std::string& creator,
                                        const CourseMap& /*map*/, const std::string& member) {
    std::vector<AccessAnswer> out;
    for (const auto& [product, state] : member_entitlements(db, creator, member)) {
        AccessAnswer a;
        a.member = member;
        a.course = product;
        a.products = {product};
        out.push_back(answer_from(std::move(a), product, state));
    }
    return out;
}

nlohmann::json to_json(const AccessAnswer& a, const CourseMap& map) {
    std::vector<std::string> courses;
    if (map.is_course(a.course))
        courses = {a.course};
    else
        courses = map.courses_of(a.product.empty() ? a.course : a.product);
    return {{"object", "access"},
            {"member", a.member},
            {"course", a.course},
            {"level", to_string(a.level)},
            {"reason", a.reason},
            {"blocked", blocks_content(a.level)},
            {"product", a.product.empty() ? json(nullptr) : json(a.product)},
            {"products", a.products},
            {"courses", courses},
            {"case", a.case_id ? json(a.case_id) : json(nullptr)},
            {"since", time_or_null(a.since)},
            {"lock_at", time_or_null(a.lock_at)}};
}

} // namespace dunning::access
