#include "park/recipes/barrier_wait.hpp"

#include <algorithm>

namespace fourinone::recipes {

Status wait_for_domain(Park& park, const std::string& domain, std::chrono::steady_clock::time_point deadline,
                       const std::function<bool(const std::vector<Node>&)>& done) {
  using namespace std::chrono;
  // get_latest_domain answers nothing for a domain that never had a node; then we wait for
  // changes after the revision status() reported before that read (never after it: a
  // domain created in between would be missed).
  auto st = park.status();
  if (!st.ok()) return st.status();
  std::uint64_t seen = 0;  // 0 on the first read: answer at once
  bool first = true;
  std::vector<Node> nodes;
  for (;;) {
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
    if (!first && left <= milliseconds(0)) return Status(Errc::timeout, "barrier " + domain + ": deadline passed");
    // Long waits are cut into pieces so that a lost answer (e.g. a leader change) does not
    // hold us past the deadline by a whole call timeout.
    auto wait = first ? milliseconds(0) : std::min(left, milliseconds(5000));
    auto snap = park.get_latest_domain(domain, seen, wait);
    if (!snap.ok()) {
      if (snap.status().code() != Errc::timeout && snap.status().code() != Errc::unavailable) return snap.status();
      if (steady_clock::now() >= deadline) return snap.status();
      continue;  // the client reconnects by itself; ask again
    }
    if (snap->has_value()) {
      seen = (*snap)->revision;
      nodes = std::move((*snap)->nodes);
    } else if (first) {
      seen = st->revision;
    }
    first = false;
    if (done(nodes)) return {};
  }
}

std::size_t count_members(const std::vector<Node>& nodes) {
  return static_cast<std::size_t>(
      std::count_if(nodes.begin(), nodes.end(), [](const Node& n) { return n.name != kReadyNode; }));
}

bool has_ready(const std::vector<Node>& nodes) {
  return std::any_of(nodes.begin(), nodes.end(), [](const Node& n) { return n.name == kReadyNode; });
}

}  // namespace fourinone::recipes
