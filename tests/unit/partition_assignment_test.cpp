// The pure assignment of partitions to consumers (partitions.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "fourinone/partitions.hpp"

using fourinone::assign_partitions;

namespace {

// Checks the three promises for one input and returns the plan.
std::map<std::string, std::vector<int>> check_plan(const std::vector<std::string>& members, int partitions) {
  auto plan = assign_partitions(members, partitions);
  std::set<std::string> distinct(members.begin(), members.end());
  CHECK(plan.size() == distinct.size());
  std::vector<int> seen;
  std::size_t smallest = SIZE_MAX, largest = 0;
  for (const auto& [member, mine] : plan) {
    CHECK(distinct.contains(member));
    seen.insert(seen.end(), mine.begin(), mine.end());
    smallest = std::min(smallest, mine.size());
    largest = std::max(largest, mine.size());
  }
  std::sort(seen.begin(), seen.end());
  std::vector<int> all(static_cast<std::size_t>(partitions));
  for (int p = 0; p < partitions; ++p) all[static_cast<std::size_t>(p)] = p;
  CHECK(seen == all);  // every partition exactly once
  if (!plan.empty()) CHECK(largest - smallest <= 1);  // balanced
  return plan;
}

}  // namespace

TEST_CASE("every partition goes to exactly one member and the shares differ by at most one") {
  for (int partitions : {1, 2, 7, 12, 64}) {
    for (int n = 1; n <= 9; ++n) {
      std::vector<std::string> members;
      for (int i = 0; i < n; ++i) members.push_back("c" + std::to_string(i));
      CAPTURE(partitions);
      CAPTURE(n);
      check_plan(members, partitions);
    }
  }
}

TEST_CASE("the plan depends on the set of members, not on their order or duplicates") {
  auto a = check_plan({"b", "a", "c"}, 8);
  auto b = check_plan({"c", "a", "b", "a"}, 8);
  CHECK(a == b);
  CHECK(a.at("a") == std::vector<int>{0, 1, 2});
  CHECK(a.at("b") == std::vector<int>{3, 4, 5});
  CHECK(a.at("c") == std::vector<int>{6, 7});
}

TEST_CASE("more members than partitions leaves some members with none; no members assigns nothing") {
  auto plan = check_plan({"x", "y", "z"}, 2);
  CHECK(plan.at("x") == std::vector<int>{0});
  CHECK(plan.at("y") == std::vector<int>{1});
  CHECK(plan.at("z").empty());
  CHECK(assign_partitions({}, 5).empty());
}
