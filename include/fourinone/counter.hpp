// DistributedCounter: one integer shared by many clients (SCENARIOS.md: counters).
//
// What is guaranteed: add() is a compare-and-set loop on one node (read, then update with
// the version read; retry on bad_version or a lost create race), so concurrent adds from any
// number of clients are never lost: after they all returned, get() is the sum. The value is
// decimal text, readable with `fourinone ctl get`. A call that ends in `timeout` may or may
// not have been applied (as for any park write); every other error means it was not.
// Thread-safety: like Park.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fourinone/park.hpp"

namespace fourinone {

class DistributedCounter {
 public:
  DistributedCounter(Park& park, std::string_view domain, std::string_view node)
      : park_(park), domain_(domain), node_(node) {}

  // Adds delta (may be negative) and returns the new value. A missing node counts as 0.
  // Errors: bad_request (the node holds something else than a decimal integer), Park's.
  Result<std::int64_t> add(std::int64_t delta);
  // The current value; 0 when the node does not exist yet.
  Result<std::int64_t> get();

 private:
  Park& park_;
  std::string domain_;
  std::string node_;
};

}  // namespace fourinone
