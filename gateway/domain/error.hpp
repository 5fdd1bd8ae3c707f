// Errors that come from outside (network, broker, database, input) travel as values: Error and Result<T>.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace vkhid {

// What kind of thing went wrong; callers branch on this, people read `message`.
enum class ErrorKind {
  InvalidInput,  // the caller's data is wrong (config value, request field, XML)
  NotFound,
  Conflict,     // would contradict what is already recorded
  Unavailable,  // a server or peer could not be reached or went away; retrying may help
  Timeout,
  Internal,  // a failure in our own process or a library we call
};

const char* errorKindName(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string code;     // stable machine-readable code, e.g. "config.unknown_key", "db.unavailable"
  std::string message;  // for people and logs; never personal data

  static Error invalid(std::string code, std::string message) {
    return {ErrorKind::InvalidInput, std::move(code), std::move(message)};
  }
  static Error unavailable(std::string code, std::string message) {
    return {ErrorKind::Unavailable, std::move(code), std::move(message)};
  }
  static Error internal(std::string code, std::string message) {
    return {ErrorKind::Internal, std::move(code), std::move(message)};
  }
};

// A value or an error. A minimal stand-in for C++23 std::expected.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

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

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Success or an error, with nothing to return.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status success() { return {}; }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace vkhid
