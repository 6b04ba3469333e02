#include "fourinone/barrier.hpp"

#include "park/recipes/barrier_wait.hpp"

namespace fourinone {
namespace {

Result<Node> arrive(Park& park, const std::string& domain) {
  CreateOptions options;
  options.heartbeat = true;  // a member that dies before the barrier opens stops counting
  return park.create_sequential(domain, "", options);
}

// Waits until `members` arrivals or the ready node; the first to see enough arrivals writes
// the ready node so that later lookers pass even after members have gone.
Status wait_open(Park& park, const std::string& domain, std::size_t members,
                 std::chrono::steady_clock::time_point deadline) {
  bool enough = false;
  Status s = recipes::wait_for_domain(park, domain, deadline, [&](const std::vector<Node>& nodes) {
    if (recipes::has_ready(nodes)) return true;
    enough = recipes::count_members(nodes) >= members;
    return enough;
  });
  if (!s.ok() || !enough) return s;
  auto ready = park.create(domain, recipes::kReadyNode, "");
  if (!ready.ok() && ready.status().code() != Errc::exists) return ready.status();
  return {};
}

}  // namespace

Status Barrier::wait(std::chrono::steady_clock::time_point deadline) {
  auto me = arrive(park_, domain_);
  if (!me.ok()) return me.status();
  return wait_open(park_, domain_, members_, deadline);
}

Status DoubleBarrier::enter(std::chrono::steady_clock::time_point deadline) {
  auto me = arrive(park_, domain_);
  if (!me.ok()) return me.status();
  my_node_ = me->name;
  return wait_open(park_, domain_, members_, deadline);
}

Status DoubleBarrier::leave(std::chrono::steady_clock::time_point deadline) {
  if (my_node_.empty()) return Status(Errc::bad_request, "leave() without a successful enter()");
  auto gone = park_.remove(domain_, my_node_);
  if (!gone.ok() && gone.status().code() != Errc::not_found) return gone.status();
  my_node_.clear();
  return recipes::wait_for_domain(park_, domain_, deadline, [](const std::vector<Node>& nodes) {
    return recipes::count_members(nodes) == 0;
  });
}

}  // namespace fourinone
