// DistributedCounter and the barriers (counter.hpp, barrier.hpp) with several clients.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "fourinone/barrier.hpp"
#include "fourinone/counter.hpp"
#include "tests/support/park_fixture.hpp"

using namespace std::chrono_literals;
using fourinone::Barrier;
using fourinone::DistributedCounter;
using fourinone::DoubleBarrier;
using fourinone::test::RunningPark;
using Clock = std::chrono::steady_clock;

TEST_CASE("4 clients x 200 concurrent increments lose none") {
  RunningPark park;
  std::vector<std::unique_ptr<fourinone::Park>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(park.connect());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      DistributedCounter counter(*clients[static_cast<std::size_t>(i)], "stats", "hits");
      for (int k = 0; k < 200; ++k) {
        if (!counter.add(1).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  DistributedCounter counter(*clients[0], "stats", "hits");
  CHECK(*counter.get() == 800);
  CHECK(clients[0]->get("stats", "hits")->value == "800");  // decimal text
  CHECK(*counter.add(-50) == 750);
  CHECK(*DistributedCounter(*clients[1], "stats", "absent").get() == 0);
}

TEST_CASE("a counter node holding something else is refused, not overwritten") {
  RunningPark park;
  auto p = park.connect();
  REQUIRE(p->create("stats", "name", "not a number").ok());
  CHECK(DistributedCounter(*p, "stats", "name").add(1).status().code() == fourinone::Errc::bad_request);
  CHECK(p->get("stats", "name")->value == "not a number");
}

TEST_CASE("a barrier lets nobody through before all members arrived") {
  RunningPark park;
  constexpr int kMembers = 3;
  std::vector<std::unique_ptr<fourinone::Park>> clients;
  for (int i = 0; i < kMembers; ++i) clients.push_back(park.connect());
  std::atomic<int> arrived{0}, passed{0}, early{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kMembers; ++i) {
    threads.emplace_back([&, i] {
      // Stagger the arrivals so that a barrier that opened too soon would show.
      std::this_thread::sleep_for(std::chrono::milliseconds(150 * i));
      Barrier barrier(*clients[static_cast<std::size_t>(i)], "job-1.start", kMembers);
      ++arrived;
      auto s = barrier.wait(Clock::now() + 10s);
      if (!s.ok()) ++failed;
      if (arrived.load() < kMembers) ++early;
      ++passed;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  CHECK(early == 0);
  CHECK(passed == kMembers);
}

TEST_CASE("a barrier short of members times out") {
  RunningPark park;
  auto p = park.connect();
  Barrier barrier(*p, "job-2.start", 2);
  auto start = Clock::now();
  CHECK(barrier.wait(start + 500ms).code() == fourinone::Errc::timeout);
  CHECK(Clock::now() - start < 3s);
}

TEST_CASE("a double barrier: all enter before any starts, none leaves before all finished") {
  RunningPark park;
  constexpr int kMembers = 3;
  std::vector<std::unique_ptr<fourinone::Park>> clients;
  for (int i = 0; i < kMembers; ++i) clients.push_back(park.connect());
  std::atomic<int> entered{0}, working{0}, finished{0}, bad{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kMembers; ++i) {
    threads.emplace_back([&, i] {
      DoubleBarrier barrier(*clients[static_cast<std::size_t>(i)], "job-3", kMembers);
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * i));
      ++entered;
      if (!barrier.enter(Clock::now() + 10s).ok()) ++failed;
      if (entered.load() < kMembers) ++bad;  // through enter() before everyone entered
      ++working;
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * (kMembers - i)));  // uneven work
      ++finished;
      if (!barrier.leave(Clock::now() + 10s).ok()) ++failed;
      if (finished.load() < kMembers) ++bad;  // through leave() before everyone finished
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  CHECK(bad == 0);
  CHECK(working == kMembers);
  CHECK(DoubleBarrier(*clients[0], "job-3", 1).leave(Clock::now() + 1s).code() == fourinone::Errc::bad_request);
}
