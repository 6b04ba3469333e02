#include "core/config_row.hpp"

#include <charconv>
#include <optional>

namespace fourinone::core {

Result<std::uint64_t> ConfigRow::number(const std::string& name, std::uint64_t fallback, std::uint64_t low,
                                        std::uint64_t high, bool sizes) const {
  const std::string* t = text(name);
  if (t == nullptr) return fallback;
  std::optional<std::uint64_t> v;
  if (sizes) {
    v = parse_config_bytes(*t);
  } else {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
    if (!t->empty() && ec == std::errc() && end == t->data() + t->size()) v = n;
  }
  if (!v || *v < low || *v > high) {
    return bad(name, "expected " + std::string(sizes ? "a size (K, M, G allowed) " : "a whole number ") + "from " +
                         std::to_string(low) + " to " + std::to_string(high));
  }
  return *v;
}

}  // namespace fourinone::core
