// One validating pass over a Stripe event body (see envelope_scan.hpp), built like nlohmann's
// parser so that it fails where nlohmann fails: a lexer reads each token whole, and an error is
// the byte where a token went wrong, or the end of a token that stands where it may not.
#include "webhook/envelope_scan.hpp"

#include "webhook/json_reader.hpp" // plausible_unix_time

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

namespace dunning::webhook {

namespace {

using scan::Kind;
using scan::Member;

Err<std::string> failure(std::string message) {
    return {std::move(message)};
}

// Bytes a string holds as they are: printable ASCII but the quote and the backslash.
constexpr std::array<bool, 256> plain_bytes = [] {
    std::array<bool, 256> plain{};
    for (int c = 0x20; c < 0x80; ++c)
        plain[c] = c != '"' && c != '\\';
    return plain;
}();

bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The exponent after e/E, clamped far beyond any double's range.
std::int64_t clamped_exponent(std::string_view text) {
    bool negative = text.front() == '-';
    if (text.front() == '-' || text.front() == '+') text.remove_prefix(1);
    std::int64_t value = 0;
    for (char c : text)
        value = std::min<std::int64_t>(value * 10 + (c - '0'), 1'000'000'000);
    return negative ? -value : value;
}

// nlohmann rejects a number whose double is infinite ("number overflow"). Below 10^308 none
// is and from 10^309 on all are; in between, the correctly rounded converter decides.
bool finite(std::string_view token) {
    std::size_t e = token.find_first_of("eE");
    if (e == std::string_view::npos && token.size() < 300) return true;
    std::string_view mantissa = token.substr(0, e);
    if (mantissa.front() == '-') mantissa.remove_prefix(1);
    std::size_t dot = std::min(mantissa.find('.'), mantissa.size());
    std::int64_t magnitude = std::int64_t(dot) - 1; // of the leading digit, when it is not 0
    if (mantissa.front() == '0') {
        std::size_t nonzero = mantissa.find_first_not_of("0.");
        if (nonzero == std::string_view::npos) return true; // zero, whatever the exponent
        magnitude = std::int64_t(dot) - std::int64_t(nonzero);
    }
    if (e != std::string_view::npos) magnitude += clamped_exponent(token.substr(e + 1));
    if (magnitude != 308) return magnitude < 308;
    double value = 0;
    return std::from_chars(token.data(), token.data() + token.size(), value).ec == std::errc();
}

template <class Out> void append_utf8(Out& out, unsigned code) {
    int tail = code < 0x80 ? 0 : code < 0x800 ? 1 : code < 0x10000 ? 2 : 3;
    constexpr unsigned char lead[] = {0x00, 0xC0, 0xE0, 0xF0};
    out.push_back(static_cast<char>(lead[tail] | code >> (6 * tail)));
    for (int shift = 6 * (tail - 1); shift >= 0; shift -= 6)
        out.push_back(static_cast<char>(0x80 | (code >> shift & 0x3F)));
}

unsigned hex_at(std::string_view text, std::size_t at) {
    unsigned code = 0;
    for (std::size_t i = at; i < at + 4; ++i)
        code = code * 16 + unsigned(hex_value(text[i]));
    return code;
}

// Decodes a string the scanner has validated, so every escape is complete and well formed.
template <class Out> void unescape(std::string_view raw, Out& out) {
    constexpr std::string_view escapes = "bfnrt", bytes = "\b\f\n\r\t";
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\') {
            out.push_back(raw[i]);
        } else if (char c = raw[++i]; c != 'u') {
            std::size_t k = escapes.find(c);
            out.push_back(k == std::string_view::npos ? c : bytes[k]); // or " \ /
        } else {
            unsigned code = hex_at(raw, i + 1);
            i += 4;
            if (code >= 0xD800 && code <= 0xDBFF) { // a low surrogate follows: \uDCxx
                code = 0x10000 + ((code - 0xD800) << 10) + (hex_at(raw, i + 3) - 0xDC00);
                i += 6;
            }
            append_utf8(out, code);
        }
    }
}

// Room for the longest key or value the scanner compares; anything longer matches nothing.
struct ShortText {
    char data[8];
    std::size_t size = 0;
    void push_back(char c) {
        if (size < sizeof data) data[size] = c;
        ++size;
    }
};

bool equals(const Member& member, std::string_view word) {
    if (member.kind != Kind::string) return false;
    if (!member.escaped) return member.text == word;
    ShortText decoded;
    unescape(member.text, decoded);
    return decoded.size <= sizeof decoded.data &&
           std::string_view(decoded.data, decoded.size) == word;
}

std::string text(const Member& member) {
    if (member.kind != Kind::string) return {};
    if (!member.escaped) return std::string(member.text);
    std::string decoded;
    decoded.reserve(member.text.size());
    unescape(member.text, decoded);
    return decoded;
}

} // namespace

namespace scan {

Scanner::Scanner(std::string_view body)
    : begin_(reinterpret_cast<Byte>(body.data())), p_(begin_), end_(begin_ + body.size()) {}

bool Scanner::run() {
    Member root;
    if (!bom() || !value(next(), 0, &root, Role::root)) return false;
    fields_.root = root.kind;
    Token after = next();
    return after == Token::end || unexpected(after);
}

bool Scanner::value(Token token, int depth, Member* into, Role role) {
    bool ok = token == Token::begin_object  ? object(depth + 1, role)
              : token == Token::begin_array ? array(depth + 1)
                                            : token == Token::scalar || unexpected(token);
    if (ok && into)
        *into = token == Token::begin_object  ? Member{Kind::object, {}, false}
                : token == Token::begin_array ? Member{Kind::array, {}, false}
                                              : token_;
    return ok;
}

// Too deep fails anywhere; scan_envelope then reports the depth, as parse_envelope always did.
bool Scanner::object(int depth, Role role) {
    if (depth > max_depth) return fail_after(p_);
    if (role == Role::data) fields_.data_object = {};
    Token token = next();
    if (token == Token::end_object) return true;
    while (true) {
        if (token != Token::scalar || token_.kind != Kind::string) return unexpected(token);
        Member* into = slot(role, token_);
        if ((token = next()) != Token::colon) return unexpected(token);
        Role inner = into == &fields_.data ? Role::data : Role::other;
        if (!value(next(), depth, into, inner)) return false;
        if ((token = next()) == Token::end_object) return true;
        if (token != Token::comma) return unexpected(token);
        token = next();
    }
}

bool Scanner::array(int depth) {
    if (depth > max_depth) return fail_after(p_);
    Token token = next();
    if (token == Token::end_array) return true;
    while (true) {
        if (!value(token, depth, nullptr, Role::other)) return false;
        if ((token = next()) == Token::end_array) return true;
        if (token != Token::comma) return unexpected(token);
        token = next();
    }
}

// nlohmann reads a token whole before it finds that it may not stand here.
bool Scanner::unexpected(Token token) {
    if (token == Token::error) return false; // already placed where reading it went wrong
    return token == Token::end ? fail_at(end_) : fail_after(p_);
}

// Where a member's value is recorded, if it is one of the envelope's.
Member* Scanner::slot(Role role, const Member& key) {
    if (role == Role::data) return equals(key, "object") ? &fields_.data_object : nullptr;
    if (role != Role::root) return nullptr;
    for (auto [name, member] : {std::pair{"object", &fields_.object},
                                {"id", &fields_.id},
                                {"type", &fields_.type},
                                {"account", &fields_.account},
                                {"created", &fields_.created},
                                {"data", &fields_.data}})
        if (equals(key, name)) return member;
    return nullptr;
}

Scanner::Token Scanner::next() {
    skip_whitespace();
    if (p_ == end_) return Token::end;
    bool ok = true;
    switch (Byte start = p_; *p_) {
    case '{':
    case '}':
    case '[':
    case ']':
    case ':':
    case ',':
        return Token(*p_++);
    case '"':
        ok = string();
        break;
    case 't':
        ok = literal("true", Kind::boolean);
        break;
    case 'f':
        ok = literal("false", Kind::boolean);
        break;
    case 'n':
        ok = literal("null", Kind::null);
        break;
    default:
        ok = (*p_ == '-' || is_digit(*p_) || fail_at(p_)) && number() &&
             (finite(text_from(start)) || fail_after(p_));
        token_ = {Kind::number, text_from(start)};
    }
    return ok ? Token::scalar : Token::error;
}

// nlohmann skips a UTF-8 byte order mark, and only a whole one, at the very start.
bool Scanner::bom() {
    if (p_ == end_ || *p_ != 0xEF) return true;
    ++p_;
    return expect('\xBB') && expect('\xBF');
}

bool Scanner::string() {
    Byte start = ++p_;
    bool escaped = false;
    while (true) {
        while (p_ != end_ && plain_bytes[*p_])
            ++p_;
        if (p_ == end_) return fail_at(end_);
        if (*p_ == '"') break;
        if (*p_ == '\\') {
            escaped = true;
            if (!escape()) return false;
        } else if (*p_ < 0x20) {
            return fail_at(p_);
        } else if (!utf8()) {
            return false;
        }
    }
    token_ = {Kind::string, text_from(start), escaped};
    return ++p_, true;
}

bool Scanner::escape() {
    if (++p_ == end_) return fail_at(end_);
    if (std::string_view("\"\\/bfnrt").find(char(*p_)) != std::string_view::npos) return ++p_, true;
    if (*p_++ != 'u') return fail_at(p_ - 1);
    unsigned code = 0;
    if (!hex4(code)) return false;
    if (code >= 0xDC00 && code <= 0xDFFF) return fail_after(p_); // a low surrogate alone
    if (code < 0xD800 || code > 0xDBFF) return true;
    if (!expect('\\') || !expect('u') || !hex4(code)) return false;
    return (code >= 0xDC00 && code <= 0xDFFF) || fail_after(p_);
}

bool Scanner::hex4(unsigned& code) {
    code = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
        if (p_ == end_) return fail_at(end_);
        int digit = hex_value(*p_);
        if (digit < 0) return fail_at(p_);
        code = code * 16 + unsigned(digit);
    }
    return true;
}

// One multi-byte UTF-8 sequence, by RFC 3629's table: no overlongs, no surrogates, ≤ U+10FFFF.
bool Scanner::utf8() {
    unsigned char lead = *p_, low = 0x80, high = 0xBF;
    int more = lead >= 0xC2 && lead <= 0xDF ? 1 : lead >= 0xE0 && lead <= 0xEF ? 2 : 3;
    if (lead < 0xC2 || lead > 0xF4) return fail_at(p_);
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
    for (++p_; more > 0; --more, ++p_, low = 0x80, high = 0xBF) {
        if (p_ == end_) return fail_at(end_);
        if (*p_ < low || *p_ > high) return fail_at(p_);
    }
    return true;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, up to the first byte that cannot go on.
bool Scanner::number() {
    if (*p_ == '-') ++p_;
    if (p_ != end_ && *p_ == '0')
        ++p_;
    else if (!digits())
        return false;
    if (p_ != end_ && *p_ == '.' && (++p_, !digits())) return false;
    if (p_ == end_ || (*p_ != 'e' && *p_ != 'E')) return true;
    if (++p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    return digits();
}

bool Scanner::digits() {
    if (p_ == end_) return fail_at(end_);
    if (!is_digit(*p_)) return fail_at(p_);
    while (++p_ != end_ && is_digit(*p_)) {
    }
    return true;
}

bool Scanner::literal(std::string_view word, Kind kind) {
    for (char c : word)
        if (!expect(c)) return false;
    token_ = {kind, {}, false};
    return true;
}

bool Scanner::expect(char c) {
    if (p_ == end_) return fail_at(end_);
    if (*p_ != static_cast<unsigned char>(c)) return fail_at(p_);
    return ++p_, true;
}

void Scanner::skip_whitespace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t'))
        ++p_;
}

} // namespace scan

namespace {

bool wrong_type(const Member& member, Kind wanted) {
    return member.kind != Kind::absent && member.kind != Kind::null && member.kind != wanted;
}

// JsonReader::time over nlohmann's number types: unsigned, signed (a '-'), or else a float.
const char* read_created(const Member& member, std::optional<std::int64_t>& seconds) {
    if (member.kind == Kind::absent || member.kind == Kind::null) return nullptr;
    std::string_view token = member.text;
    if (member.kind != Kind::number || token.find_first_of(".eE") != std::string_view::npos)
        return "an integer";
    const char* last = token.data() + token.size();
    std::int64_t value = 0;
    if (token.front() != '-') {
        std::uint64_t unsigned_value = 0;
        if (std::from_chars(token.data(), last, unsigned_value).ec != std::errc())
            return "an integer"; // too big for any integer: nlohmann reads a float
        if (unsigned_value > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
            return "an integer in range";
        value = std::int64_t(unsigned_value);
    } else if (std::from_chars(token.data(), last, value).ec != std::errc()) {
        return "an integer";
    }
    if (!plausible_unix_time(value)) return "a unix time";
    seconds = value;
    return nullptr;
}

// The first problem JsonReader records, reading id, type, account, created and data in turn.
std::string field_error(const scan::Fields& fields, std::optional<std::int64_t>& created) {
    auto expected = [](std::string key, std::string_view what) {
        return "event." + key + ": expected " + std::string(what);
    };
    if (wrong_type(fields.id, Kind::string)) return expected("id", "a string");
    if (wrong_type(fields.type, Kind::string)) return expected("type", "a string");
    if (wrong_type(fields.account, Kind::string)) return expected("account", "a string");
    if (const char* what = read_created(fields.created, created)) return expected("created", what);
    if (wrong_type(fields.data, Kind::object)) return expected("data", "an object");
    return {};
}

Result<Envelope, std::string> read_envelope(const scan::Fields& fields) {
    if (fields.root != Kind::object || !equals(fields.object, "event"))
        return failure("not an event object");
    std::optional<std::int64_t> created;
    if (std::string error = field_error(fields, created); !error.empty()) return failure(error);
    Envelope envelope{text(fields.id), text(fields.type), text(fields.account),
                      created ? from_unix(*created) : Timestamp{}};
    if (envelope.id.empty()) return failure("event has no id");
    if (envelope.type.empty()) return failure("event has no type");
    if (fields.data.kind != Kind::object || fields.data_object.kind != Kind::object)
        return failure("event has no data.object");
    return envelope;
}

// The checks parse_envelope made, in its order: depth, NUL bytes, emptiness, syntax.
std::string malformed(std::string_view body, std::size_t position) {
    constexpr int limit = scan::Scanner::max_depth;
    if (nested_deeper_than(body, limit))
        return "JSON nested deeper than " + std::to_string(limit) + " levels";
    if (auto nul = body.find('\0'); nul != std::string_view::npos)
        position = nul + 1;
    else if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
        return "empty body";
    return "malformed JSON at byte " + std::to_string(position);
}

} // namespace

Result<Envelope, std::string> scan_envelope(std::string_view body) {
    try {
        scan::Scanner scanner(body);
        if (!scanner.run()) return failure(malformed(body, scanner.error_position()));
        return read_envelope(scanner.fields());
    } catch (const std::exception& e) { // bad_alloc; nothing else is expected to throw
        return failure(std::string("could not read event: ") + e.what());
    }
}

// Counts brackets in one pass over the bytes, before any parser builds (and every later walk
// recurses through) a tree that deep. Brackets inside strings do not count.
bool nested_deeper_than(std::string_view body, int limit) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const char c = body[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit) return true;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return false;
}

} // namespace dunning::webhook
