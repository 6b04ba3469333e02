// `fourinone ctl` and `fourinone park` as a shell user meets them.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <thread>

#include "tests/support/park_fixture.hpp"

using namespace std::chrono_literals;
using fourinone::test::Process;
using fourinone::test::run_cli;
using fourinone::test::RunningPark;
using fourinone::test::TempDir;
using fourinone::test::wait_until;
using fourinone::test::write_file;

TEST_CASE("ctl creates, reads, lists, updates and removes nodes with data on stdout") {
  RunningPark park;
  CHECK(park.ctl({"create", "zhejiang", "hangzhou", "xihu"}).code == 0);
  auto got = park.ctl({"get", "zhejiang", "hangzhou"});
  CHECK(got.code == 0);
  CHECK(got.out == "xihu\n");
  CHECK(park.ctl({"create", "zhejiang", "ningbo", "port"}).code == 0);
  auto seq = park.ctl({"create", "--seq", "zhejiang", "queued"});
  CHECK(seq.code == 0);
  std::string seq_name = seq.out.substr(0, seq.out.find('\n'));
  CHECK(!seq_name.empty());
  auto ls = park.ctl({"ls", "zhejiang"});
  CHECK(ls.code == 0);
  CHECK(ls.out == "hangzhou\nningbo\n" + seq_name + "\n");
  CHECK(park.ctl({"update", "zhejiang", "hangzhou", "yuhang", "--version", "1"}).code == 0);
  auto stale = park.ctl({"update", "zhejiang", "hangzhou", "late", "--version", "1"});
  CHECK(stale.code == 1);
  CHECK(stale.err.find("bad_version") != std::string::npos);
  CHECK(park.ctl({"latest", "zhejiang", "hangzhou", "--version", "1"}).out == "yuhang\n");
  CHECK(park.ctl({"latest", "zhejiang", "hangzhou", "--version", "2"}).out == "");
  auto stat = park.ctl({"stat", "zhejiang", "hangzhou"});
  CHECK(stat.out.find("version: 2") != std::string::npos);
  CHECK(park.ctl({"rm", "zhejiang", "hangzhou"}).code == 0);
  auto missing = park.ctl({"get", "zhejiang", "hangzhou"});
  CHECK(missing.code == 1);
  CHECK(missing.out.empty());
  CHECK(missing.err.find("not_found") != std::string::npos);
  CHECK(park.ctl({"rm", "zhejiang"}).code == 0);
  CHECK(park.ctl({"ls", "zhejiang"}).code == 1);
  auto status = park.ctl({"status"});
  CHECK(status.code == 0);
  CHECK(status.out.find("role: leader") != std::string::npos);
  CHECK(status.out.find("leader: 127.0.0.1:" + std::to_string(park.config.port)) != std::string::npos);
}

TEST_CASE("ctl watch prints one line per change until interrupted") {
  RunningPark park;
  Process watch({FOURINONE_BIN, "ctl", "--config", park.config.path, "watch", "cfg"}, park.dir.file("watch"));
  // The watch is registered once ctl has connected; give it a moment by polling a write.
  REQUIRE(park.ctl({"create", "cfg", "a", "1"}).code == 0);
  REQUIRE(wait_until([&] { return park.ctl({"update", "cfg", "a", std::to_string(rand())}).code == 0 &&
                                  watch.out().find("updated cfg/a") != std::string::npos; },
                     5s));
  REQUIRE(park.ctl({"rm", "cfg", "a"}).code == 0);
  REQUIRE(wait_until([&] { return watch.out().find("deleted cfg/a") != std::string::npos; }, 5s));
  watch.signal(SIGINT);
  CHECK(watch.wait(5s) == 0);
}

TEST_CASE("ctl latest --wait returns as soon as the node changes") {
  RunningPark park;
  REQUIRE(park.ctl({"create", "cfg", "k", "v1"}).code == 0);
  Process waiter({FOURINONE_BIN, "ctl", "--config", park.config.path, "latest", "cfg", "k", "--version", "1",
                  "--wait", "20"},
                 park.dir.file("latest"));
  std::this_thread::sleep_for(300ms);
  CHECK(waiter.running());
  REQUIRE(park.ctl({"update", "cfg", "k", "v2"}).code == 0);
  CHECK(waiter.wait(5s) == 0);
  CHECK(waiter.out() == "v2\n");
}

TEST_CASE("ctl reports usage errors with exit code 2 and server errors with exit code 1") {
  RunningPark park;
  CHECK(park.ctl({"create", "onlydomain"}).code == 2);
  CHECK(park.ctl({"frobnicate"}).code == 2);
  CHECK(park.ctl({"get", "a", "b", "--bogus"}).code == 2);
  auto bad_policy = park.ctl({"create", "d", "n", "v", "--policy", "everything"});
  CHECK(bad_policy.code == 1);
  CHECK(bad_policy.err.find("everything") != std::string::npos);
  CHECK(run_cli({"nonsense"}).code == 2);
}

TEST_CASE("a dead server is reported clearly by ctl") {
  RunningPark park;
  park.server.kill();
  auto r = park.ctl({"--timeout", "1000", "get", "a", "b"});
  CHECK(r.code == 1);
  CHECK(r.err.find("unavailable") != std::string::npos);
}

TEST_CASE("a broken config.xml is refused with file, line and element") {
  TempDir dir;
  std::string path = dir.file("config.xml");
  write_file(path,
             "<PROPSTABLE>\n"
             "  <PROPSROW DESC=\"PARK\">\n"
             "    <SERVERS>127.0.0.1:1</SERVERS>\n"
             "    <HEARTBEAT>often</HEARTBEAT>\n"
             "  </PROPSROW>\n"
             "</PROPSTABLE>\n");
  auto park = run_cli({"park", "--config", path});
  CHECK(park.code == 1);
  CHECK(park.err.find(path + ":4") != std::string::npos);
  CHECK(park.err.find("HEARTBEAT") != std::string::npos);
  auto ctl = run_cli({"ctl", "--config", path, "status"});
  CHECK(ctl.code == 1);
  CHECK(ctl.err.find("HEARTBEAT") != std::string::npos);

  write_file(path, "<PROPSTABLE>\n  <PROPSROW DESC=\"PARK\">\n    <SERVERS>x</SERVERS>\n  </PROPSTABLE>\n");
  auto malformed = run_cli({"park", "--config", path});
  CHECK(malformed.code == 1);
  CHECK(malformed.err.find(path + ":") != std::string::npos);

  auto missing = run_cli({"park", "--config", dir.file("nope.xml")});
  CHECK(missing.code == 1);
  CHECK(missing.err.find("nope.xml") != std::string::npos);
}

TEST_CASE("the park server refuses a taken port or data folder and stops cleanly on SIGTERM") {
  RunningPark park;
  REQUIRE(park.connect()->create("keep", "me", "safe").ok());

  // Same config: same data folder, which the first server holds.
  auto same = run_cli({"park", "--config", park.config.path}, "", 10s);
  CHECK(same.code == 1);
  CHECK_MESSAGE(same.err.find("in use by another park server") != std::string::npos, same.err);

  // Another data folder but the same port.
  TempDir other;
  auto other_config = fourinone::test::write_park_config(other, {}, park.config.port);
  auto taken = run_cli({"park", "--config", other_config.path}, "", 10s);
  CHECK(taken.code == 1);
  CHECK_MESSAGE(taken.err.find("cannot listen") != std::string::npos, taken.err);

  CHECK(park.connect()->get("keep", "me")->value == "safe");
  CHECK(park.server.stop() == 0);
}
