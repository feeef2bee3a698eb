#include "mailer/mime.hpp"

#include "mailer/mime_encoding.hpp"

#include <cstring>
#include <initializer_list>
#include <optional>

namespace dunning::mailer {
namespace {

using namespace detail;

struct Mailbox {
    std::string name; // unquoted display name, may be empty
    std::string address;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

bool is_atext(char c) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z')) return true;
    return c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

// A plain dot-atom addr-spec: one '@', printable ASCII, no specials. Quoted local parts and
// non-ASCII (SMTPUTF8) addresses are not supported.
bool is_valid_address(std::string_view a) {
    const auto at = a.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == a.size()) return false;
    if (a.find('@', at + 1) != std::string_view::npos) return false;
    for (char c : a) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7F || std::strchr("()<>,;:\\\"[]", c) != nullptr) return false;
    }
    return true;
}

bool needs_encoding(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x80 || u == 0x7F || (u < 0x20 && c != '\t')) return true;
    }
    return false;
}

// A display name as written: quotes dropped, backslash escapes inside quotes resolved.
std::string unquote(std::string_view raw) {
    std::string out;
    bool quoted = false;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\' && quoted && i + 1 < raw.size()) {
            out += raw[++i];
        } else if (raw[i] == '"') {
            quoted = !quoted;
        } else {
            out += raw[i];
        }
    }
    return std::string(trim(out));
}

std::size_t angle_outside_quotes(std::string_view s) {
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && quoted)
            ++i;
        else if (s[i] == '"')
            quoted = !quoted;
        else if (s[i] == '<' && !quoted)
            return i;
    }
    return std::string_view::npos;
}

std::optional<Mailbox> parse_mailbox(std::string_view s) {
    s = trim(s);
    const auto lt = angle_outside_quotes(s);
    if (lt == std::string_view::npos) {
        if (!is_valid_address(s)) return std::nullopt;
        return Mailbox{"", std::string(s)};
    }
    const auto gt = s.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    const auto address = trim(s.substr(lt + 1, gt - lt - 1));
    if (!is_valid_address(address)) return std::nullopt;
    return Mailbox{unquote(s.substr(0, lt)), std::string(address)};
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words)
        out += (out.empty() ? "" : " ") + w;
    return out;
}

// Atoms separated by single spaces, and nothing a decoder could take for an encoded-word.
bool is_plain_phrase(std::string_view name) {
    if (name.empty() || name.front() == ' ' || name.back() == ' ') return false;
    if (name.find("  ") != std::string_view::npos || name.find("=?") != std::string_view::npos)
        return false;
    for (char c : name)
        if (c != ' ' && !is_atext(c)) return false;
    return true;
}

std::string phrase(std::string_view name) {
    if (needs_encoding(name)) return join(encoded_words(name));
    if (is_plain_phrase(name)) return std::string(name);
    std::string quoted = "\"";
    for (char c : name) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
    }
    return quoted + '"';
}

std::string mailbox_header(std::string_view name, const std::string& raw) {
    const std::string clean = strip_line_breaks(raw);
    const auto mailbox = parse_mailbox(clean);
    // No usable address: keep what was given, but only as a harmless display name.
    if (!mailbox) return fold_header(name, phrase(trim(clean)));
    if (mailbox->name.empty()) return fold_header(name, mailbox->address);
    return fold_header(name, phrase(mailbox->name) + " <" + mailbox->address + ">");
}

std::string subject_header(const std::string& raw) {
    const std::string clean = strip_line_breaks(raw);
    if (!needs_encoding(clean) && clean.find("=?") == std::string::npos) {
        std::string folded = fold_header("Subject", clean);
        if (lines_fit(folded)) return folded;
    }
    // Encoded-words can be split anywhere between characters, so they always fold.
    return fold_header("Subject", join(encoded_words(clean)));
}

std::string message_id(const Email& e) {
    std::string id;
    for (char c : e.message_id)
        if (c > 0x20 && c < 0x7F) id += c;
    const auto lt = id.find('<');
    const auto gt = id.find('>', lt == std::string::npos ? 0 : lt);
    if (lt != std::string::npos && gt != std::string::npos) id = id.substr(lt, gt - lt + 1);
    if (id.empty() || id == "<>")
        id = "<" + hex64(fnv1a(e.subject + '\0' + e.text + '\0' + e.html + '\0' + e.to)) +
             "@dunning.invalid>";
    if (id.front() != '<') id.insert(0, "<");
    if (id.back() != '>') id += '>';
    return id;
}

// Starting with "=_" it cannot occur in quoted-printable text ('=' is always followed by hex
// digits or a line end there); the loop makes sure of it for the raw bodies as well.
std::string boundary_for(const Email& e, std::string_view text_qp, std::string_view html_qp) {
    const std::uint64_t seed = fnv1a(e.html, fnv1a(e.text));
    for (std::uint64_t salt = 0;; ++salt) {
        std::string b = "=_dunning_" + hex64(fnv1a(hex64(salt), seed));
        bool clash = false;
        for (std::string_view body :
             {text_qp, html_qp, std::string_view(e.text), std::string_view(e.html)})
            clash = clash || body.find(b) != std::string_view::npos;
        if (!clash) return b;
    }
}

std::string headers(const Email& e, const std::string& boundary) {
    std::string h = "Date: " + rfc5322_date(e.date) + "\r\n";
    h += mailbox_header("From", e.from);
    h += mailbox_header("To", e.to);
    if (!trim(strip_line_breaks(e.reply_to)).empty()) h += mailbox_header("Reply-To", e.reply_to);
    h += subject_header(e.subject);
    h += "Message-ID: " + message_id(e) + "\r\n";
    h += "MIME-Version: 1.0\r\n";
    h += "Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n";
    return h;
}

std::string part(std::string_view type, std::string_view qp, const std::string& boundary) {
    std::string p = "--" + boundary + "\r\n";
    p += "Content-Type: " + std::string(type) + "; charset=UTF-8\r\n";
    p += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    p += qp;
    return p + "\r\n"; // this CRLF belongs to the next delimiter (RFC 2046 5.1.1)
}

} // namespace

std::string build_mime(const Email& email) {
    const std::string text = quoted_printable(email.text);
    const std::string html = quoted_printable(email.html);
    const std::string boundary = boundary_for(email, text, html);
    std::string out = headers(email, boundary);
    out += "\r\n";
    out += part("text/plain", text, boundary);
    out += part("text/html", html, boundary);
    out += "--" + boundary + "--\r\n";
    return out;
}

std::string address_of(const std::string& mailbox) {
    if (mailbox.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return {};
    const auto parsed = parse_mailbox(mailbox);
    return parsed ? parsed->address : std::string{};
}

} // namespace dunning::mailer
