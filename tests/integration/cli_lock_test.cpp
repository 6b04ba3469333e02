// fourinone ctl lock / elect: a command run under the lock or while leading.
#include <doctest/doctest.h>

#include <csignal>
#include <memory>
#include <sstream>

#include "tests/support/park_fixture.hpp"
#include "tests/support/tcp_relay.hpp"

using namespace std::chrono_literals;
using fourinone::test::Process;

namespace {

std::unique_ptr<Process> ctl_lock_appending(const fourinone::test::RunningPark& park, const std::string& file,
                                            const std::string& who) {
  // Start and end lines with a pause between: two runs not serialized would interleave them.
  std::string script = "echo start " + who + " $FOURINONE_FENCING_TOKEN >> " + file + "; sleep 0.3; echo end " + who +
                       " >> " + file;
  return std::make_unique<Process>(std::vector<std::string>{FOURINONE_BIN, "ctl", "--config", park.config.path, "lock",
                                                            "job", "--", "sh", "-c", script},
                                   park.dir.file("ctl-" + who));
}

}  // namespace

TEST_CASE("ctl lock: two concurrent runs serialize; the command's exit code comes back") {
  fourinone::test::RunningPark park;
  std::string file = park.dir.file("log");
  auto a = ctl_lock_appending(park, file, "a");
  auto b = ctl_lock_appending(park, file, "b");
  CHECK_MESSAGE(a->wait(20s) == 0, a->err());
  CHECK_MESSAGE(b->wait(20s) == 0, b->err());
  std::istringstream in(fourinone::test::read_file(file));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 4);
  // start X T, end X, start Y T', end Y with T < T'.
  std::string first = lines[0].substr(6, 1), second = lines[2].substr(6, 1);
  CHECK(first != second);
  CHECK(lines[1] == "end " + first);
  CHECK(lines[3] == "end " + second);
  CHECK(std::stoull(lines[0].substr(8)) < std::stoull(lines[2].substr(8)));
  CHECK(a->err().find("fencing token") != std::string::npos);

  auto code = park.ctl({"lock", "job", "--", "sh", "-c", "exit 7"});
  CHECK(code.code == 7);
  auto usage = park.ctl({"lock", "job"});
  CHECK(usage.code == 2);
}

TEST_CASE("ctl lock --wait gives up while another run holds the lock") {
  fourinone::test::RunningPark park;
  Process holder({FOURINONE_BIN, "ctl", "--config", park.config.path, "lock", "job", "--", "sleep", "5"},
                 park.dir.file("holder"));
  REQUIRE(fourinone::test::wait_until([&] { return holder.err().find("fencing token") != std::string::npos; }, 10s));
  auto r = park.ctl({"lock", "job", "--wait", "200", "--", "true"});
  CHECK(r.code == 1);
  CHECK(r.err.find("timeout") != std::string::npos);
  holder.signal(SIGTERM);  // passed on to sleep; ctl exits with its code and lets go
  CHECK(holder.wait(10s) == 128 + SIGTERM);
}

TEST_CASE("ctl elect: runs the command as leader with the term's token; others see it lead") {
  fourinone::test::RunningPark park;
  Process leader({FOURINONE_BIN, "ctl", "--config", park.config.path, "elect", "svc", "--value", "me", "--", "sh", "-c",
                  "echo token $FOURINONE_FENCING_TOKEN; exec sleep 5"},
                 park.dir.file("leader"));
  REQUIRE(fourinone::test::wait_until([&] { return leader.out().find("token ") != std::string::npos; }, 10s));
  auto client = park.connect();
  auto nodes = client->list("election.svc");
  REQUIRE(nodes.ok());
  REQUIRE(nodes->size() == 1);
  CHECK(nodes->front().value == "me");
  CHECK(leader.out() == "token " + std::to_string(nodes->front().create_revision) + "\n");
  leader.signal(SIGTERM);
  CHECK(leader.wait(10s) == 128 + SIGTERM);
  // Resigned on the way out: the line is empty again.
  CHECK(fourinone::test::wait_until([&] { return !client->list("election.svc").ok() || client->list("election.svc")->empty(); }, 5s));
}

TEST_CASE("ctl elect: leadership lost (session expired) stops the command and exits 1") {
  fourinone::test::RunningPark park;
  // This ctl reaches the park only through a relay, which the test then cuts.
  fourinone::test::TcpRelay relay(park.config.port);
  std::string cut_config = park.dir.file("cut.xml");
  fourinone::test::write_test_config(cut_config, "127.0.0.1:" + std::to_string(relay.port()));
  std::string marker = park.dir.file("terminated");
  Process leader({FOURINONE_BIN, "ctl", "--config", cut_config, "elect", "svc", "--", "sh", "-c",
                  "trap 'echo term > " + marker + "; exit 0' TERM; echo up; while :; do sleep 0.1; done"},
                 park.dir.file("leader"));
  REQUIRE(fourinone::test::wait_until([&] { return leader.out().find("up") != std::string::npos; }, 10s));
  relay.set_blocked(true);
  CHECK_MESSAGE(leader.wait(10s) == 1, leader.err());  // session timeout 2 s, then SIGTERM
  CHECK(leader.err().find("lost leadership of svc") != std::string::npos);
  CHECK(fourinone::test::read_file(marker) == "term\n");  // the command was told to stop
}
