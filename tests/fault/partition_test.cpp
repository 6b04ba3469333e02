// Fault test (d) + (e): partitions between the servers (TCP relays the test can cut; clients
// still reach every server). An isolated leader steps down and acknowledges nothing more, the
// majority elects another, and after healing the servers agree again; the history recorded
// meanwhile, including a client that only knows the isolated leader, is linearizable.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/park_group.hpp"
#include "tests/support/register_load.hpp"

using namespace std::chrono_literals;
using fourinone::test::ParkGroup;
using fourinone::test::RegisterLoad;
using fourinone::test::revision_in_status;
using fourinone::test::wait_until;
namespace lin = fourinone::test::lin;

namespace {

bool all_agree(ParkGroup& group) {
  std::uint64_t first = revision_in_status(group.status_of(0));
  if (first == 0) return false;
  for (std::size_t i = 1; i < group.size(); ++i) {
    if (revision_in_status(group.status_of(i)) != first) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("raft group: an isolated leader steps down, the majority goes on, and nothing diverges after healing") {
  ParkGroup group(3, {}, /*relays=*/true);
  REQUIRE(group.start_all());
  auto old_leader = group.wait_for_leader();
  REQUIRE(old_leader.has_value());
  auto setup = group.connect();
  RegisterLoad load(*setup);
  load.add_client(group.options());
  load.add_client(group.options());
  load.add_client(group.options_for(*old_leader));  // knows only the leader about to be cut off
  std::this_thread::sleep_for(500ms);

  auto pinned = fourinone::Park::connect(group.options_for(*old_leader));
  REQUIRE(pinned.ok());
  group.isolate(*old_leader);
  auto isolated_at = std::chrono::steady_clock::now();

  // Check-quorum: the isolated leader notices it hears no majority and steps down.
  CHECK(wait_until([&] { return group.status_of(*old_leader).find("role: leader") == std::string::npos; }, 5s));
  MESSAGE("isolated leader stepped down after "
          << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - isolated_at).count()
          << " ms");
  // It acknowledges nothing while cut off.
  auto refused = pinned.value()->create("cut", "off", "never");
  CHECK(!refused.ok());

  auto new_leader = group.wait_for_leader_except(*old_leader);
  REQUIRE(new_leader.has_value());
  CHECK(*new_leader != *old_leader);
  std::uint64_t before = load.acked_creates();
  CHECK(wait_until([&] { return load.acked_creates() > before + 20; }, 10s));  // the majority goes on

  group.heal();
  load.stop();
  CHECK(wait_until([&] { return all_agree(group); }, 10s));

  // The write the isolated leader took in never happened; every acknowledged one did.
  auto park = group.connect();
  CHECK(park->get("cut", "off").status().code() == fourinone::Errc::not_found);
  auto acked = park->list("acked");
  REQUIRE(acked.ok());
  CHECK(load.lost(acked.value()) == 0);
  auto history = load.history();
  auto verdict = lin::check_linearizable(history, 20s);
  INFO(verdict.explanation);
  CHECK(verdict.verdict == lin::Verdict::linearizable);
  MESSAGE(history.size() << " operations checked for linearizability");
}

TEST_CASE("raft group: a leader whose messages no longer arrive (one-way cut) is replaced, then rejoins") {
  ParkGroup group(3, {}, /*relays=*/true);
  REQUIRE(group.start_all());
  auto old_leader = group.wait_for_leader();
  REQUIRE(old_leader.has_value());
  auto park = group.connect();
  REQUIRE(park->create("one-way", "before", "1").ok());
  for (std::size_t j = 0; j < group.size(); ++j) {
    if (j != *old_leader) group.cut(*old_leader, j);  // it still hears the others
  }
  // The others stop hearing it, elect one of themselves, and it learns of the new term.
  std::optional<std::size_t> new_leader;
  REQUIRE(wait_until(
      [&] {
        new_leader = group.wait_for_leader_except(*old_leader, 500ms);
        return new_leader && *new_leader != *old_leader;
      },
      10s));
  auto during = park->create("one-way", "during", "2");
  REQUIRE_MESSAGE(during.ok(), during.status().to_string());
  group.heal();
  CHECK(wait_until([&] { return all_agree(group); }, 10s));
  CHECK(group.status_of(*old_leader).find("role: follower") != std::string::npos);
}
