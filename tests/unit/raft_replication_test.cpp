// Raft log replication, commitment, snapshots and restart, rule by rule (§5.3, §5.4.2, §7;
// thesis §3.6.2 Figure 3.7, §3.8, §10.2).
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string>
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
  std::vector<Message> messages;
  std::vector<Message> after_persist;
  std::vector<Entry> entries;
  std::vector<Entry> committed;
  std::optional<Snapshot> snapshot;
};

Drained drain(Raft& r) {
  Drained d;
  while (r.has_ready()) {
    Ready rd = r.ready();
    d.messages.insert(d.messages.end(), rd.messages.begin(), rd.messages.end());
    d.after_persist.insert(d.after_persist.end(), rd.messages_after_persist.begin(), rd.messages_after_persist.end());
    d.entries.insert(d.entries.end(), rd.entries.begin(), rd.entries.end());
    d.committed.insert(d.committed.end(), rd.committed.begin(), rd.committed.end());
    if (rd.snapshot) d.snapshot = rd.snapshot;
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

Entry entry(std::uint64_t index, std::uint64_t term, std::string data = "") {
  Entry e;
  e.index = index;
  e.term = term;
  e.data = data.empty() ? "e" + std::to_string(index) + "t" + std::to_string(term) : std::move(data);
  return e;
}

std::vector<Entry> log_of(std::initializer_list<std::uint64_t> terms) {
  std::vector<Entry> out;
  std::uint64_t i = 0;
  for (std::uint64_t t : terms) out.push_back(entry(++i, t));
  return out;
}

Message append(NodeId from, NodeId to, std::uint64_t term, std::uint64_t prev_index, std::uint64_t prev_term,
               std::vector<Entry> ents, std::uint64_t commit) {
  Message m = msg(MessageType::append, from, to, term);
  m.log_index = prev_index;
  m.log_term = prev_term;
  m.entries = std::move(ents);
  m.commit = commit;
  return m;
}

Message ack(NodeId from, NodeId to, std::uint64_t term, std::uint64_t match) {
  Message m = msg(MessageType::append_response, from, to, term);
  m.match_index = match;
  return m;
}

// Makes `r` leader of the next term with `voter`'s pre-vote and vote (scripted messages).
void make_leader(Raft& r, NodeId voter) {
  for (int i = 0; i < 100 && r.role() == Role::follower; ++i) r.tick();
  REQUIRE(r.role() == Role::pre_candidate);
  r.step(msg(MessageType::pre_vote_response, voter, r.id(), r.term() + 1));
  drain(r);
  REQUIRE(r.role() == Role::candidate);
  r.step(msg(MessageType::vote_response, voter, r.id(), r.term()));
  REQUIRE(r.role() == Role::leader);
}

}  // namespace

TEST_CASE("raft replication: an old-term entry is not committed by counting replicas (thesis Figure 3.7)") {
  // S1 holds index 2 from term 2 and leads term 4. Even once a majority (S1, S2) holds index 2,
  // it must not be committed by count: a server holding a term-3 entry there could still be
  // elected and overwrite it (Figure 3.7 (c)/(d)). Only our term-4 no-op commits it, indirectly.
  Restore restore;
  restore.hard_state = HardState{3, 0, 1};
  restore.entries = log_of({1, 2});
  Raft r(config(1, 3), std::move(restore));
  make_leader(r, 2);
  REQUIRE(r.term() == 4);
  Drained d = drain(r);  // the no-op (index 3, term 4) is durable on S1 now
  REQUIRE(d.entries.size() == 1);
  CHECK(d.entries[0].index == 3);
  CHECK(d.entries[0].type == EntryType::noop);
  CHECK(r.match_index(1) == 3);

  r.step(ack(2, 1, 4, 2));
  drain(r);
  CHECK(r.match_index(2) == 2);
  CHECK(r.commit_index() == 1);  // index 2 is on a majority, but from term 2

  r.step(ack(2, 1, 4, 3));
  d = drain(r);
  CHECK(r.commit_index() == 3);
  REQUIRE(d.committed.size() == 2);  // index 2 committed indirectly, with the no-op
  CHECK(d.committed[0].index == 2);
  CHECK(d.committed[1].index == 3);
}

TEST_CASE("raft replication: the leader counts its own entries only after advance()") {
  Group g(3);
  g.elect(1);
  g.tick_all(2);
  Raft& leader = g.at(1);
  const std::uint64_t before = leader.commit_index();
  ProposeResult p = leader.propose({"x"});
  REQUIRE(p.error == ProposeError::none);
  Ready rd = leader.ready();  // not persisted yet
  REQUIRE(rd.entries.size() == 1);
  for (const Message& m : rd.messages) {
    if (m.to == 2) g.at(2).step(m);  // only server 2 gets it: with ours, that would be 2 of 3
  }
  for (const Message& m : g.take(2, 1)) leader.step(m);
  CHECK(leader.match_index(2) == p.index);
  CHECK(leader.commit_index() == before);  // 2 has it, we do not yet: 1 of 3
  leader.advance(rd);
  CHECK(leader.commit_index() == p.index);
}

TEST_CASE("raft replication: acknowledgements wait for persistence, heartbeat answers do not") {
  Raft f(config(2, 3), Restore{});
  f.step(append(1, 2, 1, 0, 0, {entry(1, 1)}, 0));
  Ready rd = f.ready();
  CHECK(rd.messages.empty());
  REQUIRE(rd.messages_after_persist.size() == 1);
  CHECK(rd.messages_after_persist[0].type == MessageType::append_response);
  CHECK(rd.messages_after_persist[0].match_index == 1);
  CHECK(rd.entries.size() == 1);
  CHECK(rd.must_sync);
  f.advance(rd);

  f.step(msg(MessageType::heartbeat, 1, 2, 1));
  rd = f.ready();
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].type == MessageType::heartbeat_response);
  CHECK(rd.messages_after_persist.empty());
  f.advance(rd);
}

TEST_CASE("raft replication: a conflicting suffix is truncated, while matching entries and unproven ones are not committed") {
  Restore restore;
  restore.hard_state = HardState{2, 0, 1};
  restore.entries = log_of({1, 1, 2, 2});
  Raft f(config(2, 3), std::move(restore));

  // The leader of term 3 proves only up to index 2: entries 3 and 4 (term 2) may not be in its
  // log, so its commit index 4 may not be applied to them (§5.3 receiver rule 5).
  f.step(append(1, 2, 3, 1, 1, {entry(2, 1)}, 4));
  Drained d = drain(f);
  CHECK(f.last_index() == 4);  // nothing truncated: index 2 matched
  CHECK(d.entries.empty());
  CHECK(f.commit_index() == 2);
  REQUIRE(d.after_persist.size() == 1);
  CHECK(d.after_persist[0].match_index == 2);

  // Index 3 conflicts (term 3 vs 2): our entries from 3 on go, the leader's replace them.
  f.step(append(1, 2, 3, 2, 1, {entry(3, 3)}, 3));
  d = drain(f);
  CHECK(f.last_index() == 3);
  REQUIRE(d.entries.size() == 1);
  CHECK(d.entries[0].index == 3);  // Ready::entries replaces the stored suffix from index 3
  CHECK(d.entries[0].term == 3);
  CHECK(f.commit_index() == 3);

  // A delayed duplicate of an older append truncates nothing.
  f.step(append(1, 2, 3, 2, 1, {}, 1));
  d = drain(f);
  CHECK(f.last_index() == 3);
  CHECK(d.entries.empty());
}

TEST_CASE("raft replication: a reject carries a hint that skips a whole term per round trip") {
  // Leader (term 5 after election): [1 1 1 4 4 4 4] + no-op 8/5.
  // Follower:                        [1 1 1 2 2 3 3 3 3] (entries of terms never committed).
  Restore lr;
  lr.hard_state = HardState{4, 0, 3};
  lr.entries = log_of({1, 1, 1, 4, 4, 4, 4});
  Raft leader(config(1, 3), std::move(lr));
  make_leader(leader, 3);
  drain(leader);
  REQUIRE(leader.last_index() == 8);

  Restore fr;
  fr.hard_state = HardState{3, 0, 3};
  fr.entries = log_of({1, 1, 1, 2, 2, 3, 3, 3, 3});
  Raft follower(config(2, 3), std::move(fr));

  // Shuttle messages between the two until quiet; count rejects.
  leader.step(msg(MessageType::heartbeat_response, 2, 1, leader.term()));  // prompt an append
  int rejects = 0;
  std::vector<std::uint64_t> hints;
  for (int round = 0; round < 20; ++round) {
    Drained to_f = drain(leader);
    bool any = false;
    for (const Message& m : to_f.messages) {
      if (m.to != 2) continue;
      any = true;
      follower.step(m);
    }
    Drained to_l = drain(follower);
    for (const Message& m : to_l.after_persist) {
      if (m.reject) {
        ++rejects;
        hints.push_back(m.reject_hint);
      }
      leader.step(m);
    }
    if (!any) break;
  }
  CHECK(rejects == 1);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0] == 7);  // largest index <= 7 with term <= 4 on the follower
  CHECK(follower.last_index() == 8);
  CHECK(leader.match_index(2) == 8);
  CHECK(leader.commit_index() == 8);
}

TEST_CASE("raft replication: appends are batched by count and bytes and pipelined up to max_inflight") {
  Config base;
  base.max_entries_per_message = 2;
  base.max_inflight = 3;
  Group g(3, base);
  g.elect(1);
  g.tick_all(2);  // followers in replicate state
  REQUIRE(g.at(1).propose({"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}).error == ProposeError::none);
  auto to2 = g.take(1, 2, MessageType::append);
  REQUIRE(to2.size() == 3);  // the window, not the whole backlog
  for (const Message& m : to2) CHECK(m.entries.size() == 2);
  CHECK(to2[1].log_index == to2[0].log_index + 2);  // optimistic: sent back to back
  g.take(1, 3);
  // Answers open the window again.
  for (const Message& m : to2) g.at(2).step(m);
  for (const Message& m : g.take(2, 1)) g.at(1).step(m);
  std::size_t with_entries = 0;
  std::size_t carried = 0;
  for (const Message& m : g.take(1, 2, MessageType::append)) {
    if (m.entries.empty()) continue;  // commit updates
    ++with_entries;
    carried += m.entries.size();
    CHECK(m.entries.size() == 2);
  }
  CHECK(with_entries == 2);  // the 4 entries left
  CHECK(carried == 4);

  // Bytes: a 10-byte budget carries one 8-byte entry per message, and a 100-byte entry alone.
  Config bytes;
  bytes.max_bytes_per_message = 10;
  bytes.max_inflight = 8;
  Group h(3, bytes);
  h.elect(1);
  h.tick_all(2);
  REQUIRE(h.at(1).propose({"12345678", "12345678", std::string(100, 'x')}).error == ProposeError::none);
  auto sent = h.take(1, 2, MessageType::append);
  REQUIRE(sent.size() == 3);
  for (const Message& m : sent) CHECK(m.entries.size() == 1);
}

TEST_CASE("raft replication: proposals are refused by followers and beyond the uncommitted budget") {
  Config base;
  base.max_uncommitted_bytes = 10;
  Group g(3, base);
  g.elect(1);
  g.tick_all(2);
  ProposeResult r = g.at(2).propose({"x"});
  CHECK(r.error == ProposeError::not_leader);
  CHECK(r.leader_hint == 1);
  g.isolate(1);  // nothing commits now
  CHECK(g.at(1).propose({std::string(30, 'a')}).error == ProposeError::none);  // alone, it fits
  CHECK(g.at(1).propose({"b"}).error == ProposeError::too_large);
  g.heal();
  g.tick_all(3);
  CHECK(g.at(1).propose({"b"}).error == ProposeError::none);
}

TEST_CASE("raft snapshot: a follower whose entries were compacted away installs the snapshot") {
  Group g(3);
  g.elect(1);
  g.isolate(3);
  for (int i = 0; i < 10; ++i) REQUIRE(g.at(1).propose({"v" + std::to_string(i)}).error == ProposeError::none);
  g.tick_all(3);
  const std::uint64_t applied = g.at(1).applied_index();
  REQUIRE(applied >= 10);
  auto data = std::make_shared<const std::string>("state@" + std::to_string(applied));
  g.at(1).compact(applied, data);
  CHECK(g.at(1).first_index() == applied + 1);
  g.at(1).compact(applied - 3, data);  // older than what we have: ignored
  CHECK(g.at(1).first_index() == applied + 1);
  REQUIRE(g.at(1).propose({"after"}).error == ProposeError::none);
  g.tick_all(1);
  g.take(0, 3);

  g.heal();
  // Let the leader find out server 3 needs the snapshot.
  std::optional<Message> install;
  for (int i = 0; i < 40 && !install; ++i) {
    g.at(1).tick();
    for (int round = 0; round < 20 && !install; ++round) {
      g.flush();
      std::vector<Message> batch;
      batch.swap(g.outbox());
      for (Message& m : batch) {
        if (m.type == MessageType::install_snapshot && m.to == 3) {
          install = m;
        } else if (!install) {
          g.at(m.to).step(m);
        }
      }
    }
  }
  REQUIRE(install);
  REQUIRE(install->snapshot);
  CHECK(install->snapshot->index == applied);
  CHECK(*install->snapshot->data == *data);

  Raft& f = g.at(3);
  g.flush();
  const std::size_t applied_before = g.applied(3).size();
  f.step(*install);
  Ready rd = f.ready();
  REQUIRE(rd.snapshot);
  CHECK(rd.snapshot->index == applied);
  CHECK(rd.entries.empty());
  CHECK(rd.committed.empty());  // the snapshot is applied instead
  REQUIRE(rd.messages_after_persist.size() == 1);
  CHECK(rd.messages_after_persist[0].match_index == applied);
  REQUIRE(rd.hard_state);
  CHECK(rd.hard_state->commit == applied);
  f.advance(rd);
  CHECK(f.first_index() == applied + 1);
  CHECK(f.applied_index() == applied);
  g.at(1).step(rd.messages_after_persist[0]);
  g.tick_all(3);
  CHECK(f.last_index() == g.at(1).last_index());
  CHECK(f.commit_index() == g.at(1).commit_index());
  REQUIRE(g.applied(3).size() > applied_before);
  CHECK(g.applied(3)[applied_before].index == applied + 1);  // only what came after the snapshot
  CHECK(g.applied(3).back().data == "after");
}

TEST_CASE("raft restart: committed entries above applied come again, none at or below") {
  auto data = std::make_shared<const std::string>("snap");
  Restore restore;
  restore.hard_state = HardState{3, 1, 9};
  restore.snapshot = Snapshot{5, 2, data};
  restore.entries = {entry(6, 2), entry(7, 2), entry(8, 3), entry(9, 3), entry(10, 3)};
  restore.applied = 7;
  Raft r(config(2, 3), restore);
  CHECK(r.term() == 3);
  CHECK(r.first_index() == 6);
  CHECK(r.last_index() == 10);
  CHECK(r.commit_index() == 9);
  CHECK(r.applied_index() == 7);
  Ready rd = r.ready();
  CHECK_FALSE(rd.hard_state);  // nothing changed
  CHECK(rd.entries.empty());   // all of it is already durable
  REQUIRE(rd.committed.size() == 2);
  CHECK(rd.committed[0].index == 8);
  CHECK(rd.committed[1].index == 9);
  r.advance(rd);
  CHECK(r.applied_index() == 9);
  CHECK_FALSE(r.has_ready());

  // A state machine that only has the snapshot: everything after it comes again.
  Restore from_snapshot = restore;
  from_snapshot.applied = 0;
  Raft s(config(2, 3), from_snapshot);
  rd = s.ready();
  REQUIRE(rd.committed.size() == 4);
  CHECK(rd.committed[0].index == 6);
  s.advance(rd);

  // And it remembers its vote for 1 in term 3.
  Message vote = msg(MessageType::vote, 3, 2, 3);
  vote.log_index = 20;
  vote.log_term = 3;
  r.step(vote);
  rd = r.ready();
  REQUIRE(rd.messages_after_persist.size() == 1);
  CHECK(rd.messages_after_persist[0].reject);
  r.advance(rd);
}

TEST_CASE("raft restart: a restarted follower catches up and the group keeps committing") {
  Group g(3);
  g.elect(1);
  for (int i = 0; i < 5; ++i) REQUIRE(g.at(1).propose({"a" + std::to_string(i)}).error == ProposeError::none);
  g.tick_all(3);
  const auto before = g.applied(2);
  REQUIRE(before.size() >= 6);
  // Server 2 comes back with its durable log but a state machine that applied only 2 entries.
  Restore r;
  r.hard_state = HardState{g.at(2).term(), 1, g.at(2).commit_index()};
  r.entries = before;
  r.applied = 2;
  g.restart(2, r);
  g.tick_all(3);
  REQUIRE(g.applied(2).size() == before.size() - 2);
  CHECK(g.applied(2).front().index == 3);
  REQUIRE(g.at(1).propose({"later"}).error == ProposeError::none);
  g.tick_all(3);
  CHECK(g.applied(2).back().data == "later");
}
