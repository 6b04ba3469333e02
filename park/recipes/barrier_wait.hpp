// Internal to the barrier recipes: waiting on a domain until a condition on its nodes holds,
// with one long get_latest_domain at a time (the park answers it on the next change).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "fourinone/park.hpp"

namespace fourinone::recipes {

inline constexpr const char* kReadyNode = "ready";

// Calls `done` with the domain's nodes now and after every change until it returns true.
// Errors: timeout once `deadline` passes; Park's.
Status wait_for_domain(Park& park, const std::string& domain, std::chrono::steady_clock::time_point deadline,
                       const std::function<bool(const std::vector<Node>&)>& done);

// Members counted by the barriers: every node but "ready".
std::size_t count_members(const std::vector<Node>& nodes);
bool has_ready(const std::vector<Node>& nodes);

}  // namespace fourinone::recipes
