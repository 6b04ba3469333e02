// The leader's session liveness bookkeeping, driven by a manual clock.
#include <doctest/doctest.h>

#include "park/session/session_tracker.hpp"

using fourinone::park::SessionRecord;
using fourinone::park::SessionTracker;

TEST_CASE("a session expires after its timeout without heartbeats and not before") {
  SessionTracker t;
  t.add(1, 1000, 0);
  CHECK(t.expired(999).empty());
  CHECK(t.expired(1000) == std::vector<std::uint64_t>{1});
  CHECK(t.touch(1, 900));
  CHECK(t.expired(1899).empty());
  CHECK(t.expired(1900) == std::vector<std::uint64_t>{1});
  t.remove(1);
  CHECK(t.expired(100000).empty());
  CHECK(!t.touch(1, 0));
}

TEST_CASE("after a restart every session gets a full timeout plus the rescue period") {
  std::map<std::uint64_t, SessionRecord> sessions{{3, SessionRecord{3, "a", 1000, 0}}, {5, SessionRecord{5, "b", 2000, 0}}};
  SessionTracker t;
  t.reset_all(sessions, 10'000, 500);
  CHECK(t.expired(11'499).empty());
  CHECK(t.expired(11'500) == std::vector<std::uint64_t>{3});
  CHECK(t.expired(12'500) == std::vector<std::uint64_t>{3, 5});
  // A heartbeat never shortens the grace deadline.
  CHECK(t.touch(5, 10'001));
  CHECK(t.expired(12'499) == std::vector<std::uint64_t>{3});
}
