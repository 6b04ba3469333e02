// Progress: the leader's view of one follower's log (internal to park/raft/).
//
// DESIGN. Three states, as in etcd raft's tracker:
// - probe: we do not know where the follower's log matches ours. One append at a time; after
//   sending, pause until a reply (or a heartbeat reply) arrives. A reject moves `next` back,
//   using the follower's hint to skip a whole term's worth of entries per round trip.
// - replicate: the follower matched; send optimistically (`next` jumps past what was sent) and
//   keep up to `max_inflight` appends in flight (pipelining, thesis §10.2.2).
// - snapshot: the entries the follower needs are compacted away; an install_snapshot is in
//   flight. Nothing else is sent until it is acknowledged or the retry timer fires.
// `match` only grows: it is what the follower acknowledged as durable (§5.3, matchIndex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace fourinone::raft {

enum class ProgressState : std::uint8_t { probe = 1, replicate, snapshot };
const char* progress_state_name(ProgressState state) noexcept;

// The last index of each append in flight, oldest first.
class Inflights {
 public:
  explicit Inflights(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  void add(std::uint64_t last_index) { in_flight_.push_back(last_index); }
  // An acknowledgement up to `index` frees every append that ended at or before it.
  void free_le(std::uint64_t index);
  void free_first_one();
  bool full() const { return in_flight_.size() >= capacity_; }
  std::size_t count() const { return in_flight_.size(); }
  void reset() { in_flight_.clear(); }

 private:
  std::size_t capacity_;
  std::deque<std::uint64_t> in_flight_;
};

struct Progress {
  explicit Progress(std::size_t max_inflight) : inflights(max_inflight) {}

  std::uint64_t match = 0;  // highest index known durable on the follower
  std::uint64_t next = 1;   // next index to send
  ProgressState state = ProgressState::probe;
  bool probe_sent = false;            // probe: an append is out, wait for its answer
  std::uint64_t pending_snapshot = 0;  // snapshot: the index of the snapshot sent
  int snapshot_ticks = 0;             // snapshot: ticks since it was sent
  bool recent_active = false;         // heard from since the last check-quorum round
  int ticks_since_heard = 0;
  std::uint64_t read_ack = 0;         // highest read round the follower confirmed
  std::uint64_t heartbeat_match = 0;  // `match` at the previous heartbeat answer
  Inflights inflights;

  void become_probe();
  void become_replicate();
  void become_snapshot(std::uint64_t snapshot_index);
  // An acknowledgement that the follower holds everything up to `index`. Returns whether it
  // told us something new (a duplicate or reordered reply does not).
  bool maybe_update(std::uint64_t index);
  // A reject of the append whose previous index was `rejected`; `hint` is where the follower's
  // log may match. Returns false for a stale reject (one about an append we have moved past).
  bool maybe_decr_to(std::uint64_t rejected, std::uint64_t hint);
  // After sending entries up to `last` (none: last == 0).
  void sent(std::uint64_t last);
  bool is_paused() const;
};

}  // namespace fourinone::raft
