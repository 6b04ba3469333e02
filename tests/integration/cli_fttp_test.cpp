// `fourinone ctl fttp ...` against real file servers, and `fourinone up` starting the file
// servers of an FTTP row.
#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>

#include "tests/support/fttp_cluster.hpp"

using namespace std::chrono_literals;
using fourinone::test::FttpCluster;
using fourinone::test::read_file;
using fourinone::test::run_cli;
using fourinone::test::wait_until;
using fourinone::test::write_file;

TEST_CASE("ctl fttp: servers, ls, stat, put, get, cp, mv, mkdir and rm") {
  FttpCluster cluster;
  REQUIRE(cluster.start_all());
  auto ctl = [&](std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"ctl", "--config", cluster.config(0), "fttp"});
    return run_cli(args, input);
  };
  std::string a = "fttp://" + cluster.address(0);
  std::string b = "fttp://" + cluster.address(1);

  CHECK(wait_until([&] { return ctl({"servers"}).out.find(cluster.address(1) + " data ro:ro") != std::string::npos; }, 10s));
  auto roots = ctl({"ls", a});
  CHECK(roots.code == 0);
  CHECK(roots.out == "root rw data\nroot ro ro\n");

  std::string local = cluster.dir().file("in.txt");
  std::string text(200'000, 'q');
  write_file(local, text);
  CHECK(ctl({"mkdir", a + "/data/d/e", "--parents"}).code == 0);
  auto put = ctl({"put", local, a + "/data/d/e/f.txt"});
  CHECK_MESSAGE(put.code == 0, put.err);
  CHECK(read_file(cluster.folder(0, "data") + "/d/e/f.txt") == text);
  CHECK(ctl({"put", "-", a + "/data/small.txt"}, "from stdin").code == 0);
  CHECK(ctl({"get", a + "/data/small.txt"}).out == "from stdin");
  CHECK(ctl({"get", a + "/data/small.txt", "--offset", "5", "--length", "3"}).out == "std");
  auto excl = ctl({"put", "-", a + "/data/small.txt", "--exclusive"}, "x");
  CHECK(excl.code == 1);
  CHECK(excl.err.find("exists") != std::string::npos);

  auto ls = ctl({"ls", a + "/data"});
  CHECK(ls.out == "folder 0 d\nfile 10 small.txt\n");
  auto stat = ctl({"stat", a + "/data/d/e/f.txt"});
  CHECK(stat.out.find("name: f.txt\ntype: file\nsize: 200000\nmode: 0644\n") == 0);

  std::string back = cluster.dir().file("back.txt");
  CHECK(ctl({"get", a + "/data/d/e/f.txt", back}).code == 0);
  CHECK(read_file(back) == text);

  auto cp = ctl({"cp", a + "/data/d/e/f.txt", b + "/data/copy.txt"});
  CHECK_MESSAGE(cp.code == 0, cp.err);
  CHECK(cp.out == "200000\n");
  CHECK(read_file(cluster.folder(1, "data") + "/copy.txt") == text);

  CHECK(ctl({"mv", b + "/data/copy.txt", b + "/data/moved.txt"}).code == 0);
  CHECK(std::filesystem::exists(cluster.folder(1, "data") + "/moved.txt"));
  CHECK(ctl({"rm", a + "/data/d"}).code == 1);
  CHECK(ctl({"rm", a + "/data/d", "--recursive"}).code == 0);
  CHECK_FALSE(std::filesystem::exists(cluster.folder(0, "data") + "/d"));

  auto missing = ctl({"get", a + "/data/none"});
  CHECK(missing.code == 1);
  CHECK(missing.err.find("not_found") != std::string::npos);
  auto escape = ctl({"get", a + "/data/../../config0.xml"});
  CHECK(escape.code == 1);
  CHECK(escape.err.find("no_permission") != std::string::npos);
  CHECK(ctl({"frobnicate"}).code == 2);
  CHECK(ctl({"get"}).code == 2);
  CHECK(run_cli({"ctl", "--config", cluster.config(0), "ls", "x", "--recursive"}).code == 2);
}

TEST_CASE("fourinone up starts the file servers of the FTTP row and stops them on SIGTERM") {
  fourinone::test::TempDir dir;
  std::uint16_t park = fourinone::test::free_port();
  std::uint16_t fttp = fourinone::test::free_port();
  std::string config = dir.file("config.xml");
  write_file(config, "<PROPSTABLE>\n<PROPSROW DESC=\"PARK\"><SERVERS>127.0.0.1:" + std::to_string(park) +
                         "</SERVERS><DATADIR>data</DATADIR></PROPSROW>\n<PROPSROW DESC=\"FTTP\"><SERVERS>127.0.0.1:" +
                         std::to_string(fttp) + "</SERVERS><ROOTS>files=shared</ROOTS></PROPSROW>\n</PROPSTABLE>\n");
  fourinone::test::Process up({FOURINONE_BIN, "up", "--config", config}, dir.file("up"));
  REQUIRE(wait_until([&] { return fourinone::test::port_accepts(fttp) && fourinone::test::port_accepts(park); }, 10s));
  write_file(dir.file("shared/hello.txt"), "hi");  // ROOTS folders are relative to the config file
  auto got = run_cli({"ctl", "--config", config, "fttp", "get", "fttp://127.0.0.1:" + std::to_string(fttp) + "/files/hello.txt"});
  CHECK_MESSAGE(got.out == "hi", got.err);
  up.signal(SIGTERM);
  CHECK(up.wait(30s) == 0);
  CHECK(up.out().find("fttp 127.0.0.1:" + std::to_string(fttp) + " pid") != std::string::npos);
}
