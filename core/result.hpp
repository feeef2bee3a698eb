#pragma once
// A value or a named error, for the pure parts that must not throw.
#include <utility>
#include <variant>

namespace dunning {

template <class E> struct Err { E error; };
template <class E> Err<std::decay_t<E>> err(E&& e) {
    return {std::forward<E>(e)};
}

template <class T, class E> class Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Err<E> e) : v_(std::in_place_index<1>, std::move(e.error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return std::get<0>(v_); }
    T& value() & { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const E& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, E> v_;
};

} // namespace dunning
