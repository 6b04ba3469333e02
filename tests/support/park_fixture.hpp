// A real `fourinone park` process on a free loopback port, in its own temp folder, and
// clients connected to it through the public API. Tests only.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include "fourinone/park.hpp"
#include "tests/support/process.hpp"

namespace fourinone::test {

struct RunningPark {
  using Settings = std::map<std::string, std::string>;

  explicit RunningPark(const Settings& extra = {})
      : config(write_park_config(dir, extra)), server(config) {
    REQUIRE_MESSAGE(server.start(), "park server did not start: " << server.process()->err());
  }

  ParkOptions options() const {
    ParkOptions o;
    o.servers = {ServerAddress{"127.0.0.1", config.port}};
    o.session_timeout = std::chrono::milliseconds(2000);
    o.heartbeat = std::chrono::milliseconds(300);
    o.call_timeout = std::chrono::milliseconds(5000);
    o.connect_timeout = std::chrono::milliseconds(2000);
    return o;
  }

  std::unique_ptr<Park> connect() const {
    auto park = Park::connect(options());
    REQUIRE_MESSAGE(park.ok(), park.status().to_string());
    return std::move(park).value();
  }

  CliResult ctl(std::vector<std::string> args, const std::string& input = "") const {
    args.insert(args.begin(), {"ctl", "--config", config.path});
    return run_cli(args, input);
  }

  TempDir dir;
  ParkConfigFile config;
  ParkServerProcess server;
};

}  // namespace fourinone::test
