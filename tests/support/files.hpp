#pragma once
// Test and benchmark support: a whole file as a string.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace dunning::testing {

// The file's bytes. Throws std::runtime_error naming the file when it cannot be read, so a test
// fails there instead of comparing against an empty string.
inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in || in.bad()) throw std::runtime_error("cannot read " + path.string());
    return text.str();
}

} // namespace dunning::testing
