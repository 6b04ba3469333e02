// The pure assignment of partitions to members; see partitions.hpp.
#include <algorithm>

#include "fourinone/partitions.hpp"

namespace fourinone {

std::map<std::string, std::vector<int>> assign_partitions(std::vector<std::string> members, int partitions) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::map<std::string, std::vector<int>> out;
  if (members.empty()) return out;
  const int n = static_cast<int>(members.size());
  const int base = std::max(partitions, 0) / n;
  const int extra = std::max(partitions, 0) % n;
  int next = 0;
  for (int i = 0; i < n; ++i) {
    auto& mine = out[members[static_cast<std::size_t>(i)]];
    for (int k = 0; k < base + (i < extra ? 1 : 0); ++k) mine.push_back(next++);
  }
  return out;
}

}  // namespace fourinone
