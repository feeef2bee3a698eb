#include "webhook/json_reader.hpp"

#include <functional>
#include <limits>

namespace dunning::webhook {

using simdjson::dom::element;
using simdjson::dom::element_type;

namespace {
std::string text_of(element value) {
    return std::string(value.get_string().value_unsafe()); // the caller checked is_string()
}
} // namespace

JsonReader::JsonReader(element value, std::string path, std::string& error)
    : path_(std::move(path)), error_(&error) {
    simdjson::dom::object object;
    if (!value.get_object().get(object)) object_ = object;
}

JsonReader::JsonReader(std::string path, std::string& error)
    : path_(std::move(path)), error_(&error) {}

std::optional<element> JsonReader::lookup(std::string_view key) const {
    if (!object_) return std::nullopt;
    // A small object is walked. So is a large one: Stripe's objects have about a hundred fields
    // at most, and keys made to collide in the table (std::hash has a fixed seed) would make
    // building it cost the square of their number, where a walk per lookup costs their number.
    // At 512 fields that square is about 130,000 probes, some 250 walks: bounded, and only for a
    // body signed with the endpoint's secret.
    constexpr std::size_t walk_up_to = 16, table_up_to = 512;
    const std::size_t fields = object_->size();
    if (!slots_ && (fields <= walk_up_to || fields > table_up_to)) {
        std::optional<element> found;
        for (auto field : *object_)
            if (field.key == key) found = field.value; // the last one wins, as in nlohmann's DOM
        return found;
    }
    const auto hash = std::hash<std::string_view>{};
    if (!slots_) {
        std::size_t capacity = 32; // a power of two, at least twice the fields
        while (capacity < 2 * fields)
            capacity *= 2;
        auto slots = std::make_shared<std::vector<Slot>>(capacity);
        for (auto field : *object_) {
            for (auto i = hash(field.key);; ++i) {
                auto& slot = (*slots)[i & (capacity - 1)];
                if (!slot.used || slot.key == field.key) {
                    slot = {field.key, field.value, true}; // a later duplicate replaces
                    break;
                }
            }
        }
        slots_ = std::move(slots);
    }
    const auto& slots = *slots_;
    for (auto i = hash(key);; ++i) {
        const auto& slot = slots[i & (slots.size() - 1)];
        if (!slot.used) return std::nullopt;
        if (slot.key == key) return slot.value;
    }
}

std::optional<element> JsonReader::find(std::string_view key) const {
    auto v = lookup(key);
    if (v && v->is_null()) return std::nullopt;
    return v;
}

JsonReader JsonReader::renamed(std::string path) const {
    JsonReader copy = *this;
    copy.path_ = std::move(path);
    return copy;
}

void JsonReader::fail(std::string_view key, std::string_view expected) const {
    if (!error_->empty()) return; // the first problem is the one worth reporting
    *error_ = path_;
    *error_ += '.';
    *error_ += key;
    *error_ += ": expected ";
    *error_ += expected;
}

bool JsonReader::has(std::string_view key) const {
    return find(key).has_value();
}

bool JsonReader::contains(std::string_view key) const {
    return lookup(key).has_value();
}

bool JsonReader::is_expanded(std::string_view key) const {
    auto v = find(key);
    return v && v->is_object();
}

JsonReader JsonReader::object(std::string_view key) const {
    std::string path = path_ + "." + std::string(key);
    auto v = find(key);
    if (v && !v->is_object()) {
        fail(key, "an object");
        v.reset();
    }
    if (!v) return {std::move(path), *error_};
    return {*v, std::move(path), *error_};
}

JsonReader JsonReader::expanded(std::string_view key) const {
    auto v = find(key);
    if (v && !v->is_string()) return object(key);
    return {path_ + "." + std::string(key), *error_};
}

std::vector<JsonReader> JsonReader::array(std::string_view key) const {
    std::vector<JsonReader> items;
    auto v = find(key);
    if (!v) return items;
    simdjson::dom::array elements;
    if (v->get_array().get(elements)) {
        fail(key, "an array");
        return items;
    }
    std::string base = path_ + "." + std::string(key);
    items.reserve(elements.size());
    std::size_t i = 0;
    for (element e : elements) {
        if (!e.is_object()) {
            fail(std::string(key) + "[" + std::to_string(i) + "]", "an object");
            return {};
        }
        items.emplace_back(e, base + "[" + std::to_string(i) + "]", *error_);
        ++i;
    }
    return items;
}

std::vector<JsonReader> JsonReader::list(std::string_view key) const {
    return object(key).array("data");
}

std::vector<std::string> JsonReader::strings(std::string_view key) const {
    std::vector<std::string> items;
    auto v = find(key);
    if (!v) return items;
    simdjson::dom::array elements;
    if (v->get_array().get(elements)) {
        fail(key, "an array");
        return items;
    }
    for (element e : elements) {
        if (!e.is_string()) {
            fail(key, "an array of strings");
            return {};
        }
        items.push_back(text_of(e));
    }
    return items;
}

std::string JsonReader::string(std::string_view key) const {
    auto v = find(key);
    if (!v) return {};
    if (!v->is_string()) {
        fail(key, "a string");
        return {};
    }
    return text_of(*v);
}

std::string JsonReader::id(std::string_view key) const {
    auto v = find(key);
    if (!v) return {};
    if (v->is_string()) return text_of(*v);
    if (v->is_object()) return object(key).string("id");
    fail(key, "an id or an object");
    return {};
}

// simdjson types a whole number as INT64 when it fits, UINT64 above INT64_MAX, DOUBLE when it
// has a fraction or an exponent (1.0, 1e2): the same split as nlohmann's integer and float.
std::int64_t JsonReader::integer(std::string_view key) const {
    auto v = find(key);
    if (!v) return 0;
    if (v->type() == element_type::UINT64) {
        fail(key, "an integer in range");
        return 0;
    }
    if (v->type() != element_type::INT64) {
        fail(key, "an integer");
        return 0;
    }
    return v->get_int64().value_unsafe();
}

int JsonReader::small_integer(std::string_view key) const {
    std::int64_t n = integer(key);
    if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
        fail(key, "a small integer");
        return 0;
    }
    return static_cast<int>(n);
}

std::optional<Timestamp> JsonReader::time(std::string_view key) const {
    if (!has(key)) return std::nullopt;
    std::int64_t seconds = integer(key);
    if (!plausible_unix_time(seconds)) {
        fail(key, "a unix time");
        return std::nullopt;
    }
    return from_unix(seconds);
}

std::optional<bool> JsonReader::boolean(std::string_view key) const {
    auto v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_bool()) {
        fail(key, "true or false");
        return std::nullopt;
    }
    return v->get_bool().value_unsafe();
}

} // namespace dunning::webhook
