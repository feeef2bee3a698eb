#pragma once
// A SAX handler for nlohmann::json::sax_parse that takes every value and stops at the first syntax
// error, for the passes over a text that look at one thing only: where it stops being JSON
// (event_parser.cpp, and its test's oracle), how deep it nests (the event fuzz target). Derive
// from it and override what the pass looks at.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace dunning::webhook {

struct JsonSaxPass : nlohmann::json_sax<nlohmann::json> {
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) override {
        return false;
    }
};

} // namespace dunning::webhook
