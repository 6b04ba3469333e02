// The message queue's replicated commands and what applying one yields (mq/README.md).
//
// Queues and topics are a second state machine inside the park's store: an MqCommand rides
// in a park Command (CommandKind::mq), so it is ordered, replicated and made durable by the
// same Raft log as every node write, and deduplicated by the same (client id, seq) table.
// Like every Command it carries the leader's clock; applying never reads one.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fourinone::park {

enum class MqKind : std::uint8_t {
  create = 1,     // channel with `rules` (an existing one keeps its rules; kinds must match)
  remove,         // channel with messages and subscriptions
  send,           // bodies appended in order (queue send or topic publish)
  receive,        // lease up to `max` available messages to `session`
  ack,            // leases: done, never delivered again
  nack,           // leases: give back now
  extend,         // leases: deadline = now + lease time
  subscribe,      // topic subscription `subscriber` (nothing if it exists)
  unsubscribe,    // topic subscription `subscriber`
  expire_leases,  // by the leader: leases whose deadline passed (token and deadline checked)
  age_out,        // by the leader: messages older than the channel's max_age (refs: offset)
};

// A channel's rules, fixed when it is made (zeros already replaced by the MQ row's values).
struct MqRules {
  std::uint64_t max_count = 0;       // 0: no bound
  std::int64_t max_age_ms = 0;       // 0: no bound
  std::uint32_t max_deliveries = 5;  // 0: never dead-letter
  std::int64_t lease_ms = 30'000;
  template <class A>
  void serialize(A& ar) { ar(max_count, max_age_ms, max_deliveries, lease_ms); }
  bool operator==(const MqRules&) const = default;
};

// One delivery (or, for age_out, one message) named by channel, subscription and offset.
struct MqLeaseRef {
  std::string channel;
  std::string subscriber;  // empty for a queue
  std::uint64_t offset = 0;
  std::uint64_t token = 0;  // the lease's token (0 for age_out)
  template <class A>
  void serialize(A& ar) { ar(channel, subscriber, offset, token); }
};

// A receiver waiting on the leader, handed the messages of the send it rides along with, in
// the same log entry: publish -> deliver costs one commit, not two. Applied as that client's
// own receive (client_id, seq), exactly once.
struct MqHandoff {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  std::uint64_t acked_below = 0;
  std::string subscriber;
  std::uint32_t max = 1;
  std::uint64_t session = 0;
  template <class A>
  void serialize(A& ar) { ar(client_id, seq, acked_below, subscriber, max, session); }
};

struct MqCommand {
  MqKind kind = MqKind::send;
  std::string channel;
  std::string subscriber;           // topic: the subscription (receive, subscribe, unsubscribe)
  bool topic = false;               // the kind of channel meant (made if missing)
  MqRules rules;                    // for a channel made by this command
  std::vector<std::string> bodies;  // send
  std::uint32_t max = 1;            // receive: at most this many messages
  std::uint64_t session = 0;        // receive: the leases end with this park session (0: by time only)
  bool from_oldest = false;         // subscribe: start at the oldest message held
  std::vector<MqLeaseRef> refs;     // ack, nack, extend, expire_leases, age_out
  std::vector<MqHandoff> handoffs;  // send: waiting receivers served after the append
  template <class A>
  void serialize(A& ar) {
    ar(kind, channel, subscriber, topic, rules, bodies, max, session, from_oldest, refs, handoffs);
  }
};

struct MqDelivery {
  std::string channel;
  std::string subscriber;
  std::uint64_t offset = 0;
  std::uint64_t token = 0;
  std::uint32_t deliveries = 0;
  std::int64_t sent_ms = 0;
  std::int64_t deadline_ms = 0;
  std::string body;
  template <class A>
  void serialize(A& ar) { ar(channel, subscriber, offset, token, deliveries, sent_ms, deadline_ms, body); }
};

// What one handed-off receive got (see MqHandoff).
struct MqHandoffResult {
  std::uint64_t client_id = 0;
  std::uint64_t seq = 0;
  std::uint8_t code = 0;  // an Errc: ok, or why the receive failed
  std::string message;
  std::vector<MqDelivery> delivered;
  template <class A>
  void serialize(A& ar) { ar(client_id, seq, code, message, delivered); }
};

struct MqResult {
  std::vector<std::uint64_t> offsets;     // send: one per body
  std::vector<MqDelivery> delivered;      // receive
  std::uint64_t applied = 0;              // ack/nack/extend/expire/age_out: refs that took effect
  // Not remembered for a resend (each handoff is remembered as its own receive):
  std::vector<MqHandoffResult> handoffs;  // send: one per MqHandoff, in order
  // Not replicated or remembered: (channel, subscriber) pairs that gained available messages,
  // so the leader can wake receivers waiting on them.
  std::vector<std::pair<std::string, std::string>> woken;
  template <class A>
  void serialize(A& ar) { ar(offsets, delivered, applied); }
};

}  // namespace fourinone::park
