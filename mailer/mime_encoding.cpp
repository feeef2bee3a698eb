#include "mailer/mime_encoding.hpp"

#include <chrono>
#include <cstdio>

namespace dunning::mailer::detail {
namespace {

constexpr std::size_t qp_max_line = 76;
constexpr std::size_t header_max_line = 78;

std::string hex_escape(unsigned char c) {
    static constexpr char digits[] = "0123456789ABCDEF";
    return {'=', digits[c >> 4], digits[c & 0x0F]};
}

// One input octet as it appears in the encoded body.
std::string qp_token(unsigned char c, bool before_line_end, bool at_line_start) {
    if (c == ' ' || c == '\t') return before_line_end ? hex_escape(c) : std::string(1, c);
    if (c == '.' && at_line_start) return hex_escape(c);
    if (c >= 33 && c <= 126 && c != '=') return std::string(1, c);
    return hex_escape(c);
}

void encode_qp_line(std::string_view line, std::string& out) {
    std::size_t column = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        const bool last = i + 1 == line.size();
        std::string token = qp_token(c, last, column == 0);
        // A line that continues needs room for its soft break '='.
        const std::size_t limit = last ? qp_max_line : qp_max_line - 1;
        if (column + token.size() > limit) {
            out += "=\r\n";
            column = 0;
            token = qp_token(c, last, true);
        }
        out += token;
        column += token.size();
    }
}

// Length of the UTF-8 sequence starting at text[i], or 1 for a stray or truncated octet.
std::size_t utf8_length(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t n = 1;
    if (lead >= 0xF0 && lead <= 0xF4)
        n = 4;
    else if (lead >= 0xE0)
        n = lead <= 0xEF ? 3 : 1;
    else if (lead >= 0xC2)
        n = 2;
    if (i + n > text.size()) return 1;
    for (std::size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 1;
    return n;
}

bool is_wsp(char c) {
    return c == ' ' || c == '\t';
}

// Pieces of `value`, each after the first starting with the whitespace a fold may precede.
std::vector<std::string_view> fold_points(std::string_view value) {
    std::vector<std::string_view> pieces;
    std::size_t start = 0;
    for (std::size_t i = 1; i + 1 < value.size(); ++i) {
        if (is_wsp(value[i]) && !is_wsp(value[i + 1])) {
            pieces.push_back(value.substr(start, i - start));
            start = i;
        }
    }
    pieces.push_back(value.substr(start));
    return pieces;
}

} // namespace

std::string quoted_printable(std::string_view text) {
    std::string out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\r' && text[i] != '\n') continue;
        encode_qp_line(text.substr(start, i - start), out);
        out += "\r\n";
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        start = i + 1;
    }
    encode_qp_line(text.substr(start), out);
    return out;
}

std::vector<std::string> encoded_words(std::string_view text, std::size_t max_bytes) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = start;
        while (end < text.size()) {
            const std::size_t n = utf8_length(text, end);
            if (end + n - start > max_bytes && end > start) break;
            end += n;
        }
        words.push_back("=?UTF-8?B?" + base64(text.substr(start, end - start)) + "?=");
        start = end;
    }
    return words;
}

std::string fold_header(std::string_view name, std::string_view value) {
    std::string out = std::string(name) + ": ";
    std::size_t column = out.size();
    bool line_has_value = false;
    for (std::string_view piece : fold_points(value)) {
        if (line_has_value && column + piece.size() > header_max_line) {
            out += "\r\n";
            column = 0;
        }
        out += piece;
        column += piece.size();
        line_has_value = true;
    }
    return out + "\r\n";
}

bool lines_fit(std::string_view folded) {
    std::size_t start = 0;
    while (start < folded.size()) {
        std::size_t end = folded.find("\r\n", start);
        if (end == std::string_view::npos) end = folded.size();
        if (end - start > header_max_line) return false;
        start = end + 2;
    }
    return true;
}

std::string strip_line_breaks(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value)
        if (c != '\r' && c != '\n' && c != '\0') out += c;
    return out;
}

std::string rfc5322_date(Timestamp t) {
    using namespace std::chrono;
    static constexpr const char* weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto day_start = floor<days>(t);
    const year_month_day ymd{day_start};
    const weekday wd{day_start};
    const hh_mm_ss hms{t - day_start};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                  weekdays[wd.c_encoding()], static_cast<unsigned>(ymd.day()),
                  months[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()));
    return buf;
}

std::string base64(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        std::uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[(group >> 18) & 63];
        out += alphabet[(group >> 12) & 63];
        out += i + 1 < bytes.size() ? alphabet[(group >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? alphabet[group & 63] : '=';
    }
    return out;
}

std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed) {
    std::uint64_t h = seed;
    for (char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string hex64(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

} // namespace dunning::mailer::detail
