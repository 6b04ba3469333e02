// Fault test (issue 17, "Partitions and a soak"): round after round of partitions of a
// three-server group under a steady load from several clients. Each round is one of
//   isolate_leader    the leader alone on one side (2/1, the old leader in the minority);
//   isolate_follower  a follower alone (2/1, the leader keeps its majority);
//   bridge            only the leader <-> one follower link is down: the third server
//                     still hears both (a partial partition);
//   leader_mute       one-way: the leader's messages to the followers are dropped, theirs
//                     still reach it;
//   leader_deaf       one-way, the reverse: the followers' messages to the leader are dropped.
// It holds ~1.5 s, writes must go on (or resume) on the majority side, then it heals and a
// leader must be agreed on. At the end no acknowledged create is missing and the recorded
// history is linearizable.
//
// Where the old leader ends up cut off (isolate_leader, leader_mute, leader_deaf) the round
// also checks that the minority serves no linearizable read: a client pinned to the old leader
// reads key fence/f (the value "old" is on every server before the cut); once the majority has
// committed "new", no read through the old leader may answer "old" (failing, with not_leader,
// unavailable or timeout, is what it should do).
//
// FOURINONE_PARTITION_SEED=N replays an order of rounds (the seed is printed).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/park_group.hpp"
#include "tests/support/register_load.hpp"

using namespace std::chrono_literals;
using fourinone::Errc;
using fourinone::test::ParkGroup;
using fourinone::test::RegisterLoad;
using fourinone::test::wait_until;
using Clock = std::chrono::steady_clock;

namespace {

enum class Kind { isolate_leader, isolate_follower, bridge, leader_mute, leader_deaf };
constexpr Kind kKinds[] = {Kind::isolate_leader, Kind::isolate_follower, Kind::bridge, Kind::leader_mute,
                           Kind::leader_deaf};

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::isolate_leader: return "isolate_leader";
    case Kind::isolate_follower: return "isolate_follower";
    case Kind::bridge: return "bridge";
    case Kind::leader_mute: return "leader_mute";
    case Kind::leader_deaf: return "leader_deaf";
  }
  return "?";
}

// The old leader ends up without a majority: it must serve no linearizable read.
bool leader_cut_off(Kind kind) {
  return kind == Kind::isolate_leader || kind == Kind::leader_mute || kind == Kind::leader_deaf;
}

void partition(ParkGroup& group, Kind kind, std::size_t leader, std::size_t follower) {
  switch (kind) {
    case Kind::isolate_leader: group.isolate(leader); break;
    case Kind::isolate_follower: group.isolate(follower); break;
    case Kind::bridge:
      group.cut(leader, follower);
      group.cut(follower, leader);
      break;
    case Kind::leader_mute:
      for (std::size_t j = 0; j < group.size(); ++j) {
        if (j != leader) group.cut(leader, j);
      }
      break;
    case Kind::leader_deaf:
      for (std::size_t j = 0; j < group.size(); ++j) {
        if (j != leader) group.cut(j, leader);
      }
      break;
  }
}

unsigned seed_from_env() {
  if (const char* text = std::getenv("FOURINONE_PARTITION_SEED")) return static_cast<unsigned>(std::stoul(text));
  return std::random_device{}();
}

// What the reads through the cut-off old leader saw after the majority committed "new".
struct MinorityReads {
  int stale = 0;  // answered the old value: a linearizability violation
  int fresh = 0;  // answered the new value (it learned it; harmless)
  std::map<std::string, int> refused;  // error code -> count
  std::string text() const {
    std::ostringstream out;
    out << "stale " << stale << ", fresh " << fresh << ", refused {";
    for (const auto& [code, n] : refused) out << " " << code << ":" << n;
    out << " }";
    return out.str();
  }
};

}  // namespace

TEST_CASE("raft group: 20 partition rounds under load (isolated leader or follower, a bridge, one-way links) "
          "lose nothing, stay linearizable, and the cut-off leader serves no read") {
  constexpr int kRounds = 20;
  constexpr auto kHold = 1500ms;  // each partition lasts at least this long
  const unsigned seed = seed_from_env();
  MESSAGE("FOURINONE_PARTITION_SEED=" << seed);
  std::mt19937 rng(seed);
  std::vector<Kind> order;
  while (order.size() < static_cast<std::size_t>(kRounds)) {
    std::vector<Kind> block(std::begin(kKinds), std::end(kKinds));
    std::shuffle(block.begin(), block.end(), rng);  // every kind equally often
    order.insert(order.end(), block.begin(), block.end());
  }
  order.resize(kRounds);

  ParkGroup group(3, {}, /*relays=*/true);
  REQUIRE(group.start_all());
  REQUIRE(group.wait_for_leader().has_value());
  auto setup = group.connect();
  REQUIRE(setup->create("fence", "f", "init").ok());
  RegisterLoad load(*setup);
  for (int c = 0; c < 4; ++c) load.add_client(group.options());

  const auto started = Clock::now();
  std::ostringstream rounds_log;
  int minority_checks = 0;
  for (int round = 0; round < kRounds; ++round) {
    const Kind kind = order[static_cast<std::size_t>(round)];
    auto found = group.wait_for_leader(15s);
    REQUIRE_MESSAGE(found.has_value(), "no leader before round " << round << " (seed " << seed << ")");
    const std::size_t leader = *found;
    const std::size_t follower = (leader + 1 + rng() % 2) % group.size();
    INFO("round " << round << " " << kind_name(kind) << ", leader " << leader << ", follower " << follower
                  << ", seed " << seed);

    // The fence value the group commits before the cut: the pinned client reads it back
    // through the leader, which shows that server applied it.
    const std::string old_value = "old-" + std::to_string(round);
    const std::string new_value = "new-" + std::to_string(round);
    std::unique_ptr<fourinone::Park> pinned;
    if (leader_cut_off(kind)) {
      REQUIRE(setup->update("fence", "f", old_value).ok());
      auto options = group.options_for(leader);
      options.call_timeout = 400ms;  // several reads fit in one hold
      auto connected = fourinone::Park::connect(options);
      REQUIRE_MESSAGE(connected.ok(), connected.status().to_string());
      pinned = std::move(connected).value();
      auto before_cut = pinned->get("fence", "f");
      REQUIRE_MESSAGE(before_cut.ok(), before_cut.status().to_string());
      REQUIRE(before_cut->value == old_value);
    }

    const std::uint64_t acked_before = load.acked_creates();
    const auto cut_at = Clock::now();
    partition(group, kind, leader, follower);

    // The majority side writes: at once when the leader kept its majority, after an election
    // otherwise.
    REQUIRE_MESSAGE(wait_until([&] { return load.acked_creates() > acked_before + 5; }, 10s),
                    "writes did not resume during round " << round);
    const auto resumed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - cut_at).count();

    MinorityReads reads;
    if (pinned) {
      // The majority commits "new" (through any server: the load's clients know them all).
      bool committed = wait_until([&] { return setup->update("fence", "f", new_value).ok(); }, 10s);
      REQUIRE_MESSAGE(committed, "the majority did not commit the fence value in round " << round);
      // From now on a linearizable read anywhere must not see "old". Reads go on to the end
      // of the hold, and for 600 ms at least.
      const auto reads_until = std::max(cut_at + kHold, Clock::now() + 600ms);
      do {
        auto r = pinned->get("fence", "f");
        if (r.ok() && r->value == old_value) reads.stale++;
        else if (r.ok()) reads.fresh++;
        else reads.refused[fourinone::errc_name(r.status().code())]++;
        std::this_thread::sleep_for(20ms);  // a refusal may come at once
      } while (Clock::now() < reads_until);
      minority_checks++;
      CHECK_MESSAGE(reads.stale == 0, "the cut-off old leader served the old value after the majority committed "
                                          "a new one: "
                                          << reads.text());
    }
    // Writes go on for the rest of the hold.
    const std::uint64_t acked_resumed = load.acked_creates();
    const auto resumed_at = Clock::now();
    std::this_thread::sleep_until(cut_at + kHold);
    if (Clock::now() - resumed_at >= 300ms) {
      CHECK_MESSAGE(load.acked_creates() > acked_resumed, "writes stopped again during the hold of round " << round);
    }

    group.heal();
    pinned.reset();
    REQUIRE_MESSAGE(group.wait_for_leader(15s).has_value(), "no leader after healing round " << round);
    rounds_log << "  " << round << " " << kind_name(kind) << " (leader " << leader << "): writes after "
               << resumed_ms << " ms" << (leader_cut_off(kind) ? "; reads via old leader: " + reads.text() : "")
               << "\n";
  }
  const auto rounds_s = std::chrono::duration<double>(Clock::now() - started).count();
  MESSAGE("seed " << seed << ", " << kRounds << " rounds in " << rounds_s << " s:\n" << rounds_log.str());
  CHECK(minority_checks >= kRounds / 2);
  load.stop_and_check(*setup);
}
