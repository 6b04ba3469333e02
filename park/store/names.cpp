// Names of the park's enums (park.hpp) and the rule for domain and node names (store.hpp).
#include <string>
#include <string_view>

#include "fourinone/park.hpp"
#include "park/store/store.hpp"

namespace fourinone {

const char* policy_name(Policy policy) noexcept {
  switch (policy) {
    case Policy::read: return "read";
    case Policy::read_write: return "read_write";
    case Policy::all: return "all";
  }
  return "unknown";
}

Result<Policy> parse_policy(std::string_view text) {
  if (text == "read") return Policy::read;
  if (text == "read_write") return Policy::read_write;
  if (text == "all") return Policy::all;
  return Status(Errc::bad_request, "unknown policy '" + std::string(text) + "': use read, read_write or all");
}

const char* event_type_name(WatchEvent::Type type) noexcept {
  switch (type) {
    case WatchEvent::Type::created: return "created";
    case WatchEvent::Type::updated: return "updated";
    case WatchEvent::Type::deleted: return "deleted";
    case WatchEvent::Type::resync: return "resync";
  }
  return "unknown";
}

namespace park {
namespace {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the first continuation byte
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c == 0xE0) {
      extra = 2, lo = 0xA0;
    } else if (c == 0xED) {
      extra = 2, hi = 0x9F;  // U+D800..U+DFFF are surrogates
    } else if (c >= 0xE1 && c <= 0xEF) {
      extra = 2;
    } else if (c == 0xF0) {
      extra = 3, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      extra = 3;
    } else if (c == 0xF4) {
      extra = 3, hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

std::string check_name(std::string_view name, std::size_t max_name) {
  if (name.empty()) return "is empty";
  if (name.size() > max_name) {
    return "is " + std::to_string(name.size()) + " bytes long; the limit is " + std::to_string(max_name);
  }
  for (char ch : name) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return "contains a control character";
    if (c == '/') return "contains '/'";
  }
  if (!valid_utf8(name)) return "is not valid UTF-8";
  return "";
}

}  // namespace park
}  // namespace fourinone
