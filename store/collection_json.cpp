#include "store/collection_json.hpp"

namespace dunning::store {

using nlohmann::json;

namespace {

std::optional<Timestamp> read_time(const json& j, const char* key) {
    if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
    return from_unix(j.at(key).get<std::int64_t>());
}

} // namespace

void write_address(JsonText& w, const PostalAddress& a) {
    JsonText::Object o(w);
    o.put("city", a.city);
    o.put("country", a.country);
    o.put("line1", a.line1);
    o.put("line2", a.line2);
    o.put("postal_code", a.postal_code);
    o.put("state", a.state);
}

PostalAddress address_from_json(const json& j) {
    return {j.value("line1", ""), j.value("line2", ""), j.value("postal_code", ""),
            j.value("city", ""),  j.value("state", ""), j.value("country", "")};
}

void write_collection(JsonText& w, const Collection& c) {
    JsonText::Object o(w);
    o.put("agency_reference", c.agency_reference);
    o.put("batch", c.batch);
    o.put("collected_minor", c.collected_minor);
    o.put("handed_over_at", c.handed_over_at);
    JsonText::Array steps(o.key("steps"));
    for (const auto& st : c.steps) {
        steps.next();
        JsonText::Object step(w);
        step.put("amount_minor", st.amount_minor);
        step.put("at", st.at);
        step.put("batch", st.batch);
        step.put("date", st.date);
        step.put("note", st.note);
        step.put("reference", st.reference);
        step.put("what", st.what);
    }
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
