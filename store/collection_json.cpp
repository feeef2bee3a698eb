#include "store/collection_json.hpp"

namespace dunning::store {

using nlohmann::json;

namespace {

json optional_time(const std::optional<Timestamp>& t) {
    return t ? json(to_unix(*t)) : json(nullptr);
}

std::optional<Timestamp> read_time(const json& j, const char* key) {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return from_unix(j.at(key).get<std::int64_t>());
}

} // namespace

json address_to_json(const PostalAddress& a) {
    return {{"line1", a.line1}, {"line2", a.line2}, {"postal_code", a.postal_code},
            {"city", a.city},   {"state", a.state}, {"country", a.country}};
}

PostalAddress address_from_json(const json& j) {
    return {j.value("line1", ""), j.value("line2", ""), j.value("postal_code", ""),
            j.value("city", ""),  j.value("state", ""), j.value("country", "")};
}

json collection_to_json(const Collection& c) {
    json steps = json::array();
    for (const auto& st : c.steps)
        steps.push_back({{"what", st.what},
                         {"at", to_unix(st.at)},
                         {"batch", st.batch},
                         {"amount_minor", st.amount_minor},
                         {"date", st.date},
                         {"reference", st.reference},
                         {"note", st.note}});
    return {{"handed_over_at", optional_time(c.handed_over_at)},
            {"batch", c.batch},
            {"agency_reference", c.agency_reference},
            {"collected_minor", c.collected_minor},
            {"steps", steps}};
}

Collection collection_from_json(const json& j) {
    Collection c;
    if (!j.contains("collection")) return c;
    const json& in = j.at("collection");
    c.handed_over_at = read_time(in, "handed_over_at");
    in.at("batch").get_to(c.batch);
    in.at("agency_reference").get_to(c.agency_reference);
    in.at("collected_minor").get_to(c.collected_minor);
    for (const auto& st : in.at("steps"))
        c.steps.push_back(
            {st.at("what").get<std::string>(), from_unix(st.at("at").get<std::int64_t>()),
             st.at("batch").get<std::string>(), st.at("amount_minor").get<std::int64_t>(),
             st.at("date").get<std::string>(), st.at("reference").get<std::string>(),
             st.at("note").get<std::string>()});
    return c;
}

} // namespace dunning::store
