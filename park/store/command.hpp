// The replicated commands of the park and what applying one yields.
//
// Every write reaches the store as a Command inside a log entry (DESIGN §4.4), so all
// replicas apply the same commands in the same order and agree. A Command carries everything
// apply() needs, including the leader's clock (`now_ms`): apply never reads a clock.
// The byte form of a Command is its cereal portable-binary encoding (see serialize.hpp).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "fourinone/error.hpp"
#include "fourinone/park.hpp"
#include "park/queue/queue_types.hpp"

namespace fourinone::park {

enum class OpKind : std::uint8_t {
  check = 1,          // node must have `version` (0: must not exist)
  create,             // named node; fails with exists
  create_sequential,  // name chosen by the store: 20-digit zero-padded create revision
  update,             // fails with not_found / bad_version / no_permission
  remove,             // fails with not_found / bad_version / no_permission
  remove_domain,      // every node of the domain
  set_deletable,      // domain creator only
};

struct Op {
  OpKind kind = OpKind::check;
  std::string domain;
  std::string node;
  std::string value;
  std::int64_t version = kAnyVersion;  // expected version (check/update/remove)
  Policy policy = Policy::all;         // create
  bool heartbeat = false;              // create: owned by Command::session
  std::int64_t ttl_ms = 0;             // create: > 0 sets expires_ms = now_ms + ttl_ms
};

// A node the leader decided to delete (TTL or clear task). The create revision guards
// against deleting a node that was deleted and created again meanwhile.
struct NodeRef {
  std::string domain;
  std::string node;
  std::uint64_t create_revision = 0;
};

enum class CommandKind : std::uint8_t {
  txn = 1,         // ops, all or nothing (a single write is a txn of one op)
  open_session,    // new session with session_timeout_ms; the id is chosen by the store
  close_session,   // by its owner: session
  expire_session,  // by the leader: session
  expire_nodes,    // by the leader: targets (TTL deadlines and the clear task)
  noop,            // a new leader's first entry
  mq,              // a queue or topic command: Command::mq (park/queue/queue_types.hpp)
};

struct Command {
  CommandKind kind = CommandKind::txn;
  std::string caller;  // identity for permissions: user name, or "client-<id>" without logins
  std::string host;    // the client's address as the server saw it
  // Exactly-once (Raft thesis §6.3): a (client_id, seq) pair is applied once; a retry gets the
  // first result back. acked_below: the client has every answer for seq < acked_below, so the
  // store may forget them. client_id 0 = no deduplication (server-made commands).
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  std::uint64_t acked_below = 0;
  std::int64_t now_ms = 0;  // the leader's wall clock when it proposed the command
  std::vector<Op> ops;                     // txn
  std::uint64_t session = 0;               // txn heartbeat creates; close/expire target
  std::int64_t session_timeout_ms = 0;     // open_session
  std::vector<NodeRef> targets;            // expire_nodes
  std::optional<MqCommand> mq;             // mq
};

struct OpResult {
  Node node;                  // created / updated / removed / checked node
  std::vector<Node> removed;  // remove_domain: every removed node, creation order
};

struct ApplyResult {
  Status status;                    // OK, or why the command changed nothing
  std::size_t failed_op = std::numeric_limits<std::size_t>::max();  // txn: which op failed
  std::vector<OpResult> results;    // txn: one per op when OK
  std::uint64_t revision = 0;       // store revision after the command
  std::uint64_t session = 0;        // open_session: the new id
  std::vector<WatchEvent> events;   // changes, in order; empty for a deduplicated retry
  MqResult mq;                      // mq (and sessions ending: the leases they gave back)
};

// Session bookkeeping that is replicated. Liveness (last heartbeat) is not: only the leader
// tracks it, and it proposes expire_session.
struct SessionRecord {
  std::uint64_t id = 0;
  std::string owner;             // caller that opened it
  std::int64_t timeout_ms = 0;
  std::int64_t opened_ms = 0;
};

}  // namespace fourinone::park
