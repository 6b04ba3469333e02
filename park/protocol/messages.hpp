// The park's request, response and push bodies (inside core frames; see WIRE.md beside this).
//
// A request body is a Request: a variant whose index picks the operation, so an unknown
// operation is a decode error (bad_request), never a misread. Every request is answered by
// one Response whose `status` says whether it worked; which other fields are filled depends
// on the request, as noted. Watch events arrive as WatchPush in push frames.
#pragma once

#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "park/protocol/peer_messages.hpp"
#include "fourinone/mq.hpp"
#include "park/store/serialize.hpp"

namespace fourinone::park::proto {

// txn / open_session / close_session. (client_id comes from the connection's hello.)
struct WriteRequest {
  CommandKind kind = CommandKind::txn;
  std::uint64_t seq = 0;
  std::uint64_t acked_below = 0;
  std::vector<Op> ops;
  std::uint64_t session = 0;           // heartbeat creates; close_session target
  std::int64_t session_timeout_ms = 0;  // open_session
  template <class A>
  void serialize(A& ar) { ar(kind, seq, acked_below, ops, session, session_timeout_ms); }
};

// Reads carry `stale`: answer from this server's store as it is, leader or not, without
// confirming leadership (fast; may lag behind writes acknowledged elsewhere).
struct GetRequest {
  std::string domain;
  std::string node;
  bool stale = false;
  template <class A>
  void serialize(A& ar) { ar(domain, node, stale); }
};

struct ListRequest {
  std::string domain;
  bool stale = false;
  template <class A>
  void serialize(A& ar) { ar(domain, stale); }
};

// Node form (node non-empty): answer if version != old_version. Domain form (node empty):
// answer if the domain changed after `since` (a revision).
struct LatestRequest {
  std::string domain;
  std::string node;
  std::uint64_t since = 0;
  std::int64_t wait_ms = 0;
  bool stale = false;
  template <class A>
  void serialize(A& ar) { ar(domain, node, since, wait_ms, stale); }
};

struct WatchRequest {
  std::uint64_t watch_id = 0;  // chosen by the client; names the push stream
  std::string domain;
  std::optional<std::string> node;
  std::uint64_t from_revision = 0;  // 0: from now on
  template <class A>
  void serialize(A& ar) { ar(watch_id, domain, node, from_revision); }
};

struct UnwatchRequest {
  std::uint64_t watch_id = 0;
  template <class A>
  void serialize(A& ar) { ar(watch_id); }
};

struct HeartbeatRequest {
  std::uint64_t session = 0;
  template <class A>
  void serialize(A& ar) { ar(session); }
};

struct StatusRequest {
  template <class A>
  void serialize(A& /*ar*/) {}
};

// A queue or topic command (exactly once, like WriteRequest). A receive with wait_ms > 0
// that finds nothing waits on the leader, without polling, until messages arrive for it or
// the wait ends (then it is answered OK with no messages).
struct MqRequest {
  std::uint64_t seq = 0;
  std::uint64_t acked_below = 0;
  MqCommand command;
  ChannelOptions options;  // create (and channels made by this command): the rules asked for
  std::int64_t wait_ms = 0;
  template <class A>
  void serialize(A& ar) {
    std::int64_t max_age = options.max_age.count(), lease = options.lease.count();
    ar(seq, acked_below, command, options.max_count, max_age, options.max_deliveries, lease, wait_ms);
    options.max_age = std::chrono::milliseconds(max_age);
    options.lease = std::chrono::milliseconds(lease);
  }
};

// Reads of the queues: one channel's figures (channel set) or every channel's name.
struct MqReadRequest {
  std::string channel;  // empty: list the channels
  bool stale = false;
  template <class A>
  void serialize(A& ar) { ar(channel, stale); }
};

struct MqReply {
  MqResult result;                     // MqRequest
  std::vector<std::string> channels;   // MqReadRequest without a channel
  std::optional<ChannelStats> stats;   // MqReadRequest with one
  template <class A>
  void serialize(A& ar) { ar(result, channels, stats); }
};

// The group's members (fourinone ctl member): add or remove one (admins only when users are
// configured, PARK/ADMINS; answered once the change is committed), or list them as the leader
// sees them (the answer's `info`; a follower, or a removed server, may not know the latest).
enum class MemberOp : std::uint8_t { add = 1, remove, list };
struct MemberRequest {
  MemberOp op = MemberOp::list;
  std::string address;  // HOST:PORT of the member (add, remove)
  template <class A>
  void serialize(A& ar) {
    std::uint8_t o = static_cast<std::uint8_t>(op);
    ar(o, address);
    op = static_cast<MemberOp>(o);
  }
};

using Request = std::variant<WriteRequest, GetRequest, ListRequest, LatestRequest, WatchRequest, UnwatchRequest,
                             HeartbeatRequest, StatusRequest, PeerRequest, PeerChunk, MqRequest, MqReadRequest,
                             MemberRequest>;

struct Response {
  Status status;
  std::uint64_t revision = 0;         // store revision when answered
  std::vector<OpResult> results;      // write: one per op
  std::size_t failed_op = static_cast<std::size_t>(-1);  // write: the op that failed
  std::vector<Node> nodes;            // get: 1; list: all; latest: the newer node(s)
  bool changed = false;               // latest: whether `nodes` is an answer
  std::uint64_t session = 0;          // open_session: the new id
  std::optional<ParkStatus> info;     // status
  std::string leader;                 // not_leader: where to go (HOST:PORT), when known
  std::optional<MqReply> mq;          // MqRequest / MqReadRequest
  template <class A>
  void serialize(A& ar) {
    std::uint64_t failed = failed_op;
    ar(status, revision, results, failed, nodes, changed, session, info, leader, mq);
    failed_op = static_cast<std::size_t>(failed);
  }
};

struct WatchPush {
  std::uint64_t watch_id = 0;
  bool resync = false;               // history before the asked revision is gone: re-read
  std::uint64_t revision = 0;        // resync: the revision to re-read at
  std::vector<WatchEvent> events;    // ascending revisions; whole revisions only
  template <class A>
  void serialize(A& ar) { ar(watch_id, resync, revision, events); }
};

}  // namespace fourinone::park::proto

namespace fourinone {

template <class A>
void serialize(A& ar, MemberStatus& m) {
  ar(m.address, m.role, m.healthy, m.match_index, m.id, m.voter);
}

template <class A>
void serialize(A& ar, SubscriberStats& s) {
  ar(s.name, s.lag, s.in_flight, s.acked, s.dead_letters, s.skipped);
}

template <class A>
void serialize(A& ar, ChannelStats& s) {
  std::int64_t max_age = s.options.max_age.count(), lease = s.options.lease.count();
  ar(s.name, s.topic, s.depth, s.in_flight, s.oldest_age_ms, s.dead_letters, s.sent, s.acked, s.bytes,
     s.options.max_count, max_age, s.options.max_deliveries, lease, s.subscribers);
  s.options.max_age = std::chrono::milliseconds(max_age);
  s.options.lease = std::chrono::milliseconds(lease);
}

template <class A>
void serialize(A& ar, ParkStatus& s) {
  ar(s.server, s.role, s.leader, s.term, s.revision, s.commit_index, s.sessions, s.domains, s.nodes, s.bytes,
     s.members);
}

}  // namespace fourinone
