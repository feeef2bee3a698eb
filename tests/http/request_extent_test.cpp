// Where the gate decides a request ends (http/request_extent.hpp): the framing httplib will read,
// refusals for framing the two could read differently, and a scan that resumes.
#include "http/connection_gate.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace dunning::http;

namespace {

const GateLimits limits;

RequestExtent extent_of(const std::string& request) {
    return request_extent(request, limits);
}

const std::string post = "POST /webhooks/stripe/alpha HTTP/1.1\r\nHost: x\r\n";

TEST(RequestExtent, ContentLengthBodies) {
    const auto request = post + "Content-Length: 5\r\n\r\nhello";
    EXPECT_EQ(extent_of(request + "GET / HTTP/1.1\r\n").size, request.size());
    EXPECT_EQ(extent_of(request.substr(0, request.size() - 1)).size, 0u);
    EXPECT_EQ(extent_of("GET / HTTP/1.1\r\nHost: x\r\n\r\n").size, 27u);
    const auto large = extent_of(post + "content-length:  2000000 \r\n\r\n");
    EXPECT_TRUE(large.body_too_large);
    EXPECT_EQ(large.size, post.size() + 29);
}

// The gate sends "100 Continue" to a client that asked for it and has a body to send; not to
// an HTTP/1.0 client, nor for a request without a body.
TEST(RequestExtent, ExpectContinueIsSeenOnlyWhereAnInterimAnswerIsDue) {
    const auto expects = [](const std::string& head) {
        RequestScan scan;
        const auto extent = request_extent(head, limits, scan);
        EXPECT_EQ(extent.size, 0u) << head;
        EXPECT_FALSE(extent.bad) << head;
        return scan.expects_continue;
    };
    EXPECT_TRUE(expects(post + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
    EXPECT_TRUE(expects(post + "expect:100-CONTINUE \r\nTransfer-Encoding: chunked\r\n\r\n"));
    EXPECT_FALSE(expects(post + "Content-Length: 5\r\n\r\n"));
    EXPECT_FALSE(expects(post + "Expect: 200-ok\r\nContent-Length: 5\r\n\r\n"));
    EXPECT_FALSE(expects("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
    EXPECT_FALSE(
        expects(post + "Expect: 100-continue\r\nContent-Length: 5\r\n")); // head unfinished

    RequestScan none;
    EXPECT_EQ(request_extent(post + "Expect: 100-continue\r\n\r\n", limits, none).size,
              post.size() + 24);
    EXPECT_FALSE(none.expects_continue);
}

TEST(RequestExtent, RefusesFramingHttplibCouldReadDifferently) {
    for (const std::string& head : std::vector<std::string>{
             post + "Content-Length: 5x\r\n\r\n",
             post + "Content-Length: \r\n\r\n",
             post + "Content-Length: -1\r\n\r\n",
             post + "Content-Length: 99999999999999999999999\r\n\r\n",
             post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
             post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
             post + "Transfer-Encoding: gzip, chunked\r\n\r\n",
             post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
             post + "Content-Length : 5\r\n\r\n",
             post + "X-A: 1\r\n Content-Length: 5\r\n\r\n",
             "POST / HTTP/1.1\nContent-Length: 5\n\nhello",
             "POST / HTTP/1.1\r\nContent-Length: 5\n\r\n",
             "POST / HTTP/1.1\rContent-Length: 5\r\n\r\n",
             // httplib reads header values as C strings: a NUL would cut what the gate saw.
             post + std::string("Authorization: Bearer x\0\r\n\r\n", 28),
             post + std::string("Content-Length: 5\0 0\r\n\r\n", 24),
         }) {
        EXPECT_TRUE(extent_of(head + "hello").bad) << head;
    }
    EXPECT_FALSE(extent_of(post + "Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n").bad);
}

TEST(RequestExtent, ChunkedBodiesEndAtTheLastChunkNotAtLookalikeData) {
    const auto head = post + "Transfer-Encoding: chunked\r\n\r\n";
    // The data of the first chunk is the last-chunk sequence itself.
    const auto body = "5\r\n0\r\n\r\n\r\n3;name=value\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n";
    const auto request = head + body;
    EXPECT_EQ(extent_of(request + "GET /").size, request.size());
    EXPECT_EQ(extent_of(head + "5\r\n0\r\n\r\n").size, 0u);
    EXPECT_EQ(extent_of(head + "A\r\n0123456789\r\n0\r\n\r\n").size, head.size() + 20);
    for (const std::string bad : std::vector<const char*>{
             "0x5\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "5\nhello\r\n0\r\n\r\n", "\r\n",
             "g\r\n", "00000000000000001\r\nh\r\n0\r\n\r\n", "0\r\nX: 1\n\r\n"})
        EXPECT_TRUE(extent_of(head + bad).bad) << bad;
    const auto large = extent_of(head + "100001\r\n");
    EXPECT_TRUE(large.body_too_large);
    EXPECT_EQ(large.size, head.size());
}

TEST(RequestExtent, TinyChunksAreHeldToTheBodyLimit) {
    GateLimits small;
    small.max_body_bytes = 1024;
    std::string request = post + "Transfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 1000; ++i)
        request += "1\r\nx\r\n";
    EXPECT_TRUE(request_extent(request, small).body_too_large);
}

TEST(RequestExtent, ResumesWhereItStoppedAndLooksAtEachByteOnce) {
    std::string body;
    for (int i = 0; i < 1024; ++i)
        body += "3FC\r\n" + std::string(0x3FC, static_cast<char>('a' + i % 26)) + "\r\n";
    const auto request = post + "Transfer-Encoding: chunked\r\n\r\n" + body + "0\r\n\r\n";
    std::string buffer;
    RequestScan scan;
    RequestExtent extent;
    for (std::size_t at = 0; at < request.size(); at += 1024) {
        buffer.append(request, at, 1024);
        extent = request_extent(buffer, limits, scan);
        if (extent.size == 0) {
            EXPECT_EQ(scan.at, buffer.size()) << "a byte left for later";
        }
    }
    EXPECT_EQ(extent.size, request.size());
}

TEST(RequestExtent, ByteByByteAgreesWithWhole) {
    for (const std::string& request : std::vector<std::string>{
             post + "Content-Length: 3\r\n\r\nabc",
             post + "Transfer-Encoding: chunked\r\n\r\n2;x\r\nab\r\n0\r\nT: 1\r\nU: 2\r\n\r\n",
             post + "Transfer-Encoding: chunked\r\n\r\n1\r\n\r\r\n0\r\n\r\n"}) {
        std::string buffer;
        RequestScan scan;
        RequestExtent extent;
        for (char c : request) {
            buffer += c;
            extent = request_extent(buffer, limits, scan);
            ASSERT_FALSE(extent.bad) << request;
        }
        EXPECT_EQ(extent.size, request.size()) << request;
        EXPECT_EQ(extent_of(request).size, request.size()) << request;
    }
}

TEST(RequestExtent, HeadsOverTheLimit) {
    GateLimits small;
    small.max_head_bytes = 64;
    EXPECT_TRUE(
        request_extent("GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), small).head_too_large);
    EXPECT_FALSE(
        request_extent("GET / HTTP/1.1\r\nX: " + std::string(20, 'a'), small).head_too_large);
}

} // namespace
