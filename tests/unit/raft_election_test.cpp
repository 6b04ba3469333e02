// Raft elections, rule by rule, with hand-made message sequences (STYLE §9: init, step,
// check). Sections cite the Raft paper (§5) and Ongaro's thesis.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <vector>

#include "park/raft/raft.hpp"
#include "tests/support/raft_sim.hpp"

using namespace fourinone::raft;
using fourinone::raft::sim::Group;

namespace {

Config config(NodeId id, int servers, Config base = Config{}) {
  base.id = id;
  base.servers.clear();
  for (int i = 1; i <= servers; ++i) base.servers.push_back(static_cast<NodeId>(i));
  return base;
}

struct Drained {
  std::vector<Message> messages;       // may leave at once
  std::vector<Message> after_persist;  // only after the Ready is durable
  std::vector<Entry> committed;
  std::vector<std::optional<HardState>> hard_states;
  bool must_sync = false;
};

// Every pending Ready, persisted and advanced at once.
Drained drain(Raft& r) {
  Drained d;
  while (r.has_ready()) {
    Ready rd = r.ready();
    d.messages.insert(d.messages.end(), rd.messages.begin(), rd.messages.end());
    d.after_persist.insert(d.after_persist.end(), rd.messages_after_persist.begin(), rd.messages_after_persist.end());
    d.committed.insert(d.committed.end(), rd.committed.begin(), rd.committed.end());
    d.hard_states.push_back(rd.hard_state);
    d.must_sync = d.must_sync || rd.must_sync;
    r.advance(rd);
  }
  return d;
}

Message msg(MessageType type, NodeId from, NodeId to, std::uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

Message vote_request(NodeId from, NodeId to, std::uint64_t term, std::uint64_t last_index, std::uint64_t last_term,
                     bool pre = false) {
  Message m = msg(pre ? MessageType::pre_vote : MessageType::vote, from, to, term);
  m.log_index = last_index;
  m.log_term = last_term;
  return m;
}

std::vector<Entry> entries(std::initializer_list<std::uint64_t> terms) {
  std::vector<Entry> out;
  std::uint64_t index = 0;
  for (std::uint64_t t : terms) {
    Entry e;
    e.index = ++index;
    e.term = t;
    e.data = "e" + std::to_string(index);
    out.push_back(e);
  }
  return out;
}

void tick_until_not_follower(Raft& r, int limit) {
  for (int i = 0; i < limit && r.role() == Role::follower; ++i) r.tick();
}

}  // namespace

TEST_CASE("raft election: a follower times out within election to 2x election ticks and pre-votes first") {
  // §5.2 randomized timeouts; thesis §9.6: a pre-candidate asks with term+1 but keeps its term.
  std::set<int> timeouts;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    Config c = config(1, 3);
    c.seed = seed;
    Raft r(c, Restore{});
    int ticks = 0;
    while (r.role() == Role::follower && ticks < 100) {
      r.tick();
      ++ticks;
    }
    CHECK(ticks >= c.election_ticks);
    CHECK(ticks < 2 * c.election_ticks);
    timeouts.insert(ticks);
    CHECK(r.role() == Role::pre_candidate);
    CHECK(r.term() == 0);
    const Drained d = drain(r);
    REQUIRE(d.messages.size() == 2);
    for (const Message& m : d.messages) {
      CHECK(m.type == MessageType::pre_vote);
      CHECK(m.term == 1);
    }
  }
  CHECK(timeouts.size() >= 4);  // actually randomized
}

TEST_CASE("raft election: pre-vote, then vote, and the candidate's own vote counts only once durable") {
  Raft r(config(1, 3), Restore{});
  tick_until_not_follower(r, 100);
  REQUIRE(r.role() == Role::pre_candidate);
  drain(r);
  Message grant = msg(MessageType::pre_vote_response, 2, 1, 1);
  r.step(grant);
  CHECK(r.role() == Role::candidate);
  CHECK(r.term() == 1);

  Ready rd = r.ready();
  REQUIRE(rd.hard_state);
  CHECK(rd.hard_state->term == 1);
  CHECK(rd.hard_state->vote == 1);
  CHECK(rd.must_sync);
  int votes = 0;
  for (const Message& m : rd.messages) {
    if (m.type == MessageType::vote && m.term == 1) ++votes;
  }
  CHECK(votes == 2);

  // Server 2 grants before our vote is on disk: one of three, not a majority yet.
  r.step(msg(MessageType::vote_response, 2, 1, 1));
  CHECK(r.role() == Role::candidate);
  r.advance(rd);  // term 1 / vote 1 durable: now our own vote counts
  CHECK(r.role() == Role::leader);
  CHECK(r.leader() == 1);
}

TEST_CASE("raft election: a lost election sends the candidate back to follower") {
  Raft r(config(1, 3), Restore{});
  tick_until_not_follower(r, 100);
  r.step(msg(MessageType::pre_vote_response, 2, 1, 1));
  drain(r);
  REQUIRE(r.role() == Role::candidate);
  Message no2 = msg(MessageType::vote_response, 2, 1, 1);
  no2.reject = true;
  Message no3 = msg(MessageType::vote_response, 3, 1, 1);
  no3.reject = true;
  r.step(no2);
  CHECK(r.role() == Role::candidate);
  r.step(no3);
  CHECK(r.role() == Role::follower);
  CHECK(r.term() == 1);
}

TEST_CASE("raft election: a group of one elects itself and commits only after its own persist") {
  Raft r(config(1, 1), Restore{});
  tick_until_not_follower(r, 100);
  CHECK(r.role() == Role::candidate);  // the pre-vote is won at once
  Ready rd = r.ready();
  REQUIRE(rd.hard_state);
  CHECK(rd.hard_state->vote == 1);
  r.advance(rd);
  REQUIRE(r.role() == Role::leader);

  Ready noop = r.ready();
  REQUIRE(noop.entries.size() == 1);
  CHECK(noop.entries[0].type == EntryType::noop);
  CHECK(noop.committed.empty());
  CHECK(r.commit_index() == 0);  // not durable yet
  r.advance(noop);
  CHECK(r.commit_index() == 1);
  Ready apply = r.ready();
  REQUIRE(apply.committed.size() == 1);
  r.advance(apply);

  ProposeResult p = r.propose({"x"});
  CHECK(p.error == ProposeError::none);
  CHECK(p.index == 2);
  Ready write = r.ready();
  CHECK(write.entries.size() == 1);
  CHECK(r.commit_index() == 1);
  r.advance(write);
  CHECK(r.commit_index() == 2);
  Ready last = r.ready();
  REQUIRE(last.committed.size() == 1);
  CHECK(last.committed[0].data == "x");
  r.advance(last);
  CHECK(r.applied_index() == 2);
}

TEST_CASE("raft election: a vote is denied to a candidate whose log is less up to date (§5.4.1)") {
  Restore restore;
  restore.hard_state = HardState{2, 0, 1};
  restore.entries = entries({1, 2});
  Raft r(config(2, 3), std::move(restore));

  // Longer log, but its last term (1) is older than ours (2).
  r.step(vote_request(1, 2, 3, 5, 1));
  Drained d = drain(r);
  REQUIRE(d.after_persist.size() == 1);
  CHECK(d.after_persist[0].type == MessageType::vote_response);
  CHECK(d.after_persist[0].reject);
  CHECK(d.messages.empty());  // an answer to a vote always waits for persistence
  CHECK(r.term() == 3);       // the higher term was still adopted

  // Same last term, shorter log: still not up to date.
  r.step(vote_request(1, 2, 3, 1, 2));
  d = drain(r);
  REQUIRE(d.after_persist.size() == 1);
  CHECK(d.after_persist[0].reject);

  // Same last term, same length: granted, durable first.
  r.step(vote_request(3, 2, 3, 2, 2));
  d = drain(r);
  REQUIRE(d.after_persist.size() == 1);
  CHECK_FALSE(d.after_persist[0].reject);
  CHECK(d.must_sync);
  bool vote_persisted = false;
  for (const auto& hs : d.hard_states) vote_persisted = vote_persisted || (hs && hs->vote == 3 && hs->term == 3);
  CHECK(vote_persisted);

  // One vote per term (§5.2): a better log in the same term is refused; the same candidate
  // asking again gets the same answer.
  r.step(vote_request(1, 2, 3, 9, 3));
  d = drain(r);
  REQUIRE(d.after_persist.size() == 1);
  CHECK(d.after_persist[0].reject);
  r.step(vote_request(3, 2, 3, 2, 2));
  d = drain(r);
  REQUIRE(d.after_persist.size() == 1);
  CHECK_FALSE(d.after_persist[0].reject);
}

TEST_CASE("raft election: a restarted server remembers its vote") {
  Restore restore;
  restore.hard_state = HardState{4, 3, 0};
  Raft r(config(2, 3), std::move(restore));
  r.step(vote_request(1, 2, 4, 0, 0));
  Drained d = drain(r);
  REQUIRE(d.after_persist.size() == 1);
  CHECK(d.after_persist[0].reject);
  r.step(vote_request(3, 2, 4, 0, 0));
  d = drain(r);
  REQUIRE(d.after_persist.size() == 1);
  CHECK_FALSE(d.after_persist[0].reject);
}

TEST_CASE("raft election: a pre-vote changes no term and no vote") {
  Raft r(config(2, 3), Restore{});
  r.step(vote_request(1, 2, 5, 0, 0, true));
  Drained d = drain(r);
  CHECK(r.term() == 0);
  REQUIRE(d.after_persist.size() == 1);
  CHECK(d.after_persist[0].type == MessageType::pre_vote_response);
  CHECK_FALSE(d.after_persist[0].reject);
  CHECK(d.after_persist[0].term == 5);  // a grant answers in the term asked about
  // It bound nothing: a real vote for someone else in that term is still possible.
  r.step(vote_request(3, 2, 5, 0, 0));
  d = drain(r);
  REQUIRE(d.after_persist.size() == 1);
  CHECK_FALSE(d.after_persist[0].reject);
  CHECK(r.term() == 5);
}

TEST_CASE("raft election: a partitioned server rejoining does not depose the leader (pre-vote)") {
  Group g(3);
  g.elect(1);
  REQUIRE(g.at(1).role() == Role::leader);
  const std::uint64_t term = g.at(1).term();

  g.isolate(3);
  g.tick_all(60);  // 3 times out again and again; its pre-votes reach nobody
  CHECK(g.at(3).term() == term);
  CHECK(g.at(1).role() == Role::leader);
  REQUIRE(g.at(1).propose({"a", "b"}).error == ProposeError::none);
  g.tick_all(3);
  CHECK(g.at(2).commit_index() == g.at(1).last_index());

  g.heal();
  g.tick_all(30);
  CHECK(g.at(1).role() == Role::leader);
  CHECK(g.at(1).term() == term);
  CHECK(g.at(3).term() == term);
  CHECK(g.at(3).leader() == 1);
  CHECK(g.at(3).commit_index() == g.at(1).commit_index());
}

TEST_CASE("raft election: followers inside the leader lease ignore vote requests, unless it is a transfer") {
  // Thesis §4.2.3. Without pre-vote, so the request really carries a higher term.
  Config base;
  base.pre_vote = false;
  Group g(3, base);
  g.elect(1);
  REQUIRE(g.at(1).role() == Role::leader);
  g.tick_all(1);
  const std::uint64_t term = g.at(1).term();
  const std::uint64_t last = g.at(1).last_index();
  const std::uint64_t last_term = g.at(1).term();

  g.at(2).step(vote_request(3, 2, term + 5, last, last_term));
  g.flush();
  CHECK(g.at(2).term() == term);  // not even the term moved
  CHECK(g.take(2, 3).empty());    // and no answer
  // The leader itself is inside its lease too.
  g.at(1).step(vote_request(3, 1, term + 5, last, last_term));
  CHECK(g.at(1).role() == Role::leader);
  CHECK(g.at(1).term() == term);

  Message transfer = vote_request(3, 2, term + 5, last, last_term);
  transfer.transfer = true;
  g.at(2).step(transfer);
  CHECK(g.at(2).term() == term + 5);
  const auto answers = g.take(2, 3, MessageType::vote_response);
  REQUIRE(answers.size() == 1);
  CHECK_FALSE(answers[0].reject);
}

TEST_CASE("raft election: check-quorum: a leader that hears from no majority steps down") {
  for (bool check_quorum : {true, false}) {
    CAPTURE(check_quorum);
    Config base;
    base.check_quorum = check_quorum;
    Group g(3, base);
    g.elect(1);
    REQUIRE(g.at(1).role() == Role::leader);
    g.isolate(1);
    // Answers from before the cut count for the first check round; none after it.
    for (int i = 0; i < 2 * base.election_ticks - 1; ++i) g.tick(1);
    CHECK(g.at(1).role() == Role::leader);
    g.tick(1);
    if (check_quorum) {
      CHECK(g.at(1).role() == Role::follower);
      CHECK(g.at(1).leader() == 0);
      CHECK(g.at(1).propose({"x"}).error == ProposeError::not_leader);
    } else {
      g.tick(1, 10 * base.election_ticks);
      CHECK(g.at(1).role() == Role::leader);
    }
  }
}

TEST_CASE("raft election: a stale-term message is answered with the current term") {
  Restore restore;
  restore.hard_state = HardState{5, 0, 0};
  Raft r(config(2, 3), std::move(restore));

  Message old_append = msg(MessageType::append, 1, 2, 3);
  r.step(old_append);
  Drained d = drain(r);
  REQUIRE(d.messages.size() == 1);
  CHECK(d.messages[0].type == MessageType::append_response);
  CHECK(d.messages[0].term == 5);
  CHECK(r.term() == 5);
  CHECK(r.leader() == 0);

  r.step(vote_request(1, 2, 4, 10, 4));
  d = drain(r);
  REQUIRE(d.messages.size() == 1);
  CHECK(d.messages[0].type == MessageType::vote_response);
  CHECK(d.messages[0].reject);
  CHECK(d.messages[0].term == 5);

  // A stale response is simply dropped.
  r.step(msg(MessageType::append_response, 1, 2, 4));
  CHECK_FALSE(r.has_ready());

  // The old leader hears the higher term and steps down.
  Group g(3);
  g.elect(1);
  const std::uint64_t term = g.at(1).term();
  Message higher = msg(MessageType::append_response, 2, 1, term + 1);
  higher.reject = true;
  g.at(1).step(higher);
  CHECK(g.at(1).role() == Role::follower);
  CHECK(g.at(1).term() == term + 1);
}

TEST_CASE("raft election: a candidate that hears from a leader of its term follows it") {
  Raft r(config(1, 3), Restore{});
  tick_until_not_follower(r, 100);
  r.step(msg(MessageType::pre_vote_response, 2, 1, 1));
  drain(r);
  REQUIRE(r.role() == Role::candidate);
  Message hb = msg(MessageType::heartbeat, 3, 1, 1);
  r.step(hb);
  CHECK(r.role() == Role::follower);
  CHECK(r.leader() == 3);
  CHECK(r.term() == 1);
}
