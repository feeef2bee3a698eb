#pragma once
// The parts of the stored case (store/case_json.cpp) that came with the handover to collection
// agencies: the debtor's postal address and the case's collection record.
#include "core/case.hpp"
#include "store/json_text.hpp"
#include "store/stored_json.hpp"

namespace dunning::store {

void write_address(JsonText& w, const PostalAddress& a);
PostalAddress address_from(const StoredObject& j);

void write_collection(JsonText& w, const Collection& c);
// From the whole stored case: an empty record when it has none (stored before handovers).
Collection collection_from(const StoredObject& state);

} // namespace dunning::store
