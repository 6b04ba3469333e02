// Leader election on the park (issue #15), built on the public Park API only.
//
// Candidates queue like lock contenders (lock.hpp): each holds a sequential heartbeat node,
// holding its value, in domain "election.<name>"; the oldest node leads. A candidate waits
// only for the node just ahead of it. When the leader resigns, crashes or hangs past its
// session timeout its node goes and the next candidate leads. Each term's fencing token is
// the leader's node create revision: it grows with every term, so anything the leader drives
// can refuse a deposed leader's late orders (see fenced_update in lock.hpp).
//
// Thread-safety: one LeaderElection object is one candidate; call campaign() and resign()
// from one thread at a time. leader(), is_leader() and observe() may be called from any
// thread. Callbacks run on the park client's callback thread (observe) or on the election's
// own watcher thread (on_lost); they may call the Park's synchronous methods but not
// resign(). The Park must outlive the election object.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "fourinone/lock.hpp"
#include "fourinone/park.hpp"

namespace fourinone {

struct Leader {
  std::string value;        // the leader's my_value
  std::uint64_t token = 0;  // the term's fencing token
};

class LeaderElection {
 public:
  LeaderElection(Park& park, std::string name, std::string my_value);
  // Resigns if still a candidate or leader, and stops the observers.
  ~LeaderElection();
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  // Stands for election and waits up to `wait` to lead. Returns the term's fencing token.
  // Errors: timeout (the candidacy is withdrawn), session_expired, bad_request (already
  // leading), park errors. After a lost term, campaign again (once the session is reopened
  // with park.open_session()).
  Result<std::uint64_t> campaign(std::chrono::milliseconds wait = kWaitForever);
  // Steps down (or withdraws): our node is removed and the next candidate leads. Errors:
  // not_found (not a candidate), session_expired (leadership was already lost).
  Status resign();

  // The current leader, read from the park: no campaign needed. Errors: not_found (none).
  Result<Leader> leader();
  // True from a successful campaign until resign() or the loss of leadership.
  bool is_leader() const;

  // Called once, on the election's watcher thread, when leadership ends without resign():
  // the session expired or our node was removed. Stop acting as leader at once. Set it
  // before campaign().
  void on_lost(std::function<void(const Status& why)> callback);

  // Calls `callback` with the current leader (nullopt: none) now, then on every change of
  // leader, in order. Stays until this object is destroyed. Errors: park errors.
  Status observe(std::function<void(const std::optional<Leader>& leader)> callback);

 private:
  struct State;
  Park& park_;
  std::string domain_;
  std::string value_;
  std::shared_ptr<State> state_;
};

}  // namespace fourinone
