// Majority math for a fixed group (internal to park/raft/). Every decision that needs "a
// majority agrees" goes through here, so the quorum size lives in one place (§5.2, §5.4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fourinone::raft {

// Servers needed for a majority of `voters`: 1 of 1, 2 of 3, 3 of 4 or 5.
std::size_t majority(std::size_t voters) noexcept;

// The highest value that at least a majority of `values` (one per voter) has reached: for
// match indexes, the highest index stored on a majority. Takes the vector by value to sort it.
std::uint64_t quorum_value(std::vector<std::uint64_t> values) noexcept;

enum class VoteResult : std::uint8_t { pending = 1, won, lost };
// An election among `voters` with `granted` yes and `rejected` no answers so far.
VoteResult vote_result(std::size_t voters, std::size_t granted, std::size_t rejected) noexcept;

}  // namespace fourinone::raft
