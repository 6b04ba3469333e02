// A small JSON value, parser and serializer for the etcd target (etcd's v3
// HTTP/JSON gateway speaks JSON with base64 keys and values).
//
// Numbers keep their text, so 64-bit integers survive exactly (as_int64); the gateway sends
// int64 fields as strings ("revision":"5"), which int64_field accepts too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace peers::json {

// Malformed input (with the byte offset where it went wrong) or a value of the wrong type.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Value {
 public:
  enum class Type { null, boolean, number, string, array, object };
  struct Member;  // {key, value}

  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : type_(Type::boolean), bool_(b) {}
  Value(const char* s) : type_(Type::string), text_(s) {}
  Value(std::string s) : type_(Type::string), text_(std::move(s)) {}
  Value(std::string_view s) : type_(Type::string), text_(s) {}
  // Numbers go through integer()/real(), so Value(5) cannot quietly become true.
  template <class T>
    requires std::is_arithmetic_v<T> && (!std::is_same_v<T, bool>)
  Value(T) = delete;
  static Value integer(std::int64_t n);
  static Value real(double d);  // finite only (JSON has no NaN/inf): throws Error otherwise
  static Value array();
  static Value object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_number() const { return type_ == Type::number; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }

  // Throw Error when the type does not match (or the number does not fit).
  bool as_bool() const;
  const std::string& as_string() const;
  std::int64_t as_int64() const;  // an integral number in range
  double as_double() const;
  const std::vector<Value>& items() const;     // array
  const std::vector<Member>& members() const;  // object, in input order

  // Object member named key (the last one if repeated); nullptr if absent or not an object.
  const Value* find(std::string_view key) const;
  // find() along a path of keys: get({"header", "revision"}).
  const Value* get(std::initializer_list<std::string_view> path) const;

  // Building. set() replaces an existing member of that name; push() appends to an array.
  Value& set(std::string_view key, Value value);
  Value& push(Value value);

  std::string dump() const;  // compact JSON text
  void dump_to(std::string& out) const;

  static Value parse(std::string_view text);  // throws Error
  static std::optional<Value> try_parse(std::string_view text) noexcept;

 private:
  Type type_ = Type::null;
  bool bool_ = false;
  std::string text_;  // string value, or a number's JSON text
  std::vector<Value> items_;
  std::vector<Member> members_;
  friend class Parser;
};

struct Value::Member {
  std::string key;
  Value value;
};

// s as a quoted JSON string, escaped.
std::string quote(std::string_view s);
void quote_to(std::string& out, std::string_view s);

// An integer field the way protobuf's JSON mapping writes 64-bit ones: a string of digits
// (or a plain number). nullopt when absent or not an integer.
std::optional<std::int64_t> int64_field(const Value* v);
std::optional<std::uint64_t> uint64_field(const Value* v);

// Splits a stream of concatenated JSON objects/arrays (whitespace between them allowed), fed
// in arbitrary pieces, into one text per value. It only tracks nesting and strings; parse
// each piece with Value::parse. Throws Error on bytes between values that cannot start one.
class StreamSplitter {
 public:
  void feed(std::string_view data);
  std::optional<std::string> next();  // the next complete value, if one is buffered

 private:
  std::string buffer_;
  std::size_t scanned_ = 0;  // buffer_[0, scanned_) was scanned already
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  bool started_ = false;
};

}  // namespace peers::json
