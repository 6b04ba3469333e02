// Splitting a flag's list ("a,b,c") for the bench programs.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace bench {

// The non-empty pieces of text between the separators.
inline std::vector<std::string> split(const std::string& text, char by) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, by);)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace bench
