// The waiting line under the lock, read-write lock and election recipes: every party owns one
// sequential heartbeat node in one domain, and the park's creation order is the line's order.
// A party waits for the deletion of one node ahead of it (never for the whole domain, so a
// release wakes one party) and then re-reads its place.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/park.hpp"

namespace fourinone::recipes {

using Clock = std::chrono::steady_clock;

// The deadline `wait` from now; time_point::max() for kWaitForever-like waits.
Clock::time_point deadline_after(std::chrono::milliseconds wait);

// Our place in the line: a sequential heartbeat node holding `value`.
Result<Node> join_line(Park& park, const std::string& domain, std::string_view value);

// Given the nodes ahead of ours (creation order), the index of the one to outlive, or -1
// when it is our turn.
using Blocker = std::function<long(const std::vector<Node>& ahead)>;

// Waits until `blocker` finds nobody to wait for. Errors: session_expired (the session ended
// or our node is gone), timeout (the deadline passed), park errors. Does not leave the line.
Status wait_turn(Park& park, const std::string& domain, const std::string& mine, const Blocker& blocker,
                 Clock::time_point deadline);

// Leaves the line: removes our node. A node already gone means the session expired (or
// someone removed it): session_expired, because another party may have held the turn since.
Status leave_line(Park& park, const std::string& domain, const std::string& mine);

Status expired_status(const std::string& domain);

}  // namespace fourinone::recipes
