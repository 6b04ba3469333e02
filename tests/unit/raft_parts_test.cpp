// The Raft core's parts on their own: the log's cursors, follower progress, majority math
// (checked against a dumb version, STYLE §9), and the simulator's SafetyChecker, which must
// catch each violation it exists for (a checker that cannot fail proves nothing).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "park/raft/progress.hpp"
#include "park/raft/quorum.hpp"
#include "park/raft/raft_log.hpp"
#include "tests/support/raft_sim.hpp"

using namespace fourinone::raft;
using fourinone::raft::sim::LogView;
using fourinone::raft::sim::SafetyChecker;
using fourinone::raft::sim::SimFailure;
using fourinone::raft::sim::StateMachine;

namespace {

Entry entry(std::uint64_t index, std::uint64_t term, std::string data = "") {
  Entry e;
  e.index = index;
  e.term = term;
  e.data = data.empty() ? "e" + std::to_string(index) + "t" + std::to_string(term) : std::move(data);
  return e;
}

std::vector<Entry> run(std::uint64_t from, std::initializer_list<std::uint64_t> terms) {
  std::vector<Entry> out;
  for (std::uint64_t t : terms) out.push_back(entry(from++, t));
  return out;
}

}  // namespace

TEST_CASE("raft log: entries handed out then replaced by a conflicting suffix are not durable") {
  RaftLog log(1);
  log.append(run(1, {1, 1, 1}));
  const std::vector<Entry> first = log.take_unstable();
  REQUIRE(first.size() == 3);
  // Before the driver persists them, a leader of term 2 replaces index 2 on.
  REQUIRE(log.maybe_append(1, 1, run(2, {2})));
  CHECK(log.last_index() == 2);
  CHECK(log.unstable_from() == 2);
  // The old Ready's advance must not mark the new index 2 (or a vanished 3) durable.
  log.stable_to(first.back().index, first.back().term);
  CHECK(log.persisted() == 0);
  const std::vector<Entry> second = log.take_unstable();
  REQUIRE(second.size() == 1);
  CHECK(second[0].term == 2);
  log.stable_to(second.back().index, second.back().term);
  CHECK(log.persisted() == 2);

  // Durable entries that are replaced stop being durable too.
  REQUIRE(log.maybe_append(1, 1, run(2, {3, 3})));
  CHECK(log.persisted() == 1);
}

TEST_CASE("raft log: maybe_append keeps matching entries and commits nothing by itself") {
  RaftLog log(2);
  log.restore_durable(0, 0, run(1, {1, 1, 2, 2}));
  CHECK_FALSE(log.maybe_append(2, 2, run(3, {3})));  // prev term differs: reject
  auto last = log.maybe_append(1, 1, run(2, {1}));   // a prefix we hold: nothing changes
  REQUIRE(last);
  CHECK(*last == 2);
  CHECK(log.last_index() == 4);
  CHECK_FALSE(log.has_unstable());
  last = log.maybe_append(2, 1, run(3, {3}));
  REQUIRE(last);
  CHECK(log.last_index() == 3);
  CHECK(log.term(3) == 3u);
  CHECK(log.committed() == 0);
}

TEST_CASE("raft log: find_conflict_by_term, up-to-date comparison, slices and compaction") {
  RaftLog log(1);
  log.restore_durable(0, 0, run(1, {1, 1, 1, 4, 4, 4, 4}));
  CHECK(log.find_conflict_by_term(7, 3) == 3);
  CHECK(log.find_conflict_by_term(7, 4) == 7);
  CHECK(log.find_conflict_by_term(20, 4) == 7);
  CHECK(log.find_conflict_by_term(7, 0) == 0);

  CHECK(log.is_up_to_date(7, 4));
  CHECK(log.is_up_to_date(1, 5));       // later last term wins regardless of length
  CHECK_FALSE(log.is_up_to_date(6, 4)); // same term, shorter
  CHECK_FALSE(log.is_up_to_date(9, 3)); // longer, older term

  auto s = log.slice(1, 8, 3, 1000);
  CHECK(s.size() == 3);
  s = log.slice(1, 8, 100, 5);  // entries are 4 bytes each: one fits, two do not
  CHECK(s.size() == 1);
  s = log.slice(1, 8, 100, 0);  // one always goes
  CHECK(s.size() == 1);

  log.commit_to(5);
  log.compact(4);
  CHECK(log.first_index() == 5);
  CHECK(log.snapshot_term() == 4);
  CHECK(log.term(4) == 4u);
  CHECK_FALSE(log.term(3));
  CHECK(log.find_conflict_by_term(7, 1) == 4);  // stops at the snapshot boundary

  log.restore_snapshot(10, 6);
  CHECK(log.first_index() == 11);
  CHECK(log.last_index() == 10);
  CHECK(log.committed() == 10);
  CHECK(log.persisted() == 7);  // the old durable entries are covered until the snapshot is
  log.stable_snapshot_to(10, 6);
  CHECK(log.persisted() == 10);
}

TEST_CASE("raft progress: probe pauses after one append, replicate pipelines up to the window") {
  Progress pr(2);
  pr.next = 5;
  CHECK_FALSE(pr.is_paused());
  pr.sent(7);
  CHECK(pr.is_paused());  // probe: one at a time
  CHECK(pr.next == 5);
  // A stale reject (of an append we did not send last) is ignored.
  CHECK_FALSE(pr.maybe_decr_to(6, 2));
  // The real one moves next to the hint, never below match+1.
  CHECK(pr.maybe_decr_to(4, 2));
  CHECK(pr.next == 3);
  CHECK_FALSE(pr.is_paused());

  CHECK(pr.maybe_update(4));
  pr.become_replicate();
  CHECK(pr.next == 5);
  pr.sent(6);
  CHECK(pr.next == 7);
  pr.sent(8);
  CHECK(pr.is_paused());  // window of 2 full
  CHECK_FALSE(pr.maybe_update(4));  // duplicate answer
  CHECK(pr.maybe_update(6));
  pr.inflights.free_le(6);
  CHECK_FALSE(pr.is_paused());
  CHECK_FALSE(pr.maybe_decr_to(5, 0));  // at or below match: stale
  CHECK(pr.maybe_decr_to(8, 0));
  CHECK(pr.next == 7);

  pr.become_snapshot(20);
  CHECK(pr.is_paused());
  pr.become_probe();
  CHECK(pr.next == 21);
}

TEST_CASE("raft quorum: the majority value matches a brute-force count") {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t n = 1 + rng() % 7;
    std::vector<std::uint64_t> v(n);
    for (auto& x : v) x = rng() % 10;
    std::uint64_t brute = 0;
    for (std::uint64_t candidate = 0; candidate < 10; ++candidate) {
      const auto reached = static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [&](std::uint64_t x) { return x >= candidate; }));
      if (reached * 2 > n) brute = candidate;
    }
    CHECK(quorum_value(v) == brute);
  }
  CHECK(majority(1) == 1);
  CHECK(majority(3) == 2);
  CHECK(majority(4) == 3);
  CHECK(majority(5) == 3);
  CHECK(vote_result(3, 2, 0) == VoteResult::won);
  CHECK(vote_result(3, 1, 1) == VoteResult::pending);
  CHECK(vote_result(3, 1, 2) == VoteResult::lost);
  CHECK(vote_result(5, 2, 2) == VoteResult::pending);
  CHECK(vote_result(5, 2, 3) == VoteResult::lost);
}

TEST_CASE("raft sim checker: each safety violation is caught") {
  SUBCASE("two leaders in one term") {
    SafetyChecker c;
    c.observe_role(1, Role::leader, 3);
    c.observe_role(1, Role::leader, 3);
    c.observe_role(2, Role::leader, 4);
    CHECK_THROWS_AS(c.observe_role(2, Role::leader, 3), SimFailure);
  }
  SUBCASE("log matching: same index and term, different data or predecessor") {
    SafetyChecker c;
    c.observe_entry(1, entry(2, 2, "x"), 1);
    c.observe_entry(2, entry(2, 2, "x"), 1);
    CHECK_THROWS_AS(c.observe_entry(3, entry(2, 2, "y"), 1), SimFailure);
    CHECK_THROWS_AS(c.observe_entry(3, entry(2, 2, "x"), 2), SimFailure);
  }
  SUBCASE("state machine safety: two servers apply different entries at one index") {
    SafetyChecker c;
    StateMachine a;
    a.apply(entry(1, 1, "x"));
    c.observe_apply(1, 1, entry(1, 1, "x"), a);
    StateMachine b;
    b.apply(entry(1, 2, "y"));
    CHECK_THROWS_AS(c.observe_apply(2, 2, entry(1, 2, "y"), b), SimFailure);
  }
  SUBCASE("application out of order, with a gap, or again") {
    SafetyChecker c;
    StateMachine a;
    a.apply(entry(1, 1));
    c.observe_apply(1, 1, entry(1, 1), a);
    StateMachine skip = a;
    skip.apply(entry(3, 1));
    CHECK_THROWS_AS(c.observe_apply(1, 1, entry(3, 1), skip), SimFailure);
    CHECK_THROWS_AS(c.observe_apply(1, 1, entry(1, 1), a), SimFailure);
  }
  SUBCASE("leader completeness: a later leader lacks a committed entry") {
    SafetyChecker c;
    LogView committed_log;
    committed_log.write(run(1, {1, 1}));
    c.observe_commit(1, 1, 2, committed_log);
    LogView leader_log;
    leader_log.write(run(1, {1, 2}));
    c.check_leader(2, 2, committed_log, {});  // holds it: fine
    CHECK_THROWS_AS(c.check_leader(3, 2, leader_log, {}), SimFailure);
    c.check_leader(3, 1, leader_log, {});  // not a later term: not required
  }
  SUBCASE("a stale read index") {
    SafetyChecker c;
    LogView log;
    log.write(run(1, {1, 1, 1}));
    c.observe_commit(1, 1, 3, log);
    c.observe_read_request(1, 7);
    CHECK_THROWS_AS(c.observe_read_state(1, ReadState{2, 7}), SimFailure);
    c.observe_read_request(1, 8);
    c.observe_read_state(1, ReadState{3, 8});
    CHECK_THROWS_AS(c.observe_read_state(1, ReadState{3, 8}), SimFailure);  // twice
  }
  SUBCASE("a second durable vote in one term, a term going back") {
    SafetyChecker c;
    c.observe_durable_hard_state(1, HardState{2, 0, 0}, HardState{2, 3, 0});
    CHECK_THROWS_AS(c.observe_durable_hard_state(1, HardState{2, 3, 0}, HardState{2, 2, 0}), SimFailure);
    CHECK_THROWS_AS(c.observe_durable_hard_state(1, HardState{3, 0, 0}, HardState{2, 0, 0}), SimFailure);
  }
  SUBCASE("a snapshot that does not match what was applied") {
    SafetyChecker c;
    StateMachine a;
    a.apply(entry(1, 1));
    c.observe_apply(1, 1, entry(1, 1), a);
    StateMachine wrong;
    wrong.applied = 1;
    wrong.digest = a.digest + 1;
    CHECK_THROWS_AS(c.observe_snapshot_apply(2, 1, 1, wrong), SimFailure);
    c.observe_snapshot_apply(2, 1, 1, a);
  }
  SUBCASE("a committed membership changing two servers at once; a snapshot with the wrong membership") {
    SafetyChecker c;
    Membership boot;
    boot.voters = {1, 2, 3};
    c.set_bootstrap(boot);
    auto change = [](std::uint64_t index, std::vector<NodeId> voters, std::vector<NodeId> learners) {
      Membership m;
      m.voters = std::move(voters);
      m.learners = std::move(learners);
      Entry e = entry(index, 1, encode_membership(m));
      e.type = EntryType::membership;
      return e;
    };
    StateMachine sm;
    const Entry add = change(1, {1, 2, 3}, {4});
    sm.apply(add);
    c.observe_apply(1, 1, add, sm);
    CHECK(c.changes_committed() == 1);
    CHECK(c.membership_at(0) == boot);
    CHECK(c.membership_at(5).learners == std::vector<NodeId>{4});
    c.check_snapshot_membership(1, 0, std::nullopt);
    CHECK_THROWS_AS(c.check_snapshot_membership(1, 1, std::nullopt), SimFailure);
    CHECK_THROWS_AS(c.check_snapshot_membership(1, 1, boot), SimFailure);
    const Entry two = change(2, {1, 2}, {4, 5});
    sm.apply(two);
    CHECK_THROWS_AS(c.observe_apply(1, 1, two, sm), SimFailure);
  }
}
