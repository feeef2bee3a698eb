#pragma once
// Checked, non-throwing reads from a parsed JSON object, for the Stripe object readers.
// A missing or null field reads as empty (Stripe sends null for "not set"); a field of the
// wrong type records the first error ("data.object.amount_due: expected an integer"), which
// the caller checks once at the end. Internal to webhook/.
//
// The values are simdjson's DOM (Debian libsimdjson-dev): a reader is a view into the parser
// that read the body, which must outlive it. A key that appears twice reads as its last value,
// as nlohmann's DOM (the receiver's and the worker's parser before) kept it.
#include "core/time.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <simdjson.h>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::webhook {

// Years 1970 to 9999: anything else is not a Stripe time and would overflow finer durations.
inline bool plausible_unix_time(std::int64_t seconds) {
    return seconds >= 0 && seconds <= 253402300799;
}

class JsonReader {
  public:
    // `error` collects the first problem; it must outlive every reader made from this one.
    JsonReader(simdjson::dom::element value, std::string path, std::string& error);
    JsonReader(std::string path, std::string& error); // nothing there: every field is absent

    JsonReader object(std::string_view key) const;   // nested object, or an empty one
    JsonReader expanded(std::string_view key) const; // like object(), but an id reads as empty
    std::vector<JsonReader> array(std::string_view key) const; // elements, each an object
    std::vector<JsonReader> list(std::string_view key) const;  // a Stripe list: key.data[]
    std::vector<std::string> strings(std::string_view key) const;
    std::string string(std::string_view key) const;
    std::string id(std::string_view key) const; // "xx_…" or an expanded object's "id"
    std::int64_t integer(std::string_view key) const;
    int small_integer(std::string_view key) const;             // months, years, attempt counts
    std::optional<Timestamp> time(std::string_view key) const; // unix seconds, or null
    std::optional<bool> boolean(std::string_view key) const;

    bool has(std::string_view key) const;         // present and not null
    bool contains(std::string_view key) const;    // present, perhaps null
    bool is_expanded(std::string_view key) const; // an object rather than an id
    JsonReader renamed(std::string path) const;   // the same value, named otherwise in errors
    bool failed() const { return !error_->empty(); }
    const std::string& error() const { return *error_; }
    const std::string& path() const { return path_; }

  private:
    // The key's last value, including a null (nullopt when absent or this is no object).
    std::optional<simdjson::dom::element> lookup(std::string_view key) const;
    std::optional<simdjson::dom::element> find(std::string_view key) const; // absent or null: none
    void fail(std::string_view key, std::string_view expected) const;

    std::optional<simdjson::dom::object> object_; // the value, when it is an object
    // A large object's fields by key (open addressing; a key given twice keeps its last value),
    // made at its first lookup and shared by the copies made after it: the readers of Stripe's
    // objects ask a hundred-field invoice for dozens of keys, and a walk of the fields for each
    // was a tenth of the worker's time. Made inside const lookups: a reader is one thread's.
    struct Slot {
        std::string_view key;
        simdjson::dom::element value;
        bool used = false;
    };
    mutable std::shared_ptr<const std::vector<Slot>> slots_;
    std::string path_;
    std::string* error_;
};

} // namespace dunning::webhook
