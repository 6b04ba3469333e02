// ReadWriteLock: readers share, a writer excludes, and the line is fair both ways (a writer
// waits for the readers ahead of it; a reader behind a writer waits for the writer).
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "fourinone/lock.hpp"
#include "tests/support/park_fixture.hpp"

using namespace std::chrono_literals;
using fourinone::test::wait_until;

TEST_CASE("rwlock: readers share, a writer excludes, arrival order is kept") {
  fourinone::test::RunningPark server;
  auto p1 = server.connect(), p2 = server.connect(), p3 = server.connect(), p4 = server.connect();
  fourinone::ReadWriteLock r1(*p1, "doc"), r2(*p2, "doc"), w(*p3, "doc"), r3(*p4, "doc");
  auto line = [&] { return p1->list("rwlock.doc")->size(); };

  auto t1 = r1.read_lock(2s);
  auto t2 = r2.read_lock(2s);
  REQUIRE(t1.ok());
  REQUIRE(t2.ok());  // two readers at once
  CHECK(w.write_lock(200ms).status().code() == fourinone::Errc::timeout);
  CHECK(line() == 2);  // the timed-out writer left the line

  std::atomic<std::uint64_t> tw{0}, t3{0};
  // Bounded waits in jthreads: a failed REQUIRE joins them instead of aborting the binary.
  std::jthread writer([&] { tw = w.write_lock(10s).value_or(0); });
  REQUIRE(wait_until([&] { return line() == 3; }, 5s));
  std::jthread reader([&] { t3 = r3.read_lock(10s).value_or(0); });  // arrives after the writer
  REQUIRE(wait_until([&] { return line() == 4; }, 5s));
  std::this_thread::sleep_for(200ms);
  CHECK(tw.load() == 0);
  CHECK(t3.load() == 0);  // readers do not overtake a waiting writer

  REQUIRE(r1.unlock().ok());
  std::this_thread::sleep_for(200ms);
  CHECK(tw.load() == 0);  // r2 still reads
  REQUIRE(r2.unlock().ok());
  REQUIRE(wait_until([&] { return tw != 0; }, 5s));
  writer.join();
  CHECK(w.writing());
  std::this_thread::sleep_for(200ms);
  CHECK(t3.load() == 0);  // the writer excludes the reader behind it
  REQUIRE(w.unlock().ok());
  REQUIRE(wait_until([&] { return t3 != 0; }, 5s));
  reader.join();
  CHECK(tw.load() > *t2);
  CHECK(t3.load() > tw.load());
  CHECK_FALSE(r3.writing());
}
