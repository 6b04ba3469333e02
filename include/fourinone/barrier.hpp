// Barriers (SCENARIOS.md: barriers) on a park domain, one domain per barrier round.
//
// Barrier: N members call wait(); each returns once N have arrived. The member that first
// sees N arrivals writes a "ready" node, so a member that looks late (after others already
// went on and even exited) still passes. Arrivals are heartbeat nodes: a member that dies
// before the barrier opens stops counting.
// DoubleBarrier: enter() returns once N members have entered; leave() returns once every
// member has left (the classic double barrier: a computation starts together and ends
// together).
// Waiting is herd-light: each waiter holds one long get_latest_domain wait that the park
// answers on a change, not a polling loop.
// A barrier name is for one round: the "ready" node stays, so use a new name per round
// (e.g. "job-7.round-3") and remove the domain when done.
// Thread-safety: one object per member; members may share a Park.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "fourinone/park.hpp"

namespace fourinone {

class Barrier {
 public:
  Barrier(Park& park, std::string_view domain, std::size_t members)
      : park_(park), domain_(domain), members_(members) {}

  // Arrives and waits until `members` have arrived. Errors: timeout (the deadline passed;
  // this member stays counted until its session ends), and Park's.
  Status wait(std::chrono::steady_clock::time_point deadline);

 private:
  Park& park_;
  std::string domain_;
  std::size_t members_;
};

class DoubleBarrier {
 public:
  DoubleBarrier(Park& park, std::string_view domain, std::size_t members)
      : park_(park), domain_(domain), members_(members) {}

  // Errors: timeout, and Park's.
  Status enter(std::chrono::steady_clock::time_point deadline);
  // Removes this member and waits until no member is left. Errors: timeout, bad_request
  // (enter() did not succeed), and Park's.
  Status leave(std::chrono::steady_clock::time_point deadline);

 private:
  Park& park_;
  std::string domain_;
  std::size_t members_;
  std::string my_node_;  // our arrival node, named by the park
};

}  // namespace fourinone
