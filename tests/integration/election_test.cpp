// LeaderElection across real processes: the leader is killed -9 three times; a new leader
// follows within the session timeout, never two at once, each term's token above the last.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "fourinone/election.hpp"
#include "tests/support/park_fixture.hpp"
#include "tests/support/tcp_relay.hpp"

using namespace std::chrono_literals;
using fourinone::test::Process;
using fourinone::test::wait_until;
using Clock = std::chrono::steady_clock;

namespace {

std::unique_ptr<Process> candidate(const fourinone::test::RunningPark& park, const std::string& value) {
  return std::make_unique<Process>(
      std::vector<std::string>{FOURINONE_TEST_LOCK_CLIENT, "elect", park.config.path, "boss", value},
      park.dir.file("candidate-" + value));
}

// The token in a candidate's "leader VALUE T" line, or 0 if it has not led.
std::uint64_t led_with(const Process& p) {
  std::istringstream in(p.out());
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string word, value;
    std::uint64_t token = 0;
    if (words >> word >> value >> token && word == "leader") return token;
  }
  return 0;
}

}  // namespace

TEST_CASE("election: kill -9 the leader three times; one leader at a time, tokens increase") {
  fourinone::test::RunningPark park;
  auto observer_park = park.connect();
  fourinone::LeaderElection observer(*observer_park, "boss", "observer");
  std::mutex mutex;
  std::vector<fourinone::Leader> seen;  // every leader change the observer was told of
  auto observing = observer.observe([&](const std::optional<fourinone::Leader>& leader) {
    std::lock_guard lock(mutex);
    if (leader) seen.push_back(*leader);
  });
  REQUIRE_MESSAGE(observing.ok(), observing.to_string());

  std::map<std::string, std::unique_ptr<Process>> alive;
  int next = 0;
  auto add_candidate = [&] {
    std::string value = "c" + std::to_string(next++);
    alive[value] = candidate(park, value);
  };
  for (int i = 0; i < 3; ++i) add_candidate();

  std::uint64_t last_token = 0;
  auto killed_at = Clock::now();
  for (int term = 0; term < 4; ++term) {
    std::string leader;
    REQUIRE(wait_until(
        [&] {
          for (auto& [value, p] : alive) {
            // Led, and wrote its term into the fenced history (so killing it now loses nothing).
            if (led_with(*p) != 0 && p->out().find("recorded") != std::string::npos) leader = value;
          }
          return !leader.empty();
        },
        10s));
    if (term > 0) CHECK(Clock::now() - killed_at < 2s + 3s);  // session timeout + margin
    int leaders = 0;
    for (auto& [value, p] : alive) leaders += led_with(*p) != 0 ? 1 : 0;
    CHECK(leaders == 1);
    auto token = led_with(*alive[leader]);
    CHECK(token > last_token);
    last_token = token;
    auto current = observer.leader();
    REQUIRE(current.ok());
    CHECK(current->value == leader);
    CHECK(current->token == token);
    if (term == 3) break;
    alive[leader]->signal(SIGKILL);
    alive[leader]->wait(5s);
    killed_at = Clock::now();
    alive.erase(leader);
    add_candidate();  // keep three in the race
  }

  // The observer saw the four terms in order; the leaders' fenced history has them too.
  REQUIRE(wait_until([&] { std::lock_guard lock(mutex); return seen.size() >= 4; }, 5s));
  std::lock_guard lock(mutex);
  CHECK(seen.size() == 4);
  for (std::size_t i = 1; i < seen.size(); ++i) CHECK(seen[i].token > seen[i - 1].token);
  CHECK(seen.back().token == last_token);
  auto history = fourinone::fenced_read(*observer_park, "electhist", "boss");
  REQUIRE(history.ok());
  CHECK(history->token == last_token);
  CHECK(std::count(history->payload.begin(), history->payload.end(), '\n') == 4);
}

TEST_CASE("election: campaign, resign, hand-over; on_lost when the session expires") {
  fourinone::test::RunningPark server;
  auto park_a = server.connect();
  fourinone::test::TcpRelay relay(server.config.port);
  auto options = server.options();
  options.servers = {fourinone::ServerAddress{"127.0.0.1", relay.port()}};
  auto park_b = fourinone::Park::connect(options);
  REQUIRE(park_b.ok());

  fourinone::LeaderElection a(*park_a, "e", "a"), b(**park_b, "e", "b");
  CHECK(a.leader().status().code() == fourinone::Errc::not_found);
  auto ta = a.campaign(2s);
  REQUIRE(ta.ok());
  CHECK(a.is_leader());
  CHECK(b.campaign(200ms).status().code() == fourinone::Errc::timeout);
  CHECK_FALSE(b.is_leader());
  REQUIRE(a.resign().ok());
  CHECK_FALSE(a.is_leader());

  std::atomic<bool> lost{false};
  b.on_lost([&](const fourinone::Status&) { lost = true; });
  auto tb = b.campaign(2s);
  REQUIRE(tb.ok());
  CHECK(*tb > *ta);
  CHECK(a.leader()->value == "b");
  // a campaigns again and waits behind b; b is cut off: it loses, a leads.
  std::atomic<std::uint64_t> ta2{0};
  std::jthread t([&] { ta2 = a.campaign(10s).value_or(0); });  // joined even if a REQUIRE fails
  REQUIRE(wait_until([&] { return park_a->list("election.e")->size() == 2; }, 5s));
  relay.set_blocked(true);
  REQUIRE(wait_until([&] { return lost.load(); }, 10s));
  CHECK_FALSE(b.is_leader());
  REQUIRE(wait_until([&] { return ta2 != 0; }, 10s));
  t.join();
  CHECK(ta2.load() > *tb);
  CHECK(a.is_leader());

  // b, reconnected with a new session, stands again: behind a this time.
  relay.set_blocked(false);
  REQUIRE(wait_until([&] { return (*park_b)->open_session().ok(); }, 10s));
  CHECK(b.campaign(200ms).status().code() == fourinone::Errc::timeout);
  REQUIRE(a.resign().ok());
  auto tb2 = b.campaign(2s);
  REQUIRE(tb2.ok());
  CHECK(*tb2 > ta2.load());
}
