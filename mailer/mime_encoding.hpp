#pragma once
// Building blocks of build_mime, exposed for its tests: quoted-printable bodies (RFC 2045),
// encoded-words (RFC 2047), header folding and the date (RFC 5322). All output is 7-bit ASCII.
#include "core/time.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::mailer::detail {

// Lines of at most 76 octets with CRLF ends; any line end in `text` (LF, CR, CRLF) becomes CRLF.
// '=', non-ASCII, controls and whitespace before a line end are =XX, and so is a '.' starting a
// line, so no line of the body can end an SMTP DATA or be mangled by dot-stuffing.
std::string quoted_printable(std::string_view text);

// `text` as "=?UTF-8?B?...?=" words of at most `max_bytes` octets of UTF-8 each (68 characters
// for the default), never splitting a UTF-8 sequence.
std::vector<std::string> encoded_words(std::string_view text, std::size_t max_bytes = 42);

// "Name: value" folded before whitespace so lines stay within 78 characters where the value
// allows it; CRLF after the last line.
std::string fold_header(std::string_view name, std::string_view value);

// Whether every line of a folded header (CRLF separated) has at most 78 characters.
bool lines_fit(std::string_view folded);

// `value` without CR, LF and NUL: a header value can never start a new header.
std::string strip_line_breaks(std::string_view value);

// "Wed, 03 Mar 2027 09:00:00 +0000"
std::string rfc5322_date(Timestamp t);

std::string base64(std::string_view bytes);
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t seed = 0xcbf29ce484222325ULL);
std::string hex64(std::uint64_t v);

} // namespace dunning::mailer::detail
