#include "json.hpp"

#include "core/utf8.hpp"

#include <charconv>
#include <cmath>

namespace peers::json {

namespace {

constexpr int kMaxDepth = 256;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the well-formed UTF-8 sequence at s[pos] (a byte >= 0x80), or 0 (RFC 3629).
std::size_t utf8_sequence(std::string_view s, std::size_t pos) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = byte(pos);
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0) lo = 0xA0;  // no overlong forms
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (pos + len > s.size()) return 0;
  if (byte(pos + 1) < lo || byte(pos + 1) > hi) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    if (byte(pos + i) < 0x80 || byte(pos + i) > 0xBF) return 0;
  }
  return len;
}

}  // namespace

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Value document() {
    skip_ws();
    Value v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw Error(std::string("json: ") + what + " at offset " + std::to_string(pos_));
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void skip_ws() {
    while (!at_end() && is_ws(s_[pos_])) ++pos_;
  }
  void expect(char c) {
    if (at_end() || s_[pos_] != c) fail((std::string("expected '") + c + "'").c_str());
    ++pos_;
  }

  Value value(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    if (at_end()) fail("unexpected end of input");
    switch (s_[pos_]) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': {
        Value v;
        v.type_ = Value::Type::string;
        v.text_ = string();
        return v;
      }
      case 't': literal("true"); return Value(true);
      case 'f': literal("false"); return Value(false);
      case 'n': literal("null"); return Value();
      default:
        if (s_[pos_] == '-' || is_digit(s_[pos_])) return number();
        fail("unexpected character");
    }
  }

  void literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) fail("invalid literal");
    pos_ += word.size();
  }

  Value object(int depth) {
    Value v = Value::object();
    expect('{');
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return v;
    }
    for (;;) {
      skip_ws();
      if (peek() != '"') fail("expected a member name");
      std::string key = string();
      skip_ws();
      expect(':');
      skip_ws();
      v.members_.push_back(Value::Member{std::move(key), value(depth + 1)});
      skip_ws();
      if (at_end()) fail("unterminated object");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return v;
    }
  }

  Value array(int depth) {
    Value v = Value::array();
    expect('[');
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return v;
    }
    for (;;) {
      skip_ws();
      v.items_.push_back(value(depth + 1));
      skip_ws();
      if (at_end()) fail("unterminated array");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return v;
    }
  }

  std::uint32_t hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        --pos_;
        fail("bad hex digit in \\u escape");
      }
    }
    return v;
  }

  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      if (at_end()) fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character in string");
      if (c >= 0x80) {
        std::size_t len = utf8_sequence(s_, pos_);
        if (len == 0) fail("invalid UTF-8 in string");
        out.append(s_.substr(pos_, len));
        pos_ += len;
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      if (at_end()) fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("unpaired low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") fail("unpaired high surrogate");
            pos_ += 2;
            std::uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("unpaired high surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          fourinone::core::append_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          fail("unknown escape");
      }
    }
  }

  Value number() {
    std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (is_digit(peek())) {
      while (is_digit(peek())) ++pos_;
    } else {
      fail("bad number");
    }
    if (peek() == '.') {
      ++pos_;
      if (!is_digit(peek())) fail("bad number: digits must follow '.'");
      while (is_digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!is_digit(peek())) fail("bad number: digits must follow the exponent");
      while (is_digit(peek())) ++pos_;
    }
    Value v;
    v.type_ = Value::Type::number;
    v.text_ = std::string(s_.substr(start, pos_ - start));
    return v;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

Value Value::integer(std::int64_t n) {
  Value v;
  v.type_ = Type::number;
  v.text_ = std::to_string(n);
  return v;
}

Value Value::real(double d) {
  if (!std::isfinite(d)) throw Error("json: a number must be finite");
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  if (ec != std::errc()) throw Error("json: cannot format number");
  Value v;
  v.type_ = Type::number;
  v.text_.assign(buf, end);
  return v;
}

Value Value::array() {
  Value v;
  v.type_ = Type::array;
  return v;
}

Value Value::object() {
  Value v;
  v.type_ = Type::object;
  return v;
}

bool Value::as_bool() const {
  if (type_ != Type::boolean) throw Error("json: not a boolean");
  return bool_;
}

const std::string& Value::as_string() const {
  if (type_ != Type::string) throw Error("json: not a string");
  return text_;
}

std::int64_t Value::as_int64() const {
  if (type_ != Type::number) throw Error("json: not a number");
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), n);
  if (ec != std::errc() || end != text_.data() + text_.size()) {
    throw Error("json: not an integer in range: " + text_);
  }
  return n;
}

double Value::as_double() const {
  if (type_ != Type::number) throw Error("json: not a number");
  double d = 0;
  auto [end, ec] = std::from_chars(text_.data(), text_.data() + text_.size(), d);
  if (ec != std::errc() || end != text_.data() + text_.size()) {
    throw Error("json: number out of range: " + text_);
  }
  return d;
}

const std::vector<Value>& Value::items() const {
  if (type_ != Type::array) throw Error("json: not an array");
  return items_;
}

const std::vector<Value::Member>& Value::members() const {
  if (type_ != Type::object) throw Error("json: not an object");
  return members_;
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::object) return nullptr;
  for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
    if (it->key == key) return &it->value;
  }
  return nullptr;
}

const Value* Value::get(std::initializer_list<std::string_view> path) const {
  const Value* v = this;
  for (std::string_view key : path) {
    v = v->find(key);
    if (v == nullptr) return nullptr;
  }
  return v;
}

Value& Value::set(std::string_view key, Value value) {
  if (type_ != Type::object) throw Error("json: set on a non-object");
  for (Member& m : members_) {
    if (m.key == key) {
      m.value = std::move(value);
      return *this;
    }
  }
  members_.push_back(Member{std::string(key), std::move(value)});
  return *this;
}

Value& Value::push(Value value) {
  if (type_ != Type::array) throw Error("json: push on a non-array");
  items_.push_back(std::move(value));
  return *this;
}

void Value::dump_to(std::string& out) const {
  switch (type_) {
    case Type::null: out += "null"; break;
    case Type::boolean: out += bool_ ? "true" : "false"; break;
    case Type::number: out += text_; break;
    case Type::string: quote_to(out, text_); break;
    case Type::array: {
      out += '[';
      bool first = true;
      for (const Value& v : items_) {
        if (!first) out += ',';
        first = false;
        v.dump_to(out);
      }
      out += ']';
      break;
    }
    case Type::object: {
      out += '{';
      bool first = true;
      for (const Member& m : members_) {
        if (!first) out += ',';
        first = false;
        quote_to(out, m.key);
        out += ':';
        m.value.dump_to(out);
      }
      out += '}';
      break;
    }
  }
}

std::string Value::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

Value Value::parse(std::string_view text) { return Parser(text).document(); }

std::optional<Value> Value::try_parse(std::string_view text) noexcept {
  try {
    return Parser(text).document();
  } catch (const std::exception&) {  // Error, or bad_alloc
    return std::nullopt;
  }
}

void quote_to(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);  // bytes >= 0x80 pass through (UTF-8 in, UTF-8 out)
        }
    }
  }
  out += '"';
}

std::string quote(std::string_view s) {
  std::string out;
  quote_to(out, s);
  return out;
}

namespace {

template <class Int>
std::optional<Int> integer_field(const Value* v) {
  if (v == nullptr) return std::nullopt;
  // A string of digits, or a number's JSON text (a fraction or exponent does not parse).
  std::string text;
  if (v->is_string()) {
    text = v->as_string();
  } else if (v->is_number()) {
    text = v->dump();
  } else {
    return std::nullopt;
  }
  Int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

std::optional<std::int64_t> int64_field(const Value* v) { return integer_field<std::int64_t>(v); }
std::optional<std::uint64_t> uint64_field(const Value* v) { return integer_field<std::uint64_t>(v); }

void StreamSplitter::feed(std::string_view data) { buffer_.append(data); }

std::optional<std::string> StreamSplitter::next() {
  if (!started_) {
    std::size_t skip = 0;
    while (skip < buffer_.size() && is_ws(buffer_[skip])) ++skip;
    buffer_.erase(0, skip);
    if (buffer_.empty()) return std::nullopt;
    if (buffer_[0] != '{' && buffer_[0] != '[') {
      throw Error("json stream: expected an object or array");
    }
    started_ = true;
    scanned_ = 0;
    depth_ = 0;
    in_string_ = false;
    escaped_ = false;
  }
  for (std::size_t i = scanned_; i < buffer_.size(); ++i) {
    char c = buffer_[i];
    if (in_string_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        std::string value = buffer_.substr(0, i + 1);
        buffer_.erase(0, i + 1);
        started_ = false;
        return value;
      }
    }
  }
  scanned_ = buffer_.size();
  return std::nullopt;
}

}  // namespace peers::json
