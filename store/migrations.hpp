#pragma once
// The schema's versions: entry v brings a store from version v to v + 1. Append only: a
// released migration is never edited, the next change is a new entry.
#include <vector>

namespace dunning::store {

const std::vector<const char*>& migrations();

} // namespace dunning::store
