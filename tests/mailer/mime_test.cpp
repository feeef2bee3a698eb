#include "mailer/mime.hpp"
#include "mailer/mime_encoding.hpp"

#include <gtest/gtest.h>
#include <regex>
#include <string>
#include <vector>

namespace dunning::mailer {
namespace {

// ---- A small, independent MIME reader: just enough to check what build_mime wrote. ----

struct Header {
    std::string name;
    std::string value; // unfolded: CRLF removed, the whitespace after it kept
};

struct Entity {
    std::vector<Header> headers;
    std::string body;
    std::string raw_headers;

    std::string get(const std::string& name) const {
        for (const auto& h : headers)
            if (h.name == name) return h.value;
        return {};
    }
    int count(const std::string& name) const {
        int n = 0;
        for (const auto& h : headers)
            n += h.name == name;
        return n;
    }
};

std::vector<std::string> split_crlf(const std::string& s) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    for (auto end = s.find("\r\n"); end != std::string::npos; end = s.find("\r\n", start)) {
        lines.push_back(s.substr(start, end - start));
        start = end + 2;
    }
    if (start < s.size()) lines.push_back(s.substr(start));
    return lines;
}

Entity parse_entity(const std::string& msg) {
    Entity e;
    const auto end = msg.find("\r\n\r\n");
    e.raw_headers = msg.substr(0, end + 2);
    e.body = msg.substr(end + 4);
    for (const auto& line : split_crlf(e.raw_headers)) {
        if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
            e.headers.back().value += line;
            continue;
        }
        const auto colon = line.find(':');
        std::string value = line.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
        e.headers.push_back({line.substr(0, colon), value});
    }
    return e;
}

std::string boundary_of(const Entity& e) {
    std::smatch m;
    const std::string ct = e.get("Content-Type");
    EXPECT_TRUE(std::regex_search(ct, m, std::regex("boundary=\"([^\"]+)\"")));
    return m[1];
}

std::vector<Entity> parts_of(const Entity& e) {
    const std::string delimiter = "\r\n--" + boundary_of(e);
    const std::string body = "\r\n" + e.body;
    std::vector<Entity> parts;
    auto pos = body.find(delimiter);
    while (pos != std::string::npos) {
        const auto line_end = body.find("\r\n", pos + 2);
        const auto next = body.find(delimiter, line_end);
        if (next == std::string::npos) break;
        parts.push_back(parse_entity(body.substr(line_end + 2, next - line_end - 2)));
        pos = next;
    }
    return parts;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1000; // lower case or junk: not what an encoder may write
}

std::string decode_qp(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '=') {
            out += s[i];
        } else if (s.compare(i, 3, "=\r\n") == 0) {
            i += 2;
        } else {
            const int v = hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]);
            EXPECT_GE(v, 0) << "bad escape at " << i;
            out += static_cast<char>(v);
            i += 2;
        }
    }
    return out;
}

std::string decode_base64(const std::string& s) {
    static const std::string alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned bits = 0;
    int count = 0;
    for (char c : s) {
        if (c == '=') break;
        bits = (bits << 6) | static_cast<unsigned>(alphabet.find(c));
        if ((count += 6) >= 8) out += static_cast<char>((bits >> (count -= 8)) & 0xFF);
    }
    return out;
}

std::string decode_q(const std::string& s) {
    std::string spaced = s;
    for (char& c : spaced)
        if (c == '_') c = ' ';
    return decode_qp(spaced);
}

const std::regex encoded_word("=\\?UTF-8\\?([BbQq])\\?([^?]*)\\?=");

// RFC 2047: encoded-words decoded, whitespace between two adjacent ones dropped.
std::string decode_2047(const std::string& value) {
    std::string out;
    bool previous_encoded = false;
    auto last = value.cbegin();
    for (std::sregex_iterator it(value.begin(), value.end(), encoded_word), end; it != end; ++it) {
        const std::string between(last, (*it)[0].first);
        if (!(previous_encoded && between.find_first_not_of(" \t") == std::string::npos))
            out += between;
        const std::string kind = (*it)[1];
        out += kind == "B" || kind == "b" ? decode_base64((*it)[2]) : decode_q((*it)[2]);
        previous_encoded = true;
        last = (*it)[0].second;
    }
    return out + std::string(last, value.cend());
}

bool valid_utf8(const std::string& s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

std::string crlf(const std::string& s) {
    return std::regex_replace(s, std::regex("\r\n|\r|\n"), "\r\n");
}

Email sample() {
    Email e;
    e.from = "Demo Academy <billing@example.com>";
    e.to = "Mia Member <mia@example.org>";
    e.reply_to = "support@example.com";
    e.subject = "Zahlungserinnerung: Rechnung 2027-0042 über 49,00 €";
    e.text = "Hallo Mia,\n\nbitte zahle 49,00 € bis 17. März.\n";
    e.html = "<p>Hallo Mia,</p>\n<p>bitte zahle <b>49,00&nbsp;€</b>.</p>\n";
    e.message_id = "<case-12-reminder@dunning.example.com>";
    e.date = from_unix(1804064400); // 2027-03-03 09:00:00 UTC
    return e;
}

// ---- The message as a whole ----

TEST(Mime, HeadersAndStructure) {
    const std::string mime = build_mime(sample());
    const Entity m = parse_entity(mime);
    std::vector<std::string> names;
    for (const auto& h : m.headers)
        names.push_back(h.name);
    EXPECT_EQ(names, (std::vector<std::string>{"Date", "From", "To", "Reply-To", "Subject",
                                               "Message-ID", "MIME-Version", "Content-Type"}));
    EXPECT_EQ(m.get("Date"), "Wed, 03 Mar 2027 09:00:00 +0000");
    EXPECT_EQ(m.get("From"), "Demo Academy <billing@example.com>");
    EXPECT_EQ(m.get("To"), "Mia Member <mia@example.org>");
    EXPECT_EQ(m.get("Reply-To"), "support@example.com");
    EXPECT_EQ(m.get("Message-ID"), "<case-12-reminder@dunning.example.com>");
    EXPECT_EQ(m.get("MIME-Version"), "1.0");
    EXPECT_EQ(m.get("Content-Type").rfind("multipart/alternative;", 0), 0u);
    const auto parts = parts_of(m);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].get("Content-Type"), "text/plain; charset=UTF-8");
    EXPECT_EQ(parts[1].get("Content-Type"), "text/html; charset=UTF-8");
    for (const auto& p : parts)
        EXPECT_EQ(p.get("Content-Transfer-Encoding"), "quoted-printable");
    EXPECT_EQ(decode_qp(parts[0].body), crlf(sample().text));
    EXPECT_EQ(decode_qp(parts[1].body), crlf(sample().html));
    EXPECT_TRUE(mime.ends_with("--" + boundary_of(m) + "--\r\n"));
}

TEST(Mime, OutputIsSevenBitWithCrlfLinesOfBoundedLength) {
    Email e = sample();
    e.text = std::string(500, 'x') + "\nü\rö\r\n" + std::string(300, '=');
    const std::string mime = build_mime(e);
    const Entity m = parse_entity(mime);
    for (char c : mime)
        ASSERT_LT(static_cast<unsigned char>(c), 0x80);
    for (std::size_t i = 0; i < mime.size(); ++i) {
        if (mime[i] == '\n') {
            ASSERT_TRUE(i > 0 && mime[i - 1] == '\r') << "bare LF at " << i;
        }
        if (mime[i] == '\r') {
            ASSERT_TRUE(i + 1 < mime.size() && mime[i + 1] == '\n') << "bare CR at " << i;
        }
    }
    for (const auto& line : split_crlf(m.raw_headers))
        EXPECT_LE(line.size(), 78u) << line;
    for (const auto& line : split_crlf(m.body))
        EXPECT_LE(line.size(), 76u) << line;
}

TEST(Mime, SameEmailGivesTheSameBytes) {
    EXPECT_EQ(build_mime(sample()), build_mime(sample()));
}

TEST(Mime, ReplyToOnlyWhenSet) {
    Email e = sample();
    e.reply_to = "";
    EXPECT_EQ(parse_entity(build_mime(e)).count("Reply-To"), 0);
    e.reply_to = "Demo Support <support@example.com>";
    EXPECT_EQ(parse_entity(build_mime(e)).get("Reply-To"), "Demo Support <support@example.com>");
}

// ---- Date ----

TEST(MimeDate, ExactRfc5322FormatInUtc) {
    const std::pair<std::int64_t, const char*> cases[] = {
        {1804064400, "Wed, 03 Mar 2027 09:00:00 +0000"},
        {1835481599, "Tue, 29 Feb 2028 23:59:59 +0000"},
        {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
        {978246309, "Sun, 31 Dec 2000 07:05:09 +0000"},
    };
    for (const auto& [unix, expected] : cases) {
        Email e = sample();
        e.date = from_unix(unix);
        EXPECT_EQ(parse_entity(build_mime(e)).get("Date"), expected);
        EXPECT_EQ(detail::rfc5322_date(from_unix(unix)), expected);
    }
}

// ---- Subject ----

TEST(MimeSubject, AsciiStaysReadable) {
    Email e = sample();
    e.subject = "Payment reminder: invoice 2027-0042";
    EXPECT_NE(build_mime(e).find("\r\nSubject: Payment reminder: invoice 2027-0042\r\n"),
              std::string::npos);
}

TEST(MimeSubject, UmlautsAreEncodedWordsThatRoundTrip) {
    const std::string mime = build_mime(sample());
    const std::string raw = parse_entity(mime).get("Subject");
    EXPECT_EQ(raw.rfind("=?UTF-8?", 0), 0u) << raw;
    EXPECT_EQ(decode_2047(raw), sample().subject);
}

TEST(MimeSubject, LongSubjectsFoldAndNeverSplitACharacter) {
    Email e = sample();
    e.subject.clear();
    for (int i = 0; i < 12; ++i)
        e.subject += "Letzte Mahnung – Müßiggang kostet 1.234,56 € 🙂 ";
    const Entity m = parse_entity(build_mime(e));
    for (const auto& line : split_crlf(m.raw_headers))
        EXPECT_LE(line.size(), 78u) << line;
    const std::string raw = m.get("Subject");
    int words = 0;
    for (std::sregex_iterator it(raw.begin(), raw.end(), encoded_word), end; it != end; ++it) {
        ++words;
        EXPECT_LE((*it)[0].length(), 75);
        EXPECT_TRUE(valid_utf8(decode_base64((*it)[2]))) << (*it)[0];
    }
    EXPECT_GT(words, 5);
    EXPECT_EQ(decode_2047(raw), e.subject);
}

TEST(MimeSubject, LongAsciiFoldsAtSpacesAndUnfoldsToTheSame) {
    Email e = sample();
    e.subject = "";
    for (int i = 0; i < 20; ++i)
        e.subject += "word" + std::to_string(i) + "  and ";
    const Entity m = parse_entity(build_mime(e));
    EXPECT_EQ(m.raw_headers.find("=?"), std::string::npos);
    for (const auto& line : split_crlf(m.raw_headers))
        EXPECT_LE(line.size(), 78u) << line;
    EXPECT_EQ(m.get("Subject"), e.subject);
}

TEST(MimeSubject, UnbreakableOrLookalikeAsciiIsEncoded) {
    for (const std::string& subject :
         {std::string(120, 'x'), std::string("Re: =?UTF-8?B?SGk=?=")}) {
        Email e = sample();
        e.subject = subject;
        const Entity m = parse_entity(build_mime(e));
        for (const auto& line : split_crlf(m.raw_headers))
            EXPECT_LE(line.size(), 78u) << line;
        EXPECT_EQ(decode_2047(m.get("Subject")), subject);
    }
}

// ---- Bodies ----

TEST(MimeBody, QuotedPrintableRoundTripsAwkwardText) {
    Email e = sample();
    e.text = "a=b  \ntrailing tab\t\n\n" + std::string(200, 'y') + " end\n€ü and 🙂\n" +
             std::string(80, '=') + "\nno newline at end ";
    e.html = "<a href=\"https://pay.example.com/i?x=1&amp;y=2\">Jetzt zahlen</a>" +
             std::string(150, '-') + "\n";
    const auto parts = parts_of(parse_entity(build_mime(e)));
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(decode_qp(parts[0].body), crlf(e.text));
    EXPECT_EQ(decode_qp(parts[1].body), crlf(e.html));
}

TEST(MimeBody, LineEndsAreNormalisedToCrlf) {
    Email e = sample();
    e.text = "lf\ncrlf\r\ncr\rmixed\n\r\n";
    const auto parts = parts_of(parse_entity(build_mime(e)));
    EXPECT_EQ(decode_qp(parts[0].body), "lf\r\ncrlf\r\ncr\r\nmixed\r\n\r\n");
}

TEST(MimeBody, NoLineStartsWithADot) {
    Email e = sample();
    e.text = ".\nline\n.\n..\n.leading\n" + std::string(75, 'x') + ".after soft break\n.";
    const std::string mime = build_mime(e);
    for (const auto& line : split_crlf(mime))
        EXPECT_NE(line.rfind('.', 0), 0u) << line;
    EXPECT_EQ(decode_qp(parts_of(parse_entity(mime))[0].body), crlf(e.text));
}

TEST(MimeBody, BoundaryAppearsInNoBody) {
    Email e = sample();
    e.text = "--=_dunning_ ----\n--\n";
    e.html = "<hr>--=_dunning_0000000000000000--";
    const std::string mime = build_mime(e);
    const Entity m = parse_entity(mime);
    const std::string boundary = boundary_of(m);
    EXPECT_EQ(e.text.find(boundary), std::string::npos);
    EXPECT_EQ(e.html.find(boundary), std::string::npos);
    for (const auto& p : parts_of(m))
        EXPECT_EQ(p.body.find(boundary), std::string::npos);
    std::size_t count = 0;
    for (auto pos = mime.find(boundary); pos != std::string::npos;
         pos = mime.find(boundary, pos + 1))
        ++count;
    EXPECT_EQ(count, 4u); // the header, two delimiters, the close delimiter
}

// ---- Header injection, names, addresses ----

TEST(MimeHeaders, LineBreaksInValuesCannotAddHeaders) {
    Email e = sample();
    e.subject = "Hello\r\nBcc: victim@example.net";
    e.from = "Demo <billing@example.com>\r\nBcc: victim@example.net";
    e.to = "Mia <mia@example.org>\nX-Evil: 1";
    e.reply_to = "help@example.com\r\n\r\n<html>body</html>";
    e.message_id = "<id@example.com>\r\nX-Evil: 2";
    const Entity m = parse_entity(build_mime(e));
    std::vector<std::string> names;
    for (const auto& h : m.headers)
        names.push_back(h.name);
    EXPECT_EQ(names, (std::vector<std::string>{"Date", "From", "To", "Reply-To", "Subject",
                                               "Message-ID", "MIME-Version", "Content-Type"}));
    EXPECT_EQ(m.get("From"), "Demo <billing@example.com>");
    EXPECT_EQ(m.get("To"), "Mia <mia@example.org>");
    EXPECT_EQ(m.get("Subject"), "HelloBcc: victim@example.net");
    EXPECT_EQ(parts_of(m).size(), 2u);
    EXPECT_EQ(address_of(e.to), "");
    EXPECT_EQ(address_of(e.from), "");
}

TEST(MimeHeaders, NonAsciiDisplayNamesAreEncoded) {
    Email e = sample();
    e.from = "Jürgen Müßig <juergen@example.com>";
    e.to = "\"Müller, Zoë\" <zoe@example.org>";
    const Entity m = parse_entity(build_mime(e));
    EXPECT_EQ(m.get("From").rfind("=?UTF-8?", 0), 0u) << m.get("From");
    EXPECT_EQ(decode_2047(m.get("From")), "Jürgen Müßig <juergen@example.com>");
    EXPECT_EQ(decode_2047(m.get("To")), "Müller, Zoë <zoe@example.org>");
}

TEST(MimeHeaders, NamesWithSpecialsAreQuoted) {
    const std::pair<const char*, const char*> cases[] = {
        {"Doe, John <john@example.com>", "\"Doe, John\" <john@example.com>"},
        {"\"Dr. \\\"Q\\\" Smith\" <q@example.com>", "\"Dr. \\\"Q\\\" Smith\" <q@example.com>"},
        {"A (B) <ab@example.com>", "\"A (B)\" <ab@example.com>"},
        {"=?UTF-8?B?SGk=?= <x@example.com>", "\"=?UTF-8?B?SGk=?=\" <x@example.com>"},
        {"mia@example.org", "mia@example.org"},
        {"<mia@example.org>", "mia@example.org"},
        {"  Mia   <mia@example.org>  ", "Mia <mia@example.org>"},
    };
    for (const auto& [input, expected] : cases) {
        Email e = sample();
        e.to = input;
        EXPECT_EQ(parse_entity(build_mime(e)).get("To"), expected) << input;
        EXPECT_EQ(address_of(input), address_of(expected)) << input;
    }
}

TEST(MimeHeaders, AddressOf) {
    EXPECT_EQ(address_of("Mia <mia@example.org>"), "mia@example.org");
    EXPECT_EQ(address_of("mia@example.org"), "mia@example.org");
    EXPECT_EQ(address_of(" <mia@example.org> "), "mia@example.org");
    EXPECT_EQ(address_of("\"Ann <fake@evil.example>\" <ann@example.org>"), "ann@example.org");
    EXPECT_EQ(address_of("Jürgen Müßig <j@example.com>"), "j@example.com");
    EXPECT_EQ(address_of(""), "");
    EXPECT_EQ(address_of("Mia"), "");
    EXPECT_EQ(address_of("Mia <>"), "");
    EXPECT_EQ(address_of("Mia <mia@example.org"), "");
    EXPECT_EQ(address_of("mia@@example.org"), "");
    EXPECT_EQ(address_of("mia @example.org"), "");
    EXPECT_EQ(address_of(std::string("mia@example.org\0x", 17)), "");
    EXPECT_EQ(address_of("mia@example.org\r\n"), "");
}

TEST(MimeHeaders, MessageIdIsAngleBracketedAndStable) {
    Email e = sample();
    e.message_id = "case-7-final@dunning.example.com";
    EXPECT_EQ(parse_entity(build_mime(e)).get("Message-ID"), "<case-7-final@dunning.example.com>");
    e.message_id = "";
    const std::string generated = parse_entity(build_mime(e)).get("Message-ID");
    EXPECT_TRUE(std::regex_match(generated, std::regex("<[0-9a-f]{16}@dunning\\.invalid>")));
    EXPECT_EQ(parse_entity(build_mime(e)).get("Message-ID"), generated);
}

// ---- The encoders on their own ----

TEST(QuotedPrintable, EncodesWhatMustBeEncoded) {
    using detail::quoted_printable;
    EXPECT_EQ(quoted_printable("a=b"), "a=3Db");
    EXPECT_EQ(quoted_printable("end "), "end=20");
    EXPECT_EQ(quoted_printable("tab\t\nx"), "tab=09\r\nx");
    EXPECT_EQ(quoted_printable("in between ok"), "in between ok");
    EXPECT_EQ(quoted_printable("ü"), "=C3=BC");
    EXPECT_EQ(quoted_printable("."), "=2E");
    EXPECT_EQ(quoted_printable("a.b"), "a.b");
    EXPECT_EQ(quoted_printable(std::string(76, 'x')), std::string(76, 'x'));
    EXPECT_EQ(quoted_printable(std::string(77, 'x')),
              std::string(75, 'x') + "=\r\n" + std::string(2, 'x'));
}

TEST(QuotedPrintable, SoftBreaksNeverSplitAnEscape) {
    const std::string encoded = detail::quoted_printable(std::string(100, '='));
    for (const auto& line : split_crlf(encoded)) {
        EXPECT_LE(line.size(), 76u);
        const std::string content =
            line.ends_with("=") && line.size() % 3 == 1 ? line.substr(0, line.size() - 1) : line;
        EXPECT_EQ(content.size() % 3, 0u) << line;
    }
    EXPECT_EQ(decode_qp(encoded), std::string(100, '='));
}

TEST(EncodedWords, WholeCharactersOnly) {
    std::string euros;
    for (int i = 0; i < 30; ++i)
        euros += "€";
    const auto words = detail::encoded_words(euros);
    ASSERT_EQ(words.size(), 3u);
    std::string joined;
    for (const auto& w : words) {
        EXPECT_LE(w.size(), 75u);
        const std::string bytes = decode_2047(w);
        EXPECT_TRUE(valid_utf8(bytes));
        joined += bytes;
    }
    EXPECT_EQ(joined, euros);
}

} // namespace
} // namespace dunning::mailer
