// Fault test (a) + (e): kill -9 the leader again and again under a steady load from several
// clients; writes resume after each kill; at the end every acknowledged write is readable
// (lost acknowledged writes: 0) and the recorded history of reads, writes and
// compare-and-sets is linearizable.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "tests/support/park_group.hpp"
#include "tests/support/register_load.hpp"

using namespace std::chrono_literals;
using fourinone::test::ParkGroup;
using fourinone::test::RegisterLoad;
using fourinone::test::wait_until;

TEST_CASE("raft group: 20 kill -9 of the leader under load lose no acknowledged write and stay linearizable") {
  constexpr int kKills = 20;
  ParkGroup group(3);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  auto setup = group.connect();
  RegisterLoad load(*setup);
  for (int c = 0; c < 4; ++c) load.add_client(group.options());

  std::vector<double> failover_ms;
  for (int kill = 0; kill < kKills; ++kill) {
    auto leader = group.wait_for_leader(15s);
    REQUIRE_MESSAGE(leader.has_value(), "no leader before kill " << kill);
    std::uint64_t before = load.acked_creates();
    auto killed_at = std::chrono::steady_clock::now();
    group.kill(*leader);
    // Writes resume with two of three servers.
    REQUIRE_MESSAGE(wait_until([&] { return load.acked_creates() > before + 5; }, 15s),
                    "writes did not resume after kill " << kill);
    failover_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed_at).count());
    REQUIRE(group.start(*leader));
  }
  load.stop_and_check(*setup);
  std::sort(failover_ms.begin(), failover_ms.end());
  MESSAGE("kill -9 of the leader to 5 more acknowledged writes: median " << failover_ms[failover_ms.size() / 2]
                                                                          << " ms, max " << failover_ms.back() << " ms");
}
