// The bodies of the handover API: what they accept, and every problem named at once.
#include "http/handover_bodies.hpp"

#include <gtest/gtest.h>

using namespace dunning;
using namespace dunning::http;

TEST(HandoverRequest, CasesAndAgencyAreOptional) {
    const auto empty = read_handover_request("");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty.value().cases.empty());
    const auto r = read_handover_request(R"({"cases": [3, 1, 3], "agency": "Inkasso Nord"})");
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value().cases, (std::vector<std::int64_t>{3, 1, 3}));
    EXPECT_EQ(r.value().agency, "Inkasso Nord");
}

TEST(HandoverRequest, EveryProblemIsNamed) {
    const auto r = read_handover_request(R"({"cases": ["x"], "agency": 5, "colour": 1})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "unknown field colour; cases must hold case ids (positive integers), not "
                         "\"x\"; agency must be a string of at most 200 bytes");
    EXPECT_EQ(read_handover_request("[1]").error(), "body must be a JSON object");
}

TEST(CollectionResult, ReadsEachResult) {
    const auto paid = read_collection_result(
        R"({"result": "paid", "amount": 4000, "date": "2027-03-01", "reference": "AG-1", "note": "rate 1"})");
    ASSERT_TRUE(paid) << paid.error();
    EXPECT_EQ(paid.value().kind, CollectionReport::Kind::paid);
    EXPECT_EQ(paid.value().amount_minor, 4000);
    EXPECT_EQ(paid.value().date, "2027-03-01");
    EXPECT_EQ(paid.value().reference, "AG-1");
    EXPECT_EQ(paid.value().note, "rate 1");
    EXPECT_FALSE(read_collection_result(R"({"result": "paid"})").value().amount_minor);
    EXPECT_EQ(read_collection_result(R"({"result": "returned"})").value().kind,
              CollectionReport::Kind::returned);
    EXPECT_EQ(read_collection_result(R"({"result": "uncollectible"})").value().kind,
              CollectionReport::Kind::uncollectible);
}

TEST(CollectionResult, EveryProblemIsNamed) {
    const auto r = read_collection_result(
        R"({"result": "won", "amount": -5, "date": "2027-02-30", "reference": 7, "extra": true})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "unknown field extra; result must be paid, uncollectible or returned; "
                         "amount must be a positive whole number of minor units, e.g. 4900; "
                         "date must be YYYY-MM-DD; reference must be a string of at most 200 "
                         "bytes");
    EXPECT_EQ(read_collection_result(R"({"result": "returned", "amount": 5})").error(),
              "amount goes only with result paid");
    EXPECT_EQ(read_collection_result("").error(), "result must be paid, uncollectible or returned");
}

TEST(CollectionResult, ADateHasFourDigitsForTheYear) {
    for (const char* date : {"-001-01-01", "-999-12-31", "+202-03-01", "2027-3-01 "})
        EXPECT_EQ(
            read_collection_result(std::string(R"({"result": "paid", "date": ")") + date + R"("})")
                .error(),
            "date must be YYYY-MM-DD")
            << date;
    EXPECT_EQ(read_collection_result(R"({"result": "paid", "date": "0001-01-01"})").value().date,
              "0001-01-01");
}
