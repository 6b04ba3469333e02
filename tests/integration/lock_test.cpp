// DistributedLock across real processes: mutual exclusion, strictly growing fencing tokens,
// and a holder paused past its session timeout fenced off by the resource (issue #15).
#include <doctest/doctest.h>

#include <csignal>
#include <memory>
#include <sstream>
#include <thread>

#include "fourinone/lock.hpp"
#include "tests/support/park_fixture.hpp"
#include "tests/support/park_group.hpp"

using namespace std::chrono_literals;
using fourinone::test::Process;
using fourinone::test::wait_until;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// "WORD T" -> T, or 0 when the line is not of that form.
std::uint64_t token_after(const std::string& line, const std::string& word) {
  if (line.rfind(word + " ", 0) != 0) return 0;
  return std::stoull(line.substr(word.size() + 1));
}

std::unique_ptr<Process> contender(const std::string& config, const std::string& dir, int id, int rounds,
                                   int hold_ms, const std::string& history) {
  return std::make_unique<Process>(
      std::vector<std::string>{FOURINONE_TEST_LOCK_CLIENT, "lock", config, "jobs", std::to_string(rounds),
                               std::to_string(hold_ms), history},
      dir + "/contender" + std::to_string(id));
}

bool has_line(const Process& p, const std::string& line) {
  for (const auto& l : lines_of(p.out())) {
    if (l == line) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("lock: 8 processes on a 3-server group take turns; tokens strictly increase") {
  fourinone::test::ParkGroup group(3);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  constexpr int kClients = 8, kRounds = 3;
  std::vector<std::unique_ptr<Process>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(contender(group.config_path(), group.dir().path(), i, kRounds, 20, "h"));
  }
  for (auto& c : clients) {
    CHECK_MESSAGE(c->wait(60s) == 0, c->out() << c->err());
    CHECK(c->out().find("refused") == std::string::npos);
    CHECK(c->out().find("error") == std::string::npos);
  }
  // The history the holders wrote through the fencing check: enter T / exit T pairs that
  // never interleave, each T above the last.
  auto park = group.connect();
  auto history = fourinone::fenced_read(*park, "lockhist", "h");
  REQUIRE(history.ok());
  auto lines = lines_of(history->payload);
  REQUIRE(lines.size() == 2 * kClients * kRounds);
  std::uint64_t last = 0;
  for (std::size_t i = 0; i < lines.size(); i += 2) {
    auto enter = token_after(lines[i], "enter");
    CHECK_MESSAGE(enter > last, lines[i] << " after token " << last);
    CHECK_MESSAGE(token_after(lines[i + 1], "exit") == enter, lines[i] << " then " << lines[i + 1]);
    last = enter;
  }
  CHECK(history->token == last);
}

TEST_CASE("lock: a holder paused past its session timeout is refused by the fencing check") {
  fourinone::test::RunningPark park;
  auto a = contender(park.config.path, park.dir.path(), 0, 1, 1500, "f");
  REQUIRE(wait_until([&] { return a->out().find("entered") != std::string::npos; }, 10s));
  a->signal(SIGSTOP);  // holding, between its two writes; its session stops heartbeating
  auto token_a = token_after(lines_of(a->out()).front(), "acquired");
  REQUIRE(token_a > 0);

  // B gets the lock once A's session expires (2 s), and writes its own enter/exit.
  auto b = contender(park.config.path, park.dir.path(), 1, 1, 10, "f");
  CHECK_MESSAGE(b->wait(15s) == 0, b->out() << b->err());
  auto token_b = token_after(lines_of(b->out()).front(), "acquired");
  CHECK(token_b > token_a);
  CHECK(has_line(*b, "exited " + std::to_string(token_b)));

  // A wakes up still believing it holds the lock; its late write must be turned away.
  a->signal(SIGCONT);
  CHECK_MESSAGE(a->wait(15s) == 0, a->out() << a->err());
  CHECK_MESSAGE(has_line(*a, "refused " + std::to_string(token_a)), a->out());

  auto client = park.connect();
  auto history = fourinone::fenced_read(*client, "lockhist", "f");
  REQUIRE(history.ok());
  CHECK(history->payload == "enter " + std::to_string(token_a) + "\nenter " + std::to_string(token_b) + "\nexit " +
                                std::to_string(token_b) + "\n");
  CHECK(history->token == token_b);
}

TEST_CASE("lock: try_lock times out and leaves the line; two locks on one Park contend; relock works") {
  fourinone::test::RunningPark server;
  auto park = server.connect();
  fourinone::DistributedLock a(*park, "one"), b(*park, "one");
  auto t1 = a.lock();
  REQUIRE(t1.ok());
  CHECK(a.held());
  auto timed_out = b.try_lock(200ms);
  REQUIRE_FALSE(timed_out.ok());
  CHECK(timed_out.status().code() == fourinone::Errc::timeout);
  CHECK(park->list(a.domain())->size() == 1);  // b left the line
  CHECK(a.lock().status().code() == fourinone::Errc::bad_request);  // already held

  REQUIRE(a.unlock().ok());
  CHECK_FALSE(a.held());
  CHECK(a.unlock().code() == fourinone::Errc::not_found);
  auto t2 = b.try_lock(2s);
  REQUIRE(t2.ok());
  CHECK(*t2 > *t1);

  // a waits in another thread until b lets go.
  std::atomic<std::uint64_t> t3{0};
  std::jthread waiter([&] { t3 = a.try_lock(10s).value_or(0); });  // bounded: a failed REQUIRE still joins
  REQUIRE(wait_until([&] { return park->list(a.domain())->size() == 2; }, 5s));
  std::this_thread::sleep_for(100ms);
  CHECK(t3.load() == 0);
  REQUIRE(b.unlock().ok());
  REQUIRE(wait_until([&] { return t3 != 0; }, 5s));
  waiter.join();
  CHECK(t3.load() > *t2);
  CHECK(a.token() == t3.load());
}

TEST_CASE("lock: a waiter whose session expires gets session_expired") {
  fourinone::test::RunningPark server;
  auto holder_park = server.connect();
  fourinone::test::TcpRelay relay(server.config.port);
  auto options = server.options();
  options.servers = {fourinone::ServerAddress{"127.0.0.1", relay.port()}};
  auto waiter_park = fourinone::Park::connect(options);
  REQUIRE(waiter_park.ok());

  fourinone::DistributedLock holder(*holder_park, "cut"), waiter(**waiter_park, "cut");
  REQUIRE(holder.lock().ok());
  std::atomic<bool> done{false};
  fourinone::Status result;
  std::jthread t([&] {
    result = waiter.try_lock(10s).status();
    done = true;
  });
  REQUIRE(wait_until([&] { return holder_park->list(holder.domain())->size() == 2; }, 5s));
  relay.set_blocked(true);  // the waiter's client is cut off; past 2 s its session is gone
  REQUIRE(wait_until([&] { return done.load(); }, 10s));
  t.join();
  CHECK_MESSAGE(result.code() == fourinone::Errc::session_expired, result.to_string());
  CHECK_FALSE(waiter.held());
  CHECK(holder.held());
  // The waiter's place goes with its session. Cut off, the waiter's client judged its session
  // gone by its own clock; the server expires it on its own tick (every 100 ms) and deletes
  // the node through the log, so the two verdicts are not simultaneous.
  CHECK(wait_until([&] { return holder_park->list(holder.domain())->size() == 1; }, 2s));

  // Reconnected with a new session, the same lock object queues again.
  relay.set_blocked(false);
  REQUIRE(wait_until([&] { return (*waiter_park)->open_session().ok(); }, 10s));
  std::atomic<std::uint64_t> token{0};
  std::jthread again([&] { token = waiter.try_lock(10s).value_or(0); });
  REQUIRE(wait_until([&] { return holder_park->list(holder.domain())->size() == 2; }, 5s));
  REQUIRE(holder.unlock().ok());
  REQUIRE(wait_until([&] { return token.load() != 0; }, 5s));
  again.join();
  CHECK(waiter.held());
}
