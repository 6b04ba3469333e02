// Raft membership changes, one server at a time (thesis §4.1), rule by rule: learners catch up
// before they count, the leader promotes them, a removed leader hands over and steps down, one
// change at a time and only after the leader committed in its term, a truncated membership entry
// takes its membership with it, snapshots and restarts keep the membership.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "park/raft/raft.hpp"
#include "tests/support/raft_sim.hpp"

using namespace fourinone::raft;
using fourinone::raft::sim::Group;

namespace {

Membership members(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  Membership m;
  m.voters = std::move(voters);
  m.learners = std::move(learners);
  return m;
}

Config no_promotion() {
  Config c;
  c.auto_promote = false;
  return c;
}

bool has_entry(const std::vector<Entry>& entries, const std::string& data) {
  for (const Entry& e : entries) {
    if (e.data == data) return true;
  }
  return false;
}

// `leader` takes `data`; after one round of ticks, has `on` applied it?
bool commits(Group& g, NodeId leader, const std::string& data, NodeId on) {
  REQUIRE(g.at(leader).propose({data}).error == ProposeError::none);
  g.tick_all();
  return has_entry(g.applied(on), data);
}

// Ticks everyone until some server leads (0: nobody within `rounds`).
NodeId tick_until_leader(Group& g, int rounds, NodeId not_this = 0) {
  for (int i = 0; i < rounds; ++i) {
    g.tick_all();
    for (int s = 1; s <= g.size(); ++s) {
      const auto id = static_cast<NodeId>(s);
      if (id != not_this && g.at(id).role() == Role::leader) return id;
    }
  }
  return 0;
}

}  // namespace

TEST_CASE("raft membership: encode/decode round trip, malformed bytes refused") {
  Membership m = members({1, 3, 7}, {9});
  m.context = std::string("addr\0esses", 10);
  const std::string bytes = encode_membership(m);
  CHECK(is_membership_data(bytes));
  CHECK(bytes.front() == kMembershipMarker);
  REQUIRE(decode_membership(bytes));
  CHECK(*decode_membership(bytes) == m);
  CHECK(decode_membership(encode_membership(members({2})))->voters == std::vector<NodeId>{2});

  // Cut short anywhere, or with a byte too many.
  for (std::size_t n = 0; n < bytes.size(); ++n) CHECK_FALSE(decode_membership(bytes.substr(0, n)));
  CHECK_FALSE(decode_membership(bytes + "x"));
  // Another marker or version.
  std::string wrong = bytes;
  wrong[0] = 1;
  CHECK_FALSE(decode_membership(wrong));
  CHECK_FALSE(is_membership_data(wrong));
  CHECK_FALSE(is_membership_data(""));
  wrong = bytes;
  wrong[1] = 2;
  CHECK_FALSE(decode_membership(wrong));
  // A voter count larger than the bytes left.
  wrong = bytes;
  wrong[2] = static_cast<char>(0xff);
  CHECK_FALSE(decode_membership(wrong));
  // Lists that are not sorted, distinct, non-zero and disjoint.
  for (const Membership& bad : {members({3, 1}), members({1, 1}), members({0, 1}), members({1, 2}, {2}),
                                members({1}, {5, 4})}) {
    CHECK_FALSE(bad.well_formed());
    CHECK_FALSE(decode_membership(encode_membership(bad)));
  }
}

TEST_CASE("raft membership: a joining server waits; a learner gets the log, then is promoted once caught up") {
  Group g(3);
  g.elect(1);
  for (int i = 0; i < 4; ++i) REQUIRE(g.at(1).propose({"a" + std::to_string(i)}).error == ProposeError::none);
  g.tick_all(2);
  bool compacted = false;
  SUBCASE("from the log") {}
  SUBCASE("from a snapshot: the leader compacted the entries it needs") {
    compacted = true;
    g.compact(1);
    REQUIRE(g.at(1).first_index() > 1);
  }
  const NodeId four = g.add_server();
  REQUIRE(four == 4);
  // Empty Config::servers: no membership, and it never campaigns on its own.
  CHECK(g.at(4).membership().voters.empty());
  g.tick(4, 50);
  CHECK(g.at(4).role() == Role::follower);
  CHECK(g.at(4).term() == 0);

  const ProposeResult r = g.at(1).propose_membership(members({1, 2, 3}, {4}));
  REQUIRE(r.error == ProposeError::none);
  // In effect on the leader as soon as it is in its log, committed or not.
  CHECK(g.at(1).membership() == members({1, 2, 3}, {4}));
  CHECK(g.at(1).membership_index() == r.index);
  g.deliver_all();
  CHECK(g.at(1).commit_index() >= r.index);
  CHECK(g.at(4).last_index() == g.at(1).last_index());
  CHECK(g.at(4).membership() == members({1, 2, 3}, {4}));
  if (compacted) {
    // It came by install_snapshot, which carries the membership in effect at its index: the
    // bootstrap one (nothing), the founders' Config::servers.
    const Restore stored = g.stored(4);
    REQUIRE(stored.snapshot);
    CHECK_FALSE(stored.snapshot->membership);
  } else {
    CHECK(has_entry(g.applied(4), "a0"));
  }
  // Caught up: the leader promotes it on its next heartbeat tick.
  g.tick_all();
  g.tick_all();
  for (NodeId s : {1, 2, 3, 4}) CHECK(g.at(s).membership() == members({1, 2, 3, 4}));
  CHECK(g.at(1).membership_index() > r.index);
  CHECK(g.at(1).commit_index() >= g.at(1).membership_index());
  CHECK(commits(g, 1, "four", 4));
}

TEST_CASE("raft membership: a learner that has not caught up is not promoted; without auto_promote none is") {
  SUBCASE("cut off") {
    Group g(3);
    g.elect(1);
    g.add_server();
    g.isolate(4);
    REQUIRE(g.at(1).propose_membership(members({1, 2, 3}, {4})).error == ProposeError::none);
    g.tick_all(5);
    CHECK(g.at(1).membership() == members({1, 2, 3}, {4}));
  }
  SUBCASE("auto_promote off") {
    Group g(3, no_promotion());
    g.elect(1);
    g.add_server();
    REQUIRE(g.at(1).propose_membership(members({1, 2, 3}, {4})).error == ProposeError::none);
    g.tick_all(5);
    CHECK(g.at(1).membership() == members({1, 2, 3}, {4}));
    CHECK(g.at(1).match_index(4) == g.at(1).last_index());
    // The caller promotes it.
    REQUIRE(g.at(1).propose_membership(members({1, 2, 3, 4})).error == ProposeError::none);
    g.tick_all();
    CHECK(g.at(4).membership() == members({1, 2, 3, 4}));
  }
}

TEST_CASE("raft membership: a learner counts neither for commit nor for votes") {
  Group g(2, no_promotion());
  g.elect(1);
  g.add_server();
  const ProposeResult change = g.at(1).propose_membership(members({1, 2}, {3}));
  REQUIRE(change.error == ProposeError::none);
  g.deliver_all();
  REQUIRE(g.at(1).commit_index() >= change.index);

  // Voter 2 down: the leader and the learner hold the entry, which is not a majority of voters.
  g.isolate(2);
  const ProposeResult r = g.at(1).propose({"x"});
  REQUIRE(r.error == ProposeError::none);
  g.deliver_all();
  CHECK(g.at(3).last_index() >= r.index);
  CHECK(g.at(1).commit_index() < r.index);
  CHECK_FALSE(has_entry(g.applied(3), "x"));

  // A learner never campaigns.
  g.tick(3, 100);
  CHECK(g.at(3).role() == Role::follower);

  // The leader steps down (check-quorum: the learner's answers do not keep it in office), then
  // asks only the voters, and a learner's grant does not elect it.
  for (int i = 0; i < 4 * Config{}.election_ticks && g.at(1).role() != Role::pre_candidate; ++i) g.tick(1);
  REQUIRE(g.at(1).role() == Role::pre_candidate);
  for (const Message& m : g.take(1)) {
    if (m.type == MessageType::pre_vote) CHECK(m.to == 2);
  }
  Message grant;
  grant.type = MessageType::pre_vote_response;
  grant.from = 3;
  grant.to = 1;
  grant.term = g.at(1).term() + 1;
  g.at(1).step(grant);
  CHECK(g.at(1).role() == Role::pre_candidate);
}

TEST_CASE("raft membership: a removed follower gets nothing more, and the rest commit without it") {
  Group g(3);
  g.elect(1);
  const ProposeResult r = g.at(1).propose_membership(members({1, 2}));
  REQUIRE(r.error == ProposeError::none);
  g.deliver_all();
  CHECK(g.at(1).commit_index() >= r.index);
  CHECK(g.at(2).membership() == members({1, 2}));
  // The leader stopped replicating to it the moment the entry was in its log.
  CHECK(g.at(3).membership() == members({1, 2, 3}));
  CHECK(g.at(3).last_index() < r.index);
  // Two voters: both are needed now.
  g.isolate(3);
  CHECK(commits(g, 1, "after", 2));
  CHECK_FALSE(has_entry(g.applied(3), "after"));
}

TEST_CASE("raft membership: a removed server that keeps campaigning does not disrupt the group") {
  Config base;
  SUBCASE("leader lease and pre-vote") {}
  SUBCASE("pre-vote alone (no check-quorum, so no lease)") { base.check_quorum = false; }
  Group g(3, base);
  g.elect(1);
  REQUIRE(g.at(1).propose_membership(members({1, 2})).error == ProposeError::none);
  g.deliver_all();
  const std::uint64_t term = g.at(1).term();
  // Server 3 never learns of its removal: it times out again and again.
  g.tick_all(10 * base.election_ticks);
  CHECK(g.at(3).role() != Role::leader);
  CHECK(g.at(1).role() == Role::leader);
  CHECK(g.at(1).term() == term);
  CHECK(g.at(2).term() == term);
  CHECK(commits(g, 1, "still", 2));
}

TEST_CASE("raft membership: a leader that removed itself leads until it commits, then hands over and steps down") {
  Group g(3);
  g.elect(1);
  const ProposeResult r = g.at(1).propose_membership(members({2, 3}));
  REQUIRE(r.error == ProposeError::none);
  // Still leading a membership it is not in: it replicates and commits by the others' copies.
  REQUIRE(g.at(1).propose({"meanwhile"}).error == ProposeError::none);
  g.deliver_all();
  CHECK(g.at(1).role() == Role::leader);
  CHECK(g.at(1).commit_index() == g.at(1).last_index());
  const std::uint64_t term = g.at(1).term();
  // Its next tick: timeout_now to a caught-up voter, then follower.
  g.tick(1);
  CHECK(g.at(1).role() == Role::follower);
  const auto handover = g.take(1, 0, MessageType::timeout_now);
  REQUIRE(handover.size() == 1);
  CHECK(handover[0].to == 2);
  g.at(2).step(handover[0]);
  g.deliver_all();
  CHECK(g.at(2).role() == Role::leader);
  CHECK(g.at(2).term() == term + 1);
  // The removed leader stays out: it knows its removal committed.
  g.tick_all(5 * Config{}.election_ticks);
  CHECK(g.at(1).role() == Role::follower);
  CHECK(g.at(2).role() == Role::leader);
  CHECK(commits(g, 2, "new", 3));
  CHECK_FALSE(has_entry(g.applied(1), "new"));
}

TEST_CASE("raft membership: a leader removed before the change commits campaigns again, or nobody would lead") {
  // Regression (simulator seeds 200064, 200321): {1,2} with 1 leading appends {2}; 2 never gets
  // it, 1 loses its lead. 2 needs 1's vote and 1 refuses it (2's log is shorter): only 1 can
  // lead, so 1 must campaign though its latest membership leaves it out.
  Group g(2);
  g.elect(1);
  const ProposeResult r = g.at(1).propose_membership(members({2}));
  REQUIRE(r.error == ProposeError::none);
  g.isolate(1);
  g.tick_all(3 * Config{}.election_ticks);
  REQUIRE(g.at(1).role() != Role::leader);  // check-quorum
  CHECK(g.at(2).role() != Role::leader);    // 1 refuses it its vote
  g.heal();
  const NodeId leader = tick_until_leader(g, 10 * Config{}.election_ticks);
  REQUIRE(leader != 0);
  // 1 leads {2} (it asks and counts only 2), commits the change, then hands over to 2.
  g.tick_all(3 * Config{}.election_ticks);
  CHECK(g.at(2).role() == Role::leader);
  CHECK(g.at(2).membership() == members({2}));
  CHECK(g.at(2).commit_index() >= r.index);
  CHECK(commits(g, 2, "alone", 2));
}

TEST_CASE("raft membership: one change at a time, one server per change") {
  Group g(3);
  g.elect(1);
  g.add_server();
  g.add_server();
  SUBCASE("a second change while the first is not committed: change_pending") {
    REQUIRE(g.at(1).propose_membership(members({1, 2, 3}, {4})).error == ProposeError::none);
    CHECK(g.at(1).propose_membership(members({1, 2, 3}, {4, 5})).error == ProposeError::change_pending);
    CHECK(g.at(1).propose_membership(members({1, 2})).error == ProposeError::change_pending);
    g.deliver_all();
    CHECK(g.at(1).propose_membership(members({1, 2, 3}, {4, 5})).error == ProposeError::none);
  }
  SUBCASE("two servers at once, nothing, no voter left, malformed lists: bad_change") {
    CHECK(g.at(1).propose_membership(members({1, 2, 3}, {4, 5})).error == ProposeError::bad_change);
    CHECK(g.at(1).propose_membership(members({1})).error == ProposeError::bad_change);
    CHECK(g.at(1).propose_membership(members({1, 2}, {4})).error == ProposeError::bad_change);
    CHECK(g.at(1).propose_membership(members({1, 2, 3})).error == ProposeError::bad_change);
    CHECK(g.at(1).propose_membership(members({3, 2, 1}, {4})).error == ProposeError::bad_change);
    CHECK(g.at(1).propose_membership(members({1, 2, 3}, {3})).error == ProposeError::bad_change);
    CHECK(g.at(1).propose_membership(members({1, 2, 3}, {0})).error == ProposeError::bad_change);
    CHECK(g.at(1).membership_index() == 0);
    // A context of its own is a change.
    Membership same = members({1, 2, 3});
    same.context = "addresses";
    CHECK(g.at(1).propose_membership(same).error == ProposeError::none);
    g.deliver_all();
    // Down to one voter and back.
    REQUIRE(g.at(1).propose_membership(members({1, 2})).error == ProposeError::none);
    g.deliver_all();
    REQUIRE(g.at(1).propose_membership(members({1})).error == ProposeError::none);
    g.deliver_all();
    CHECK(g.at(1).propose_membership(members({})).error == ProposeError::bad_change);
    CHECK(g.at(1).propose({"solo"}).error == ProposeError::none);
    g.flush();
    CHECK(g.at(1).commit_index() == g.at(1).last_index());
  }
  SUBCASE("followers refuse: not_leader") {
    CHECK(g.at(2).propose_membership(members({1, 2, 3}, {4})).error == ProposeError::not_leader);
    CHECK(g.at(4).propose_membership(members({1, 2, 3}, {4})).error == ProposeError::not_leader);
  }
}

TEST_CASE("raft membership: a new leader proposes no change before it committed in its term") {
  Group g(3);
  g.elect(1);
  g.add_server();
  REQUIRE(g.at(1).transfer_leadership(2));
  // 2 wins, but no acknowledgement of its no-op reaches it yet.
  g.deliver_all([](const Message& m) { return m.to == 2 && m.type == MessageType::append_response; });
  REQUIRE(g.at(2).role() == Role::leader);
  REQUIRE(g.at(2).commit_index() < g.at(2).last_index());
  CHECK(g.at(2).propose_membership(members({1, 2, 3}, {4})).error == ProposeError::change_pending);
  g.tick_all();  // heartbeats find the followers' match: the no-op commits
  REQUIRE(g.at(2).commit_index() == g.at(2).last_index());
  CHECK(g.at(2).propose_membership(members({1, 2, 3}, {4})).error == ProposeError::none);
}

TEST_CASE("raft membership: a truncated membership entry takes its membership with it") {
  Group g(3);
  g.elect(1);
  g.add_server();
  g.isolate(1);
  const ProposeResult r = g.at(1).propose_membership(members({1, 2, 3}, {4}));
  REQUIRE(r.error == ProposeError::none);
  CHECK(g.at(1).membership() == members({1, 2, 3}, {4}));
  // 2 or 3 takes over without the entry; 1 steps down (check-quorum) and rejoins.
  const NodeId leader = tick_until_leader(g, 10 * Config{}.election_ticks, 1);
  REQUIRE(leader != 0);
  REQUIRE(g.at(leader).propose({"next"}).error == ProposeError::none);
  g.heal();
  g.tick_all(3);
  CHECK(g.at(1).role() == Role::follower);
  CHECK(g.at(1).membership() == members({1, 2, 3}));
  CHECK(g.at(1).membership_index() == 0);  // the bootstrap one again
  CHECK(has_entry(g.applied(1), "next"));
}

TEST_CASE("raft membership: a snapshot that replaces the log drops the membership of the discarded suffix") {
  // Regression (simulator seed 200279): the follower's log conflicts at the snapshot's index and
  // holds an uncommitted membership entry after it.
  Config c;
  c.id = 2;
  c.servers = {1, 2, 3};
  Raft r(c, Restore{});
  Message append;
  append.type = MessageType::append;
  append.from = 1;
  append.to = 2;
  append.term = 1;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    Entry e;
    e.index = i;
    e.term = 1;
    if (i == 3) {
      e.type = EntryType::membership;
      e.data = encode_membership(members({1, 2, 3}, {4}));
    }
    append.entries.push_back(e);
  }
  r.step(append);
  REQUIRE(r.membership() == members({1, 2, 3}, {4}));
  REQUIRE(r.membership_index() == 3);

  Message snap;
  snap.type = MessageType::install_snapshot;
  snap.from = 3;
  snap.to = 2;
  snap.term = 2;
  snap.snapshot = Snapshot{2, 2, std::make_shared<const std::string>("state"), members({1, 2, 3})};
  r.step(snap);
  CHECK(r.last_index() == 2);
  CHECK(r.membership() == members({1, 2, 3}));
  CHECK(r.membership_index() == 2);
}

TEST_CASE("raft membership: a restart restores the membership from the snapshot and the log") {
  Group g(3);
  g.elect(1);
  g.add_server();
  REQUIRE(g.at(1).propose_membership(members({1, 2, 3}, {4})).error == ProposeError::none);
  g.tick_all(3);  // added, caught up, promoted
  REQUIRE(g.at(2).membership() == members({1, 2, 3, 4}));
  const std::uint64_t promoted_at = g.at(2).membership_index();
  for (NodeId s : {1, 2, 4}) g.compact(s);
  const ProposeResult r = g.at(1).propose_membership(members({1, 2, 4}));
  REQUIRE(r.error == ProposeError::none);
  g.deliver_all();
  REQUIRE(g.at(2).commit_index() >= r.index);

  // The snapshot holds {1,2,3,4}; the log after it removes 3.
  for (NodeId s : {2, 4}) {
    const Restore stored = g.stored(s);
    REQUIRE(stored.snapshot);
    CHECK(stored.snapshot->index >= promoted_at);
    CHECK(stored.snapshot->membership == members({1, 2, 3, 4}));
    g.restart(s, stored);
    CHECK(g.at(s).membership() == members({1, 2, 4}));
    CHECK(g.at(s).membership_index() == r.index);
  }
  // From the snapshot alone (compacted past the removal): its membership, at its index.
  g.tick_all(2);
  g.compact(4);
  g.restart(4, g.stored(4));
  CHECK(g.at(4).membership() == members({1, 2, 4}));
  CHECK(g.at(4).membership_index() == g.at(4).first_index() - 1);
  // And the group goes on: 4, which joined with no bootstrap membership, can lead it.
  g.isolate(1);
  const NodeId leader = tick_until_leader(g, 10 * Config{}.election_ticks, 1);
  CHECK((leader == 2 || leader == 4));
}
