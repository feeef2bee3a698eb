#pragma once
// CSV as RFC 4180 has it (fields quoted when they hold the delimiter, a quote or a line break;
// quotes doubled; CRLF between records), made safe for spreadsheets: a field that starts with
// "=", "+", "-", "@", a tab or a carriage return would be read as a formula, so it gets a
// leading "'" (OWASP's advice on CSV injection). Pure.
#include <string>
#include <string_view>
#include <vector>

namespace dunning {

// One field, neutralised and quoted as needed. `delimiter` is ',' or ';' (German spreadsheets).
std::string csv_field(std::string_view value, char delimiter = ',');

// One record with its CRLF.
std::string csv_record(const std::vector<std::string>& fields, char delimiter = ',');

} // namespace dunning
