// A park group of three real servers: one leader, replication, failover and catch-up.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>
#include <string>
#include <thread>

#include "tests/support/park_group.hpp"

using namespace std::chrono_literals;
using fourinone::Errc;
using fourinone::test::ParkGroup;
using fourinone::test::revision_in_status;
using fourinone::test::wait_until;

TEST_CASE("a three-server group elects one leader, replicates writes and survives a kill -9 of the leader") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());

  auto park = group.connect();
  for (int i = 0; i < 20; ++i) REQUIRE(park->create("cfg", "k" + std::to_string(i), "v" + std::to_string(i)).ok());
  auto last = park->update("cfg", "k0", "changed");
  REQUIRE(last.ok());
  // Every member applies the same writes.
  for (std::size_t i = 0; i < group.size(); ++i) {
    CHECK(wait_until([&] { return revision_in_status(group.status_of(i)) == last->mod_revision; }, 5s));
  }

  group.kill(*leader);
  auto next = group.wait_for_leader();
  REQUIRE(next.has_value());
  CHECK(*next != *leader);
  // The same client carries on against the new leader: acknowledged data is there.
  auto got = park->get("cfg", "k0");
  REQUIRE_MESSAGE(got.ok(), got.status().to_string());
  CHECK(got->value == "changed");
  REQUIRE(park->create("cfg", "after", "failover").ok());

  // The old leader comes back as a follower and catches up.
  REQUIRE(group.start(*leader));
  auto after = park->get("cfg", "after");
  REQUIRE(after.ok());
  CHECK(wait_until([&] { return revision_in_status(group.status_of(*leader)) == after->mod_revision; }, 10s));
  CHECK(group.status_of(*leader).find("role: follower") != std::string::npos);
}

TEST_CASE("a follower answers not_leader and the client goes to the leader by itself") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  std::size_t follower = (*leader + 1) % group.size();
  auto pinned = fourinone::Park::connect(group.options_for(follower));
  REQUIRE(pinned.ok());
  // A client that knows only the follower gets a clear error naming the leader.
  auto refused = pinned.value()->create("d", "n", "v");
  CHECK(refused.status().code() == Errc::not_leader);
  CHECK(refused.status().message().find(group.address(*leader)) != std::string::npos);
  CHECK(pinned.value()->get("d", "n").status().code() == Errc::not_leader);
  auto park = group.connect();
  REQUIRE(park->create("d", "n", "v").ok());

  // A stale read is answered by the follower itself, from its own copy.
  auto options = group.options_for(follower);
  options.stale_reads = true;
  auto stale = fourinone::Park::connect(options);
  REQUIRE(stale.ok());
  CHECK(wait_until([&] { return stale.value()->get("d", "n").ok(); }, 5s));
  CHECK(stale.value()->get("d", "n")->value == "v");
  CHECK(stale.value()->create("d", "m", "w").status().code() == Errc::not_leader);  // writes: leader only
}

TEST_CASE("stopping the leader with SIGTERM hands leadership over at once") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  auto park = group.connect();
  REQUIRE(park->create("d", "n", "1").ok());
  auto stopped_at = std::chrono::steady_clock::now();
  CHECK(group.stop(*leader) == 0);
  auto next = group.wait_for_leader();
  REQUIRE(next.has_value());
  CHECK(*next != *leader);
  auto r = park->update("d", "n", "2");
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  MESSAGE("write accepted " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - stopped_at).count()
                            << " ms after SIGTERM to the leader");
}

TEST_CASE("heartbeat nodes survive a leader failover while their client lives") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  auto member = group.connect();
  fourinone::CreateOptions hb;
  hb.heartbeat = true;
  REQUIRE(member->create("group", "me", "alive", hb).ok());
  group.kill(*leader);
  REQUIRE(group.wait_for_leader().has_value());
  std::this_thread::sleep_for(3s);  // longer than the 2 s session timeout
  auto observer = group.connect();
  CHECK(observer->get("group", "me").ok());
  member.reset();  // closes the session
  CHECK(wait_until([&] { return observer->get("group", "me").status().code() == Errc::not_found; }, 5s));
}

TEST_CASE("a watch resumes on the new leader after a kill -9 and skips no change") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  auto writer = group.connect();
  auto watcher = group.connect();
  REQUIRE(writer->create("w", "n", "0").ok());
  std::mutex mutex;
  std::vector<std::string> seen;
  auto watch = watcher->watch("w", std::string("n"), 0, [&](const fourinone::WatchEvent& e) {
    std::lock_guard lock(mutex);
    seen.push_back(e.type == fourinone::WatchEvent::Type::resync ? "resync" : e.node.value);
  });
  REQUIRE(watch.ok());
  constexpr int kUpdates = 60;
  for (int i = 1; i <= kUpdates; ++i) {
    if (i == 20) group.kill(*leader);  // the watcher's server may be the one that dies
    auto r = writer->update("w", "n", std::to_string(i));
    REQUIRE_MESSAGE(r.ok(), "update " << i << ": " << r.status().to_string());
  }
  CHECK(wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return !seen.empty() && seen.back() == std::to_string(kUpdates);
      },
      10s));
  std::lock_guard lock(mutex);
  std::vector<std::string> expected;
  for (int i = 1; i <= kUpdates; ++i) expected.push_back(std::to_string(i));
  CHECK(seen == expected);  // every change once, in order: no gap, no repeat, no resync
}

namespace {

struct LoadOutcome {
  int failed = 0;
  std::uint64_t highest = 0;  // revision of the last write answered
  bool stalled = false;
};

// `writes` updates over 50 nodes of domain "load", `in_flight` at a time.
LoadOutcome write_load(fourinone::Park& park, int writes, int in_flight_max) {
  std::mutex mutex;
  std::condition_variable cv;
  int started = 0, finished = 0, in_flight = 0;
  LoadOutcome out;
  std::unique_lock lock(mutex);
  while (finished < writes) {
    while (started < writes && in_flight < in_flight_max) {
      const int i = started++;
      ++in_flight;
      lock.unlock();
      park.async_update("load", "k" + std::to_string(i % 50), std::to_string(i), fourinone::kAnyVersion,
                        [&](fourinone::Result<fourinone::Node> r) {
                          std::lock_guard guard(mutex);
                          --in_flight;
                          ++finished;
                          if (!r.ok()) ++out.failed;
                          else out.highest = std::max(out.highest, r->mod_revision);
                          cv.notify_all();
                        });
      lock.lock();
    }
    if (!cv.wait_for(lock, 20s, [&] { return (started < writes && in_flight < in_flight_max) || finished == writes; })) {
      out.stalled = true;
      // The callbacks still hold references to this frame: wait for every one before leaving.
      cv.wait(lock, [&] { return in_flight == 0; });
      return out;
    }
  }
  return out;
}

}  // namespace

// Many writes in flight: the leader answers each as soon as it is committed and durable on its
// own disk (ReplicatedLog::apply_early), even while later Readies are still being written. A
// leader that applied out of order, or skipped an entry, would leave callers waiting and its
// store behind the followers'.
TEST_CASE("64 writes in flight on a group are all answered, and every member ends at the same revision") {
  ParkGroup group(3);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  auto park = group.connect();
  for (int k = 0; k < 50; ++k) REQUIRE(park->create("load", "k" + std::to_string(k), "0").ok());

  LoadOutcome load = write_load(*park, 6000, 64);
  REQUIRE_MESSAGE(!load.stalled, "writes stopped being answered");
  CHECK(load.failed == 0);
  for (std::size_t i = 0; i < group.size(); ++i) {
    CHECK_MESSAGE(wait_until([&] { return revision_in_status(group.status_of(i)) == load.highest; }, 10s),
                  "member " << i << ": " << group.status_of(i));
  }
}

// A follower writes its log on its io thread while the storage thread is idle, and hands it to
// the storage thread while a snapshot is being stored there (ReplicatedLog::writes_inline): the
// two must never write at once or out of order. A snapshot every 40 entries under 64 writes in
// flight switches between them all the time; a write that overtook another would leave a gap
// in a follower's log (its server stops with "leaves a gap"), and the restarts read every
// member's snapshot and log back.
TEST_CASE("followers under load with a snapshot every 40 entries keep a whole log: each restarts at the same revision") {
  ParkGroup group(3, ParkGroup::Settings{{"SNAPSHOTENTRIES", "40"}});
  REQUIRE(group.start_all());
  auto leader = group.wait_for_leader();
  REQUIRE(leader.has_value());
  auto park = group.connect();
  for (int k = 0; k < 50; ++k) REQUIRE(park->create("load", "k" + std::to_string(k), "0").ok());

  LoadOutcome load = write_load(*park, 4000, 64);
  REQUIRE_MESSAGE(!load.stalled, "writes stopped being answered");
  CHECK(load.failed == 0);
  for (std::size_t i = 0; i < group.size(); ++i) {
    CHECK_MESSAGE(wait_until([&] { return revision_in_status(group.status_of(i)) == load.highest; }, 10s),
                  "member " << i << ": " << group.status_of(i));
    CHECK_MESSAGE(group.log_of(i).find("could not be written") == std::string::npos, group.log_of(i));
  }
  // Every follower again from its own disk, one at a time (the other two keep a majority).
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (i == *leader) continue;
    group.kill(i);
    REQUIRE(group.start(i));
    CHECK_MESSAGE(wait_until([&] { return revision_in_status(group.status_of(i)) == load.highest; }, 10s),
                  "member " << i << " after its restart: " << group.status_of(i));
  }
  auto node = park->get("load", "k49");
  REQUIRE(node.ok());
  CHECK(node->value == "3999");
}
