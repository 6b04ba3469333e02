// A DistributedLock keeps mutual exclusion while the park group's leader is killed -9 under
// contention: the history written through the fencing check never goes backwards and never
// shows two holders inside at once, unless the older one was refused.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <sstream>

#include "fourinone/lock.hpp"
#include "tests/support/park_group.hpp"

using namespace std::chrono_literals;
using fourinone::test::Process;
using fourinone::test::wait_until;

TEST_CASE("lock: contention across a kill -9 of the park leader keeps the fenced history consistent") {
  fourinone::test::ParkGroup group(3);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  std::vector<std::unique_ptr<Process>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<Process>(
        std::vector<std::string>{FOURINONE_TEST_LOCK_CLIENT, "lock", group.config_path(), "jobs", "6", "50", "h"},
        group.dir().file("contender" + std::to_string(i))));
  }
  // Kill the leader once the line is busy.
  REQUIRE(wait_until([&] { return clients[0]->out().find("entered") != std::string::npos; }, 10s));
  group.kill(*leader);

  std::string outputs;
  for (auto& c : clients) {
    int code = c->wait(60s);
    outputs += c->out();
    CHECK_MESSAGE(code == 0, c->out() << c->err());
  }
  auto park = group.connect();
  auto history = fourinone::fenced_read(*park, "lockhist", "h");
  REQUIRE(history.ok());
  std::istringstream in(history->payload);
  std::uint64_t last = 0, inside = 0;
  int pairs = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string what;
    std::uint64_t token = 0;
    bool parsed = static_cast<bool>(words >> what >> token);
    REQUIRE(parsed);
    CHECK_MESSAGE(token >= last, line << " after token " << last);
    last = token;
    if (what == "enter") {
      // Entering while another is inside is only fine if that one was fenced off.
      if (inside != 0) CHECK_MESSAGE(outputs.find("refused " + std::to_string(inside)) != std::string::npos, line);
      inside = token;
    } else {
      CHECK(token == inside);
      inside = 0;
      ++pairs;
    }
  }
  MESSAGE("completed holds: " << pairs << " of 24");
  CHECK(pairs > 0);
}
