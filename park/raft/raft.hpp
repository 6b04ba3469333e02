// The Raft core: consensus as a pure state machine (DESIGN §2, §4.4; STYLE §2).
//
// It includes nothing but the standard library and does no I/O: no sockets, files, clocks or
// global randomness. Inputs: tick(), step(message), propose(data), read_index(context),
// transfer_leadership(to), compact(snapshot). Outputs: ready() bundles what the driver must do,
// in this order (etcd raft's README order):
//   1. persist `hard_state`, `snapshot` and `entries` (one storage transaction, fsync when
//      `must_sync`);
//   2. send `messages` (these may also go out before step 1 finishes: leader appends and
//      heartbeats) and then `messages_after_persist` (votes and append acknowledgements,
//      which promise durable state and must never leave before it is on disk, thesis §3.8);
//   3. apply `snapshot` (if any) and then `committed` entries to the state machine, and
//      serve `read_states` once applied >= their index;
//   4. call advance(ready) — only then does the leader count its own entries as durable (and a
//      candidate its own vote).
// Between ready() and advance(), the driver may call other inputs; the next ready() carries
// whatever they produced. Every ready() is followed by exactly one advance() of that Ready,
// in the order they were taken; a driver may take the next ready() before advancing the
// previous one (a storage pipeline) as long as it persists and applies them in order.
//
// Not thread-safe: one owner (thread or strand) calls everything. A broken invariant (for
// example an entry at or below the commit index about to be overwritten) aborts the process
// with the server id and term on stderr.
//
// Time is counted in ticks; the randomized election timeout comes from a generator seeded by
// Config::seed, so a simulator replays a run exactly from its seed.
//
// Safety argument, where it is enforced (Raft paper §5, thesis §3, §4.2, §6, §9.6):
// - election restriction (§5.4.1): a vote is granted only to a candidate whose log is at least
//   as up to date as ours;
// - commitment (§5.4.2): the leader advances commit only to an index of its own term that a
//   majority (itself included only once durable) has matched;
// - log matching (§5.3): an append is accepted only if the entry before it matches in term;
//   conflicting suffixes are truncated, never entries at or below commit;
// - pre-vote (thesis §9.6) and check-quorum: a partitioned server does not disrupt the group
//   with higher terms, and a leader that has not heard from a majority for an election
//   timeout steps down; followers that heard from a leader within the election timeout ignore
//   (pre-)vote requests (the leader lease), unless the request carries a transfer flag;
// - ReadIndex (thesis §6.4): a read is served at the commit index once the leader has
//   committed an entry of its term and a majority has confirmed its leadership after the read
//   arrived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fourinone::raft {

using NodeId = std::uint64_t;  // 1-based; 0 means "none"

enum class EntryType : std::uint8_t {
  normal = 1,  // a proposal's data
  noop = 2,    // appended by a new leader to commit entries of earlier terms (§5.4.2)
  membership = 3,  // data: encode_membership(); takes effect when appended, not when committed
};

// Who takes part in the group (thesis §4). Voters elect leaders and make up majorities; learners
// only receive the log: a new server catches up as a learner before it counts, so adding it
// never leaves the group waiting on a server with an empty log.
//
// Changes go one server at a time (thesis §4.1): any majority of the old voters overlaps any
// majority of the new, so no two leaders can be elected in one term across a change. Every
// server uses the latest membership entry in its log, committed or not; a leader proposes the
// next change only once the previous one is committed and it has committed an entry of its own
// term (the fix of the thesis' errata for single-server changes).
struct Membership {
  std::vector<NodeId> voters;    // sorted, distinct, non-zero
  std::vector<NodeId> learners;  // sorted, distinct, non-zero, none of them a voter
  std::string context;           // the driver's (server addresses); opaque to the core

  bool is_voter(NodeId server) const;
  bool is_learner(NodeId server) const;
  bool contains(NodeId server) const { return is_voter(server) || is_learner(server); }
  bool well_formed() const;  // the lists sorted, distinct, non-zero and disjoint
  friend bool operator==(const Membership&, const Membership&) = default;
};

// Membership entry data. The first byte is kMembershipMarker, which no other entry the park
// writes starts with (a Command starts with its kind, 1..127), so a driver can tell a stored
// membership entry from its own without a type field of its own.
inline constexpr char kMembershipMarker = static_cast<char>(0xC0);
std::string encode_membership(const Membership& membership);
// Nothing for bytes that are not a well-formed membership (wrong marker, short, unsorted...).
std::optional<Membership> decode_membership(std::string_view data);
bool is_membership_data(std::string_view data) noexcept;

struct Entry {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  EntryType type = EntryType::normal;
  std::string data;
};

struct HardState {
  std::uint64_t term = 0;
  NodeId vote = 0;
  std::uint64_t commit = 0;
  friend bool operator==(const HardState&, const HardState&) = default;
};

struct Snapshot {
  std::uint64_t index = 0;  // last index the snapshot includes
  std::uint64_t term = 0;   // term of that entry
  std::shared_ptr<const std::string> data;  // the state machine's bytes (shared, not copied)
  // The membership in effect at `index`. Nothing: the bootstrap membership (the founders'
  // Config::servers) applies, as no membership entry comes at or before `index` (or the
  // snapshot is from before memberships lived in the log).
  std::optional<Membership> membership;
};

enum class MessageType : std::uint8_t {
  pre_vote = 1,
  pre_vote_response,
  vote,
  vote_response,
  append,             // entries (possibly none: a probe) plus the leader's commit
  append_response,
  heartbeat,          // commit index and read-index context; no entries
  heartbeat_response,
  install_snapshot,
  timeout_now,        // leader transfer: start an election now, ignoring the lease
};
const char* message_type_name(MessageType type) noexcept;

struct Message {
  MessageType type = MessageType::append;
  NodeId from = 0;
  NodeId to = 0;
  std::uint64_t term = 0;
  // append: index and term of the entry before `entries`; vote: candidate's last index/term.
  std::uint64_t log_index = 0;
  std::uint64_t log_term = 0;
  std::vector<Entry> entries;
  std::uint64_t commit = 0;
  // append_response: rejected, with a hint to find the match fast: `log_index` echoes the
  // rejected append's log_index, `reject_hint` is the largest index at or before it whose term
  // on the follower is <= that append's log_term, and `log_term` is that entry's term.
  // vote responses: rejected = not granted.
  bool reject = false;
  std::uint64_t reject_hint = 0;
  // append_response accepted: the last index now matched (durable) on the follower.
  std::uint64_t match_index = 0;
  // heartbeat / heartbeat_response: the read-index round this confirms (0 = none).
  std::uint64_t read_round = 0;
  // vote / pre_vote sent because of timeout_now: overrides the receivers' leader lease.
  bool transfer = false;
  std::optional<Snapshot> snapshot;  // install_snapshot
};

enum class Role : std::uint8_t { follower = 1, pre_candidate, candidate, leader };
const char* role_name(Role role) noexcept;

// A read that may be served once the state machine has applied `index`.
struct ReadState {
  std::uint64_t index = 0;
  std::uint64_t context = 0;  // the caller's id from read_index()
};

struct Ready {
  std::optional<HardState> hard_state;        // changed since the last ready
  // Received from the leader: it replaces the log. The driver stores it and, in the same
  // transaction, deletes the stored entries up to its index and, unless the stored entry at
  // its index has its term (§7 rule 6), every one after it too; then applies it before
  // `committed`. The core's own log holds no entry after it at this point.
  std::optional<Snapshot> snapshot;
  // To append; the first one may be at or below the last stored index: delete the stored
  // entries from its index on first (a conflicting suffix replaced by the leader's).
  std::vector<Entry> entries;
  std::vector<Entry> committed;               // to apply, in order
  std::vector<Message> messages;              // may be sent at once
  std::vector<Message> messages_after_persist;  // only once step 1 is durable
  std::vector<ReadState> read_states;
  bool must_sync = false;                     // entries, vote or term changed

  bool empty() const noexcept {
    return !hard_state && !snapshot && entries.empty() && committed.empty() && messages.empty() &&
           messages_after_persist.empty() && read_states.empty();
  }
};

struct Config {
  NodeId id = 0;
  // The bootstrap membership (all voters), used while neither the snapshot nor any log entry
  // names one: a new group's servers list every member, this one included. Empty: a server
  // joining a running group, which waits for a leader to reach it (it never campaigns until a
  // membership from the log makes it a voter).
  std::vector<NodeId> servers;
  // A leader promotes a learner to voter once its log has caught up with the commit index.
  bool auto_promote = true;
  int election_ticks = 10;          // a follower waits [election, 2*election) ticks
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  // Lease reads (thesis §6.4.1): a leader that a majority acknowledged a heartbeat round sent
  // at tick T answers read_index at once, without a round of its own, until tick
  // T + election_ticks - kLeaseMarginTicks. Safe only with check_quorum (the followers' lease
  // in step() is what stops them electing anyone else meanwhile) and when every server's
  // ticks never run faster than real time and the leader's never slower (the driver catches
  // up missed ticks before each read_index). Every server of a group must agree on it: a
  // server started with it ignores (pre-)votes for its first election_ticks ticks.
  bool lease_reads = false;
  std::size_t max_entries_per_message = 4096;
  std::size_t max_bytes_per_message = 1u << 20;  // soft: one entry always fits
  std::size_t max_inflight = 256;   // append messages in flight per follower (pipelining)
  // Data bytes a leader keeps proposed but not yet committed before propose() says too_large
  // (flow control while followers lag). 0: no limit. One proposal is always accepted when
  // nothing is pending, whatever its size.
  std::uint64_t max_uncommitted_bytes = 64u << 20;
  std::uint64_t seed = 1;           // for the randomized election timeout (mixed with `id`)
};

// What a restarted server read back from its storage.
struct Restore {
  HardState hard_state;
  std::optional<Snapshot> snapshot;  // the latest snapshot (already applied by the driver)
  std::vector<Entry> entries;        // every entry after the snapshot, contiguous
  std::uint64_t applied = 0;         // highest index the state machine has applied
  // Entries in (applied, hard_state.commit] come again in Ready::committed; none at or below
  // `applied` ever does (applied below the snapshot counts as the snapshot's index).
};

// not_leader: ask leader_hint; transferring: a leader transfer is under way, retry on the new
// leader; too_large: more than Config::max_uncommitted_bytes would wait for commit, retry later;
// change_pending: a membership change is not committed yet (or the new leader has not committed
// in its term), retry later; bad_change: the membership asked for breaks a rule of
// propose_membership().
enum class ProposeError : std::uint8_t { none = 0, not_leader, transferring, too_large, change_pending, bad_change };
const char* propose_error_name(ProposeError error) noexcept;

struct ProposeResult {
  ProposeError error = ProposeError::none;
  std::uint64_t index = 0;  // of the first entry proposed
  std::uint64_t term = 0;
  NodeId leader_hint = 0;   // on not_leader: who we think leads (0: unknown)
};

class Raft {
 public:
  Raft(const Config& config, Restore restore);
  ~Raft();
  Raft(Raft&&) noexcept;
  Raft& operator=(Raft&&) noexcept;

  void tick();
  void step(const Message& message);
  // Appends entries (one per item) to the leader's log. Each is committed or, if leadership
  // is lost first, may be overwritten: the driver learns which by comparing the term of the
  // committed entry at that index with the term it was proposed in.
  ProposeResult propose(std::vector<std::string> data);
  // Appends a membership entry that changes one server's part (absent, learner or voter), the
  // context as given. Refused (bad_change) when more than one server changes, nothing changes,
  // no voter would be left, or the lists are not sorted and distinct; change_pending while an
  // earlier change is uncommitted. A leader that removes itself leads until the entry commits,
  // then hands leadership to a caught-up voter and steps down.
  ProposeResult propose_membership(Membership next);
  // Linearizable read: a ReadState with this context appears once it is safe (at once while
  // the leader holds a lease, Config::lease_reads); on a follower
  // or a leader that loses leadership, never (the driver times out and retries elsewhere).
  // Returns false when this server is not the leader.
  bool read_index(std::uint64_t context);
  // Hands leadership to `to` once it has caught up (thesis §3.10). false if not leader.
  bool transfer_leadership(NodeId to);
  // The state machine's snapshot at `index` (<= applied): entries up to it may be dropped
  // from memory and storage (once storage holds the snapshot), and lagging followers get it by
  // install_snapshot. An index at or below the current snapshot is ignored.
  // REQUIRES: index <= applied_index() (call it after advance()).
  void compact(std::uint64_t index, std::shared_ptr<const std::string> data);

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);

  // Observers.
  NodeId id() const;
  Role role() const;
  std::uint64_t term() const;
  NodeId leader() const;            // 0 if unknown
  std::uint64_t commit_index() const;
  std::uint64_t applied_index() const;
  std::uint64_t last_index() const;
  std::uint64_t first_index() const;  // first entry still in memory
  // The membership in effect (the latest in the log, committed or not), and the index of the
  // entry that set it (the snapshot's index when it came with a snapshot, 0 for the bootstrap
  // one). A driver watches the index to learn of changes.
  const Membership& membership() const;
  std::uint64_t membership_index() const;
  // The leader's view of each follower: highest index known replicated (0 if unknown).
  std::uint64_t match_index(NodeId server) const;
  // Ticks since the leader last heard from `server` (leader only; 0 for itself).
  int ticks_since_heard(NodeId server) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fourinone::raft
