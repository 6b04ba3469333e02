// SingleFlight: one load per key however many callers miss it at once.
//
// No sleeps: a loader that must not finish early spins (yielding) until SingleFlight::waiting()
// shows every other caller parked inside run(), so no caller can arrive after the load ends
// and start a second one.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cache/client/single_flight.hpp"

using namespace fourinone;
using namespace fourinone::cache;

namespace {

struct FlightOutcome {
  Result<std::string> result{Status(Errc::internal, "run() not called")};
  bool shared = false;
};

void wait_for_waiters(const SingleFlight& flight, std::size_t n) {
  while (flight.waiting() < n) std::this_thread::yield();
}

// Runs `callers` threads that all call run(key, load) and returns what each got.
std::vector<FlightOutcome> run_together(SingleFlight& flight, const std::string& key, int callers,
                                        const SingleFlight::Loader& load) {
  std::vector<FlightOutcome> outcomes(static_cast<std::size_t>(callers));
  std::vector<std::thread> threads;
  for (auto& outcome : outcomes) {
    threads.emplace_back([&flight, &key, &load, &outcome] { outcome.result = flight.run(key, load, &outcome.shared); });
  }
  for (auto& t : threads) t.join();
  return outcomes;
}

int count_shared(const std::vector<FlightOutcome>& outcomes) {
  int n = 0;
  for (const auto& o : outcomes) n += o.shared ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("sixteen callers missing the same key run the loader once and all get its value") {
  constexpr int kCallers = 16;
  SingleFlight flight;
  std::atomic<int> loads{0};
  auto load = [&]() -> Result<std::string> {
    ++loads;
    CHECK(flight.in_flight() == 1);
    wait_for_waiters(flight, kCallers - 1);
    return std::string("the value");
  };
  std::vector<FlightOutcome> outcomes = run_together(flight, "k", kCallers, load);

  CHECK(loads == 1);
  for (const auto& o : outcomes) {
    REQUIRE(o.result.ok());
    CHECK(*o.result == "the value");
  }
  CHECK(count_shared(outcomes) == kCallers - 1);
  CHECK(flight.in_flight() == 0);
  CHECK(flight.waiting() == 0);
}

TEST_CASE("loads of different keys run at the same time and independently") {
  SingleFlight flight;
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;                 // guarded by mu
  std::size_t in_flight_seen = 0;  // guarded by mu
  // Each loader waits for the other to start: a SingleFlight that ran them one after the
  // other would fail here (after a generous deadline) instead of passing.
  auto load_for = [&](std::string value) {
    return [&, value]() -> Result<std::string> {
      std::unique_lock lock(mu);
      // The second to start looks while the first is still parked on cv below, so both
      // loads are certainly still running.
      if (++started == 2) in_flight_seen = flight.in_flight();
      cv.notify_all();
      bool both = cv.wait_for(lock, std::chrono::seconds(30), [&] { return started == 2; });
      if (!both) return Status(Errc::timeout, "the other key's loader never started");
      return value;
    };
  };
  FlightOutcome a, b;
  std::thread ta([&] { a.result = flight.run("a", load_for("A"), &a.shared); });
  std::thread tb([&] { b.result = flight.run("b", load_for("B"), &b.shared); });
  ta.join();
  tb.join();
  REQUIRE(a.result.ok());
  REQUIRE(b.result.ok());
  CHECK(*a.result == "A");
  CHECK(*b.result == "B");
  CHECK_FALSE(a.shared);
  CHECK_FALSE(b.shared);
  CHECK(in_flight_seen == 2);
  CHECK(flight.in_flight() == 0);
}

TEST_CASE("an error from the loader is shared by every waiting caller") {
  constexpr int kCallers = 4;
  SingleFlight flight;
  std::atomic<int> loads{0};
  auto load = [&]() -> Result<std::string> {
    ++loads;
    wait_for_waiters(flight, kCallers - 1);
    return Status(Errc::not_found, "no such key");
  };
  std::vector<FlightOutcome> outcomes = run_together(flight, "missing", kCallers, load);

  CHECK(loads == 1);
  for (const auto& o : outcomes) {
    CHECK(o.result.status().code() == Errc::not_found);
    CHECK(o.result.status().message() == "no such key");
  }
  CHECK(count_shared(outcomes) == kCallers - 1);
}

TEST_CASE("a call after the previous load returned loads again") {
  SingleFlight flight;
  int loads = 0;
  auto load = [&]() -> Result<std::string> {
    ++loads;
    CHECK(flight.in_flight() == 1);
    return "v" + std::to_string(loads);
  };
  bool shared = true;
  Result<std::string> first = flight.run("k", load, &shared);
  CHECK_FALSE(shared);
  CHECK(flight.in_flight() == 0);
  shared = true;
  Result<std::string> second = flight.run("k", load, &shared);
  CHECK_FALSE(shared);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*first == "v1");
  CHECK(*second == "v2");
  CHECK(loads == 2);
  CHECK(flight.in_flight() == 0);
}

TEST_CASE("a throwing loader gives internal to every caller and does not wedge the key") {
  constexpr int kCallers = 4;
  SingleFlight flight;
  auto load = [&]() -> Result<std::string> {
    wait_for_waiters(flight, kCallers - 1);
    throw std::runtime_error("disk on fire");
  };
  std::vector<FlightOutcome> outcomes = run_together(flight, "k", kCallers, load);
  for (const auto& o : outcomes) {
    CHECK(o.result.status().code() == Errc::internal);
    CHECK(o.result.status().message() == "loader threw: disk on fire");
  }
  CHECK(count_shared(outcomes) == kCallers - 1);
  CHECK(flight.in_flight() == 0);

  Result<std::string> later = flight.run("k", [] { return Result<std::string>(std::string("fine")); });
  REQUIRE(later.ok());
  CHECK(*later == "fine");
}

TEST_CASE("a loader throwing something that is not a std::exception still gives internal") {
  SingleFlight flight;
  Result<std::string> r = flight.run("k", []() -> Result<std::string> { throw 42; });
  CHECK(r.status().code() == Errc::internal);
  CHECK(flight.in_flight() == 0);
}
