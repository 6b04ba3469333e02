// The start-up warning of a park server open to strangers (park/server/exposure.hpp).
#include <doctest/doctest.h>

#include "park/server/exposure.hpp"

using fourinone::ServerAddress;
namespace park = fourinone::park;

TEST_CASE("a server beyond loopback with no USERS, or a group with USERS and no GROUPKEY, is warned about") {
  fourinone::Config config;
  config.file = "config.xml";
  config.park.servers = {{"10.0.0.1", 1888}, {"10.0.0.2", 1888}, {"10.0.0.3", 1888}};
  for (const char* loopback : {"localhost", "127.0.0.1", "127.1.2.3", "::1"}) {
    CHECK_FALSE(park::exposure_warning(config, ServerAddress{loopback, 1888}).has_value());
  }
  auto open = park::exposure_warning(config, config.park.servers[0]);
  REQUIRE(open.has_value());
  CHECK(open->find("10.0.0.1:1888 listens beyond loopback with no USERS") != std::string::npos);
  config.park.users.push_back(fourinone::UserEntry{"alice", "salt", 10, "k", "s"});
  auto no_key = park::exposure_warning(config, config.park.servers[0]);
  REQUIRE(no_key.has_value());
  CHECK(no_key->find("no GROUPKEY") != std::string::npos);
  config.park.group_key = "0123456789abcdef";
  CHECK_FALSE(park::exposure_warning(config, config.park.servers[0]).has_value());
}
