#include "webhook/json_reader.hpp"

#include <limits>

namespace dunning::webhook {

using nlohmann::json;

namespace {
const json& null_json() {
    static const json null_value;
    return null_value;
}
} // namespace

JsonReader::JsonReader(const json& value, std::string path, std::string& error)
    : value_(&value), path_(std::move(path)), error_(&error) {}

const json* JsonReader::find(std::string_view key) const {
    if (!value_->is_object()) return nullptr;
    auto it = value_->find(key);
    if (it == value_->end() || it->is_null()) return nullptr;
    return &*it;
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
    return find(key) != nullptr;
}

bool JsonReader::contains(std::string_view key) const {
    return value_->is_object() && value_->contains(key);
}

bool JsonReader::is_expanded(std::string_view key) const {
    const json* v = find(key);
    return v && v->is_object();
}

JsonReader JsonReader::object(std::string_view key) const {
    std::string path = path_ + "." + std::string(key);
    const json* v = find(key);
    if (v && !v->is_object()) {
        fail(key, "an object");
        v = nullptr;
    }
    return {v ? *v : null_json(), std::move(path), *error_};
}

JsonReader JsonReader::expanded(std::string_view key) const {
    const json* v = find(key);
    if (v && !v->is_string()) return object(key);
    return {null_json(), path_ + "." + std::string(key), *error_};
}

std::vector<JsonReader> JsonReader::array(std::string_view key) const {
    std::vector<JsonReader> items;
    const json* v = find(key);
    if (!v) return items;
    if (!v->is_array()) {
        fail(key, "an array");
        return items;
    }
    std::string base = path_ + "." + std::string(key);
    items.reserve(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) {
        const json& element = (*v)[i];
        if (!element.is_object()) {
            fail(std::string(key) + "[" + std::to_string(i) + "]", "an object");
            return {};
        }
        items.emplace_back(element, base + "[" + std::to_string(i) + "]", *error_);
    }
    return items;
}

std::vector<JsonReader> JsonReader::list(std::string_view key) const {
    return object(key).array("data");
}

std::vector<std::string> JsonReader::strings(std::string_view key) const {
    std::vector<std::string> items;
    const json* v = find(key);
    if (!v) return items;
    if (!v->is_array()) {
        fail(key, "an array");
        return items;
    }
    for (const json& element : *v) {
        if (!element.is_string()) {
            fail(key, "an array of strings");
            return {};
        }
        items.push_back(element.get<std::string>());
    }
    return items;
}

std::string JsonReader::string(std::string_view key) const {
    const json* v = find(key);
    if (!v) return {};
    if (!v->is_string()) {
        fail(key, "a string");
        return {};
    }
    return v->get<std::string>();
}

std::string JsonReader::id(std::string_view key) const {
    const json* v = find(key);
    if (!v) return {};
    if (v->is_string()) return v->get<std::string>();
    if (v->is_object()) return object(key).string("id");
    fail(key, "an id or an object");
    return {};
}

std::int64_t JsonReader::integer(std::string_view key) const {
    const json* v = find(key);
    if (!v) return 0;
    if (v->is_number_unsigned() &&
        v->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
        fail(key, "an integer in range");
        return 0;
    }
    if (!v->is_number_integer()) {
        fail(key, "an integer");
        return 0;
    }
    return v->get<std::int64_t>();
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
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
        fail(key, "true or false");
        return std::nullopt;
    }
    return v->get<bool>();
}

} // namespace dunning::webhook
