// Status and Result<T>: the one error vocabulary of Fourinone (DESIGN §3).
//
// Every call that can fail returns a Status (no value) or a Result<T> (a value or a Status).
// An OK Status holds no allocation, so success costs nothing. Both are plain value types and
// may be copied between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace fourinone {

// The error codes. Their names are stable: they appear on the wire, in logs and in the CLI.
enum class Errc : std::uint8_t {
  ok = 0,
  not_found,        // the domain or node does not exist
  exists,           // create of a node that already exists
  no_permission,    // the node's policy or the missing login forbids the call
  bad_version,      // compare-and-set failed: the node has another version
  too_large,        // a value, name or frame above the configured limit
  park_full,        // the memory guard (SAFEMEMORYPER) refuses new data; reads go on
  unavailable,      // no server could be reached (or it is shutting down)
  timeout,          // the call's deadline passed; the write may or may not have happened
  session_expired,  // the session behind a heartbeat node is gone
  bad_request,      // malformed input: bad name, garbage frame, wrong protocol version
  unauthenticated,  // login required or wrong user/password
  not_leader,       // this server is not the leader; the message names the leader
  cancelled,        // the caller or a shutdown cancelled the call
  internal,         // a bug or an I/O failure on the server; see its log
  config_error,     // config.xml is broken: the message names file, line and element
  stale_layout,     // cache: the key's group changed (scale-out); refresh the layout and retry
};
// The highest code; decoders refuse anything above it.
inline constexpr Errc kLastErrc = Errc::stale_layout;

// "not_found", "exists", ... ; "unknown" for a value outside the enum.
const char* errc_name(Errc code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // OK
  Status(Errc code, std::string message);

  bool ok() const noexcept { return rep_ == nullptr; }
  Errc code() const noexcept { return rep_ ? rep_->code : Errc::ok; }
  // The human-readable detail; empty for OK.
  const std::string& message() const noexcept;
  // "code: message", or "ok".
  std::string to_string() const;

 private:
  struct Rep {
    Errc code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;  // null when OK
};

// Thrown only by Result<T>::value() on an error result, for callers who prefer exceptions.
class Error : public std::runtime_error {
 public:
  explicit Error(Status status) : std::runtime_error(status.to_string()), status_(std::move(status)) {}
  const Status& status() const noexcept { return status_; }

 private:
  Status status_;
};

// A value or an error. REQUIRES for the Status constructor: the status is not OK.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(v_).ok()) v_.template emplace<1>(Errc::internal, "Result built from an OK status");
  }

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  // The error; an OK Status when the result holds a value.
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

  // The value; throws fourinone::Error when the result holds an error.
  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  // By value from a temporary, so that `for (auto& x : f().value())` does not loop over a
  // destroyed result.
  T value() && { check(); return std::get<0>(std::move(v_)); }
  T value_or(T fallback) const& { return ok() ? std::get<0>(v_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void check() const {
    if (!ok()) throw Error(std::get<1>(v_));
  }
  std::variant<T, Status> v_;
};

}  // namespace fourinone
