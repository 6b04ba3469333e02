// The Raft core under the deterministic simulator (tests/support/raft_sim.hpp): thousands of
// seeded runs of 3- and 5-server groups with loss, delay, reordering, duplication, partitions
// (some one-way), crashes between driver stages, restarts, compaction, reads and transfers,
// and runs where clients also add and remove servers (one at a time, the leader included).
// Safety is checked after every event; liveness after the network heals.
//
// Replay one seed: RAFT_SEED=<n> [RAFT_TRACE=1] fourinone_unit_tests -tc='raft sim*'
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "tests/support/raft_sim.hpp"

using fourinone::raft::sim::RunResult;
using fourinone::raft::sim::Scenario;
using fourinone::raft::sim::SimStats;

namespace {

// pool == servers: a fixed membership; pool > servers: membership changes too.
SimStats run_seeds(int servers, std::uint64_t first, std::uint64_t count, int pool = 0) {
  SimStats total;
  std::uint64_t from = first;
  std::uint64_t n = count;
  const bool trace = fourinone::raft::sim::trace_from_env();
  if (auto seed = fourinone::raft::sim::seed_from_env()) {
    from = *seed;
    n = 1;
  }
  int failures = 0;
  for (std::uint64_t seed = from; seed < from + n && failures < 3; ++seed) {
    const Scenario scenario =
        pool > servers ? Scenario::random_membership(seed, servers, pool) : Scenario::random(seed, servers);
    const RunResult r = fourinone::raft::sim::run_scenario(scenario, trace);
    total.add(r.stats);
    if (!r.ok) {
      ++failures;
      CAPTURE(seed);
      INFO("scenario: " << scenario.describe());
      INFO("replay: RAFT_SEED=" << seed << " RAFT_TRACE=1 fourinone_unit_tests -tc='raft sim*'");
      FAIL_CHECK(r.failure);
    }
  }
  MESSAGE(servers << " servers" << (pool > servers ? " of " + std::to_string(pool) + " ids" : std::string()) << ": "
                  << total.describe());
  return total;
}

// A run that exercised nothing proves nothing: the seeds together must reach every path the
// simulator exists for.
void check_coverage(const SimStats& s) {
  if (fourinone::raft::sim::seed_from_env()) return;
  CHECK(s.leaders > s.runs);
  CHECK(s.crashes_before_persist > 0);
  CHECK(s.crashes_before_send > 0);
  CHECK(s.truncations > 0);
  CHECK(s.snapshots_installed > 0);
  CHECK(s.rejects > 0);
  CHECK(s.reads_served > s.runs);
  CHECK(s.reads_on_lease > s.runs / 10);
  CHECK(s.transfers_done > 0);
  CHECK(s.redeliveries > 0);
}

// Membership runs must also have changed the membership in every way there is.
void check_membership_coverage(const SimStats& s) {
  if (fourinone::raft::sim::seed_from_env()) return;
  CHECK(s.leaders > s.runs);
  CHECK(s.snapshots_installed > 0);
  CHECK(s.joins > s.runs / 2);
  CHECK(s.changes_committed > s.runs);
  CHECK(s.changes_refused > s.runs / 4);
  CHECK(s.learners_promoted > s.runs / 4);
  CHECK(s.leaders_removed > s.runs / 50);
  CHECK(s.membership_reverts > 0);
}

}  // namespace

TEST_CASE("raft sim: a seed replays exactly") {
  for (std::uint64_t seed : {7u, 100007u}) {
    const Scenario scenario = Scenario::random(seed, seed > 100000 ? 5 : 3);
    const RunResult a = fourinone::raft::sim::run_scenario(scenario);
    const RunResult b = fourinone::raft::sim::run_scenario(scenario);
    CHECK(a.ok);
    CHECK(a.stats.describe() == b.stats.describe());
    CHECK(a.stats.events > 1000);
  }
}

TEST_CASE("raft sim: 3 servers stay safe and live under faults") {
  check_coverage(run_seeds(3, 1, 5000));
}

TEST_CASE("raft sim: 5 servers stay safe and live under faults") {
  check_coverage(run_seeds(5, 100001, 2500));
}

TEST_CASE("raft sim: 3 of 6 ids, adding and removing servers, stay safe and live under faults") {
  check_membership_coverage(run_seeds(3, 200001, 1200, 6));
}

TEST_CASE("raft sim: 5 of 8 ids, adding and removing servers, stay safe and live under faults") {
  check_membership_coverage(run_seeds(5, 300001, 800, 8));
}
