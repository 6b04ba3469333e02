// A small command-line reader: positional words and --flags with or without a value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fourinone/error.hpp"

namespace fourinone::cli {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // --name VALUE
  std::set<std::string> flags;                // --name

  bool has(const std::string& name) const { return flags.count(name) || values.count(name); }
  std::optional<std::string> value(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
};

// `with_value` names the flags that take a value; any other --x is a plain flag unless it is
// not in `known` (then: bad_request naming it).
Result<Args> parse_args(int argc, char** argv, int first, const std::set<std::string>& with_value,
                        const std::set<std::string>& known_flags);

// A whole number given to flag `what`; bad_request naming the flag and the text otherwise.
Result<std::int64_t> parse_int(const std::string& what, const std::string& text);

// Prints "fourinone: <status>" to stderr and returns the exit code 1.
int fail(const Status& status);

}  // namespace fourinone::cli
