// SPDX-License-Identifier: MIT
// Typed exceptions with hints (design.md §3): the library throws, only apps/latdyn/main.cpp picks exit codes.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace latdyn {

/// Base of every latdyn error. `what()` is "<message>\nhint: <hint>" when a hint is given.
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const std::string& hint = "")
      : std::runtime_error(hint.empty() ? message : message + "\nhint: " + hint), message_(message), hint_(hint) {}
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  /// Process exit code used by the CLI for this error class.
  virtual int exit_code() const { return 1; }

 private:
  std::string message_, hint_;
};

/// Invalid configuration: unknown key, wrong type, out-of-range value, unknown registry name.
class ConfigError final : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};
/// Missing, corrupt or malformed input data (files, shapes, dtypes, non-finite values).
class DataError final : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 3; }
};
/// Missing or unreadable checkpoint or run directory.
class CheckpointError final : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 4; }
};
/// Requested device unavailable.
class DeviceError final : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 5; }
};
/// Numerical failure that the caller asked to treat as an error.
class NumericalError final : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 6; }
};
/// File-system failure (unwritable directory, full disk).
class IoError final : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 7; }
};

namespace detail {
inline void str_append(std::ostringstream&) {}
template <typename T, typename... R>
void str_append(std::ostringstream& os, const T& v, const R&... rest) {
  os << v;
  str_append(os, rest...);
}
}  // namespace detail

/// Concatenates any streamable values into one string.
template <typename... A>
std::string concat(const A&... a) {
  std::ostringstream os;
  detail::str_append(os, a...);
  return os.str();
}

}  // namespace latdyn

/// Checks internal state (not tensor preconditions, which use TORCH_CHECK); throws ErrorClass(msg).
#define LATDYN_CHECK(cond, ErrorClass, ...)                         \
  do {                                                              \
    if (!(cond)) throw ErrorClass(::latdyn::concat(__VA_ARGS__));      \
  } while (0)
