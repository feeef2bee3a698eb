#pragma once
// Text for HTML: the one escaper behind the dunning emails and the pages the service serves.
#include <string>
#include <string_view>

namespace dunning {

// &, <, >, " and ' as entities (' as &#39;: &apos; is not HTML 4, which some mail clients speak).
std::string html_escape(std::string_view value);

} // namespace dunning
