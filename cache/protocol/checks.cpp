#include "cache/protocol/checks.hpp"

#include "cache/protocol/messages.hpp"
#include "core/wire_archive.hpp"

namespace fourinone::cache::proto {

Status check_key(std::string_view key, std::size_t max_key) {
  if (key.empty()) return Status(Errc::bad_request, "empty key");
  if (key.size() > max_key) {
    return Status(Errc::too_large, "key of " + std::to_string(key.size()) + " bytes; the limit is " +
                                       std::to_string(max_key) + " (CACHE/MAXKEY)");
  }
  for (char ch : key) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return Status(Errc::bad_request, "key contains a space or a control character");
  }
  return {};
}

Status check_value(std::string_view value, std::size_t max_value) {
  if (value.size() <= max_value) return {};
  return Status(Errc::too_large, "value of " + std::to_string(value.size()) + " bytes; the limit is " +
                                     std::to_string(max_value) + " (CACHE/MAXVALUE)");
}

Status status_of(std::uint8_t code, const std::string& message) {
  if (code == 0) return {};
  if (code > static_cast<std::uint8_t>(kLastErrc)) {
    return Status(Errc::internal, "unknown error code " + std::to_string(code) + " from the cache server: " + message);
  }
  return Status(static_cast<Errc>(code), message);
}

Status answer_status(const Result<std::string>& body, const char* what) {
  if (!body.ok()) return body.status();
  Response response;
  if (Status s = core::decode(body.value(), response, what); !s.ok()) return s;
  return status_of(response.code, response.message);
}

}  // namespace fourinone::cache::proto
