// ReadIndex (thesis §6.4) and leader transfer (thesis §3.10), with hand-made messages.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "park/raft/raft.hpp"
#include "tests/support/raft_sim.hpp"

using namespace fourinone::raft;
using fourinone::raft::sim::Group;

namespace {

Config config(NodeId id, int servers) {
  Config c;
  c.id = id;
  for (int i = 1; i <= servers; ++i) c.servers.push_back(static_cast<NodeId>(i));
  return c;
}

Message msg(MessageType type, NodeId from, NodeId to, std::uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

struct Drained {
  std::vector<Message> messages;
  std::vector<ReadState> reads;
};

Drained drain(Raft& r) {
  Drained d;
  while (r.has_ready()) {
    Ready rd = r.ready();
    d.messages.insert(d.messages.end(), rd.messages.begin(), rd.messages.end());
    d.messages.insert(d.messages.end(), rd.messages_after_persist.begin(), rd.messages_after_persist.end());
    d.reads.insert(d.reads.end(), rd.read_states.begin(), rd.read_states.end());
    r.advance(rd);
  }
  return d;
}

void make_leader(Raft& r, NodeId voter) {
  for (int i = 0; i < 100 && r.role() == Role::follower; ++i) r.tick();
  REQUIRE(r.role() == Role::pre_candidate);
  r.step(msg(MessageType::pre_vote_response, voter, r.id(), r.term() + 1));
  drain(r);
  r.step(msg(MessageType::vote_response, voter, r.id(), r.term()));
  REQUIRE(r.role() == Role::leader);
}

Message heartbeat_answer(NodeId from, std::uint64_t term, std::uint64_t round) {
  Message m = msg(MessageType::heartbeat_response, from, 1, term);
  m.read_round = round;
  return m;
}

std::uint64_t round_of(const std::vector<Message>& messages) {
  std::uint64_t round = 0;
  for (const Message& m : messages) {
    if (m.type == MessageType::heartbeat) round = std::max(round, m.read_round);
  }
  return round;
}

}  // namespace

TEST_CASE("raft read_index: waits for a commit in the leader's term, then for a majority's heartbeat round") {
  Raft r(config(1, 3), Restore{});
  make_leader(r, 2);
  const std::uint64_t term = r.term();
  drain(r);  // the no-op is durable here, not yet on a majority
  REQUIRE(r.commit_index() == 0);

  CHECK(r.read_index(7));
  Drained d = drain(r);
  CHECK(d.reads.empty());
  CHECK(round_of(d.messages) == 0);  // nothing to confirm yet: the read waits for a commit

  Message ack = msg(MessageType::append_response, 2, 1, term);
  ack.match_index = 1;
  r.step(ack);
  REQUIRE(r.commit_index() == 1);
  d = drain(r);
  CHECK(d.reads.empty());
  const std::uint64_t round = round_of(d.messages);
  CHECK(round > 0);  // a heartbeat round started after the read was accepted

  r.step(heartbeat_answer(2, term, round - 1));  // an older round proves nothing
  CHECK(drain(r).reads.empty());
  r.step(heartbeat_answer(3, term, round));  // with ours: 2 of 3
  d = drain(r);
  REQUIRE(d.reads.size() == 1);
  CHECK(d.reads[0].context == 7);
  CHECK(d.reads[0].index == 1);

  // A second read needs a new round: answers to the old one do not confirm it.
  CHECK(r.read_index(8));
  d = drain(r);
  const std::uint64_t round2 = round_of(d.messages);
  CHECK(round2 > round);
  r.step(heartbeat_answer(3, term, round));
  CHECK(drain(r).reads.empty());
  r.step(heartbeat_answer(2, term, round2));
  d = drain(r);
  REQUIRE(d.reads.size() == 1);
  CHECK(d.reads[0].context == 8);

  // A read pending when leadership is lost is never answered.
  CHECK(r.read_index(9));
  drain(r);
  r.step(msg(MessageType::append, 3, 1, term + 1));
  r.step(heartbeat_answer(2, term + 1, 100));
  CHECK(drain(r).reads.empty());
  CHECK_FALSE(r.read_index(10));  // a follower refuses
}

TEST_CASE("raft read_index: a group of one answers at once") {
  Raft r(config(1, 1), Restore{});
  for (int i = 0; i < 100 && r.role() != Role::leader; ++i) {
    r.tick();
    drain(r);
  }
  REQUIRE(r.role() == Role::leader);
  drain(r);
  REQUIRE(r.commit_index() == 1);
  CHECK(r.read_index(5));
  Drained d = drain(r);
  REQUIRE(d.reads.size() == 1);
  CHECK(d.reads[0].context == 5);
  CHECK(d.reads[0].index == 1);
}

TEST_CASE("raft read_index: reads in a group are served only at or above the commit index") {
  Group g(3);
  g.elect(1);
  g.tick_all(2);
  REQUIRE(g.at(1).propose({"x"}).error == ProposeError::none);
  g.tick_all(2);
  const std::uint64_t commit = g.at(1).commit_index();
  CHECK(g.at(1).read_index(1));
  g.deliver_all();
  REQUIRE(g.read_states(1).size() == 1);
  CHECK(g.read_states(1)[0].index == commit);
  CHECK_FALSE(g.at(2).read_index(2));
}

TEST_CASE("raft transfer: the leader stops proposals, catches the target up, and sends timeout_now") {
  Group g(3);
  g.elect(1);
  g.isolate(3);
  for (int i = 0; i < 5; ++i) REQUIRE(g.at(1).propose({"v" + std::to_string(i)}).error == ProposeError::none);
  g.tick_all(2);
  REQUIRE(g.at(3).last_index() < g.at(1).last_index());
  const std::uint64_t term = g.at(1).term();
  g.heal();

  CHECK(g.at(1).transfer_leadership(3));
  CHECK(g.at(1).propose({"no"}).error == ProposeError::transferring);
  bool timeout_now_sent = false;
  bool caught_up_first = false;
  bool vote_had_transfer = false;
  for (int round = 0; round < 200; ++round) {
    g.flush();
    if (g.outbox().empty()) break;
    std::vector<Message> batch;
    batch.swap(g.outbox());
    for (const Message& m : batch) {
      if (m.type == MessageType::timeout_now) {
        timeout_now_sent = true;
        caught_up_first = g.at(3).last_index() == g.at(1).last_index();
      }
      if (m.type == MessageType::vote && m.from == 3) vote_had_transfer = m.transfer;
      g.at(m.to).step(m);
    }
  }
  CHECK(timeout_now_sent);
  CHECK(caught_up_first);
  CHECK(vote_had_transfer);  // server 2 is in server 1's lease: only the flag lets it vote
  CHECK(g.at(3).role() == Role::leader);
  CHECK(g.at(3).term() == term + 1);
  CHECK(g.at(1).role() == Role::follower);
  CHECK(g.at(1).leader() == 3);
  CHECK(g.at(3).propose({"yes"}).error == ProposeError::none);
}

TEST_CASE("raft transfer: a transfer that cannot finish is abandoned after an election timeout") {
  Group g(3);
  g.elect(1);
  g.tick_all(2);
  g.isolate(2);
  CHECK(g.at(1).transfer_leadership(2));
  CHECK(g.at(1).propose({"a"}).error == ProposeError::transferring);
  for (int i = 0; i < Config{}.election_ticks; ++i) {
    g.at(1).tick();
    g.at(3).tick();
    g.deliver_all();
  }
  CHECK(g.at(1).role() == Role::leader);
  CHECK(g.at(1).propose({"a"}).error == ProposeError::none);
  CHECK_FALSE(g.at(2).transfer_leadership(1));  // only a leader transfers
  CHECK(g.at(1).transfer_leadership(1));        // to itself: nothing to do
}

namespace {

Config lease_config(NodeId id, int servers) {
  Config c = config(id, servers);
  c.lease_reads = true;
  return c;
}

// A leader of a group of three with its no-op committed (by server 2's answer).
std::uint64_t lease_leader(Raft& r) {
  make_leader(r, 2);
  const std::uint64_t term = r.term();
  drain(r);
  Message ack = msg(MessageType::append_response, 2, 1, term);
  ack.match_index = r.last_index();
  r.step(ack);
  REQUIRE(r.commit_index() == r.last_index());
  drain(r);
  return term;
}

}  // namespace

TEST_CASE("raft lease reads: answered at once while a majority's answer to a recent round holds the lease") {
  const int election = Config{}.election_ticks;
  Raft r(lease_config(1, 3), Restore{});
  const std::uint64_t term = lease_leader(r);

  // No round answered yet in this term: the first read takes one.
  CHECK(r.read_index(1));
  Drained d = drain(r);
  CHECK(d.reads.empty());
  const std::uint64_t round = round_of(d.messages);
  REQUIRE(round > 0);
  r.step(heartbeat_answer(2, term, round));
  d = drain(r);
  REQUIRE(d.reads.size() == 1);

  // That answer is a lease: reads are answered at once, with no heartbeat of their own.
  CHECK(r.read_index(2));
  d = drain(r);
  REQUIRE(d.reads.size() == 1);
  CHECK(d.reads[0].context == 2);
  CHECK(d.reads[0].index == r.commit_index());
  CHECK(round_of(d.messages) == 0);

  // The lease runs election_ticks - 3 ticks from the round it came from; no more answers come.
  for (int i = 0; i < election - 3 - 1; ++i) {
    r.tick();
    drain(r);
  }
  CHECK(r.read_index(3));
  CHECK(drain(r).reads.size() == 1);
  r.tick();
  drain(r);
  CHECK(r.read_index(4));
  d = drain(r);
  CHECK(d.reads.empty());  // out of lease: back to a round of its own
  const std::uint64_t round4 = round_of(d.messages);
  CHECK(round4 > round);
  r.step(heartbeat_answer(3, term, round4));
  d = drain(r);
  REQUIRE(d.reads.size() == 1);
  CHECK(d.reads[0].context == 4);
}

TEST_CASE("raft lease reads: off by default, and given up for the term once timeout_now is sent") {
  SUBCASE("without lease_reads every read takes a round") {
    Raft r(config(1, 3), Restore{});
    const std::uint64_t term = lease_leader(r);
    CHECK(r.read_index(1));
    const std::uint64_t round = round_of(drain(r).messages);
    r.step(heartbeat_answer(2, term, round));
    REQUIRE(drain(r).reads.size() == 1);
    CHECK(r.read_index(2));
    CHECK(drain(r).reads.empty());
  }
  SUBCASE("a transfer forfeits the lease, even once abandoned") {
    Raft r(lease_config(1, 3), Restore{});
    const std::uint64_t term = lease_leader(r);
    CHECK(r.read_index(1));
    std::uint64_t round = round_of(drain(r).messages);
    r.step(heartbeat_answer(2, term, round));
    REQUIRE(drain(r).reads.size() == 1);

    CHECK(r.transfer_leadership(2));  // server 2 is caught up: timeout_now goes at once
    bool timeout_now_sent = false;
    for (const Message& m : drain(r).messages) timeout_now_sent |= m.type == MessageType::timeout_now;
    REQUIRE(timeout_now_sent);
    CHECK(r.transfer_leadership(1));  // abandoned: we keep leading
    REQUIRE(r.role() == Role::leader);

    CHECK(r.read_index(2));
    Drained d = drain(r);
    CHECK(d.reads.empty());  // server 2 may be campaigning past its lease: a round is needed
    round = round_of(d.messages);
    r.step(heartbeat_answer(3, term, round));
    REQUIRE(drain(r).reads.size() == 1);
    CHECK(r.read_index(3));
    CHECK(drain(r).reads.empty());  // and still no lease for the rest of this term
  }
}

TEST_CASE("raft lease reads: a (re)started server ignores votes for its first election timeout") {
  const int election = Config{}.election_ticks;
  Message vote = msg(MessageType::vote, 3, 2, 5);
  SUBCASE("with lease reads") {
    Raft f(lease_config(2, 3), Restore{});
    f.step(vote);
    CHECK(f.term() == 0);  // ignored: no term change, no answer
    CHECK(drain(f).messages.empty());
    for (int i = 0; i < election; ++i) {
      f.tick();
      drain(f);
    }
    f.step(vote);
    CHECK(f.term() == 5);
    Drained d = drain(f);
    REQUIRE(d.messages.size() == 1);
    CHECK(d.messages[0].type == MessageType::vote_response);
    CHECK_FALSE(d.messages[0].reject);
  }
  SUBCASE("without") {
    Raft f(config(2, 3), Restore{});
    f.step(vote);
    CHECK(f.term() == 5);
    Drained d = drain(f);
    REQUIRE(d.messages.size() == 1);
    CHECK_FALSE(d.messages[0].reject);
  }
}
