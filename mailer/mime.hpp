#pragma once
// An email as bytes: multipart/alternative (text, then HTML), UTF-8, quoted-printable bodies,
// RFC 2047 encoded subject and display names, CRLF line ends, lines under 998 octets.
#include "core/time.hpp"

#include <string>

namespace dunning::mailer {

struct Email {
    std::string from;       // "Demo Academy <billing@example.com>"
    std::string to;         // "Mia Member <mia@example.org>" or a bare address
    std::string reply_to;   // may be empty
    std::string subject;    // UTF-8
    std::string text;       // UTF-8, LF or CRLF line ends
    std::string html;       // UTF-8
    std::string message_id; // "<case-12-reminder@dunning.example.com>", stable per case and stage
    Timestamp date{};
};

std::string build_mime(const Email& email);

// The bare address of an RFC 5322 mailbox ("Mia <mia@example.org>" → "mia@example.org"), or
// empty when there is none or it contains CR/LF/NUL.
std::string address_of(const std::string& mailbox);

} // namespace dunning::mailer
