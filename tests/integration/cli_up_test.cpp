// fourinone up as a supervisor: a server that dies is started again after a back-off and says
// so; with --no-restart it is only reported.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "tests/support/process.hpp"

using namespace std::chrono_literals;
using fourinone::test::Process;
using fourinone::test::run_cli;
using fourinone::test::wait_until;

namespace {

// A config with one park server on a free port; its data next to it.
std::string write_config(const fourinone::test::TempDir& dir, std::uint16_t port) {
  std::string path = dir.file("config.xml");
  std::ofstream out(path);
  out << "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\"><SERVERS>127.0.0.1:" << port
      << "</SERVERS><DATADIR>data</DATADIR></PROPSROW>\n</PROPSTABLE>\n";
  return path;
}

// The pids `up` printed for its park server, in order ("park HOST:PORT pid N log ...").
std::vector<pid_t> park_pids(const std::string& out) {
  std::vector<pid_t> pids;
  static const std::regex line(R"(park 127\.0\.0\.1:\d+ pid (\d+) log)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator(); ++it) {
    pids.push_back(static_cast<pid_t>(std::stol((*it)[1])));
  }
  return pids;
}

}  // namespace

TEST_CASE("fourinone up restarts a park server killed with kill -9, with back-off, and the data is still there") {
  fourinone::test::TempDir dir;
  const std::uint16_t port = fourinone::test::free_port();
  const std::string config = write_config(dir, port);
  Process up({FOURINONE_BIN, "up", "--config", config}, dir.file("up"));
  REQUIRE(wait_until([&] { return run_cli({"ctl", "--config", config, "--timeout", "500", "status"}).code == 0; }, 10s));
  REQUIRE(run_cli({"ctl", "--config", config, "create", "cfg", "db", "host=a"}).code == 0);

  // First death: restarted after 1 s.
  auto first = park_pids(up.out());
  REQUIRE(first.size() == 1);
  ::kill(first[0], SIGKILL);
  REQUIRE(wait_until([&] { return park_pids(up.out()).size() == 2; }, 5s));
  CHECK_MESSAGE(up.out().find("killed by signal Killed after") != std::string::npos, up.out());
  CHECK_MESSAGE(up.out().find("restarting in 1 s") != std::string::npos, up.out());
  CHECK_MESSAGE(up.out().find("(restart 1)") != std::string::npos, up.out());
  REQUIRE(wait_until([&] { return run_cli({"ctl", "--config", config, "--timeout", "500", "status"}).code == 0; }, 10s));
  auto got = run_cli({"ctl", "--config", config, "get", "cfg", "db"});
  CHECK(got.out == "host=a\n");

  // Second death soon after: the wait doubles.
  auto second = park_pids(up.out());
  ::kill(second.back(), SIGKILL);
  REQUIRE(wait_until([&] { return up.out().find("restarting in 2 s") != std::string::npos; }, 5s));
  std::this_thread::sleep_for(1s);
  CHECK(park_pids(up.out()).size() == 2);  // not yet: 2 s
  REQUIRE(wait_until([&] { return park_pids(up.out()).size() == 3; }, 5s));
  REQUIRE(wait_until([&] { return run_cli({"ctl", "--config", config, "--timeout", "500", "status"}).code == 0; }, 10s));

  // Stopping stops the restarted server too; the exit code says servers died on their own.
  up.signal(SIGTERM);
  CHECK(up.wait(30s) == 1);
  CHECK_FALSE(fourinone::test::port_accepts(port));
}

TEST_CASE("fourinone up --no-restart only reports a server that dies") {
  fourinone::test::TempDir dir;
  const std::uint16_t port = fourinone::test::free_port();
  const std::string config = write_config(dir, port);
  Process up({FOURINONE_BIN, "up", "--config", config, "--no-restart"}, dir.file("up"));
  REQUIRE(wait_until([&] { return park_pids(up.out()).size() == 1; }, 10s));
  ::kill(park_pids(up.out())[0], SIGKILL);
  // Its only server gone and nothing to restart, up ends, saying why.
  CHECK(up.wait(10s) == 1);
  CHECK(up.out().find("killed by signal Killed") != std::string::npos);
  CHECK(up.out().find("restarting") == std::string::npos);
  CHECK(park_pids(up.out()).size() == 1);
}
