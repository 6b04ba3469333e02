// Membership changes under load (issue #17): grow a group from 3 to 5 and shrink it back,
// removing its leader on the way; replace a dead member with a new server on a new address.
// All while several clients keep reading, writing and compare-and-setting: every acknowledged
// write survives (0 lost) and the history stays linearizable. The new servers catch up from a
// snapshot (SNAPSHOTENTRIES is small) as learners before they count.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/park_group.hpp"
#include "tests/support/register_load.hpp"

using namespace std::chrono_literals;
using fourinone::test::ParkGroup;
using fourinone::test::RegisterLoad;
using fourinone::test::run_cli;
using fourinone::test::wait_until;

namespace {

const ParkGroup::Settings kSmallSnapshots{{"SNAPSHOTENTRIES", "200"}};

fourinone::test::CliResult member(const ParkGroup& group, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ctl", "--config", group.config_path(), "--timeout", "15000", "member"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_cli(argv, "", 60s);
}

// `fourinone ctl member list` as lines "ID ADDRESS voter|learner ROLE HEALTH ...".
std::vector<std::string> member_lines(const ParkGroup& group) {
  auto r = member(group, {"list"});
  std::vector<std::string> lines;
  std::size_t at = 0;
  while (r.code == 0 && at < r.out.size()) {
    std::size_t end = r.out.find('\n', at);
    if (end == std::string::npos) end = r.out.size();
    if (end > at) lines.push_back(r.out.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

std::size_t voters_listed(const ParkGroup& group) {
  auto lines = member_lines(group);
  return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find(" voter ") != std::string::npos; }));
}

bool listed(const ParkGroup& group, std::size_t i) {
  auto lines = member_lines(group);
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(" " + group.address(i) + " ") != std::string::npos; });
}

void add_member(ParkGroup& group, std::size_t i) {
  REQUIRE(group.start(i));
  auto r = member(group, {"add", group.address(i), "--wait", "30"});
  INFO(r.out << r.err << group.log_of(i));
  REQUIRE(r.code == 0);
  CHECK(r.out.find("is a voter") != std::string::npos);
}

void remove_member(ParkGroup& group, std::size_t i) {
  auto r = member(group, {"remove", group.address(i)});
  INFO(r.out << r.err);
  INFO("removed member's log:\n" << group.log_of(i));
  REQUIRE(r.code == 0);
  CHECK_FALSE(listed(group, i));
}

void writes_go_on(const RegisterLoad& load, const char* after) {
  const std::uint64_t before = load.acked_creates();
  REQUIRE_MESSAGE(wait_until([&] { return load.acked_creates() > before + 10; }, 20s), "writes stopped after " << after);
}

}  // namespace

TEST_CASE("membership: a group grows from 3 to 5 and shrinks back to 3, leader removed, under load") {
  ParkGroup group(3, kSmallSnapshots);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  auto setup = group.connect();
  RegisterLoad load(*setup);
  for (int c = 0; c < 3; ++c) load.add_client(group.options());
  // Enough writes that the log is compacted: the new servers must start from a snapshot.
  REQUIRE(wait_until([&] { return load.acked_creates() > 400; }, 60s));

  const std::size_t fourth = group.add_spare();
  const std::size_t fifth = group.add_spare();
  add_member(group, fourth);
  writes_go_on(load, "adding the fourth server");
  add_member(group, fifth);
  writes_go_on(load, "adding the fifth server");
  CHECK(voters_listed(group) == 5);
  CHECK(group.log_of(fourth).find("installed the leader's snapshot") != std::string::npos);
  CHECK(group.log_of(fourth).find("joined the group as member 4") != std::string::npos);

  // Shrink by two, the leader first: it hands over and steps down once its removal commits.
  // Keep one of the configured servers, which the clients' server list names.
  auto leader = group.wait_for_leader(15s);
  REQUIRE(leader.has_value());
  const std::size_t keep = *leader == 0 ? 1 : 0;
  std::size_t second = *leader == fourth ? fifth : fourth;
  if (*leader <= 2) second = 3 - *leader - keep;  // the configured one that is neither
  for (std::size_t i : {*leader, second}) {
    remove_member(group, i);
    group.stop(i);
    writes_go_on(load, "removing a server");
    REQUIRE(group.wait_for_leader(15s).has_value());
  }
  CHECK(voters_listed(group) == 3);
  load.stop_and_check(*setup);
}

TEST_CASE("membership: a dead member is replaced by a new server on a new address, which then counts") {
  ParkGroup group(3, kSmallSnapshots);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  auto setup = group.connect();
  RegisterLoad load(*setup);
  for (int c = 0; c < 3; ++c) load.add_client(group.options());
  REQUIRE(wait_until([&] { return load.acked_creates() > 100; }, 60s));

  const std::size_t dead = (*leader + 1) % 3;
  group.kill(dead);
  writes_go_on(load, "the kill");
  remove_member(group, dead);
  const std::size_t replacement = group.add_spare();
  add_member(group, replacement);
  writes_go_on(load, "the replacement");

  // The replacement is one of the majority now: with another old member down, the group of
  // three still has two and goes on.
  leader = group.wait_for_leader(15s);
  REQUIRE(leader.has_value());
  std::size_t other = 0;
  while (other == dead || other == *leader) ++other;
  group.kill(other);
  writes_go_on(load, "killing a second original member");
  REQUIRE(group.start(other));
  load.stop_and_check(*setup);
}

TEST_CASE("membership: servers started from an old config.xml follow the log, and a removed one does not disturb") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  const std::size_t fourth = group.add_spare();
  add_member(group, fourth);

  // Member 0 restarts with config.xml still listing three servers: it knows the four.
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  const std::size_t restarted = *leader == 0 ? 1 : 0;
  CHECK(group.stop(restarted) == 0);
  REQUIRE(group.start(restarted));
  REQUIRE(group.wait_for_leader().has_value());
  CHECK(wait_until([&] { return group.status_of(restarted).find(group.address(fourth)) != std::string::npos; }, 10s));

  // The removed member comes back with its data: the group keeps its leader and term.
  remove_member(group, restarted);
  group.stop(restarted);
  leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  auto term_of = [&](std::size_t i) {
    std::string s = group.status_of(i);
    auto at = s.find("\nterm: ");
    return at == std::string::npos ? std::string() : s.substr(at + 7, s.find('\n', at + 7) - at - 7);
  };
  const std::string term = term_of(*leader);
  REQUIRE(group.start(restarted));
  std::this_thread::sleep_for(3s);  // several election timeouts of the removed server
  CHECK(term_of(*leader) == term);
  CHECK(group.status_of(*leader).find("\nrole: leader") != std::string::npos);
  CHECK(voters_listed(group) == 3);
  CHECK_FALSE(listed(group, restarted));
}
