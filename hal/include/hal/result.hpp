// SPDX-License-Identifier: Apache-2.0
// Result<T> / Status: the error vocabulary of every layer. An Error carries a category and a
// human message that reads "module: action: cause"; callers prepend their own context as the
// error travels up (RAUC's g_propagate_prefixed_error, without GLib). No exceptions cross a
// module boundary.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hal {

enum class Errc {
  io,         // an OS or device call failed
  timeout,    // a deadline passed
  parse,      // input did not have the expected shape
  auth,       // credentials or token refused
  rejected,   // the peer refused the request permanently
  retry,      // transient peer condition; try again later
  storage,    // the durable store failed or is full
  config,     // configuration is invalid
  not_found,  // the thing asked for does not exist
  busy,       // resource in use (a line, a device, a lock)
  security,   // a security check failed (file mode, authentication tag, TLS)
  internal,   // a bug: an invariant did not hold
};

std::string_view to_string(Errc code) noexcept;

struct [[nodiscard]] Error {
  Errc code;
  std::string what;

  Error(Errc c, std::string message) : code(c), what(std::move(message)) {}

  // Prepends "where: " and returns the error, for `return std::move(e).context("outbox")`.
  Error context(std::string_view where) && {
    what.insert(0, std::string(where) + ": ");
    return std::move(*this);
  }
  Error context(std::string_view where) const& { return Error(*this).context(where); }
};

// Result<T>: either a T or an Error. Result<void> is spelled Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error)
      : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{Errc::internal, {}};
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok() {
  return {};
}

// Builds an Error from errno: "what: strerror(errno)".
Error errno_error(Errc code, std::string_view what, int err);

}  // namespace hal

// Propagates a failed Status/Result with added context:  ION_TRY(store.open(), "outbox");
#define ION_TRY(expr, where)                               \
  do {                                                     \
    auto ion_try_r_ = (expr);                              \
    if (!ion_try_r_.ok()) {                                \
      return std::move(ion_try_r_).error().context(where); \
    }                                                      \
  } while (0)
