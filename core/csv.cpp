#include "core/csv.hpp"

namespace dunning {

std::string csv_field(std::string_view value, char delimiter) {
    std::string text;
    const bool formula =
        !value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' ||
                           value[0] == '@' || value[0] == '\t' || value[0] == '\r');
    if (formula) text += '\'';
    text += value;
    if (text.find_first_of(std::string{delimiter, '"', '\r', '\n'}) == std::string::npos)
        return text;
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + '"';
}

std::string csv_record(const std::vector<std::string>& fields, char delimiter) {
    std::string out;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out += delimiter;
        out += csv_field(fields[i], delimiter);
    }
    return out + "\r\n";
}

} // namespace dunning
