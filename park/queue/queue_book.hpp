// QueueBook: the queues and topics of a park (mq/README.md has the design and its reasons).
//
// Pure and deterministic like the Store that owns it: no clocks, threads or I/O. Every
// change comes through apply() (or release_session(), when the Store ends a park session),
// with the leader's clock carried in the command, so all replicas hold the same channels.
//
// Model
// - A channel (queue or topic) holds messages by offset (1, 2, ... in send order).
// - A cursor hands messages out: a queue has one (named ""), shared by all its consumers; a
//   topic has one per durable subscription. A cursor's `next` is the first offset it never
//   handed out; `returned` holds offsets handed out before and given back (nack, lease ran
//   out, consumer's session ended), which go out again first, lowest first.
// - A handed-out offset is leased (token, deadline, session) until acked or given back.
//   Deliveries are counted per cursor; a message given back after max_deliveries moves to
//   the dead-letter queue ("<queue>.dlq", or "<topic>.<subscriber>.dlq").
// - A queue message is erased when acked. A topic message is kept while some subscription
//   has not acked it (no retention set) or within max_count / max_age (retention set).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "fourinone/error.hpp"
#include "fourinone/mq.hpp"
#include "park/queue/queue_types.hpp"

namespace fourinone::park {

struct MqLease {
  std::uint64_t token = 0;
  std::int64_t deadline_ms = 0;
  std::uint64_t session = 0;  // 0: ends by time only
  template <class A>
  void serialize(A& ar) { ar(token, deadline_ms, session); }
};

struct MqCursor {
  std::uint64_t next = 1;   // first offset never handed out
  std::uint64_t floor = 1;  // topic: every offset below is acked or gone
  std::set<std::uint64_t> returned;
  std::map<std::uint64_t, MqLease> leased;
  std::map<std::uint64_t, std::uint32_t> deliveries;  // handed out, not yet acked
  std::set<std::uint64_t> acked;                      // topic: acked offsets >= floor
  std::uint64_t acked_total = 0;
  std::uint64_t dead_total = 0;
  std::uint64_t skipped_total = 0;
  template <class A>
  void serialize(A& ar) {
    ar(next, floor, returned, leased, deliveries, acked, acked_total, dead_total, skipped_total);
  }
};

struct MqStored {
  std::int64_t sent_ms = 0;
  std::string body;
  template <class A>
  void serialize(A& ar) { ar(sent_ms, body); }
};

struct MqChannel {
  bool topic = false;
  MqRules rules;
  std::uint64_t next_offset = 1;
  std::uint64_t sent_total = 0;
  std::map<std::uint64_t, MqStored> messages;
  std::map<std::string, MqCursor, std::less<>> cursors;  // queue: exactly one, ""
  std::uint64_t bytes = 0;  // derived: message bytes charged
  template <class A>
  void serialize(A& ar) { ar(topic, rules, next_offset, sent_total, messages, cursors); }
};

// Bytes charged per message besides its body (map node, offsets, times).
inline constexpr std::uint64_t kMqMessageOverhead = 64;
inline constexpr std::string_view kDeadLetterSuffix = ".dlq";

class QueueBook {
 public:
  using SessionAlive = std::function<bool(std::uint64_t session)>;

  explicit QueueBook(std::size_t max_name = 255) : max_name_(max_name) {}

  // Applies one command at the leader's time now_ms. On an error nothing changed, except for
  // ack/nack/extend, which apply every ref they can and report the first failure.
  Status apply(const MqCommand& command, std::int64_t now_ms, const SessionAlive& session_alive, MqResult& out);
  // A park session ended (closed or expired): its leases are given back.
  void release_session(std::uint64_t session, MqResult& out);

  // --- reads ---
  const MqChannel* find(std::string_view name) const;
  std::vector<std::string> names() const;
  // How many messages the cursor could hand out now, counting at most `cap`.
  std::size_t available(std::string_view channel, std::string_view subscriber, std::size_t cap) const;
  std::optional<ChannelStats> stats(std::string_view name, std::int64_t now_ms) const;
  std::uint64_t bytes() const { return bytes_; }

  // --- for the leader's timers: at most `max` of each, oldest first ---
  std::vector<MqLeaseRef> expired_leases(std::int64_t now_ms, std::size_t max) const;
  std::vector<MqLeaseRef> aged_messages(std::int64_t now_ms, std::size_t max) const;

  // Snapshot: the persisted state as bytes, and back (untrusted bytes: every invariant is
  // checked; errors are bad_request).
  std::string save() const;
  static Result<QueueBook> load(std::string_view bytes, std::size_t max_name);

 private:
  // (deadline, channel, subscriber, offset) and (channel, subscriber, offset).
  using LeaseKey = std::tuple<std::int64_t, std::string, std::string, std::uint64_t>;
  using Place = std::tuple<std::string, std::string, std::uint64_t>;

  Status check_channel_name(std::string_view name, bool topic) const;
  Result<MqChannel*> channel_for(const MqCommand& c, bool create_missing);
  MqChannel& make_channel(const std::string& name, bool topic, const MqRules& rules);
  Status send(MqChannel& ch, const MqCommand& c, std::int64_t now_ms, MqResult& out);
  Status receive(MqChannel& ch, const MqCommand& c, std::int64_t now_ms, MqResult& out);
  Status settle(const MqCommand& c, std::int64_t now_ms, MqResult& out);
  Status subscribe(MqChannel& ch, const MqCommand& c, MqResult& out);
  void age_out(const MqCommand& c, std::int64_t now_ms, MqResult& out);
  void remove_channel(const std::string& name);

  void add_lease(const std::string& ch, const std::string& sub, std::uint64_t offset, const MqLease& lease, MqCursor& cur);
  void drop_lease(const std::string& ch, const std::string& sub, std::uint64_t offset, MqCursor& cur);
  // A delivery comes back: to `returned`, or to the dead-letter queue after max_deliveries.
  void give_back(const std::string& ch_name, MqChannel& ch, const std::string& sub, MqCursor& cur, std::uint64_t offset,
                 MqResult& out);
  void dead_letter(const std::string& ch_name, MqChannel& ch, const std::string& sub, MqCursor& cur, std::uint64_t offset,
                   MqResult& out);
  void acked(const std::string& ch_name, MqChannel& ch, MqCursor& cur, std::uint64_t offset);
  void append(MqChannel& ch, std::int64_t sent_ms, std::string body);
  void erase_message(MqChannel& ch, std::map<std::uint64_t, MqStored>::iterator it);
  // Topic: drop one message for every subscription (retention).
  void trim(const std::string& ch_name, MqChannel& ch, std::uint64_t offset);
  // Topic: advance floors, then erase what nobody needs and enforce max_count.
  void collect(const std::string& ch_name, MqChannel& ch);
  static void advance_floor(const MqChannel& ch, MqCursor& cur);
  void rebuild_indices();

  std::size_t max_name_;
  std::map<std::string, MqChannel, std::less<>> channels_;
  std::uint64_t next_token_ = 1;
  // derived
  std::set<LeaseKey> by_deadline_;
  std::map<std::uint64_t, std::set<Place>> by_session_;
  std::uint64_t bytes_ = 0;
};

}  // namespace fourinone::park
