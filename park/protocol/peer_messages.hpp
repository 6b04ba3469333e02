// The bodies servers of a park group send each other: batches of Raft messages.
//
// A server sends every message for one peer that one Ready produced as one PeerRequest, in a
// request frame on its own connection to that peer; the peer steps them in order and answers
// with an empty Response (the Raft replies travel back on the peer's own connection). The
// cereal forms of the Raft core's types live here, so that park/raft stays free of cereal.
#pragma once

#include <cereal/types/memory.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <memory>
#include <string>
#include <vector>

#include "park/raft/raft.hpp"

namespace fourinone::raft {

template <class A>
void serialize(A& ar, Entry& e) {
  ar(e.index, e.term, e.type, e.data);
}

template <class A>
void serialize(A& ar, Membership& m) {
  ar(m.voters, m.learners, m.context);
}

template <class A>
void save(A& ar, const Snapshot& s) {
  static const std::string kEmpty;
  ar(s.index, s.term, s.data ? *s.data : kEmpty, s.membership);
}

template <class A>
void load(A& ar, Snapshot& s) {
  std::string data;
  ar(s.index, s.term, data, s.membership);
  s.data = std::make_shared<const std::string>(std::move(data));
}

template <class A>
void serialize(A& ar, Message& m) {
  ar(m.type, m.from, m.to, m.term, m.log_index, m.log_term, m.entries, m.commit, m.reject, m.reject_hint,
     m.match_index, m.read_round, m.transfer, m.snapshot);
}

}  // namespace fourinone::raft

namespace fourinone::park::proto {

struct PeerRequest {
  std::uint64_t from = 0;  // the sender's server id (its 1-based place in PARK/SERVERS)
  std::vector<raft::Message> messages;
  template <class A>
  void serialize(A& ar) { ar(from, messages); }
};

// A PeerRequest too large for one frame (a snapshot for a lagging follower) travels encoded
// and cut into chunks, in order on one connection; the receiver steps it once complete.
struct PeerChunk {
  std::uint64_t from = 0;
  std::uint64_t transfer = 0;  // new per large request; a new one drops an unfinished one
  std::uint32_t index = 0;     // 0 .. count-1
  std::uint32_t count = 0;
  std::uint64_t total_bytes = 0;
  std::string bytes;
  template <class A>
  void serialize(A& ar) { ar(from, transfer, index, count, total_bytes, bytes); }
};

}  // namespace fourinone::park::proto
