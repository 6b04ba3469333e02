// Raft::Impl: the state of one Raft server (internal to park/raft/).
//
// The code is split by concern; each file starts with the rules it enforces:
//   raft.cpp        construction from Restore, the public API, tick() and step() (term rules)
//   election.cpp    roles, pre-vote, vote, check-quorum, leader transfer
//   replication.cpp propose, append, heartbeat, snapshot, commit
//   read_index.cpp  linearizable reads (thesis §6.4)
//   membership.cpp  who votes and who is replicated to: tracking, changes, learner promotion
//   ready.cpp       ready() / advance(): what the driver persists, sends and applies
// Not thread-safe: one owner calls every method (STYLE §6).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "park/raft/progress.hpp"
#include "park/raft/raft.hpp"
#include "park/raft/raft_log.hpp"

namespace fourinone::raft {

struct PendingRead {
  std::uint64_t context = 0;
  std::uint64_t index = 0;  // the commit index when the read was accepted
  std::uint64_t round = 0;  // the heartbeat round that must be confirmed by a majority
};

// A heartbeat round and the tick it was sent at (for the lease, read_index.cpp).
struct RoundSent {
  std::uint64_t round = 0;
  std::uint64_t tick = 0;
};

// Ticks of a lease's length given up against scheduling and clock-rate error (read_index.cpp).
inline constexpr int kLeaseMarginTicks = 3;

struct Raft::Impl {
  Impl(const Config& config, Restore restore);

  [[noreturn]] void fatal(const std::string& what) const;

  // --- raft.cpp: entry points ---
  void tick();
  void step(const Message& m);
  void step_leader(const Message& m);
  void step_candidate(const Message& m);
  void step_follower(const Message& m);

  // --- election.cpp ---
  void reset(std::uint64_t new_term);
  void become_follower(std::uint64_t new_term, NodeId new_leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void campaign(bool pre, bool transfer);
  void handle_vote_request(const Message& m);
  void poll(NodeId from, bool granted);
  void tick_election();
  void tick_heartbeat();
  bool quorum_active() const;
  bool transfer_leadership(NodeId to);
  void abort_transfer() { transferee = 0; }
  void reset_randomized_timeout();
  bool promotable() const;

  // --- replication.cpp ---
  // Why no proposal can be taken now (not leader, a transfer under way), or nothing.
  std::optional<ProposeError> proposal_refused() const;
  ProposeResult propose(std::vector<std::string> data);
  bool send_append(NodeId to, bool send_if_empty);
  void send_snapshot(NodeId to, Progress& pr);
  void bcast_append();
  void bcast_heartbeat();
  void send_heartbeat(NodeId to, const Progress& pr);
  void send_timeout_now(NodeId to);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  bool maybe_commit();
  void on_committed(std::uint64_t old_commit);
  void compact(std::uint64_t index, std::shared_ptr<const std::string> data);

  // --- read_index.cpp ---
  bool read_index(std::uint64_t context);
  void start_reads(const std::vector<std::uint64_t>& contexts);
  void advance_reads();
  bool committed_in_term() const;
  bool lease_valid() const;
  void note_round_confirmed(std::uint64_t confirmed);
  bool in_vote_lease() const;

  // --- membership.cpp ---
  // After entries were written to the log (appended, or a conflicting suffix replaced): picks
  // up the membership entries among them and forgets those a truncation removed.
  void track_memberships(const std::vector<Entry>& written);
  // The snapshot at the log's boundary now defines the membership below it.
  void set_base_membership(std::optional<Membership> from_snapshot, std::uint64_t index);
  const Membership& membership_at(std::uint64_t index) const;
  // What a snapshot at `index` carries: nothing while the bootstrap membership is in effect there.
  std::optional<Membership> snapshot_membership_at(std::uint64_t index) const;
  void refresh_membership();
  ProposeResult propose_membership(Membership next);
  void maybe_promote_learner();
  void step_down_if_removed();
  bool is_voter(NodeId server) const { return conf.is_voter(server); }
  // The highest value a majority of voters reached: `own` for us (when we vote), `field` of
  // the others' progress.
  std::uint64_t voters_quorum_value(std::uint64_t own, std::uint64_t Progress::*field) const;

  // --- ready.cpp ---
  bool has_ready() const;
  Ready ready();
  void advance(const Ready& rd);

  // --- helpers ---
  void send(Message m);                 // may leave at once
  void send_after_persist(Message m);  // only once the Ready's state is durable (thesis §3.8)
  Message make(MessageType type, NodeId to) const;
  HardState hard_state() const { return HardState{term, vote, log.committed()}; }
  std::uint64_t self_match() const { return log.persisted(); }

  // Configuration (fixed).
  Config cfg;
  NodeId id;

  // Membership (membership.cpp): the snapshot's (or bootstrap) one, then one per membership
  // entry in the log after the snapshot; the latest is in effect.
  Membership base_conf;
  std::uint64_t base_conf_index = 0;
  bool base_is_bootstrap = true;    // base_conf is Config::servers (no snapshot named one)
  std::map<std::uint64_t, Membership> log_confs;
  Membership conf;                  // in effect
  std::uint64_t conf_index = 0;     // of the entry that set it (base_conf_index for the base)
  std::vector<NodeId> voters;       // conf.voters
  std::vector<NodeId> peers;        // every voter and learner but us, sorted (deterministic)

  // Persistent state (§5, Figure 2), handed to the driver in Ready::hard_state.
  std::uint64_t term = 0;
  NodeId vote = 0;
  RaftLog log;

  // Volatile state.
  Role role = Role::follower;
  NodeId lead = 0;
  std::uint64_t applying = 0;  // last index handed out to apply (or covered by a snapshot)
  std::uint64_t applied = 0;   // last index the driver reported applied (advance)
  std::optional<Snapshot> snapshot;  // latest snapshot: compact() or installed from a leader
  bool snapshot_pending = false;     // installed, not yet handed out in a Ready
  int election_elapsed = 0;   // ticks; leader: since the last check-quorum round
  int heartbeat_elapsed = 0;  // ticks; leader only
  int randomized_timeout = 0;
  std::uint64_t ticks = 0;    // every tick() since this instance started (the lease's clock)
  std::mt19937_64 rng;

  // Candidate / pre-candidate: answers so far (true = granted).
  std::map<NodeId, bool> votes;
  // Leader.
  std::map<NodeId, Progress> progress;  // one per peer
  NodeId transferee = 0;                // leader transfer target (0: none)
  int transfer_elapsed = 0;             // ticks since the transfer started
  std::uint64_t uncommitted_bytes = 0;  // data proposed in this term, not yet committed
  std::uint64_t read_round = 0;         // last heartbeat round started for reads
  std::vector<PendingRead> pending_reads;     // accepted, awaiting a majority for their round
  std::vector<std::uint64_t> reads_awaiting_commit;  // before our first commit in this term
  std::deque<RoundSent> rounds_sent;    // heartbeat rounds not yet confirmed by a majority
  std::uint64_t lease_until = 0;        // lease reads allowed while ticks < this
  bool lease_forfeited = false;         // sent timeout_now in this term: no lease any more

  // Output, drained by ready().
  HardState prev_hard_state;
  std::vector<Message> msgs;
  std::vector<Message> msgs_after_persist;
  std::vector<ReadState> read_states;
};

}  // namespace fourinone::raft
