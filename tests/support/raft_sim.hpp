// A deterministic simulator for the Raft core (park/raft/), DESIGN §8, STYLE §9.
//
// A cluster of N Raft instances, each behind a simulated driver that follows raft.hpp's order
// (persist -> send -> apply -> advance, one stage per event, so a crash can fall between any
// two), on a simulated network with loss, random delay (hence reordering), duplication and
// partitions (symmetric and asymmetric). Servers crash (losing every volatile thing: the
// core, Readies not yet persisted, messages_after_persist not yet sent, an in-memory state
// machine) and restart from simulated durable storage. Clients propose, read (ReadIndex) and
// ask for leader transfers; servers compact every N applied entries.
//
// One seed drives everything (`Scenario::random`); a run replays exactly from it. After every
// event a SafetyChecker verifies: at most one leader per term, log matching, leader
// completeness, state machine safety, in-order gap-free application, durable vote-once,
// linearizable read indexes, one-server-at-a-time membership changes, every server's membership
// being the latest one in its log, snapshots carrying the membership in effect at their index.
// With a pool of ids larger than the group (Scenario::pool), clients also add learners (started
// then, with an empty bootstrap, as a joining server is) and remove members, the leader
// included; removed servers keep running. After the chaos the network heals and every server
// comes back; then a fresh proposal must commit (and a read complete) within a bounded number
// of ticks, and every member of the final membership must catch up.
//
// Environment (for replays): RAFT_SEED=<n> runs that one seed; RAFT_TRACE=1 prints every event.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "park/raft/raft.hpp"

namespace fourinone::raft::sim {

// A log as one server holds it (in memory or on disk): a snapshot boundary, then entries.
class LogView {
 public:
  std::uint64_t snapshot_index() const { return snap_index_; }
  std::uint64_t snapshot_term() const { return snap_term_; }
  std::uint64_t last_index() const { return snap_index_ + entries_.size(); }
  std::optional<std::uint64_t> term(std::uint64_t index) const;
  const Entry* find(std::uint64_t index) const;  // null when absent or compacted
  std::vector<Entry> entries() const { return {entries_.begin(), entries_.end()}; }

  void reset_to_snapshot(std::uint64_t index, std::uint64_t term);
  // Ready::entries semantics: delete from entries.front().index on, then append. Returns the
  // number of entries that were deleted.
  std::size_t write(const std::vector<Entry>& entries);
  void compact(std::uint64_t index);

 private:
  std::uint64_t snap_index_ = 0;
  std::uint64_t snap_term_ = 0;
  std::deque<Entry> entries_;
};

// The replicated state machine: a digest chained over every applied entry.
struct StateMachine {
  std::uint64_t applied = 0;
  std::uint64_t digest = 0;
  void apply(const Entry& e);
  std::string save() const;
  static std::optional<StateMachine> load(const std::string& data);
};

// "{voters 1,2 learners 3}"; "{bootstrap}" for nothing.
std::string membership_str(const std::optional<Membership>& m);

struct SimFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The safety properties, fed by observations; throws SimFailure on the first violation.
class SafetyChecker {
 public:
  // At most one leader per term, over the whole run (§5.2 Election Safety).
  void observe_role(NodeId server, Role role, std::uint64_t term);
  // An entry now in `server`'s log, with the term of the entry before it. Log Matching (§5.3)
  // holds across all logs iff every (index, term) is always the same entry with the same
  // predecessor term: induction gives equal prefixes.
  void observe_entry(NodeId server, const Entry& entry, std::uint64_t prev_term);
  // `server` (in `term`) has commit index `commit`; its log is `log`. Records that the entries
  // up to it were committed in a term <= `term`.
  void observe_commit(NodeId server, std::uint64_t term, std::uint64_t commit, const LogView& log);
  // State Machine Safety (§5.4.3) and in-order application.
  void observe_apply(NodeId server, std::uint64_t term, const Entry& entry, const StateMachine& after);
  void observe_snapshot_apply(NodeId server, std::uint64_t index, std::uint64_t snapshot_term,
                              const StateMachine& sm);
  // The server's state machine was rebuilt (restart): the next apply is sm.applied + 1.
  void observe_state_machine_reset(NodeId server, const StateMachine& sm);
  // Leader Completeness (§5.4.3): `log` (of a leader in `term`) holds every entry known to be
  // committed in an earlier term. `indexes` empty: check all.
  void check_leader(NodeId server, std::uint64_t term, const LogView& log,
                    const std::vector<std::uint64_t>& indexes) const;
  // Indexes whose commit record changed since the last call (to re-check current leaders).
  std::vector<std::uint64_t> take_dirty();
  // Linearizable reads: a ReadState's index covers every commit observed before the request.
  void observe_read_request(NodeId server, std::uint64_t context);
  void observe_read_state(NodeId server, const ReadState& rs);
  bool answered(std::uint64_t context) const;
  // Durable vote-once: storage never goes back in term, nor changes its vote within a term.
  void observe_durable_hard_state(NodeId server, const HardState& before, const HardState& after) const;

  // Membership (thesis §4.1). The group's first membership (Config::servers of its founders).
  void set_bootstrap(Membership bootstrap) { bootstrap_ = std::move(bootstrap); }
  // The committed membership in effect at `index` (the latest applied membership entry at or
  // below it, else the bootstrap). Every index below one applied anywhere was applied first.
  const Membership& membership_at(std::uint64_t index) const;
  // A snapshot at `index` (made or installed by `server`) carries the membership in effect there
  // (nothing: the bootstrap one).
  void check_snapshot_membership(NodeId server, std::uint64_t index, const std::optional<Membership>& m) const;
  NodeId leader_of(std::uint64_t term) const;
  std::uint64_t changes_committed() const { return changes_committed_; }
  std::uint64_t learners_promoted() const { return learners_promoted_; }
  std::uint64_t leaders_removed() const { return leaders_removed_; }

  std::uint64_t max_commit() const { return max_commit_; }
  std::size_t leaders_seen() const { return leader_of_term_.size(); }

 private:
  struct Committed {
    std::uint64_t commit_term = UINT64_MAX;  // a term in which it was known committed
    bool have_content = false;
    std::uint64_t term = 0;
    EntryType type = EntryType::normal;
    std::string data;
  };
  struct EntryRecord {
    std::uint64_t prev_term = 0;
    EntryType type = EntryType::normal;
    std::string data;
  };
  struct ReadRequest {
    NodeId server = 0;
    std::uint64_t min_index = 0;
    bool answered = false;
  };
  Committed& committed_at(std::uint64_t index);
  void note_content(std::uint64_t index, const Entry& e, const char* source);
  void note_membership(NodeId server, const Entry& e);

  std::map<std::uint64_t, NodeId> leader_of_term_;
  std::map<std::pair<std::uint64_t, std::uint64_t>, EntryRecord> entries_;  // (index, term)
  std::vector<Committed> committed_;  // by index (0 unused)
  std::map<NodeId, std::uint64_t> commit_seen_;
  std::uint64_t max_commit_ = 0;
  std::vector<std::uint64_t> dirty_;
  std::map<NodeId, std::uint64_t> last_applied_;
  std::map<std::uint64_t, std::uint64_t> digest_at_;  // state machine digest after each index
  std::map<std::uint64_t, ReadRequest> reads_;
  Membership bootstrap_;
  std::map<std::uint64_t, Membership> committed_memberships_;  // by index, from applied entries
  std::uint64_t changes_committed_ = 0;
  std::uint64_t learners_promoted_ = 0;
  std::uint64_t leaders_removed_ = 0;
};

// Config::lease_reads needs election_ticks - 3 > heartbeat_ticks (park/raft/raft_impl.hpp).
inline constexpr int kLeaseMarginTicksForSim = 3;

// One simulated run's settings, all drawn from the seed.
struct Scenario {
  std::uint64_t seed = 1;
  int servers = 3;  // the group's founders: ids 1..servers, Config::servers
  int pool = 3;     // ids 1..pool; those above `servers` join when a client adds them
  int chaos_ticks = 300;
  int liveness_ticks = 300;  // bound after healing: a leader commits a fresh entry, serves a read
  // Raft config.
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  bool lease_reads = false;  // the leader's reads checked against every commit, like ReadIndex ones
  std::size_t max_entries_per_message = 4096;
  std::size_t max_bytes_per_message = 1u << 20;
  std::size_t max_inflight = 256;
  std::uint64_t max_uncommitted_bytes = 1024;  // the clients' flow control
  // Network.
  double loss = 0;
  double duplicate = 0;
  int max_delay = 1;  // ticks; 0 = within the tick
  double partition_rate = 0;  // new partitions per tick
  int max_partition_ticks = 40;
  // Servers.
  double crash_rate = 0;        // crashes per tick
  double stage_crash = 0;       // chance to crash right after any driver stage
  int max_down_ticks = 30;
  double slow_disk = 0;         // chance a stage waits for the next tick
  bool durable_state_machine = false;
  int compact_every = 0;        // applied entries between snapshots; 0: never
  // Clients.
  double propose_rate = 0.5;    // proposals per tick
  double read_rate = 0.2;
  double transfer_rate = 0;
  double membership_rate = 0;   // membership changes asked for per tick (needs pool > servers)

  static Scenario random(std::uint64_t seed, int servers);
  // random(seed, servers), then a pool of `pool` ids and membership changes drawn on top.
  static Scenario random_membership(std::uint64_t seed, int servers, int pool);
  std::string describe() const;
};

struct SimStats {
  std::uint64_t runs = 0;
  std::uint64_t events = 0;
  std::uint64_t ticks = 0;
  std::uint64_t leaders = 0;           // distinct (term, leader) pairs
  std::uint64_t proposals = 0;         // accepted by a leader
  std::uint64_t applied_entries = 0;   // highest index applied anywhere (summed over runs)
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t crashes = 0;
  std::uint64_t crashes_before_send = 0;  // persisted, messages_after_persist never sent
  std::uint64_t crashes_before_persist = 0;
  std::uint64_t truncations = 0;       // entries deleted from a log by a conflicting suffix
  std::uint64_t snapshots_taken = 0;
  std::uint64_t snapshots_installed = 0;
  std::uint64_t rejects = 0;           // append rejects delivered
  std::uint64_t reads_served = 0;
  std::uint64_t reads_on_lease = 0;  // answered at once by a leader's lease
  std::uint64_t transfers_done = 0;
  std::uint64_t redeliveries = 0;      // committed entries re-applied after a restart
  std::uint64_t changes_proposed = 0;  // membership changes a leader accepted
  std::uint64_t changes_refused = 0;   // change_pending / bad_change, as expected
  std::uint64_t changes_committed = 0;  // membership entries committed
  std::uint64_t learners_promoted = 0;  // committed changes that made a learner a voter
  std::uint64_t leaders_removed = 0;    // committed changes removing the leader that proposed them
  std::uint64_t membership_reverts = 0;  // membership entries truncated from a log
  std::uint64_t joins = 0;              // servers started empty to join
  std::uint64_t max_liveness_ticks = 0;  // healed -> probe committed and a read served
  std::uint64_t max_catchup_ticks = 0;   // then -> every server applied the probe
  void add(const SimStats& o);
  std::string describe() const;
};

struct RunResult {
  bool ok = true;
  std::string failure;  // what broke, with the tick
  SimStats stats;
};

// Runs one scenario to the end (or the first violation).
RunResult run_scenario(const Scenario& scenario, bool trace = false);

// A hand-driven group for focused tests: Readies are persisted, applied and advanced at once
// (flush), their messages land in an outbox that the test inspects, edits or delivers.
class Group {
 public:
  // Servers 1..servers, each with Config::servers = all of them (a new group's founders).
  explicit Group(int servers, Config base = Config{});
  // Starts a server with the next id and an empty Config::servers: one joining a running group,
  // which waits for a leader to add it. Returns its id.
  NodeId add_server();
  Raft& at(NodeId id) { return *rafts_.at(id - 1); }
  int size() const { return static_cast<int>(rafts_.size()); }  // founders and joined
  // Every server's Readies: persisted, sent to the outbox, applied, advanced.
  void flush();
  std::vector<Message>& outbox() { return outbox_; }
  // Removes and returns the outbox messages matching (0 / nullopt: any).
  std::vector<Message> take(NodeId from = 0, NodeId to = 0, std::optional<MessageType> type = std::nullopt);
  // Delivers until the outbox stays empty; messages over a cut link, or that `drop` picks, are
  // dropped.
  void deliver_all(const std::function<bool(const Message&)>& drop = {});
  void tick(NodeId id, int times = 1);      // ticks one server, flushing after each tick
  void tick_all(int times = 1);             // ticks everyone, delivering after each round
  void cut(NodeId from, NodeId to) { cut_.emplace(from, to); }
  void isolate(NodeId id);
  void heal() { cut_.clear(); }
  // Lets `id` time out (others do not tick) and delivers until quiet: it should lead.
  void elect(NodeId id);
  const std::vector<Entry>& applied(NodeId id) const { return applied_.at(id - 1); }
  const std::vector<ReadState>& read_states(NodeId id) const { return reads_.at(id - 1); }
  // Replaces server `id` with a fresh core built from `restore`.
  void restart(NodeId id, Restore restore);
  // What server `id` has persisted so far (its state machine is not durable: applied is the
  // snapshot's index): restart(id, stored(id)) is a crash and restart.
  Restore stored(NodeId id) const;
  // Compacts server `id` at its applied index, in the core and in storage; the stored snapshot
  // carries the membership applied there, as a driver keeps it.
  void compact(NodeId id);
  Config config(NodeId id) const;

 private:
  struct Stored {
    HardState hard_state;
    std::optional<Snapshot> snapshot;
    LogView log;
    std::optional<Membership> applied_membership;  // nothing: the bootstrap one
    bool bypassed = false;  // a Ready was taken outside flush(): what is stored is incomplete
  };
  Config base_;
  int n_ = 0;  // founders
  std::vector<std::unique_ptr<Raft>> rafts_;
  std::vector<std::vector<Entry>> applied_;
  std::vector<std::vector<ReadState>> reads_;
  std::vector<Stored> stored_;
  std::vector<Message> outbox_;
  std::set<std::pair<NodeId, NodeId>> cut_;
};

// RAFT_SEED / RAFT_TRACE from the environment.
std::optional<std::uint64_t> seed_from_env();
bool trace_from_env();

}  // namespace fourinone::raft::sim
