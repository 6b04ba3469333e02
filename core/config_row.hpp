// ConfigRow: one row of config.xml as a part reads it (the CACHE row, the MQ row, ...), with
// the project's error shape for a bad element ("FILE:LINE: NAME in row ROW: why, got 'text'").
#pragma once

#include <cstdint>
#include <string>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"

namespace fourinone::core {

class ConfigRow {
 public:
  ConfigRow(const Config& config, std::string row) : config_(config), row_(std::move(row)) {}

  // The element's text (trimmed), or nullptr when the row or element is absent.
  const std::string* text(const std::string& name) const { return config_element(config_, row_, name); }
  Status bad(const std::string& name, const std::string& why) const {
    return config_element_error(config_, row_, name, why);
  }
  // A whole number (sizes: also "64K", "1M", "2G") in [low, high]; fallback when absent.
  Result<std::uint64_t> number(const std::string& name, std::uint64_t fallback, std::uint64_t low, std::uint64_t high,
                               bool sizes = false) const;

 private:
  const Config& config_;
  std::string row_;
};

}  // namespace fourinone::core
