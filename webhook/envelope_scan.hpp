#pragma once
// The receiver's fast path: one validating pass over a Stripe event body that accepts exactly
// what nlohmann::json::parse accepts (RFC 8259 JSON, a leading UTF-8 BOM; depth ≤ 128 and no
// NUL byte, as parse_envelope always required) and picks out the envelope on the way, with no
// tree and no allocation but the strings it returns. Internal to webhook/ and its tests.
#include "webhook/event_parser.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace dunning::webhook {

// What parse_envelope answers: the same envelope, or the same message, as the reference.
Result<Envelope, std::string> scan_envelope(std::string_view body);

// The nlohmann DOM implementation parse_envelope had before; kept for differential tests.
Result<Envelope, std::string> parse_envelope_reference(std::string_view body);

// Whether brackets outside strings nest deeper than `limit`; both parsers reject such bodies
// before parsing.
bool nested_deeper_than(std::string_view body, int limit);

namespace scan {

enum class Kind : unsigned char { absent, null, boolean, number, string, array, object };

// The last occurrence of a member: with duplicate keys the last one wins, as in nlohmann.
struct Member {
    Kind kind = Kind::absent;
    std::string_view text; // a string's raw content between its quotes, or a number's token
    bool escaped = false;  // the string holds backslash escapes
};

struct Fields {
    Kind root = Kind::absent;
    Member object, id, type, account, created, data;
    Member data_object; // data.object, when data is an object
};

// Where an object sits: the event itself, the event's `data`, or anywhere else.
enum class Role : unsigned char { other, root, data };

class Scanner {
  public:
    static constexpr int max_depth = 128;

    explicit Scanner(std::string_view body);
    // True when the body is one JSON value; otherwise error_position() tells where it stops
    // being one, counted as nlohmann counts (1-based; the end of input is size() + 1).
    bool run();
    const Fields& fields() const { return fields_; }
    std::size_t error_position() const { return error_; }

  private:
    using Byte = const unsigned char*;
    // A structural token is its own character; strings, numbers and literals are scalars.
    enum class Token : char {
        end,
        error,
        scalar,
        colon = ':',
        comma = ',',
        begin_object = '{',
        end_object = '}',
        begin_array = '[',
        end_array = ']'
    };

    bool value(Token token, int depth, Member* into, Role role);
    bool object(int depth, Role role);
    bool array(int depth);
    bool unexpected(Token token);
    Member* slot(Role role, const Member& key);

    Token next(); // the next token, read whole; its text in token_ when a scalar
    bool bom();
    bool string();
    bool escape();
    bool hex4(unsigned& code);
    bool utf8();
    bool number();
    bool digits();
    bool literal(std::string_view word, Kind kind);
    bool expect(char c);
    void skip_whitespace();
    std::string_view text_from(Byte start) const {
        return {reinterpret_cast<const char*>(start), std::size_t(p_ - start)};
    }
    bool fail_at(Byte at) { return error_ = std::size_t(at - begin_) + 1, false; }
    bool fail_after(Byte end) { return error_ = std::size_t(end - begin_), false; }

    Byte begin_;
    Byte p_;
    Byte end_;
    Member token_;
    std::size_t error_ = 0;
    Fields fields_;
};

} // namespace scan
} // namespace dunning::webhook
