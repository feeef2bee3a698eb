#pragma once
// JSON text written straight into a string, for the stored case state (store/case_json.cpp, with
// store/collection_json.cpp) and a job's payload (store/job_payload.cpp). Building nlohmann's tree
// for a state (a std::map per object, a node per value) and dumping it took about a fifth of the
// worker's time per event. The text is what nlohmann's dump() writes for the same values: no
// spaces, each object's keys in byte order (a key out of order throws std::logic_error, so a
// misplaced key fails every save that writes it, never a stored row), strings escaped as nlohmann
// escapes them: a string with a byte below space or above DEL, a quote or a backslash is handed to
// nlohmann's serializer, which also refuses invalid UTF-8.
#include "core/time.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::store {

class JsonText {
  public:
    explicit JsonText(std::string& out) : out_(out) {}

    void null() { out_ += "null"; }
    void value(bool b) { out_ += b ? "true" : "false"; }
    template <std::integral I>
    requires(!std::same_as<I, bool>) void value(I n) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
        out_.append(digits, end);
    }
    void value(Timestamp t) { value(to_unix(t)); }
    void value(const std::optional<Timestamp>& t) {
        if (t)
            value(to_unix(*t));
        else
            null();
    }
    // Each string type by name: a const char* would otherwise become a bool.
    void value(const char* s) { value(std::string_view(s)); }
    void value(const std::string& s) { value(std::string_view(s)); }
    void value(std::string_view s) {
        for (const unsigned char c : s)
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
                out_ += nlohmann::json(std::string(s)).dump();
                return;
            }
        out_ += '"';
        out_ += s;
        out_ += '"';
    }
    // A value held as nlohmann's tree (a notification's data), as its dump() writes it.
    void tree(const nlohmann::json& j) { out_ += j.dump(); }
    void value(const std::vector<std::string>& items) {
        Array a(*this);
        for (const auto& s : items) {
            a.next();
            value(s);
        }
    }

    // `{`, then each member by key() (or put()) in byte order of the keys, `}` when it ends.
    class Object {
      public:
        explicit Object(JsonText& w) : w_(w) { w_.out_ += '{'; }
        ~Object() { w_.out_ += '}'; }
        Object(const Object&) = delete;
        Object& operator=(const Object&) = delete;

        // The writer, for the key's value.
        JsonText& key(const char* k) {
            if (last_) {
                if (std::strcmp(last_, k) >= 0)
                    throw std::logic_error(std::string("JSON key \"") + k + "\" written after \"" +
                                           last_ + "\"");
                w_.out_ += ',';
            }
            last_ = k;
            w_.out_ += '"';
            w_.out_ += k;
            w_.out_ += "\":";
            return w_;
        }
        template <class V> void put(const char* k, const V& v) { key(k).value(v); }

      private:
        JsonText& w_;
        const char* last_ = nullptr;
    };

    // `[`, then next() before each element, `]` when it ends.
    class Array {
      public:
        explicit Array(JsonText& w) : w_(w) { w_.out_ += '['; }
        ~Array() { w_.out_ += ']'; }
        Array(const Array&) = delete;
        Array& operator=(const Array&) = delete;
        void next() {
            if (any_) w_.out_ += ',';
            any_ = true;
        }

      private:
        JsonText& w_;
        bool any_ = false;
    };

  private:
    std::string& out_;
};

// The text of one object whose members `members` writes into the Object it is given (key(),
// put()); the state's text and a job's payload are each one such object.
template <class Members> std::string object_text(Members&& members, std::size_t reserve = 0) {
    std::string out;
    out.reserve(reserve);
    JsonText w(out);
    {
        JsonText::Object o(w);
        members(o);
    }
    return out;
}

} // namespace dunning::store
