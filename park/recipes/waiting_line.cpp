#include "park/recipes/waiting_line.hpp"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace fourinone::recipes {
namespace {

// How often a waiter looks at its session while its watch is quiet: an expiry noticed by the
// client (a heartbeat refused, or cut off past the timeout) produces no watch event.
constexpr auto kPoll = std::chrono::milliseconds(50);

// Set by the watch callback (client callback thread), awaited by the waiter. Shared, because
// a callback may still run after the waiter has cancelled its watch and returned.
struct Signal {
  std::mutex mutex;
  std::condition_variable cv;
  bool fired = false;

  void fire() {
    std::lock_guard lock(mutex);
    fired = true;
    cv.notify_all();
  }
  bool wait_until(Clock::time_point t) {
    std::unique_lock lock(mutex);
    return cv.wait_until(lock, t, [&] { return fired; });
  }
};

}  // namespace

Clock::time_point deadline_after(std::chrono::milliseconds wait) {
  auto now = Clock::now();
  if (wait >= std::chrono::duration_cast<std::chrono::milliseconds>(Clock::time_point::max() - now)) {
    return Clock::time_point::max();
  }
  return now + wait;
}

Status expired_status(const std::string& domain) {
  return Status(Errc::session_expired, "our place in " + domain + " is gone: the session expired");
}

Result<Node> join_line(Park& park, const std::string& domain, std::string_view value) {
  if (park.session_state() == SessionState::expired) return expired_status(domain);
  CreateOptions options;
  options.heartbeat = true;
  return park.create_sequential(domain, value, options);
}

Status wait_turn(Park& park, const std::string& domain, const std::string& mine, const Blocker& blocker,
                 Clock::time_point deadline) {
  for (;;) {
    if (park.session_state() == SessionState::expired) return expired_status(domain);
    auto snapshot = park.get_latest_domain(domain, 0);
    if (!snapshot.ok()) return snapshot.status();
    if (!snapshot.value()) return Status(Errc::internal, "get_latest_domain from revision 0 answered nothing");
    const auto& nodes = snapshot.value()->nodes;
    auto it = std::find_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.name == mine; });
    if (it == nodes.end()) return expired_status(domain);
    std::vector<Node> ahead(nodes.begin(), it);
    long index = blocker(ahead);
    if (index < 0) return {};
    const std::string blocking = ahead[static_cast<std::size_t>(index)].name;

    // From the revision after our read: a deletion between the read and the watch is still
    // delivered. A resync (history compacted) also wakes us to read again.
    auto signal = std::make_shared<Signal>();
    auto watch = park.watch(domain, blocking, snapshot.value()->revision + 1, [signal](const WatchEvent& e) {
      if (e.type == WatchEvent::Type::deleted || e.type == WatchEvent::Type::resync) signal->fire();
    });
    if (!watch.ok()) return watch.status();
    for (;;) {
      auto now = Clock::now();
      if (now >= deadline) return Status(Errc::timeout, "still waiting in " + domain + " when the wait ended");
      if (signal->wait_until(std::min(deadline, now + kPoll))) break;
      if (park.session_state() == SessionState::expired) return expired_status(domain);
    }
    watch.value()->cancel();
  }
}

Status leave_line(Park& park, const std::string& domain, const std::string& mine) {
  // An expired session's nodes are gone (or about to go, if the client gave up on a cut-off
  // connection first); calling out would only wait for a park we cannot reach.
  if (park.session_state() == SessionState::expired) return expired_status(domain);
  auto removed = park.remove(domain, mine);
  if (removed.ok()) return {};
  if (removed.status().code() == Errc::not_found) return expired_status(domain);
  return removed.status();
}

}  // namespace fourinone::recipes
