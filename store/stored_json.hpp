#pragma once
// Reading the JSON that store/ wrote itself (a case's state): checked reads from simdjson's DOM
// (Debian libsimdjson-dev), each error naming its field ("invoice.amount_due: expected an
// integer"). Internal to store/.
//
// A key given twice reads as its last value, as nlohmann's DOM (the parser before) kept it. An
// object's fields are listed by key once, when it is read: a state has a few dozen at its top,
// and a walk of them for each key read took more than the parse.
#include "core/time.hpp"
#include "store/case_json.hpp" // CaseStateError: what every read here throws

#include <cstdint>
#include <optional>
#include <simdjson.h>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::store {

class StoredObject {
  public:
    // `path` names the object in messages: "" for the document, "invoice", "attempts[1]"…
    // Throws CaseStateError when `value` is not an object.
    StoredObject(simdjson::dom::element value, std::string path);

    bool contains(std::string_view key) const; // present, perhaps null

    // Required: absent, or of another type (null included), is an error.
    StoredObject object(std::string_view key) const;
    std::vector<StoredObject> objects(std::string_view key) const; // an array of objects
    std::string string(std::string_view key) const;
    std::int64_t integer(std::string_view key) const;
    int small_integer(std::string_view key) const; // within int's range
    bool boolean(std::string_view key) const;
    std::vector<std::string> strings(std::string_view key) const;
    simdjson::dom::element value(std::string_view key) const; // any type, null included

    // The same, with a value for an absent key (a row stored before the key existed).
    std::string string(std::string_view key, std::string_view absent) const;
    std::int64_t integer(std::string_view key, std::int64_t absent) const;
    int small_integer(std::string_view key, int absent) const;
    bool boolean(std::string_view key, bool absent) const;

    std::optional<Timestamp> time(std::string_view key) const; // unix seconds; absent or null: none
    std::optional<StoredObject> object_or_null(std::string_view key) const; // absent or null: none

    std::string field(std::string_view key) const; // "path.key", for messages
    [[noreturn]] void fail(std::string_view key, std::string_view what) const;

  private:
    std::optional<simdjson::dom::element> lookup(std::string_view key) const;
    simdjson::dom::element required(std::string_view key) const;
    std::string string_of(simdjson::dom::element v, std::string_view key) const;
    std::int64_t integer_of(simdjson::dom::element v, std::string_view key) const;
    int small_integer_of(simdjson::dom::element v, std::string_view key) const;
    bool boolean_of(simdjson::dom::element v, std::string_view key) const;

    struct Field {
        std::string_view key;
        simdjson::dom::element value;
    };
    std::vector<Field> fields_; // by key; a key given twice keeps its order
    std::string path_;
};

// The document in `text`, parsed by `parser` (whose buffers it lives in: the next parse ends it).
// Throws CaseStateError for text that is not JSON or not an object.
StoredObject parse_stored(simdjson::dom::parser& parser, std::string_view text);

// A value as JSON text, for messages ("4", "\"amex\"").
std::string json_text_of(simdjson::dom::element value);

} // namespace dunning::store
