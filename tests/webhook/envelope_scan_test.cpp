// parse_envelope (the single-pass scanner) against parse_envelope_reference (the nlohmann DOM code
// it replaced): every fixture and thousands of generated variants must get the same envelope or
// the same error. How much faster the scanner is, bench/webhook measures.
#include "tests/support/files.hpp"
#include "webhook/envelope_scan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dunning::webhook {
namespace {

using dunning::testing::read_file;
using nlohmann::json;
namespace fs = std::filesystem;
using Bodies = std::vector<std::string>;
using namespace std::literals;
using Members = std::vector<std::pair<std::string, std::string>>; // raw key, raw value

const fs::path legacy_dir = fs::path(DUNNING_FIXTURES_DIR) / "api-2020-08-27";
const fs::path current_dir = fs::path(DUNNING_SOURCE_DIR) / "tests/fixtures/stripe/api-2025-03-31";

Bodies fixtures() {
    Bodies bodies;
    for (const auto& dir : {legacy_dir, current_dir})
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.path().extension() == ".json") bodies.push_back(read_file(entry.path()));
    return bodies;
}

const std::string minimal_event =
    R"({"id":"evt_1","object":"event","type":"invoice.paid","created":1700000000,"data":{"object":{"id":"in_1"}}})";

// Small, and through every state of the scanner: BOM, escapes, a surrogate pair, multi-byte
// UTF-8, numbers of each shape, literals, nesting.
const std::string rich_event = "\xEF\xBB\xBF"
                               R"({"id":"evt_\u0031\ud83d\uDE00é€𝄞","object" : "event",
 "type":"invoice.paid","account":null,"created":1700000000,"livemode":false,
 "n":[-0.5e+3,0,1E2,10e-1,true,null,{}],"data":{"object":{"id":"in_1","s":"a\"\\\/\b\f\n\r\t"}}})";

// An event written member by member, so keys may repeat and values stay raw JSON text.
std::string event_of(const Members& members) {
    std::string body = "{";
    for (const auto& [key, value] : members)
        body += (body.size() > 1 ? ",\"" : "\"") + key + "\":" + value;
    return body + "}";
}

const Members base_members = {{"id", R"("evt_1")"},
                              {"object", R"("event")"},
                              {"type", R"("invoice.paid")"},
                              {"created", "1700000000"},
                              {"data", R"({"object":{"id":"in_1"}})"}};

std::string with_member(std::string key, std::string value) {
    Members members = base_members;
    members.emplace_back(std::move(key), std::move(value)); // a repeated key: the last wins
    return event_of(members);
}

std::string shown(std::string_view body) {
    std::string out;
    for (unsigned char c : body.substr(0, 200)) {
        char hex[8];
        std::snprintf(hex, sizeof hex, "\\x%02X", c);
        out += c >= 0x20 && c < 0x7F ? std::string(1, char(c)) : hex;
    }
    return out + (body.size() > 200 ? "… (" + std::to_string(body.size()) + " bytes)" : "");
}

std::string category(const std::string& message) {
    return message.rfind("malformed JSON at byte ", 0) == 0 ? "malformed JSON" : message;
}

struct Tally {
    const char* name;
    std::size_t bodies = 0, accepted = 0, same_error = 0, other_error = 0, disagreements = 0;

    void check(std::string_view body) {
        ++bodies;
        auto scanned = parse_envelope(body);
        auto reference = parse_envelope_reference(body);
        std::string problem;
        if (scanned.ok() != reference.ok()) {
            problem = scanned.ok() ? "only the scanner accepts; reference: " + reference.error()
                                   : "only the reference accepts; scanner: " + scanned.error();
        } else if (scanned.ok()) {
            const Envelope &a = scanned.value(), &b = reference.value();
            if (a.id == b.id && a.type == b.type && a.account == b.account &&
                a.created == b.created)
                ++accepted;
            else
                problem = "envelopes differ: id " + shown(a.id) + " / " + shown(b.id) + ", type " +
                          a.type + " / " + b.type + ", account " + a.account + " / " + b.account;
        } else if (scanned.error() == reference.error()) {
            ++same_error;
        } else if (category(scanned.error()) == category(reference.error())) {
            if (++other_error <= 5)
                std::printf("  [%s] scanner \"%s\", reference \"%s\": %s\n", name,
                            scanned.error().c_str(), reference.error().c_str(),
                            shown(body).c_str());
        } else {
            problem = "scanner: " + scanned.error() + "; reference: " + reference.error();
        }
        if (!problem.empty() && ++disagreements <= 20)
            ADD_FAILURE() << problem << "\n  body: " << shown(body);
    }
    ~Tally() {
        std::printf(
            "[differential] %-14s %6zu bodies: %5zu accepted by both, %5zu rejected with the "
            "same message, %zu with another of the same kind, %zu disagreements\n",
            name, bodies, accepted, same_error, other_error, disagreements);
        EXPECT_EQ(disagreements, 0u) << name;
        EXPECT_EQ(other_error, 0u) << name;
    }
};

// "a|b|c" → {"a", "b", "c"}: long lists of odd bytes on a few lines.
Bodies split(std::string_view list) {
    Bodies items;
    for (std::size_t at = 0, bar = 0; at <= list.size(); at = bar + 1) {
        bar = std::min(list.find('|', at), list.size());
        items.emplace_back(list.substr(at, bar - at));
    }
    return items;
}

// Bytes and runs that matter to a JSON lexer, and UTF-8 both valid and not; 30 single bytes first.
const Bodies significant =
    split("{|}|[|]|\"|:|,|\\|/|-|+|.|0|1|9|e|E|t|f|n|u|x| |\t|\n|\r|\0|\x01|\x1F|\x7F|"
          "\x80|\xBF|\xC0|\xC1|\xC2|\xE0|\xED|\xEF|\xF0|\xF4|\xF5|\xFF|\xC0\xAF|\xE0\x80\xAF|"
          "\xED\xA0\x80|\xF0\x80\x80\xAF|\xF4\x90\x80\x80|\xC3\xA9|\xE2\x82\xAC|\xF0\x9D\x84\x9E|"
          "\xEF\xBB\xBF|\\u|\\ud800|\\udc00|true|null|1e999|\"\":|\"x\"|-0|0.5|1e5|[]|{}"sv);

TEST(Differential, Fixtures) {
    Tally tally{"fixtures"};
    for (const std::string& body : fixtures()) {
        json tree = json::parse(body);
        for (const std::string& variant : {body, "\xEF\xBB\xBF" + body, tree.dump(), tree.dump(2),
                                           body + " \n", body + " x", body + "{}"})
            tally.check(variant);
    }
}

TEST(Differential, ByteFlips) {
    Tally tally{"byte flips"};
    std::mt19937 rng(20250331);
    for (const std::string& body : fixtures()) {
        for (int i = 0; i < 150; ++i) {
            std::string mutated = body;
            std::size_t at = rng() % body.size();
            switch (i % 4) {
            case 0:
                mutated[at] = char(rng() % 256);
                break;
            case 1:
                mutated[at] ^= char(1 << rng() % 8);
                break;
            case 2:
                mutated.erase(at, 1 + rng() % 3);
                break;
            default:
                mutated[at] = significant[rng() % 30][0];
            }
            tally.check(mutated);
        }
    }
}

TEST(Differential, Truncations) {
    Tally tally{"truncations"};
    for (const std::string& body :
         {minimal_event, rich_event, read_file(legacy_dir / "invoice.payment_failed.json")})
        for (std::size_t cut = 0; cut <= body.size(); ++cut)
            tally.check(body.substr(0, cut));
}

TEST(Differential, Insertions) {
    Tally tally{"insertions"};
    std::mt19937 rng(8259);
    for (const std::string& body : {minimal_event, rich_event})
        for (int i = 0; i < 2000; ++i) {
            std::string mutated = body;
            for (int n = 1 + i % 3; n > 0; --n)
                mutated.insert(rng() % (mutated.size() + 1),
                               significant[rng() % significant.size()]);
            tally.check(mutated);
        }
}

// Short random sequences of tokens and broken tokens, bare and as an event's data.object.
TEST(Differential, TokenSoup) {
    Tally tally{"token soup"};
    const Bodies tokens = split("{|}|[|]|:|,|\"a\"|\"|1|-|0|.|e|true|tru|null| |\xC3|\\|\"\\u00|"
                                "1e999|-0.0|\"\xF0\x9F\x98\x80\"");
    std::mt19937 rng(1);
    for (int i = 0; i < 6000; ++i) {
        std::string soup;
        for (int n = int(rng() % 10); n > 0; --n)
            soup += tokens[rng() % tokens.size()];
        tally.check(i % 2 ? soup
                          : R"({"object":"event","id":"e","type":"t","data":{"object":)" + soup +
                                "}}");
    }
}

TEST(Differential, FieldTypes) {
    Tally tally{"field types"};
    const json values[] = {nullptr,
                           true,
                           false,
                           0,
                           -1,
                           1.5,
                           "",
                           "x",
                           "event",
                           json::array(),
                           json::object(),
                           {1},
                           {{"object", json::object()}},
                           1700000000,
                           std::numeric_limits<std::uint64_t>::max(),
                           -1e300};
    const char* paths[] = {"/object",  "/id",   "/type",       "/account",
                           "/created", "/data", "/data/object"};
    const json base = json::parse(minimal_event);
    for (const char* path : paths) {
        json erased = base;
        erased.at(json::json_pointer(path).parent_pointer()).erase(json::json_pointer(path).back());
        tally.check(erased.dump());
        for (const json& value : values) {
            json body = base;
            body[json::json_pointer(path)] = value;
            tally.check(body.dump());
            for (const char* other : paths) { // two wrong fields: which error wins
                json both = body;
                try { // a path under a field that is no longer an object: nothing to write
                    if (other != path) both[json::json_pointer(other)] = json::array();
                } catch (const json::exception&) {
                    continue;
                }
                tally.check(both.dump());
            }
        }
    }
}

TEST(Differential, DuplicateKeys) {
    Tally tally{"duplicate keys"};
    const Bodies values = {R"("evt_2")", R"("event")",       "null",       "5",  R"("")",
                           "{}",         R"({"object":{}})", "1600000000", "[]", R"("\u0065vent")"};
    for (const char* key : {"id", "object", "type", "account", "created", "data", "\\u0069d",
                            "\\u006fbject", "d\\u0061ta", "typ\\u0065"})
        for (const std::string& first : values)
            for (const std::string& last : values) {
                Members members = base_members;
                members.emplace_back(key, first);
                members.emplace_back(key, last);
                tally.check(event_of(members));
                members.erase(members.begin() + 4); // keep only the last data, if it is one
                tally.check(event_of(members));
            }
    for (const std::string& a : values)
        for (const std::string& b : values)
            tally.check(with_member("data", "{\"object\":" + a + ",\"\\u006Fbject\":" + b + "}"));
}

TEST(Differential, Nesting) {
    Tally tally{"nesting"};
    auto deep = [](int levels, const char* open, const char* close, const char* inner = "") {
        std::string body;
        for (int i = 0; i < levels; ++i)
            body += open;
        body += inner;
        for (int i = 0; i < levels; ++i)
            body += close;
        return body;
    };
    for (int levels = 120; levels <= 131; ++levels) { // root, data and data.object are 3 more
        tally.check(deep(levels, "[", "]"));
        tally.check(deep(levels, "{\"a\":", "}", "1"));
        tally.check(with_member("data", "{\"object\":{\"x\":" + deep(levels - 3, "[", "]") + "}}"));
        tally.check(with_member("x", deep(levels - 1, "[", "]") + "x"));
    }
    for (const std::string& body :
         {"x" + deep(200, "[", "]"), "]" + std::string(128, '[') + "x",
          "]]" + std::string(129, '[') + "]", "\"\\" + std::string(200, '['),
          "[\"" + std::string(200, '[') + "\"]", std::string(129, '[') + std::string(1, '\0')})
        tally.check(body);
}

// Around 10^308, where doubles end: as d…e±n, d.…E+n, 0.00…d…e+n and as a plain integer.
std::string random_big_number(std::mt19937& rng) {
    std::string digits = rng() % 3 ? std::to_string(1 + rng() % 9) : "17976931348623157";
    for (int n = int(rng() % 330); n > 0; --n)
        digits += char('0' + rng() % 10);
    int magnitude = 305 + int(rng() % 7);
    std::string sign = rng() % 2 ? "-" : "";
    std::size_t zeros = rng() % 1500;
    switch (rng() % 4) {
    case 0:
        return sign + digits + "e" + std::to_string(magnitude - int(digits.size()) + 1);
    case 1:
        return sign + digits.substr(0, 1) + "." + digits.substr(1) + "E+" +
               std::to_string(magnitude);
    case 2:
        return sign + "0." + std::string(zeros, '0') + digits + "e" +
               std::to_string(magnitude + zeros + 1);
    default:
        return sign + (digits + std::string(310, '0')).substr(0, 308 + rng() % 3);
    }
}

TEST(Differential, Numbers) {
    Tally tally{"numbers"};
    Bodies numbers = split("1e308|1.7976931348623157e308|1.7976931348623158e308|"
                           "1.7976931348623159e308|1e309|-1e309|1e-400|0e99999999999|0.000e400|"
                           "1e99999999999999999999|18446744073709551615|18446744073709551616|"
                           "9223372036854775807|9223372036854775808|-9223372036854775808|"
                           "-9223372036854775809|-0|0|253402300799|253402300800|1.0|1e3|10E+2|-1|"
                           "01|1.|.5|+1|1e|1e+|--1|-|0x10|1.5e-3|-0.0e-0");
    for (int digits : {308, 309, 310})
        numbers.push_back(std::string(std::size_t(digits), '9'));
    numbers.push_back("0." + std::string(400, '0') + "1e400");
    std::mt19937 rng(308);
    for (int i = 0; i < 1500; ++i)
        numbers.push_back(random_big_number(rng));
    for (const std::string& number : numbers) {
        tally.check(with_member("created", number));
        tally.check(with_member("data", R"({"object":{"amount":)" + number + "}}"));
    }
}

TEST(Differential, Escapes) {
    Tally tally{"escapes"};
    const Bodies texts = split(
        "evt_\\u0065|\\u0065vent|ev\\u0065nt|event\\u0000|\\ud83d\\ude00|\\uD83D\\uDE00|"
        "\\uDBFF\\uDFFF|\\ud800|\\udc00|\\ud800\\u0041|\\ud800x|\\ud800\\|\\ud800\\n|"
        "\\ud800\\ud800|\\u12G4|\\u123|\\x|\\/|\\\"|\\\\|\\b\\f\\n\\r\\t|\\u0000|\\u00e9|\\u20AC|"
        "\\uFFFF|é|𝄞|\xC0\xAF|\xED\xA0\x80|\xED\x9F\xBF|\xEE\x80\x80|\xF4\x8F\xBF\xBF|"
        "\xF4\x90\x80\x80|\xE0\xA0\x80|\xE0\x9F\xBF|\xF0\x90\x80\x80|\xF0\x8F\xBF\xBF|\t|\x1F|"
        "\x7F|\\U0041|\\u|\\|\\u0069d");
    for (const std::string& text : texts) {
        for (const char* key : {"id", "type", "account", "object", "x"})
            tally.check(with_member(key, "\"" + text + "\""));
        tally.check(with_member(text, "\"evt_2\"")); // as a key
    }
}

std::string utf8(unsigned code) {
    if (code < 0x80) return std::string(1, char(code));
    std::string bytes;
    int tail = code < 0x800 ? 1 : code < 0x10000 ? 2 : 3;
    bytes += char((0xFF << (7 - tail) & 0xFF) | code >> (6 * tail)); // C0, E0 or F0
    for (int shift = 6 * (tail - 1); shift >= 0; shift -= 6)
        bytes += char(0x80 | (code >> shift & 0x3F));
    return bytes;
}

// Any code point but a surrogate: ASCII and control characters more often.
std::string random_text(std::mt19937& rng) {
    std::string text;
    for (int n = int(rng() % 12); n > 0; --n) {
        unsigned limits[] = {0x20, 0x80, 0x800, 0x10000, 0x110000};
        unsigned code = rng() % limits[rng() % 5];
        text += utf8(code >= 0xD800 && code <= 0xDFFF ? 'x' : code);
    }
    return text;
}

json random_value(std::mt19937& rng, int depth) {
    switch (rng() % (depth > 0 ? 9 : 7)) {
    case 0:
        return nullptr;
    case 1:
        return rng() % 2 == 0;
    case 2:
        return std::int64_t(rng()) - std::int64_t(rng());
    case 3:
        return std::uint64_t(rng()) << 32 | rng();
    case 4:
        return std::ldexp(double(rng()), int(rng() % 200) - 100);
    case 5:
    case 6:
        return random_text(rng);
    case 7: {
        json array = json::array();
        for (int n = int(rng() % 4); n > 0; --n)
            array.push_back(random_value(rng, depth - 1));
        return array;
    }
    default: {
        json object = json::object();
        for (int n = int(rng() % 4); n > 0; --n)
            object[random_text(rng)] = random_value(rng, depth - 1);
        return object;
    }
    }
}

// Valid events of every shape, dumped with and without \u escapes and indentation, then each
// with one byte replaced.
TEST(Differential, RandomDocuments) {
    Tally tally{"random docs"};
    std::mt19937 rng(42);
    for (int i = 0; i < 1500; ++i) {
        json body = json::parse(minimal_event);
        for (const char* key : {"id", "type", "account", "object"})
            if (rng() % 4) body[key] = rng() % 8 ? json(random_text(rng)) : random_value(rng, 1);
        if (i % 4) body["object"] = "event";
        if (rng() % 2) body["created"] = random_value(rng, 0);
        json& object = body["data"]["object"];
        if (rng() % 8 == 0) object = random_value(rng, 0);
        if (object.is_object()) object["x"] = random_value(rng, 4);
        std::string text = body.dump(i % 3 == 0 ? 2 : -1, ' ', i % 2 == 0);
        tally.check(text);
        text[rng() % text.size()] = char(rng() % 256);
        tally.check(text);
    }
}

TEST(Scanner, UnescapesAndKeepsTheLastDuplicate) {
    auto envelope = parse_envelope(
        R"({"object":"ev\u0065nt","id":"x","\u0069d":"\u0065vt_\ud83d\ude00","type":"a\/b",)"
        R"("account":"acct_\u00e9","created":5,"created":1700000000,"data":{"object":{}}})");
    ASSERT_TRUE(envelope.ok()) << envelope.error();
    EXPECT_EQ(envelope.value().id, "evt_\xF0\x9F\x98\x80");
    EXPECT_EQ(envelope.value().type, "a/b");
    EXPECT_EQ(envelope.value().account, "acct_\xC3\xA9");
    EXPECT_EQ(to_unix(envelope.value().created), 1700000000);
}

} // namespace
} // namespace dunning::webhook
