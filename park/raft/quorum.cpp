#include "park/raft/quorum.hpp"

#include <algorithm>
#include <functional>

namespace fourinone::raft {

std::size_t majority(std::size_t voters) noexcept { return voters / 2 + 1; }

std::uint64_t quorum_value(std::vector<std::uint64_t> values) noexcept {
  if (values.empty()) return 0;
  // Sorted high to low, the value at position majority-1 is reached by that many voters (and
  // every one before it); any higher value is reached by fewer than a majority.
  std::sort(values.begin(), values.end(), std::greater<>());
  return values[majority(values.size()) - 1];
}

VoteResult vote_result(std::size_t voters, std::size_t granted, std::size_t rejected) noexcept {
  const std::size_t need = majority(voters);
  if (granted >= need) return VoteResult::won;
  // Lost once the servers that have not answered could not make up a majority any more.
  if (voters - rejected < need) return VoteResult::lost;
  return VoteResult::pending;
}

}  // namespace fourinone::raft
