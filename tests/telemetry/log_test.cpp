// A log message is written on one line whatever it holds: a line break in a database's error or a
// byte a client sent cannot start a line that reads as an entry of its own.
#include "telemetry/log.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <unistd.h>

using dunning::telemetry::one_line;

TEST(LogLine, PlainTextIsWrittenAsItIs) {
    EXPECT_EQ(one_line("work loop: working again after 2 failed round(s)"),
              "work loop: working again after 2 failed round(s)");
    EXPECT_EQ(one_line("Grüße, C:\\dunning\\db"), "Grüße, C:\\dunning\\db");
    EXPECT_EQ(one_line(""), "");
}

TEST(LogLine, ControlCharactersBecomeEscapes) {
    EXPECT_EQ(one_line("connection to server failed: No such file\n\tIs the server running?\r"),
              "connection to server failed: No such file\\n\\tIs the server running?\\r");
    EXPECT_EQ(one_line(std::string("a\0b\x1b[31m\x7f", 9)), "a\\x00b\\x1b[31m\\x7f");
}

// What reaches stderr: an entry that tries to forge a second one stays on its line.
TEST(LogLine, AForgedEntryStaysOnTheLineOfTheRealOne) {
    std::fflush(stderr);
    const int saved = dup(2);
    ASSERT_GE(saved, 0);
    std::FILE* capture = std::tmpfile();
    ASSERT_NE(capture, nullptr);
    ASSERT_GE(dup2(fileno(capture), 2), 0);
    dunning::telemetry::log_warn("unknown creator 'x\n2026-12-05T00:00:00Z info all is well'");
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::rewind(capture);
    std::string text;
    for (int c; (c = std::fgetc(capture)) != EOF;)
        text += static_cast<char>(c);
    std::fclose(capture);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
    EXPECT_NE(text.find(" warn unknown creator 'x\\n2026-12-05T00:00:00Z info all is well'"),
              std::string::npos)
        << text;
}
