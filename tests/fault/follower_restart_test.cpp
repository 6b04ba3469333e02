// Fault tests (b) and (c): a killed follower catches up (from the log, and from a snapshot
// once the log it missed was compacted); a group stopped entirely comes back with all data.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "tests/support/park_group.hpp"

using namespace std::chrono_literals;
using fourinone::test::ParkGroup;
using fourinone::test::revision_in_status;
using fourinone::test::wait_until;

namespace {

void write_many(fourinone::Park& park, const std::string& domain, int from, int to, std::size_t value_size = 100) {
  for (int i = from; i < to; ++i) {
    auto r = park.create(domain, "n" + std::to_string(i), std::string(value_size, 'v'));
    REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  }
}

}  // namespace

TEST_CASE("raft group: a follower killed with kill -9 catches up from the log after a restart") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  std::size_t follower = (*leader + 1) % 3;
  auto park = group.connect();
  write_many(*park, "a", 0, 50);
  group.kill(follower);
  write_many(*park, "a", 50, 300);  // two of three keep committing
  REQUIRE(group.start(follower));
  auto last = park->get("a", "n299");
  REQUIRE(last.ok());
  CHECK(wait_until([&] { return revision_in_status(group.status_of(follower)) == last->mod_revision; }, 15s));
}

TEST_CASE("raft group: a follower that missed a compacted log catches up from a snapshot sent in chunks") {
  ParkGroup group(3, ParkGroup::Settings{{"SNAPSHOTENTRIES", "50"}});
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  std::size_t follower = (*leader + 2) % 3;
  auto park = group.connect();
  write_many(*park, "s", 0, 20);
  group.kill(follower);
  // Several snapshots; the log it needs is gone. 48 KiB values make the store (~19 MiB)
  // larger than one frame may be (MAXVALUE 16 MiB + 1 MiB), so the snapshot must travel in
  // chunks.
  write_many(*park, "s", 20, 400, 48 * 1024);
  REQUIRE(group.start(follower));
  auto last = park->get("s", "n399");
  REQUIRE(last.ok());
  CHECK(wait_until([&] { return revision_in_status(group.status_of(follower)) == last->mod_revision; }, 15s));
  CHECK(group.log_of(follower).find("installed the leader's snapshot") != std::string::npos);
  // It serves the data after taking over.
  group.kill(*leader);
  REQUIRE(group.wait_for_leader().has_value());
  for (int i : {0, 19, 20, 399}) {
    auto node = park->get("s", "n" + std::to_string(i));
    REQUIRE_MESSAGE(node.ok(), node.status().to_string());
    CHECK(node->value.size() == (i < 20 ? 100u : 48u * 1024));
  }
  // The whole domain is more than one answer may carry: a clear error, not a broken link.
  auto list = park->list("s");
  CHECK(list.status().code() == fourinone::Errc::too_large);
  CHECK(park->get("s", "n1").ok());
}

TEST_CASE("raft group: stopping every server and starting them again keeps all data") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  {
    auto park = group.connect();
    write_many(*park, "keep", 0, 100);
    REQUIRE(park->update("keep", "n7", "seven").ok());
  }
  for (std::size_t i = 0; i < 3; ++i) group.kill(i);  // no goodbyes: kill -9 all
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  auto park = group.connect();
  auto list = park->list("keep");
  REQUIRE_MESSAGE(list.ok(), list.status().to_string());
  CHECK(list->size() == 100);
  CHECK(park->get("keep", "n7")->value == "seven");
}
