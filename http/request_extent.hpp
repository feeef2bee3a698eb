#pragma once
// Where a request ends in the bytes a connection has sent, read the way httplib will read them.
//
// The connection gate (http/connection_gate.hpp) hands a connection to a worker once its request
// is whole; if the gate and httplib disagreed on where a request ends, the rest would be read as
// a second request the gate never looked at (request smuggling). Heads with bare LF or CR or NUL,
// folded header lines, a Content-Length that is not one plain number, a Transfer-Encoding other
// than exactly `chunked`, or both headers at once are refused (400) rather than guessed at.
//
// The scan resumes where the previous call stopped: each byte is looked at once, however the
// client splits its request, so a slow trickle costs no more than one send.
#include <cstddef>
#include <cstdint>
#include <string>

namespace dunning::http {

struct GateLimits;

struct RequestExtent {
    std::size_t size = 0;        // bytes of the buffer that make the request; 0: not complete yet
    bool head_too_large = false; // no end of the head within max_head_bytes (431)
    bool body_too_large = false; // the head alone: its body is over max_body_bytes (413)
    bool bad = false;            // framing the gate will not guess at (400, then closed)
};

// How far the scan of one request got; a fresh one for each request.
struct RequestScan {
    enum class Step {
        head,       // looking for the empty line that ends the head
        length,     // a Content-Length body
        chunk_size, // hex digits of a chunk size
        chunk_ext,  // a chunk extension, up to CR
        chunk_lf,   // LF after a chunk-size line
        data,       // chunk data
        data_cr,    // CR after chunk data
        data_lf,    // LF after chunk data
        trailer,    // start of a trailer line (CR here: the end)
        trailer_in, // inside a trailer line, up to CR
        trailer_lf, // LF after a trailer line
        end_lf,     // LF of the final empty line
        done,
    };
    Step step = Step::head;
    std::size_t at = 0;        // next byte to look at
    std::size_t head_size = 0; // once the head is whole
    std::size_t line = 0;      // bytes in the current chunk-size or trailer line
    std::uint64_t left = 0;    // bytes of the Content-Length or of the current chunk still due
    std::uint64_t digits = 0;  // hex digits of the current chunk size
    std::uint64_t decoded = 0; // chunk data so far
    // An HTTP/1.1 head with `Expect: 100-continue` and a body to come: the client may wait for
    // "100 Continue" before sending it.
    bool expects_continue = false;
    RequestExtent extent; // the answer once step is done (or an error was found)
};

// The first request in `buffer`, continuing `scan` (which must have seen only a prefix of
// `buffer`). Without Content-Length or chunked, a request has no body (RFC 9112 6.3).
RequestExtent request_extent(const std::string& buffer, const GateLimits& limits,
                             RequestScan& scan);
RequestExtent request_extent(const std::string& buffer, const GateLimits& limits);

} // namespace dunning::http
