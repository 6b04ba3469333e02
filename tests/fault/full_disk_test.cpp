// A full disk (issue #17): `ulimit -f` stands in for it. The WAL's segments are preallocated,
// so a small WALSEGMENT plus a value larger than a segment makes the write need a file larger
// than the limit: the write fails with EFBIG, as on a full disk. The server must not
// acknowledge that write, must say so in its log and stop (exit code 3); started again once
// the "disk" has room, it recovers every acknowledged write from its log.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>

#include "tests/support/park_group.hpp"

using namespace std::chrono_literals;
using fourinone::Errc;
using fourinone::test::ParkGroup;
using fourinone::test::wait_until;

namespace {

const ParkGroup::Settings kSmallSegments{{"WALSEGMENT", "64K"}};
constexpr std::uint64_t kLimitKib = 256;                  // no file past 256 KiB
const std::string kTooBig(400 * 1024, 'x');               // its record needs a 400 KiB segment

// Creates d/n<k> for k in [from, to); returns the names acknowledged.
std::set<std::string> write_some(fourinone::Park& park, int from, int to) {
  std::set<std::string> acked;
  for (int k = from; k < to; ++k) {
    std::string name = "n" + std::to_string(k);
    if (park.create("d", name, std::string_view("value " + name)).ok()) acked.insert(name);
  }
  return acked;
}

void check_present(fourinone::Park& park, const std::set<std::string>& acked) {
  auto nodes = park.list("d");
  REQUIRE(nodes.ok());
  std::set<std::string> present;
  for (const auto& n : nodes.value()) present.insert(n.name);
  std::size_t lost = 0;
  for (const auto& name : acked) lost += present.count(name) == 0;
  MESSAGE(acked.size() << " acknowledged writes, " << lost << " lost");
  CHECK(lost == 0);
}

}  // namespace

TEST_CASE("full disk: a single server refuses the write it cannot make durable, stops, and recovers after") {
  ParkGroup group(1, kSmallSegments);
  group.limit_file_size(0, kLimitKib);
  REQUIRE(group.start(0));
  auto park = group.connect();
  std::set<std::string> acked = write_some(*park, 0, 200);
  REQUIRE(acked.size() == 200);

  auto big = park->create("d", "big", std::string_view(kTooBig));
  CHECK_FALSE(big.ok());
  CHECK(group.wait_exit(0, 10s) == 3);
  const std::string log = group.log_of(0);
  CHECK(log.find("the log could not be written") != std::string::npos);
  CHECK(log.find("File too large") != std::string::npos);
  CHECK(log.find("start the server again") != std::string::npos);

  // Room again: it starts, recovers, and has every acknowledged write (and not the big one).
  group.limit_file_size(0, 0);
  REQUIRE(group.start(0));
  park = group.connect();
  check_present(*park, acked);
  CHECK(park->get("d", "big").status().code() == Errc::not_found);
  CHECK(park->create("d", "after", std::string_view("v")).ok());
}

TEST_CASE("full disk: a follower that cannot write stops; the group goes on and it catches up after") {
  ParkGroup group(3, kSmallSegments);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  // One follower's disk is "full": restart it under the limit (the leader stays: its lease).
  const std::size_t limited = (*leader + 1) % 3;
  group.limit_file_size(limited, kLimitKib);
  REQUIRE(group.stop(limited) == 0);
  REQUIRE(group.start(limited));
  REQUIRE(group.wait_for_leader().has_value());

  auto park = group.connect();
  std::set<std::string> acked = write_some(*park, 0, 100);
  REQUIRE(acked.size() == 100);
  // The leader and the other follower make it durable: acknowledged. The limited follower
  // cannot: it stops, saying why.
  REQUIRE(park->create("d", "big", std::string_view(kTooBig)).ok());
  acked.insert("big");
  CHECK(group.wait_exit(limited, 15s) == 3);
  CHECK(group.log_of(limited).find("the log could not be written") != std::string::npos);
  for (const auto& name : write_some(*park, 100, 150)) acked.insert(name);
  CHECK(acked.size() == 151);

  group.limit_file_size(limited, 0);
  REQUIRE(group.start(limited));
  REQUIRE(group.wait_for_leader().has_value());
  check_present(*park, acked);
  // The stopped server caught up: pinned to it, a stale read sees the last write.
  auto options = group.options_for(limited);
  options.stale_reads = true;
  auto pinned = fourinone::Park::connect(options);
  REQUIRE(pinned.ok());
  CHECK(wait_until([&] { return pinned.value()->get("d", "n149").ok(); }, 15s));
  CHECK(pinned.value()->get("d", "big").ok());
}
