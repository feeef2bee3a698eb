#include "store/stored_json.hpp"

#include <algorithm>
#include <iterator>
#include <limits>

namespace dunning::store {

using simdjson::dom::element;

StoredObject::StoredObject(element value, std::string path) : path_(std::move(path)) {
    simdjson::dom::object object;
    if (value.get_object().get(object))
        throw CaseStateError((path_.empty() ? std::string("the state") : path_) +
                             ": expected an object");
    fields_.reserve(object.size());
    for (auto f : object)
        fields_.push_back({f.key, f.value});
    const auto by_key = [](const Field& a, const Field& b) { return a.key < b.key; };
    // store/json_text.hpp writes the keys in byte order; a row edited by hand may not have them so.
    if (!std::is_sorted(fields_.begin(), fields_.end(), by_key))
        std::stable_sort(fields_.begin(), fields_.end(), by_key);
}

std::string StoredObject::field(std::string_view key) const {
    std::string out = path_;
    if (!out.empty()) out += '.';
    out += key;
    return out;
}

void StoredObject::fail(std::string_view key, std::string_view what) const {
    throw CaseStateError(field(key) + ": " + std::string(what));
}

std::optional<element> StoredObject::lookup(std::string_view key) const {
    const auto after =
        std::upper_bound(fields_.begin(), fields_.end(), key,
                         [](std::string_view k, const Field& f) { return k < f.key; });
    if (after == fields_.begin() || std::prev(after)->key != key) return std::nullopt;
    return std::prev(after)->value; // the last of the key's fields: the one that wins
}

element StoredObject::required(std::string_view key) const {
    const auto v = lookup(key);
    if (!v) fail(key, "missing");
    return *v;
}

bool StoredObject::contains(std::string_view key) const {
    return lookup(key).has_value();
}

element StoredObject::value(std::string_view key) const {
    return required(key);
}

StoredObject StoredObject::object(std::string_view key) const {
    return {required(key), field(key)};
}

std::optional<StoredObject> StoredObject::object_or_null(std::string_view key) const {
    const auto v = lookup(key);
    if (!v || v->is_null()) return std::nullopt;
    return StoredObject(*v, field(key));
}

std::vector<StoredObject> StoredObject::objects(std::string_view key) const {
    simdjson::dom::array list;
    if (required(key).get_array().get(list)) fail(key, "expected an array");
    std::vector<StoredObject> out;
    out.reserve(list.size());
    for (auto item : list)
        out.emplace_back(item, field(key) + "[" + std::to_string(out.size()) + "]");
    return out;
}

std::string StoredObject::string_of(element v, std::string_view key) const {
    std::string_view s;
    if (v.get_string().get(s)) fail(key, "expected a string");
    return std::string(s);
}

std::int64_t StoredObject::integer_of(element v, std::string_view key) const {
    std::int64_t n = 0;
    if (v.get_int64().get(n)) // a whole number beyond int64's is still a uint64
        fail(key, v.is_uint64() ? "out of range" : "expected an integer");
    return n;
}

int StoredObject::small_integer_of(element v, std::string_view key) const {
    const auto n = integer_of(v, key);
    if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max())
        fail(key, "out of range");
    return static_cast<int>(n);
}

bool StoredObject::boolean_of(element v, std::string_view key) const {
    bool b = false;
    if (v.get_bool().get(b)) fail(key, "expected true or false");
    return b;
}

std::string StoredObject::string(std::string_view key) const {
    return string_of(required(key), key);
}

std::int64_t StoredObject::integer(std::string_view key) const {
    return integer_of(required(key), key);
}

int StoredObject::small_integer(std::string_view key) const {
    return small_integer_of(required(key), key);
}

bool StoredObject::boolean(std::string_view key) const {
    return boolean_of(required(key), key);
}

std::vector<std::string> StoredObject::strings(std::string_view key) const {
    simdjson::dom::array list;
    if (required(key).get_array().get(list)) fail(key, "expected an array");
    std::vector<std::string> out;
    out.reserve(list.size());
    for (auto item : list)
        out.push_back(string_of(item, std::string(key) + "[" + std::to_string(out.size()) + "]"));
    return out;
}

std::string StoredObject::string(std::string_view key, std::string_view absent) const {
    const auto v = lookup(key);
    return v ? string_of(*v, key) : std::string(absent);
}

std::int64_t StoredObject::integer(std::string_view key, std::int64_t absent) const {
    const auto v = lookup(key);
    return v ? integer_of(*v, key) : absent;
}

int StoredObject::small_integer(std::string_view key, int absent) const {
    const auto v = lookup(key);
    return v ? small_integer_of(*v, key) : absent;
}

bool StoredObject::boolean(std::string_view key, bool absent) const {
    const auto v = lookup(key);
    return v ? boolean_of(*v, key) : absent;
}

std::optional<Timestamp> StoredObject::time(std::string_view key) const {
    const auto v = lookup(key);
    if (!v || v->is_null()) return std::nullopt;
    return from_unix(integer_of(*v, key));
}

StoredObject parse_stored(simdjson::dom::parser& parser, std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3); // one byte order mark, as nlohmann
    element doc;
    if (const auto error = parser.parse(text.data(), text.size()).get(doc))
        throw CaseStateError(std::string("not JSON: ") + simdjson::error_message(error));
    return {doc, ""};
}

std::string json_text_of(element value) {
    return simdjson::to_string(value);
}

} // namespace dunning::store
