// The Stripe object readers' view of a parsed object: a key's last value wins, as nlohmann's DOM
// kept it, in objects of a few fields and of many, at every lookup and in every copy.
#include "webhook/json_reader.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <string>

namespace dunning::webhook {
namespace {

// {"k0":0,…,"k<n-1>":n-1} with `extra` fields after them.
std::string object_text(int n, const std::string& extra) {
    std::string text = "{";
    for (int i = 0; i < n; ++i)
        text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    return text + (n ? extra : extra.substr(1)) + "}"; // extra begins with a comma
}

void expect_last_values_win(int fields) {
    SCOPED_TRACE(std::to_string(fields) + " fields");
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    const std::string text =
        object_text(fields, R"(,"k1":"one","dup":1,"dup":2,"gone":3,"gone":null)"
                            R"(,"a":{"x":1},"a":{"x":2},"":5,"k1":11)");
    ASSERT_FALSE(parser.parse(text).get(root));
    std::string error;
    const JsonReader in(root, "data.object", error);
    const JsonReader early = in;              // a copy made before any lookup
    for (int round = 0; round < 4; ++round) { // the same answers every time
        SCOPED_TRACE("round " + std::to_string(round));
        EXPECT_EQ(in.integer("k0"), 0); // absent with no fields: 0 as well
        EXPECT_EQ(in.integer("k1"), 11);
        EXPECT_EQ(in.integer("dup"), 2);
        EXPECT_FALSE(in.has("gone"));
        EXPECT_TRUE(in.contains("gone"));
        EXPECT_EQ(in.object("a").integer("x"), 2);
        EXPECT_EQ(in.integer(""), 5);
        EXPECT_FALSE(in.contains("k"));
        EXPECT_FALSE(in.contains("zzz"));
        EXPECT_FALSE(in.contains("dup2"));
        if (fields > 2) {
            EXPECT_EQ(in.integer(std::string("k") + std::to_string(fields - 1)), fields - 1);
        }
        const JsonReader copy = in; // a copy reads the same
        EXPECT_EQ(copy.integer("dup"), 2);
        EXPECT_EQ(early.integer("k1"), 11);
    }
    EXPECT_FALSE(in.failed()) << in.error();
    EXPECT_EQ(in.string("dup"), "");
    EXPECT_EQ(in.error(), "data.object.dup: expected a string");
}

TEST(JsonReader, TheLastOfADuplicatedKeyWinsInSmallAndLargeObjects) {
    // With the nine fields the text adds: walked up to 16 fields, a table from 17 to 512, walked
    // again above.
    for (const int fields : {0, 3, 7, 8, 40, 200, 503, 504, 5000})
        expect_last_values_win(fields);
}

} // namespace
} // namespace dunning::webhook
