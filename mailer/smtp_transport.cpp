#include "mailer/transport.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <curl/curl.h>
#include <mutex>
#include <string_view>
#include <vector>

namespace dunning::mailer {
namespace {

using Kind = SendResult::Kind;

void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;
using CurlList = std::unique_ptr<curl_slist, CurlDeleter>;

struct Upload {
    std::string_view data;
    std::size_t offset = 0;
};

std::size_t read_mime(char* buffer, std::size_t size, std::size_t count, void* userp) {
    auto* up = static_cast<Upload*>(userp);
    const std::size_t n = std::min(size * count, up->data.size() - up->offset);
    std::memcpy(buffer, up->data.data() + up->offset, n);
    up->offset += n;
    return n;
}

// The server's side of the dialogue, seen through libcurl's debug stream. Of our own lines only
// the command verb is kept: the others carry AUTH credentials.
struct Dialogue {
    std::string last_reply;   // last reply line before QUIT, "250 2.0.0 Ok: queued as …"
    std::string last_command; // "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", …
    bool quitting = false;
};

bool is_reply_line(std::string_view line) {
    return line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
           std::isdigit(static_cast<unsigned char>(line[1])) &&
           std::isdigit(static_cast<unsigned char>(line[2]));
}

void note_command(Dialogue& d, std::string_view line) {
    static constexpr std::array<std::string_view, 10> verbs = {
        "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT"};
    for (std::string_view verb : verbs) {
        if (line.substr(0, verb.size()) != verb) continue;
        if (verb == "QUIT") d.quitting = true;
        if (!d.quitting) d.last_command = std::string(verb);
        return;
    }
}

void note_replies(Dialogue& d, std::string_view text) {
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n'))
            line.remove_suffix(1);
        if (is_reply_line(line)) d.last_reply = std::string(line);
    }
}

int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* userp) {
    auto* d = static_cast<Dialogue*>(userp);
    if (type == CURLINFO_HEADER_OUT) note_command(*d, {data, size});
    if (type == CURLINFO_HEADER_IN && !d->quitting) note_replies(*d, {data, size});
    return 0;
}

// The password in "smtp://user:password@host", if any.
std::string url_password(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) return {};
    const auto start = scheme_end + 3;
    const auto authority = url.substr(start, url.find_first_of("/?#", start) - start);
    const auto at = authority.rfind('@');
    if (at == std::string::npos) return {};
    const auto colon = authority.find(':');
    return colon < at ? authority.substr(colon + 1, at - colon - 1) : std::string{};
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    return true;
}

std::string failure_category(CURLcode rc) {
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        return "connection failed";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "cannot resolve host";
    case CURLE_OPERATION_TIMEDOUT:
        return "timed out";
    case CURLE_USE_SSL_FAILED:
        return "STARTTLS required but not offered by the server";
    case CURLE_PEER_FAILED_VERIFICATION:
        return "TLS certificate verification failed";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
        return "TLS failed";
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return "bad SMTP URL (use smtp://host:587 or smtps://host:465)";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return "connection lost";
    default:
        return "SMTP failed";
    }
}

class SmtpTransport final : public Transport {
  public:
    explicit SmtpTransport(SmtpOptions o) : options_(std::move(o)) {
        global_init_once();
        for (const auto& secret : {options_.password, url_password(options_.url)})
            if (!secret.empty()) secrets_.push_back(secret);
    }

    SendResult send(const Email& email, const std::string& mime) override;

  private:
    void configure(CURL* h, const std::string& from, curl_slist* rcpt, Upload& up,
                   Dialogue& dialogue, char* errors) const;
    SendResult classify(CURLcode rc, long code, const Dialogue& d, const char* errors) const;
    std::string redacted(std::string text) const;

    SmtpOptions options_;
    std::vector<std::string> secrets_;
};

void SmtpTransport::configure(CURL* h, const std::string& from, curl_slist* rcpt, Upload& up,
                              Dialogue& dialogue, char* errors) const {
    const bool implicit_tls = starts_with_nocase(options_.url, "smtps://");
    const long timeout = std::max<long>(1, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(h, CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_mime);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(up.data.size()));
    const bool plaintext = options_.allow_plaintext && !implicit_tls;
    curl_easy_setopt(h, CURLOPT_USE_SSL, plaintext ? CURLUSESSL_NONE : CURLUSESSL_ALL);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.username.empty())
        curl_easy_setopt(h, CURLOPT_USERNAME, options_.username.c_str());
    if (!options_.password.empty())
        curl_easy_setopt(h, CURLOPT_PASSWORD, options_.password.c_str());
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L); // QUIT inside perform, under the timeout
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errors);
    // The debug stream is how libcurl shows the reply text; nothing of it is printed.
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, &dialogue);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
}

SendResult SmtpTransport::send(const Email& email, const std::string& mime) {
    const std::string from = address_of(email.from);
    const std::string to = address_of(email.to);
    if (to.empty()) return {Kind::permanent, "invalid recipient address"};
    if (from.empty()) return {Kind::permanent, "invalid sender address"};
    // Everything libcurl points at outlives the handle, which is declared last.
    Dialogue dialogue;
    Upload up{mime};
    std::array<char, CURL_ERROR_SIZE> errors{};
    CurlList rcpt(curl_slist_append(nullptr, ("<" + to + ">").c_str()));
    const std::string envelope_from = "<" + from + ">";
    CurlHandle curl(curl_easy_init());
    if (!curl || !rcpt) return {Kind::temporary, "libcurl: out of memory"};
    configure(curl.get(), envelope_from, rcpt.get(), up, dialogue, errors.data());
    const CURLcode rc = curl_easy_perform(curl.get());
    long code = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
    return classify(rc, code, dialogue, errors.data());
}

// A 5xx answer to MAIL, RCPT or DATA is final for this message; 4xx, network and TLS trouble
// pass. A refused login (53x) or session is our configuration or the server's state, not the
// message: it waits for the fix instead of failing the stage for good.
SendResult SmtpTransport::classify(CURLcode rc, long code, const Dialogue& d,
                                   const char* errors) const {
    const std::string reply = redacted(d.last_reply);
    if (rc == CURLE_OK) return {Kind::sent, reply.empty() ? "250 (no reply text)" : reply};
    if (rc == CURLE_LOGIN_DENIED || code == 535)
        return {Kind::temporary, "authentication failed: " + reply};
    if (code >= 530 && code <= 539)
        return {Kind::temporary, "server requires authentication or TLS: " + reply};
    const bool about_message =
        d.last_command == "MAIL" || d.last_command == "RCPT" || d.last_command == "DATA";
    if (code >= 500 && code <= 599 && about_message) return {Kind::permanent, reply};
    if (code >= 500 && code <= 599)
        return {Kind::temporary, "server refused the session: " + reply};
    if (code >= 400 && code <= 499) return {Kind::temporary, reply};
    std::string detail = errors[0] != '\0' ? errors : curl_easy_strerror(rc);
    return {Kind::temporary, redacted(failure_category(rc) + ": " + detail + " (curl error " +
                                      std::to_string(static_cast<int>(rc)) + ")")};
}

std::string SmtpTransport::redacted(std::string text) const {
    for (const auto& secret : secrets_) {
        for (auto pos = text.find(secret); pos != std::string::npos;
             pos = text.find(secret, pos + 3))
            text.replace(pos, secret.size(), "***");
    }
    return text;
}

} // namespace

std::unique_ptr<Transport> make_smtp_transport(SmtpOptions options) {
    return std::make_unique<SmtpTransport>(std::move(options));
}

} // namespace dunning::mailer
