// WareHouse: the map every task input and output travels in (the original's WareHouse).
//
// A WareHouse maps string keys, kept in insertion order, to self-describing values: null,
// bool, integer (int64), real (double), string, bytes, list, map, or an object (any
// cereal-serializable user type, stored with its type's name). Reading a key as the wrong
// type is an error naming the key and both types, never a silent conversion (the one
// widening allowed: an integer reads as a real).
//
// A WareHouse that comes back from a worker also carries a task state: NOT_READY while the
// task runs, READY with the worker's output, or EXCEPTION with the message of what went wrong
// (an exception in the worker's do_task, its death, a timeout).
//
// Thread-safety: a value type; concurrent reads are safe, writes need the caller's locking.
#pragma once

#include <cereal/types/string.hpp>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

#include "fourinone/detail/wire_archive.hpp"
#include "fourinone/error.hpp"

namespace fourinone {

// Raw bytes, kept apart from text so that both sides know which one a value is.
struct Bytes {
  std::string data;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

// A user object in the wire archive's form (fourinone/detail/wire_archive.hpp), with the name
// of its C++ type.
struct WareObject {
  std::string type;   // typeid(T).name() of the type put_object stored
  std::string bytes;
  friend bool operator==(const WareObject&, const WareObject&) = default;
};

class WareValue {
 public:
  enum class Type : std::uint8_t { null = 0, boolean, integer, real, string, bytes, list, map, object };
  using List = std::vector<WareValue>;
  using Map = std::map<std::string, WareValue, std::less<>>;

  WareValue() = default;  // null
  WareValue(std::nullptr_t) {}                                       // NOLINT: implicit on purpose
  WareValue(bool v) : v_(v) {}                                       // NOLINT
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  WareValue(T v) : v_(checked_int(v)) {}                             // NOLINT
  WareValue(double v) : v_(v) {}                                     // NOLINT
  WareValue(const char* v) : v_(std::string(v)) {}                   // NOLINT
  WareValue(std::string v) : v_(std::move(v)) {}                     // NOLINT
  WareValue(std::string_view v) : v_(std::string(v)) {}              // NOLINT
  WareValue(Bytes v) : v_(std::move(v)) {}                           // NOLINT
  WareValue(List v) : v_(std::move(v)) {}                            // NOLINT
  WareValue(Map v) : v_(std::move(v)) {}                             // NOLINT
  WareValue(WareObject v) : v_(std::move(v)) {}                      // NOLINT

  Type type() const noexcept { return static_cast<Type>(v_.index()); }
  bool is_null() const noexcept { return type() == Type::null; }

  // The value as that type. Errors: bad_request "holds a T1, not a T2".
  Result<bool> as_bool() const;
  Result<std::int64_t> as_int() const;
  Result<double> as_real() const;  // an integer widens to a real
  Result<std::string> as_string() const;
  Result<Bytes> as_bytes() const;
  Result<List> as_list() const;
  Result<Map> as_map() const;
  Result<WareObject> as_object() const;

  // Without a copy: nullptr when the value is of another type.
  const std::string* if_string() const noexcept { return std::get_if<std::string>(&v_); }
  const List* if_list() const noexcept { return std::get_if<List>(&v_); }
  const Map* if_map() const noexcept { return std::get_if<Map>(&v_); }

  // A readable rendering (JSON-like; bytes as a length, objects as their type) for logs.
  std::string to_string() const;

  friend bool operator==(const WareValue&, const WareValue&) = default;

  // For WareHouse::encode/decode (worker/warehouse.cpp).
  const auto& variant() const noexcept { return v_; }
  auto& variant() noexcept { return v_; }

 private:
  template <std::integral T>
  static std::int64_t checked_int(T v) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (v > static_cast<T>(INT64_MAX)) throw Error(Status(Errc::bad_request, "integer above the int64 range"));
    }
    return static_cast<std::int64_t>(v);
  }

  std::variant<std::monostate, bool, std::int64_t, double, std::string, Bytes, List, Map, WareObject> v_;
};

// "null", "bool", "integer", "real", "string", "bytes", "list", "map", "object".
const char* ware_type_name(WareValue::Type type) noexcept;

enum class TaskState : std::uint8_t { not_ready = 0, ready = 1, exception = 2 };
const char* task_state_name(TaskState state) noexcept;  // "NOTREADY", "READY", "EXCEPTION"

class WareHouse {
 public:
  using Entry = std::pair<std::string, WareValue>;

  WareHouse() = default;
  WareHouse(std::string key, WareValue value);  // the original's one-entry constructor
  WareHouse(std::initializer_list<Entry> entries);

  // Sets `key` (a new key goes last; an existing one keeps its place). Returns *this.
  WareHouse& put(std::string_view key, WareValue value);
  // Any cereal-serializable type, read back with get_object<T>.
  template <class T>
  WareHouse& put_object(std::string_view key, const T& object);

  bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
  // nullptr when absent.
  const WareValue* find(std::string_view key) const noexcept;
  // Errors: not_found naming the key.
  Result<WareValue> get(std::string_view key) const;
  // Errors: not_found naming the key; bad_request "key K holds a T1, not a T2".
  Result<bool> get_bool(std::string_view key) const;
  Result<std::int64_t> get_int(std::string_view key) const;
  Result<double> get_real(std::string_view key) const;
  Result<std::string> get_string(std::string_view key) const;
  Result<Bytes> get_bytes(std::string_view key) const;
  Result<WareValue::List> get_list(std::string_view key) const;
  Result<WareValue::Map> get_map(std::string_view key) const;
  // Errors as above, plus bad_request when the object was stored as another type or its
  // bytes do not decode as T.
  template <class T>
  Result<T> get_object(std::string_view key) const;

  // Removes `key`; false when it was absent.
  bool remove(std::string_view key);
  void clear() noexcept { entries_.clear(); }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  // In insertion order.
  const std::vector<Entry>& entries() const noexcept { return entries_; }
  auto begin() const noexcept { return entries_.begin(); }
  auto end() const noexcept { return entries_.end(); }

  // --- the task state of a result ----------------------------------------------------------
  TaskState state() const noexcept { return state_; }
  bool ready() const noexcept { return state_ == TaskState::ready; }
  bool failed() const noexcept { return state_ == TaskState::exception; }
  // The message of an EXCEPTION result ("" otherwise).
  const std::string& error() const noexcept { return error_; }
  void set_state(TaskState state) noexcept { state_ = state; }
  // Makes this an EXCEPTION result with `message`.
  void set_exception(std::string message);

  // "{key: value, ...}" plus the state when it is not READY; for logs and samples.
  std::string to_string() const;

  // The wire form (entries, state, message). decode() refuses malformed or truncated bytes
  // with bad_request and never allocates more than the input's size suggests.
  std::string encode() const;
  static Result<WareHouse> decode(std::string_view bytes);

  friend bool operator==(const WareHouse&, const WareHouse&) = default;

 private:
  Result<WareValue> typed(std::string_view key, WareValue::Type want) const;

  std::vector<Entry> entries_;
  TaskState state_ = TaskState::ready;
  std::string error_;
};

// --- templates -----------------------------------------------------------------------------

// Objects travel in the wire archive: its loader refuses a length field larger than the bytes
// left before it allocates, so a hostile task input cannot make a worker (or a contractor
// reading an output) reserve gigabytes. cereal's portable binary archive resized first.
template <class T>
WareHouse& WareHouse::put_object(std::string_view key, const T& object) {
  return put(key, WareObject{typeid(T).name(), core::encode(object)});
}

template <class T>
Result<T> WareHouse::get_object(std::string_view key) const {
  auto value = typed(key, WareValue::Type::object);
  if (!value.ok()) return value.status();
  const WareObject& object = std::get<WareObject>(value->variant());
  if (object.type != typeid(T).name()) {
    return Status(Errc::bad_request, "WareHouse key '" + std::string(key) + "' holds an object of type " + object.type +
                                         ", not " + typeid(T).name());
  }
  T result{};
  if (Status s = core::decode(object.bytes, result, "WareHouse object"); !s.ok()) {
    return Status(Errc::bad_request, "WareHouse key '" + std::string(key) + "' does not decode as " +
                                         typeid(T).name() + ": " + s.message());
  }
  return result;
}

}  // namespace fourinone
