// WareHouse and WareValue (include/fourinone/warehouse.hpp): names, typed reads, the log
// rendering and the wire form every task input and result travels in.
//
// Wire form, written through core/wire_archive.hpp (integers little-endian; a string is a u64
// length and its bytes):
//   u8 version (1) | u8 state | string error | u64 count | count x (string key, value)
//   value: u8 type, then its payload: null nothing; bool u8 (0/1); integer i64; real f64;
//          string and bytes a string; list u64 count + values; map u64 count + (string key,
//          value); object string type + string bytes.
//
// decode() reads bytes from the network, so it trusts nothing: the archive refuses any length
// larger than the bytes left before allocating, containers grow only as their elements are
// actually read (no reserve from a length field), and lists and maps may nest at most
// kMaxDepth deep so that hostile input cannot overflow the stack. encode() does not enforce
// that limit; a deeper value encodes but does not decode.
#include "fourinone/warehouse.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <exception>
#include <system_error>

#include "core/wire_archive.hpp"

namespace fourinone {
namespace {

using Type = WareValue::Type;

constexpr std::uint8_t kFormatVersion = 1;
constexpr int kMaxDepth = 64;  // lists and maps nested in one another

// "a string", "an integer": the type with its article, for error messages.
std::string with_article(Type type) {
  bool vowel = type == Type::integer || type == Type::object;
  return std::string(vowel ? "an " : "a ") + ware_type_name(type);
}

Status no_key(std::string_view key) {
  return Status(Errc::not_found, "WareHouse has no key '" + std::string(key) + "'");
}

std::string mismatch(Type have, Type want) { return "holds " + with_article(have) + ", not " + with_article(want); }

template <class T>
Result<T> value_as(const WareValue& value, Type want) {
  if (const T* v = std::get_if<T>(&value.variant())) return *v;
  return Status(Errc::bad_request, mismatch(value.type(), want));
}

// Moves the alternative T out of a result of WareHouse::typed (which checked the type).
template <class T>
Result<T> take(Result<WareValue> value) {
  if (!value.ok()) return value.status();
  return std::move(std::get<T>(value->variant()));
}

// --- rendering --------------------------------------------------------------------------------

void render_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// The shortest text that reads back as the same double; "2.0" rather than "2" so that a
// real never looks like an integer in a log.
void render_real(std::string& out, double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  std::string_view text(buf, ec == std::errc() ? static_cast<std::size_t>(end - buf) : 0);
  out += text;
  if (text.find_first_not_of("-0123456789") == std::string_view::npos) out += ".0";
}

void render(std::string& out, const WareValue& value) {
  const auto& v = value.variant();
  switch (value.type()) {
    case Type::null: out += "null"; return;
    case Type::boolean: out += std::get<bool>(v) ? "true" : "false"; return;
    case Type::integer: out += std::to_string(std::get<std::int64_t>(v)); return;
    case Type::real: render_real(out, std::get<double>(v)); return;
    case Type::string: render_string(out, std::get<std::string>(v)); return;
    case Type::bytes: out += "<" + std::to_string(std::get<Bytes>(v).data.size()) + " bytes>"; return;
    case Type::list: {
      out += '[';
      const char* sep = "";
      for (const auto& item : std::get<WareValue::List>(v)) {
        out += std::exchange(sep, ", ");
        render(out, item);
      }
      out += ']';
      return;
    }
    case Type::map: {
      out += '{';
      const char* sep = "";
      for (const auto& [key, item] : std::get<WareValue::Map>(v)) {
        out += std::exchange(sep, ", ");
        render_string(out, key);
        out += ": ";
        render(out, item);
      }
      out += '}';
      return;
    }
    case Type::object: out += "<object " + std::get<WareObject>(v).type + ">"; return;
  }
}

// --- wire form --------------------------------------------------------------------------------

void save_count(core::WireOutputArchive& ar, std::size_t count) {
  ar(cereal::make_size_tag(static_cast<std::uint64_t>(count)));
}

// The archive refuses a count above the bytes left; every element takes at least one byte.
std::uint64_t load_count(core::WireInputArchive& ar) {
  std::uint64_t count = 0;
  ar(cereal::make_size_tag(count));
  return count;
}

void save_value(core::WireOutputArchive& ar, const WareValue& value) {
  const auto& v = value.variant();
  ar(static_cast<std::uint8_t>(value.type()));
  switch (value.type()) {
    case Type::null: return;
    case Type::boolean: ar(static_cast<std::uint8_t>(std::get<bool>(v) ? 1 : 0)); return;
    case Type::integer: ar(std::get<std::int64_t>(v)); return;
    case Type::real: ar(std::get<double>(v)); return;
    case Type::string: ar(std::get<std::string>(v)); return;
    case Type::bytes: ar(std::get<Bytes>(v).data); return;
    case Type::list: {
      const auto& list = std::get<WareValue::List>(v);
      save_count(ar, list.size());
      for (const auto& item : list) save_value(ar, item);
      return;
    }
    case Type::map: {
      const auto& map = std::get<WareValue::Map>(v);
      save_count(ar, map.size());
      for (const auto& [key, item] : map) {
        ar(key);
        save_value(ar, item);
      }
      return;
    }
    case Type::object: {
      const auto& object = std::get<WareObject>(v);
      ar(object.type, object.bytes);
      return;
    }
  }
}

[[noreturn]] void malformed(const std::string& why) { throw cereal::Exception(why); }

// `depth`: the lists and maps around this value. Throws on anything malformed.
WareValue load_value(core::WireInputArchive& ar, int depth) {
  std::uint8_t type = 0;
  ar(type);
  if ((type == static_cast<std::uint8_t>(Type::list) || type == static_cast<std::uint8_t>(Type::map)) &&
      depth >= kMaxDepth) {
    malformed("lists and maps nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  switch (type) {
    case static_cast<std::uint8_t>(Type::null): return {};
    case static_cast<std::uint8_t>(Type::boolean): {
      std::uint8_t b = 0;
      ar(b);
      if (b > 1) malformed("bad bool byte " + std::to_string(b));
      return b == 1;
    }
    case static_cast<std::uint8_t>(Type::integer): {
      std::int64_t i = 0;
      ar(i);
      return i;
    }
    case static_cast<std::uint8_t>(Type::real): {
      double d = 0;
      ar(d);
      return d;
    }
    case static_cast<std::uint8_t>(Type::string): {
      std::string s;
      ar(s);
      return s;
    }
    case static_cast<std::uint8_t>(Type::bytes): {
      Bytes b;
      ar(b.data);
      return b;
    }
    case static_cast<std::uint8_t>(Type::list): {
      WareValue::List list;
      for (std::uint64_t n = load_count(ar); n > 0; --n) list.push_back(load_value(ar, depth + 1));
      return list;
    }
    case static_cast<std::uint8_t>(Type::map): {
      WareValue::Map map;
      for (std::uint64_t n = load_count(ar); n > 0; --n) {
        std::string key;
        ar(key);
        WareValue item = load_value(ar, depth + 1);
        // Our encoder writes each key once; a repeat is forged or corrupt, not data to merge.
        if (!map.emplace(key, std::move(item)).second) malformed("map key '" + key + "' appears twice");
      }
      return map;
    }
    case static_cast<std::uint8_t>(Type::object): {
      WareObject object;
      ar(object.type, object.bytes);
      return object;
    }
    default: malformed("unknown value type " + std::to_string(type));
  }
}

// Sorting pointers instead of searching keeps this O(n log n) on a hostile million keys.
void check_unique_keys(const std::vector<WareHouse::Entry>& entries) {
  std::vector<const std::string*> keys;
  keys.reserve(entries.size());
  for (const auto& entry : entries) keys.push_back(&entry.first);
  std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
  auto twice = std::adjacent_find(keys.begin(), keys.end(),
                                  [](const std::string* a, const std::string* b) { return *a == *b; });
  if (twice != keys.end()) malformed("key '" + **twice + "' appears twice");
}

}  // namespace

const char* ware_type_name(WareValue::Type type) noexcept {
  switch (type) {
    case Type::null: return "null";
    case Type::boolean: return "bool";
    case Type::integer: return "integer";
    case Type::real: return "real";
    case Type::string: return "string";
    case Type::bytes: return "bytes";
    case Type::list: return "list";
    case Type::map: return "map";
    case Type::object: return "object";
  }
  return "unknown";
}

const char* task_state_name(TaskState state) noexcept {
  switch (state) {
    case TaskState::not_ready: return "NOTREADY";
    case TaskState::ready: return "READY";
    case TaskState::exception: return "EXCEPTION";
  }
  return "unknown";
}

// --- WareValue --------------------------------------------------------------------------------

Result<bool> WareValue::as_bool() const { return value_as<bool>(*this, Type::boolean); }
Result<std::int64_t> WareValue::as_int() const { return value_as<std::int64_t>(*this, Type::integer); }

Result<double> WareValue::as_real() const {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
  return value_as<double>(*this, Type::real);
}

Result<std::string> WareValue::as_string() const { return value_as<std::string>(*this, Type::string); }
Result<Bytes> WareValue::as_bytes() const { return value_as<Bytes>(*this, Type::bytes); }
Result<WareValue::List> WareValue::as_list() const { return value_as<List>(*this, Type::list); }
Result<WareValue::Map> WareValue::as_map() const { return value_as<Map>(*this, Type::map); }
Result<WareObject> WareValue::as_object() const { return value_as<WareObject>(*this, Type::object); }

std::string WareValue::to_string() const {
  std::string out;
  render(out, *this);
  return out;
}

// --- WareHouse --------------------------------------------------------------------------------

WareHouse::WareHouse(std::string key, WareValue value) { entries_.emplace_back(std::move(key), std::move(value)); }

WareHouse::WareHouse(std::initializer_list<Entry> entries) {
  for (const auto& [key, value] : entries) put(key, value);
}

WareHouse& WareHouse::put(std::string_view key, WareValue value) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [key](const Entry& e) { return e.first == key; });
  if (it != entries_.end()) {
    it->second = std::move(value);
  } else {
    entries_.emplace_back(std::string(key), std::move(value));
  }
  return *this;
}

const WareValue* WareHouse::find(std::string_view key) const noexcept {
  auto it = std::find_if(entries_.begin(), entries_.end(), [key](const Entry& e) { return e.first == key; });
  return it == entries_.end() ? nullptr : &it->second;
}

Result<WareValue> WareHouse::get(std::string_view key) const {
  if (const WareValue* value = find(key)) return *value;
  return no_key(key);
}

Result<WareValue> WareHouse::typed(std::string_view key, WareValue::Type want) const {
  const WareValue* value = find(key);
  if (value == nullptr) return no_key(key);
  bool fits = value->type() == want || (want == Type::real && value->type() == Type::integer);
  if (!fits) {
    return Status(Errc::bad_request, "WareHouse key '" + std::string(key) + "' " + mismatch(value->type(), want));
  }
  return *value;
}

Result<bool> WareHouse::get_bool(std::string_view key) const { return take<bool>(typed(key, Type::boolean)); }
Result<std::int64_t> WareHouse::get_int(std::string_view key) const {
  return take<std::int64_t>(typed(key, Type::integer));
}

Result<double> WareHouse::get_real(std::string_view key) const {
  auto value = typed(key, Type::real);
  if (!value.ok()) return value.status();
  return value->as_real();
}

Result<std::string> WareHouse::get_string(std::string_view key) const {
  return take<std::string>(typed(key, Type::string));
}
Result<Bytes> WareHouse::get_bytes(std::string_view key) const { return take<Bytes>(typed(key, Type::bytes)); }
Result<WareValue::List> WareHouse::get_list(std::string_view key) const {
  return take<WareValue::List>(typed(key, Type::list));
}
Result<WareValue::Map> WareHouse::get_map(std::string_view key) const {
  return take<WareValue::Map>(typed(key, Type::map));
}

bool WareHouse::remove(std::string_view key) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [key](const Entry& e) { return e.first == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

void WareHouse::set_exception(std::string message) {
  state_ = TaskState::exception;
  error_ = std::move(message);
}

std::string WareHouse::to_string() const {
  std::string out = "{";
  const char* sep = "";
  for (const auto& [key, value] : entries_) {
    out += std::exchange(sep, ", ");
    out += key;
    out += ": ";
    render(out, value);
  }
  out += '}';
  if (state_ == TaskState::exception) {
    out += error_.empty() ? " [EXCEPTION]" : " [EXCEPTION: " + error_ + "]";
  } else if (state_ != TaskState::ready) {
    out += std::string(" [") + task_state_name(state_) + "]";
  }
  return out;
}

std::string WareHouse::encode() const {
  std::string out;
  core::WireOutputArchive ar(out);
  ar(kFormatVersion, static_cast<std::uint8_t>(state_), error_);
  save_count(ar, entries_.size());
  for (const auto& [key, value] : entries_) {
    ar(key);
    save_value(ar, value);
  }
  return out;
}

Result<WareHouse> WareHouse::decode(std::string_view bytes) {
  auto refuse = [](const std::string& why) { return Status(Errc::bad_request, "WareHouse does not decode: " + why); };
  try {
    core::WireInputArchive ar(bytes);
    std::uint8_t version = 0, state = 0;
    ar(version);
    if (version != kFormatVersion) return refuse("unknown format version " + std::to_string(version));
    ar(state);
    if (state > static_cast<std::uint8_t>(TaskState::exception)) {
      return refuse("unknown state " + std::to_string(state));
    }
    WareHouse house;
    house.state_ = static_cast<TaskState>(state);
    ar(house.error_);
    for (std::uint64_t n = load_count(ar); n > 0; --n) {
      std::string key;
      ar(key);
      WareValue value = load_value(ar, 0);
      house.entries_.emplace_back(std::move(key), std::move(value));
    }
    check_unique_keys(house.entries_);
    if (ar.remaining() != 0) return refuse(std::to_string(ar.remaining()) + " trailing bytes");
    return house;
  } catch (const std::exception& e) {
    return refuse(e.what());
  }
}

}  // namespace fourinone
