// The one result type of the data path and of start-up: a value, or an
// error made of a small code enum of the subsystem (delivery::Errc, ...) and
// a message. It is std::expected's shape (value(), error(), operator bool,
// *, ->), written here because the fuzz targets build with clang 14, whose
// libstdc++ 12 headers do not offer std::expected to it.
//
//   core::Result<std::string, delivery::Error> load();
//   if (!r) log(r.error().message);  ...  use(*r);
//   return core::fail(delivery::Errc::kIo, "cannot read ...");
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace bifrost::core {

template <class Code>
struct Error {
  Code code;
  std::string message;
};

template <class E>
struct Unexpected {
  E error;
};

// The failure of a Result whose error is Error<Code>.
template <class Code>
Unexpected<Error<Code>> fail(Code code, std::string message = {}) {
  return {Error<Code>{code, std::move(message)}};
}

template <class T, class E>
class [[nodiscard]] Result {
 public:
  template <class U = T, class = std::enable_if_t<std::is_constructible_v<T, U&&>>>
  Result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT: implicit, as expected's
  Result(Unexpected<E> e) : v_(std::in_place_index<1>, std::move(e.error)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const E& error() const { return std::get<1>(v_); }
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }
  // As std::expected's: holds a value equal to `v`.
  friend bool operator==(const Result& r, const T& v) { return r.has_value() && r.value() == v; }

 private:
  std::variant<T, E> v_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(Unexpected<E> e) : e_(std::move(e.error)) {}
  bool has_value() const { return !e_.has_value(); }
  explicit operator bool() const { return has_value(); }
  const E& error() const { return *e_; }

 private:
  std::optional<E> e_;
};

}  // namespace bifrost::core
