// The WORKER row of config.xml as the worker runtime reads it: defaults, the original's
// TIMEOUT switch, and errors that name file, line and element.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "fourinone/worker.hpp"
#include "tests/support/process.hpp"
#include "worker/worker_config.hpp"

using fourinone::Errc;

namespace {

// config.xml in a fresh folder with `worker_row` as the WORKER row's elements (it starts on
// line 6), loaded as a user's program loads it.
fourinone::Config config_with(const std::string& worker_row) {
  static fourinone::test::TempDir dir;
  const std::string path = dir.file("config.xml");
  const std::string text =
      "<PROPSTABLE>\n"
      "  <PROPSROW DESC=\"PARK\">\n    <SERVERS>localhost:1888</SERVERS>\n  </PROPSROW>\n"
      "  <PROPSROW DESC=\"WORKER\">\n" + worker_row + "\n  </PROPSROW>\n"
      "</PROPSTABLE>\n";
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  }
  auto config = fourinone::load_config(path);
  REQUIRE_MESSAGE(config.ok(), config.status().to_string());
  return config.value();
}

}  // namespace

TEST_CASE("an empty WORKER row gives capacity 1, no service, no timeout and localhost:2088") {
  auto config = config_with("");
  auto options = fourinone::WorkerOptions::from_config(config);
  REQUIRE(options.ok());
  CHECK(options->capacity == 1);
  CHECK_FALSE(options->service);
  CHECK(fourinone::detail::worker_timeout(config).value().count() == 0);
  CHECK(fourinone::detail::default_worker_address(config).value() == fourinone::ServerAddress{"localhost", 2088});
}

TEST_CASE("WORKER SERVICE, CAPACITY and SERVERS are read") {
  auto config = config_with("    <SERVICE>true</SERVICE>\n    <CAPACITY>8</CAPACITY>\n    <SERVERS>10.0.0.7:3000,10.0.0.8:3000</SERVERS>");
  auto options = fourinone::WorkerOptions::from_config(config);
  REQUIRE(options.ok());
  CHECK(options->capacity == 8);
  CHECK(options->service);
  CHECK(fourinone::detail::default_worker_address(config).value() == fourinone::ServerAddress{"10.0.0.7", 3000});
}

TEST_CASE("WORKER TIMEOUT counts only with DESC TRUE, in hours") {
  CHECK(fourinone::detail::worker_timeout(config_with("    <TIMEOUT DESC=\"FALSE\">2</TIMEOUT>")).value().count() == 0);
  CHECK(fourinone::detail::worker_timeout(config_with("    <TIMEOUT DESC=\"TRUE\">0.5</TIMEOUT>")).value().count() ==
        30 * 60 * 1000);
}

TEST_CASE("a bad WORKER value is a config_error naming file, line and element") {
  auto capacity = fourinone::WorkerOptions::from_config(config_with("\n    <CAPACITY>lots</CAPACITY>"));
  REQUIRE_FALSE(capacity.ok());
  CHECK(capacity.status().code() == Errc::config_error);
  CHECK(capacity.status().message() == config_with("").file + ":7: CAPACITY in row WORKER: expected a whole number from 1 to 1024, got 'lots'");

  auto zero = fourinone::WorkerOptions::from_config(config_with("    <CAPACITY>0</CAPACITY>"));
  CHECK(zero.status().code() == Errc::config_error);

  auto timeout = fourinone::detail::worker_timeout(config_with("    <TIMEOUT DESC=\"TRUE\">soon</TIMEOUT>"));
  REQUIRE_FALSE(timeout.ok());
  CHECK(timeout.status().message().find(":6: TIMEOUT in row WORKER") != std::string::npos);

  // Booleans are strict: a typo must not silently turn service mode or the timeout off.
  auto service = fourinone::WorkerOptions::from_config(config_with("    <SERVICE>ture</SERVICE>"));
  REQUIRE_FALSE(service.ok());
  CHECK(service.status().message().find(":6: SERVICE in row WORKER: expected true or false, got 'ture'") !=
        std::string::npos);
  auto desc = fourinone::detail::worker_timeout(config_with("    <TIMEOUT DESC=\"yes\">2</TIMEOUT>"));
  CHECK(desc.status().code() == Errc::config_error);

  auto servers = fourinone::detail::default_worker_address(config_with("    <SERVERS>no-port</SERVERS>"));
  REQUIRE_FALSE(servers.ok());
  CHECK(servers.status().code() == Errc::config_error);
  CHECK(servers.status().message().find(":6: SERVERS in row WORKER") != std::string::npos);
}

TEST_CASE("WORKER HTTP is where the worker's status page and /metrics are served; a bad one is refused") {
  auto options = fourinone::WorkerOptions::from_config(config_with("    <HTTP>127.0.0.1:9100</HTTP>"));
  REQUIRE(options.ok());
  REQUIRE(options->http);
  CHECK(*options->http == fourinone::ServerAddress{"127.0.0.1", 9100});
  CHECK_FALSE(fourinone::WorkerOptions::from_config(config_with("")).value().http);
  auto bad = fourinone::WorkerOptions::from_config(config_with("    <HTTP>9100</HTTP>"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find(":6: HTTP in row WORKER: expected HOST:PORT") != std::string::npos);
}
