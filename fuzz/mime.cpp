// Emails as bytes with hostile headers and bodies (CR/LF in names and subjects, non-ASCII,
// long lines, lone dots): 7-bit, CRLF only, no line over 998 octets, no line a mail server
// could take for the end of DATA, exactly the headers we write, and bodies and encoded-words
// that decode back to what was given.
#include "mailer/mime.hpp"
#include "check.hpp"
#include "mailer/mime_encoding.hpp"

#include <fuzzer/FuzzedDataProvider.h>
#include <map>
#include <string>
#include <vector>

using namespace dunning;
using dunning::fuzz::check;

namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string qp_decode(std::string_view qp) {
    std::string out;
    for (std::size_t i = 0; i < qp.size(); ++i) {
        if (qp[i] != '=') {
            out += qp[i];
        } else if (qp.substr(i, 3) == "=\r\n") {
            i += 2;
        } else {
            check(i + 2 < qp.size() && hex(qp[i + 1]) >= 0 && hex(qp[i + 2]) >= 0,
                  "quoted-printable '=' is followed by two upper-case hex digits");
            out += char(hex(qp[i + 1]) * 16 + hex(qp[i + 2]));
            i += 2;
        }
    }
    return out;
}

std::string crlf(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' || text[i] == '\n') {
            out += "\r\n";
            if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string base64_decode(std::string_view in) {
    static const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        const auto v = alphabet.find(c);
        check(v != std::string_view::npos, "base64 holds base64 characters only");
        buffer = buffer << 6 | unsigned(v);
        if ((bits += 6) >= 8) out += char(buffer >> (bits -= 8) & 0xFF);
    }
    return out;
}

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const int more = c < 0x80                 ? 0
                         : c >= 0xC2 && c <= 0xDF ? 1
                         : c >= 0xE0 && c <= 0xEF ? 2
                         : c >= 0xF0 && c <= 0xF4 ? 3
                                                  : -1;
        if (more < 0 || i + more >= s.size() + (more == 0)) return more == 0;
        for (int k = 1; k <= more; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += more + 1;
    }
    return true;
}

void check_encoded_words(std::string_view text) {
    std::string decoded;
    for (const auto& word : mailer::detail::encoded_words(text)) {
        check(word.size() <= 75, "an encoded-word has at most 75 characters", word);
        check(word.starts_with("=?UTF-8?B?") && word.ends_with("?="), "an encoded-word", word);
        const std::string bytes = base64_decode(word.substr(10, word.size() - 12));
        check(!valid_utf8(text) || valid_utf8(bytes), "no encoded-word splits a character", word);
        decoded += bytes;
    }
    check(decoded == text, "encoded-words decode to the text");
}

void check_message(const std::string& m) {
    std::map<std::string, int> seen;
    bool in_headers = true;
    std::size_t start = 0;
    while (start < m.size()) {
        const auto end = m.find("\r\n", start);
        check(end != std::string::npos, "the message ends with CRLF");
        const std::string_view line(m.data() + start, end - start);
        check(line.size() <= 998, "no line is over 998 octets");
        check(line.find_first_of("\r\n") == std::string_view::npos, "no bare CR or LF");
        check(!line.starts_with("."), "no line starts with a dot", line);
        for (char c : line)
            check(c != '\0' && (static_cast<unsigned char>(c) & 0x80) == 0, "7-bit, no NUL");
        if (in_headers && line.empty()) {
            in_headers = false;
        } else if (in_headers && line[0] != ' ' && line[0] != '\t') {
            const auto colon = line.find(':');
            check(colon != std::string_view::npos, "a header line has a name", line);
            ++seen[std::string(line.substr(0, colon))];
        }
        start = end + 2;
    }
    check(!in_headers, "the headers end");
    for (const char* name :
         {"Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type"})
        check(seen[name] == 1, "each header once", name);
    const std::size_t expected = seen.count("Reply-To") ? 8 : 7;
    check(seen.size() == expected && (expected == 7 || seen["Reply-To"] == 1), "no header but ours",
          m.substr(0, m.find("\r\n\r\n")));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    mailer::Email e;
    e.from = in.ConsumeRandomLengthString(100);
    e.to = in.ConsumeRandomLengthString(100);
    e.reply_to = in.ConsumeRandomLengthString(100);
    e.subject = in.ConsumeRandomLengthString(300);
    e.message_id = in.ConsumeRandomLengthString(80);
    e.date = from_unix(in.ConsumeIntegralInRange<std::int64_t>(0, 253402300799));
    e.html = in.ConsumeRandomLengthString(2000);
    e.text = in.ConsumeRemainingBytesAsString();

    check_message(mailer::build_mime(e));
    check(qp_decode(mailer::detail::quoted_printable(e.text)) == crlf(e.text),
          "quoted-printable decodes to the text with CRLF line ends");
    check_encoded_words(e.subject);
    for (const std::string* mailbox : {&e.from, &e.to, &e.reply_to}) {
        const std::string address = mailer::address_of(*mailbox);
        check(address.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
              "an address has no line break or NUL", address);
        check(address.empty() || address.find('@') != std::string::npos, "an address has an @");
    }
    return 0;
}
