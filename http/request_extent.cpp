#include "http/request_extent.hpp"

#include "http/connection_gate.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace dunning::http {

namespace {

using Step = RequestScan::Step;

constexpr std::size_t max_line = 4096; // a chunk-size line with its extensions, a trailer line

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    const auto begin = s.find_first_not_of(" \t");
    if (begin == std::string_view::npos) return {};
    return s.substr(begin, s.find_last_not_of(" \t") + 1 - begin);
}

RequestExtent finish(RequestScan& scan, RequestExtent extent) {
    scan.step = Step::done;
    scan.extent = extent;
    return extent;
}

RequestExtent refuse(RequestScan& scan) {
    return finish(scan, RequestExtent{.bad = true});
}

RequestExtent head_only_too_large(RequestScan& scan) {
    return finish(scan, RequestExtent{.size = scan.head_size, .body_too_large = true});
}

// The body's framing from the whole head (each line ending in CRLF); false: refused.
bool read_framing(std::string_view head, const GateLimits& limits, RequestScan& scan) {
    bool has_length = false;
    bool chunked = false;
    bool expects = false;
    std::uint64_t length = 0;
    const auto request_line = head.substr(0, head.find("\r\n"));
    for (auto at = request_line.size() + 2; at < head.size();) {
        const auto end = head.find("\r\n", at);
        const auto line = head.substr(at, end - at);
        at = end + 2;
        if (line.empty()) break;
        const auto colon = line.find(':');
        if (line.front() == ' ' || line.front() == '\t' || colon == std::string_view::npos ||
            colon == 0 || line.substr(0, colon).find_first_of(" \t") != std::string_view::npos)
            return false; // folded line, no name, or space before the colon (RFC 9112 5.1)
        const auto name = lower(line.substr(0, colon));
        const auto value = trim(line.substr(colon + 1));
        if (name == "content-length") {
            if (has_length || value.empty() || value.size() > 18 ||
                value.find_first_not_of("0123456789") != std::string_view::npos)
                return false;
            has_length = true;
            for (char c : value)
                length = length * 10 + static_cast<std::uint64_t>(c - '0');
        } else if (name == "transfer-encoding") {
            if (chunked || lower(value) != "chunked") return false;
            chunked = true;
        } else if (name == "expect") {
            expects = lower(value) == "100-continue";
        }
    }
    if (has_length && chunked) return false;
    // HTTP/1.0 clients get no 1xx answer (RFC 9110 15.2).
    scan.expects_continue =
        expects && (chunked || length > 0) && request_line.ends_with(" HTTP/1.1");
    if (chunked) {
        scan.step = Step::chunk_size;
        scan.at = scan.head_size;
    } else if (length > limits.max_body_bytes) {
        head_only_too_large(scan);
    } else {
        scan.step = Step::length;
        scan.left = length;
    }
    return true;
}

// Up to the empty line that ends the head; every line must end in CRLF.
void scan_head(const std::string& buffer, const GateLimits& limits, RequestScan& scan) {
    const auto end = std::min(buffer.size(), limits.max_head_bytes);
    for (; scan.at < end; ++scan.at) {
        const char c = buffer[scan.at];
        const char before = scan.at > 0 ? buffer[scan.at - 1] : '\0';
        if ((before == '\r') != (c == '\n')) return void(refuse(scan)); // bare CR or bare LF
        if (c == '\0') return void(refuse(scan)); // httplib would end the line there
        if (c == '\n' && scan.at >= 3 && buffer[scan.at - 2] == '\n') {
            scan.head_size = scan.at + 1;
            if (!read_framing(std::string_view(buffer).substr(0, scan.head_size - 2), limits, scan))
                refuse(scan);
            return;
        }
    }
    if (buffer.size() >= limits.max_head_bytes) finish(scan, RequestExtent{.head_too_large = true});
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One byte of chunk framing (not chunk data); false once the framing is refused.
bool chunk_framing(char c, const GateLimits& limits, RequestScan& scan) {
    const auto expect = [&](char wanted, Step next) {
        scan.step = next;
        return c == wanted;
    };
    switch (scan.step) {
    case Step::chunk_size:
        if (const int v = hex_value(c); v >= 0) {
            scan.left = scan.left * 16 + static_cast<std::uint64_t>(v);
            if (++scan.digits > 16) return false;
            if (scan.decoded + scan.left > limits.max_body_bytes) head_only_too_large(scan);
            return true;
        }
        if (scan.digits == 0) return false;
        if (c == '\r') return expect('\r', Step::chunk_lf);
        return c == ';' || c == ' ' || c == '\t' ? expect(c, Step::chunk_ext) : false;
    case Step::chunk_ext:
        if (c == '\r') return expect('\r', Step::chunk_lf);
        return c != '\n' && ++scan.line <= max_line;
    case Step::chunk_lf:
        scan.line = scan.digits = 0;
        scan.decoded += scan.left;
        return expect('\n', scan.left == 0 ? Step::trailer : Step::data);
    case Step::data_cr:
        return expect('\r', Step::data_lf);
    case Step::data_lf:
        return expect('\n', Step::chunk_size);
    case Step::trailer:
        if (c == '\r') return expect('\r', Step::end_lf);
        scan.line = 1;
        return expect(c, Step::trailer_in) && c != '\n';
    case Step::trailer_in:
        if (c == '\r') return expect('\r', Step::trailer_lf);
        return c != '\n' && ++scan.line <= max_line;
    case Step::trailer_lf:
        return expect('\n', Step::trailer);
    default:
        return false;
    }
}

// Chunk sizes and data up to the last chunk and the empty line after its trailers.
void scan_chunks(const std::string& buffer, const GateLimits& limits, RequestScan& scan) {
    while (scan.at < buffer.size() && scan.step != Step::done) {
        if (scan.step == Step::data) {
            const auto n = std::min<std::uint64_t>(scan.left, buffer.size() - scan.at);
            scan.at += n;
            scan.left -= n;
            if (scan.left == 0) scan.step = Step::data_cr;
        } else if (scan.step == Step::end_lf) {
            if (buffer[scan.at] != '\n') return void(refuse(scan));
            return void(finish(scan, RequestExtent{.size = scan.at + 1}));
        } else if (!chunk_framing(buffer[scan.at++], limits, scan)) {
            return void(refuse(scan));
        }
    }
    // Tiny chunks cost framing per byte of data: the framing is held to as much as the data.
    if (scan.step != Step::done && scan.at - scan.head_size > 2 * limits.max_body_bytes)
        head_only_too_large(scan);
}

} // namespace

RequestExtent request_extent(const std::string& buffer, const GateLimits& limits,
                             RequestScan& scan) {
    if (scan.step == Step::head) scan_head(buffer, limits, scan);
    if (scan.step == Step::length && buffer.size() >= scan.head_size + scan.left)
        finish(scan, RequestExtent{.size = scan.head_size + static_cast<std::size_t>(scan.left)});
    if (scan.step != Step::head && scan.step != Step::length) scan_chunks(buffer, limits, scan);
    return scan.extent;
}

RequestExtent request_extent(const std::string& buffer, const GateLimits& limits) {
    RequestScan scan;
    return request_extent(buffer, limits, scan);
}

} // namespace dunning::http
