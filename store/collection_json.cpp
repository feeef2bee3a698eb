#include "store/collection_json.hpp"

namespace dunning::store {

void write_address(JsonText& w, const PostalAddress& a) {
    JsonText::Object o(w);
    o.put("city", a.city);
    o.put("country", a.country);
    o.put("line1", a.line1);
    o.put("line2", a.line2);
    o.put("postal_code", a.postal_code);
    o.put("state", a.state);
}

PostalAddress address_from(const StoredObject& j) {
    return {j.string("line1", ""), j.string("line2", ""), j.string("postal_code", ""),
            j.string("city", ""),  j.string("state", ""), j.string("country", "")};
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

Collection collection_from(const StoredObject& state) {
    Collection c;
    if (!state.contains("collection")) return c;
    const auto in = state.object("collection");
    c.handed_over_at = in.time("handed_over_at");
    c.batch = in.string("batch");
    c.agency_reference = in.string("agency_reference");
    c.collected_minor = in.integer("collected_minor");
    for (const auto& st : in.objects("steps"))
        c.steps.push_back({st.string("what"), from_unix(st.integer("at")), st.string("batch"),
                           st.integer("amount_minor"), st.string("date"), st.string("reference"),
                           st.string("note")});
    return c;
}

} // namespace dunning::store
