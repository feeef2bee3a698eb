#pragma once
// One callable out of several lambdas, for std::visit over a variant:
//   std::visit(overloaded{[](const A&) { … }, [](const B&) { … }}, v);
namespace dunning {

template <class... F> struct overloaded : F... { using F::operator()...; };
template <class... F> overloaded(F...) -> overloaded<F...>;

} // namespace dunning
