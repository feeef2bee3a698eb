#pragma once
// Where finished emails go: a folder of .eml files (the default, no mail server needed) or an
// SMTP server through libcurl (STARTTLS required on smtp:// unless explicitly allowed, implicit
// TLS on smtps://, AUTH, certificate verification).
#include "mailer/mime.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace dunning::mailer {

struct SendResult {
    enum class Kind {
        sent,
        temporary, // try again later: server down, 4xx, timeouts
        permanent, // this recipient or message will never be accepted (5xx)
    };
    Kind kind = Kind::temporary;
    std::string server_answer; // the last SMTP reply, or the file written; the send log keeps it
};
const char* to_string(SendResult::Kind k);

class Transport {
  public:
    virtual ~Transport() = default;
    // `mime` is build_mime(email); envelope sender and recipient come from email.from / .to.
    virtual SendResult send(const Email& email, const std::string& mime) = 0;
};

// Writes <dir>/<timestamp>-<message-id>.eml atomically (temp file, fsync, rename); the same
// Message-ID is written once.
std::unique_ptr<Transport> make_outbox_transport(const std::string& dir);

struct SmtpOptions {
    std::string url;      // smtp://host:587 or smtps://host:465; user:password@ allowed
    std::string username; // overrides the URL's
    std::string password;
    bool allow_plaintext = false; // smtp:// without STARTTLS (only for a server on loopback)
    std::string ca_file;          // extra CA bundle; system store otherwise
    std::chrono::seconds timeout{30};
};
std::unique_ptr<Transport> make_smtp_transport(SmtpOptions options);

} // namespace dunning::mailer
