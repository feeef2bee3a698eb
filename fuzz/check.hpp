#pragma once
// What every fuzz target does when a property does not hold: say which, and abort, so libFuzzer
// saves the input under build-fuzz/crashes/<target>/.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace dunning::fuzz {

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz property broken: %.*s\n  %.*s\n", int(what.size()), what.data(),
                 int(detail.size()), detail.data());
    std::abort();
}

inline void check(bool holds, std::string_view what, std::string_view detail = {}) {
    if (!holds) fail(what, detail);
}

inline std::string_view as_text(const unsigned char* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

} // namespace dunning::fuzz
