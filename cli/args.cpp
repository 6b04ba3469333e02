#include "cli/args.hpp"

#include <iostream>
#include <stdexcept>

namespace fourinone::cli {

std::optional<std::string> Args::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::string Args::value_or(const std::string& name, const std::string& fallback) const {
  return value(name).value_or(fallback);
}

Result<Args> parse_args(int argc, char** argv, int first, const std::set<std::string>& with_value,
                        const std::set<std::string>& known_flags) {
  Args args;
  for (int i = first; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") {
      for (++i; i < argc; ++i) args.positional.emplace_back(argv[i]);
      break;
    }
    if (word.size() > 2 && word.rfind("--", 0) == 0) {
      std::string name = word.substr(2);
      std::string inline_value;
      bool has_inline = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_inline = true;
      }
      if (with_value.count(name)) {
        if (has_inline) {
          args.values[name] = inline_value;
        } else if (i + 1 < argc) {
          args.values[name] = argv[++i];
        } else {
          return Status(Errc::bad_request, "--" + name + " needs a value");
        }
      } else if (known_flags.count(name) && !has_inline) {
        args.flags.insert(name);
      } else {
        return Status(Errc::bad_request, "unknown option --" + name);
      }
      continue;
    }
    args.positional.push_back(word);
  }
  return args;
}

int fail(const Status& status) {
  std::cerr << "fourinone: " << status.to_string() << std::endl;
  return 1;
}

Result<std::int64_t> parse_int(const std::string& what, const std::string& text) {
  try {
    std::size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
    return static_cast<std::int64_t>(v);
  } catch (const std::exception&) {
    return Status(Errc::bad_request, what + " needs a whole number, got '" + text + "'");
  }
}

}  // namespace fourinone::cli
