// Membership changes through the public API and the CLI: who may make them (PARK/ADMINS when
// users are configured), and the clear errors for changes that cannot be made.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "core/auth.hpp"
#include "tests/support/park_group.hpp"

using namespace std::chrono_literals;
using fourinone::Errc;
using fourinone::test::ParkGroup;
using fourinone::test::run_cli;
using fourinone::test::ScopedLogin;
using fourinone::test::wait_until;

namespace {

std::string user_entry(const std::string& name, const std::string& password) {
  return fourinone::core::format_user_entry(fourinone::core::make_user_entry(name, password, 100));
}

ParkGroup::Settings with_admins() {
  return {{"USERS", user_entry("root", "r00t-pass") + "," + user_entry("bob", "bob-pass")},
          {"ADMINS", "root"},
          {"GROUPKEY", "membership-test-group-key"}};
}

fourinone::test::CliResult ctl(const ParkGroup& group, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ctl", "--config", group.config_path(), "--timeout", "5000"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_cli(argv, "", 30s);
}

}  // namespace

TEST_CASE("membership: only admins change the group when users are configured") {
  ParkGroup group(3, with_admins());
  REQUIRE(group.start_all());
  {
    ScopedLogin login("bob", "bob-pass");  // status needs a login too
    REQUIRE(group.wait_for_leader().has_value());
  }
  const std::size_t spare = group.add_spare();
  REQUIRE(group.start(spare));

  {
    ScopedLogin login("bob", "bob-pass");  // for the CLI
    auto options = group.options();
    options.user = "bob";
    options.password = "bob-pass";
    auto connected = fourinone::Park::connect(options);
    REQUIRE(connected.ok());
    auto park = std::move(connected).value();
    auto added = park->add_member(group.address(spare));
    CHECK(added.code() == Errc::no_permission);
    CHECK(added.message().find("PARK/ADMINS") != std::string::npos);
    CHECK(park->remove_member(group.address(0)).code() == Errc::no_permission);
    auto r = ctl(group, {"member", "add", group.address(spare)});
    CHECK(r.code == 1);
    CHECK(r.err.find("no_permission") != std::string::npos);
    // Reading the members is for everyone who may log in.
    auto list = ctl(group, {"member", "list"});
    CHECK(list.code == 0);
    CHECK(list.out.find(group.address(0)) != std::string::npos);
    CHECK(list.out.find(group.address(spare)) == std::string::npos);
  }
  {
    ScopedLogin login("root", "r00t-pass");
    auto r = ctl(group, {"member", "add", group.address(spare), "--wait", "30"});
    INFO(r.out << r.err << group.log_of(spare));
    CHECK(r.code == 0);
    auto list = ctl(group, {"member", "list"});
    CHECK(list.out.find("4 " + group.address(spare) + " voter") != std::string::npos);
  }
}

TEST_CASE("membership: changes that cannot be made are refused with a clear error") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  auto park = group.connect();

  auto again = park->add_member(group.address(1));
  CHECK(again.code() == Errc::exists);
  CHECK(again.message().find("already member 2") != std::string::npos);
  CHECK(park->remove_member("127.0.0.1:1").code() == Errc::not_found);
  CHECK(park->add_member("no-port-here").code() == Errc::bad_request);

  // Shrinking to one voter works; the last voter cannot go.
  REQUIRE(park->remove_member(group.address(2)).ok());
  group.stop(2);
  REQUIRE(park->remove_member(group.address(1)).ok());
  group.stop(1);
  auto last = park->remove_member(group.address(0));
  CHECK(last.code() == Errc::bad_request);
  CHECK(last.message().find("last voter") != std::string::npos);
  // And a group of one still works.
  CHECK(park->create("d", "n", std::string_view("v")).ok());
}

TEST_CASE("membership: a server not in SERVERS needs --join, and a joining server waits for the group") {
  ParkGroup group(1);
  const std::size_t spare = group.add_spare();
  // Without --join the server refuses to start, naming what to do.
  auto r = run_cli({"park", "--config", group.config_path(), "--server", group.address(spare)}, "", 15s);
  CHECK(r.code != 0);
  CHECK(r.err.find("not listed in PARK/SERVERS") != std::string::npos);
  CHECK(r.err.find("--join") != std::string::npos);

  // With --join it runs, answers status, and refuses writes until it is added.
  REQUIRE(group.start(spare));
  CHECK(group.status_of(spare).find("\nleader: \n") != std::string::npos);
  REQUIRE(group.start(0));
  REQUIRE(group.wait_for_leader_except(spare).has_value());
  auto add = ctl(group, {"member", "add", group.address(spare), "--wait", "30"});
  INFO(add.out << add.err << group.log_of(spare));
  CHECK(add.code == 0);
  // Both now agree on the leader; the new member has the data.
  REQUIRE(group.wait_for_leader().has_value());
  auto park = group.connect();
  REQUIRE(park->create("d", "n", std::string_view("v")).ok());
  // A restart of the joined server keeps its identity (DATADIR/MEMBER_ID), --join or not.
  CHECK(group.stop(spare) == 0);
  REQUIRE(group.start(spare));
  CHECK(wait_until([&] { return group.status_of(spare).find("\nrole: follower") != std::string::npos; }, 10s));
}
