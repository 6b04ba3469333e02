// Logins: with USERS in config.xml every connection must authenticate by challenge/response.
#include <doctest/doctest.h>

#include <cstdlib>

#include "core/auth.hpp"
#include "tests/support/park_fixture.hpp"

using fourinone::Errc;
using fourinone::test::RunningPark;

namespace {
std::string users() {
  return fourinone::core::format_user_entry(fourinone::core::make_user_entry("alice", "wonderland", 1000)) + "," +
         fourinone::core::format_user_entry(fourinone::core::make_user_entry("bob", "builder", 1000));
}
}  // namespace

TEST_CASE("with users configured, only a correct user and password get in") {
  RunningPark park(RunningPark::Settings{{"USERS", users()}});
  auto options = park.options();
  CHECK(fourinone::Park::connect(options).status().code() == Errc::unauthenticated);
  options.user = "alice";
  options.password = "wrong";
  CHECK(fourinone::Park::connect(options).status().code() == Errc::unauthenticated);
  options.user = "mallory";
  options.password = "wonderland";
  CHECK(fourinone::Park::connect(options).status().code() == Errc::unauthenticated);
  options.user = "alice";
  options.password = "wonderland";
  auto alice = fourinone::Park::connect(options);
  REQUIRE(alice.ok());
  REQUIRE(alice.value()->create("secrets", "a", "1", fourinone::CreateOptions{fourinone::Policy::read}).ok());
  auto node = alice.value()->get("secrets", "a");
  CHECK(node->creator == "alice");

  options.user = "bob";
  options.password = "builder";
  auto bob = fourinone::Park::connect(options);
  REQUIRE(bob.ok());
  CHECK(bob.value()->get("secrets", "a")->value == "1");
  CHECK(bob.value()->update("secrets", "a", "2").status().code() == Errc::no_permission);
  CHECK(alice.value()->get("secrets", "a")->value == "1");
}

TEST_CASE("ctl logs in from FOURINONE_USER and FOURINONE_PASSWORD") {
  RunningPark park(RunningPark::Settings{{"USERS", users()}});
  ::unsetenv("FOURINONE_USER");
  ::unsetenv("FOURINONE_PASSWORD");
  auto denied = park.ctl({"status"});
  CHECK(denied.code == 1);
  CHECK(denied.err.find("unauthenticated") != std::string::npos);
  ::setenv("FOURINONE_USER", "bob", 1);
  ::setenv("FOURINONE_PASSWORD", "builder", 1);
  auto allowed = park.ctl({"status"});
  ::unsetenv("FOURINONE_USER");
  ::unsetenv("FOURINONE_PASSWORD");
  CHECK(allowed.code == 0);
}

TEST_CASE("fourinone passwd prints an entry that config.xml accepts") {
  auto r = fourinone::test::run_cli({"passwd", "carol"}, "s3cret\n");
  REQUIRE(r.code == 0);
  std::string entry = r.out.substr(0, r.out.find('\n'));
  CHECK(entry.rfind("carol:", 0) == 0);
  CHECK(entry.find("s3cret") == std::string::npos);
  RunningPark park(RunningPark::Settings{{"USERS", entry}});
  auto options = park.options();
  options.user = "carol";
  options.password = "s3cret";
  CHECK(fourinone::Park::connect(options).ok());
}
