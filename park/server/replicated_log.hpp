// ReplicatedLog: the Raft driver. Every write of the park goes through here — proposed to the
// Raft core, made durable on a majority, then applied to the store in log order and answered
// (DESIGN §4.4: acknowledged only once a majority has it durably). With one server in
// PARK/SERVERS it is a one-member group: the same code path, the majority is us.
//
// DESIGN (STYLE §2, a thin driver around the pure core in park/raft/):
// - The io thread owns the Raft core, the store and every callback. A storage thread does the
//   leader's log writes; a follower writes on its io thread while the storage thread is idle
//   (writes_inline()). Each Ready is handled in the core's order: its `messages` go out at
//   once; its hard state, snapshot and entries go to the log as one write and one fdatasync;
//   back on the io thread `messages_after_persist` go out, the snapshot and committed entries
//   are applied, clients are answered, and then advance().
// - Group commit: while one write is on disk, new proposals pile up in the core and the
//   Readies taken meanwhile queue for the storage thread, which writes them all as the next
//   write. Proposals arriving within one io-loop turn enter the core as one batch.
// - A proposal is answered when the entry at its index commits with the term it was proposed
//   in; if another leader's entry commits there instead, or we lose leadership first, the
//   client is told to retry — its (client id, seq) makes the retry exactly-once.
// - Linearizable reads use ReadIndex: reads that arrive together share one confirmation
//   round and are served once the store has applied the read index.
// - A failed write to storage is never retried: the server stops taking part (no more
//   ticks, steps or answers but errors), says so in its log and tells its owner
//   (Callbacks::storage_failed), which stops the process; the others carry on.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/asio.hpp"
#include "core/metrics.hpp"
#include "core/rpc_client.hpp"
#include "fourinone/config.hpp"
#include "park/log/log_storage.hpp"
#include "park/raft/raft.hpp"
#include "park/server/member_book.hpp"
#include "park/server/peer_transport.hpp"
#include "park/store/command.hpp"

namespace fourinone::park {

class ReplicatedLog {
 public:
  using Done = std::function<void(const ApplyResult& result)>;
  using ReadDone = std::function<void(const Status& status)>;
  using Apply = std::function<ApplyResult(const Command& command)>;
  using SaveSnapshot = std::function<std::string()>;
  using LoadSnapshot = std::function<Status(const std::string& data)>;
  using RoleChanged = std::function<void(raft::Role role, raft::NodeId leader, std::uint64_t term)>;

  struct Options {
    // Our Raft id (park/server/member_id.hpp). 0: joining a running group; the id comes with
    // the leader's first message and is handed to save_self before anything else happens.
    raft::NodeId self = 1;
    // PARK/SERVERS: the bootstrap membership of a new group (member i + 1 is servers[i]). Once
    // the log or a snapshot holds a membership, that one counts (member_book.hpp).
    std::vector<ServerAddress> servers;
    std::map<ServerAddress, ServerAddress> routes;  // reach the member at A through B instead
    std::function<Status(raft::NodeId)> save_self;  // joining: make the given id durable
    std::chrono::milliseconds tick{50};
    int election_ticks = 6;                    // 300-600 ms without a leader starts an election
    int heartbeat_ticks = 1;
    bool lease_reads = true;                   // raft::Config::lease_reads
    std::uint64_t snapshot_every = 100'000;    // applied entries between snapshots
    std::size_t max_batch = 4096;              // proposals per core batch
    core::RpcClientOptions peer_client;        // login and frame limit for links to peers
    std::uint64_t seed = 0;                    // 0: from the clock (tests may fix it)
  };

  struct Callbacks {
    Apply apply;
    SaveSnapshot save_snapshot;
    LoadSnapshot load_snapshot;
    RoleChanged role_changed;
    // Once, when a write to the log failed: this server can no longer take part (it never
    // acknowledges what is not durable, and a failed fsync is not retried and hoped over).
    std::function<void(const Status& why)> storage_failed;
  };

  // `restore` is what recovery read from `log` (park/server/recovery.hpp); restore.applied is
  // the last index already in the state machine.
  ReplicatedLog(boost::asio::io_context& io, std::unique_ptr<LogStorage> log, raft::Restore restore, Options options,
                Callbacks callbacks);
  ~ReplicatedLog();

  void start();
  // Hands leadership to the most caught-up follower (if we lead and have one), waits up to
  // `wait` for it to take over, then stops; `done` runs on the io thread.
  void shutdown(std::chrono::milliseconds wait, std::function<void()> done);

  void propose(Command command, Done done);
  // Calls `done` with OK once a read at this moment is linearizable on this server, or with
  // not_leader / unavailable.
  void read_barrier(ReadDone done);
  void on_peer_messages(raft::NodeId from, std::vector<raft::Message> messages);

  // Membership changes (thesis §4.1, one server at a time): add puts `address` in as a
  // learner under a new id (the leader promotes it to voter once it has caught up); remove
  // takes the member at `address` out. `done` runs once the change is committed, or with
  // not_leader, exists, not_found, bad_request, or unavailable (a change still pending: retry).
  enum class MemberChange { add, remove };
  void change_membership(MemberChange change, const ServerAddress& address, std::function<void(const Status&)> done);
  struct Member {
    raft::NodeId id = 0;
    ServerAddress address;
    bool voter = false;  // else a learner catching up
  };
  std::vector<Member> members() const;  // the membership in effect (the latest in the log)
  void on_peer_chunk(proto::PeerChunk chunk);

  // Observers (io thread).
  bool is_leader() const;
  raft::Role role() const;
  raft::NodeId leader() const;
  std::string leader_address() const;  // "" when unknown
  std::uint64_t term() const;
  std::uint64_t commit_index() const;
  std::uint64_t match_index(raft::NodeId server) const;
  bool peer_connected(raft::NodeId server) const;
  int ticks_since_heard(raft::NodeId server) const;
  int election_ticks() const { return options_.election_ticks; }
  raft::NodeId self() const { return options_.self; }  // 0 while waiting to join
  bool failed() const { return !failure_.ok(); }
  std::uint64_t applied_index() const { return applied_; }
  std::uint64_t last_log_index() const;
  std::uint64_t snapshot_index() const { return snapshot_index_; }

  // For /metrics; bumped on the storage thread, read from any.
  struct Stats {
    core::Histogram write_seconds;     // one log write, fsync included
    core::Counter writes;
    core::Counter written_entries;
    core::Counter written_bytes;       // entry payloads
    core::Histogram snapshot_seconds;  // saving a snapshot
    core::Counter snapshots;
    std::atomic<std::uint64_t> snapshot_bytes{0};  // the last one saved
    core::Counter leader_changes;      // this server saw a new leader (or none)
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Pending {
    std::uint64_t term = 0;
    Command command;  // applied from here on the leader: no decode of our own entries
    Done done;
  };
  struct PendingRead {
    std::uint64_t index = 0;  // 0 until the core answers the round
    std::vector<ReadDone> waiters;
  };

  raft::Config core_config() const;
  bool adopt_id(const std::vector<raft::Message>& messages);
  void refresh_members();
  std::string address_of(raft::NodeId id) const;
  void schedule_tick();
  void catch_up_ticks();
  void flush_proposals();
  void flush_reads();
  struct InFlight {
    raft::Ready ready;
    bool persisted = false;
    Status status;
  };
  void schedule_ready();
  void process_ready();
  void apply_early();
  void note_read_states(const raft::Ready& ready);
  void compact_when_applied();
  void drain_inflight();
  // Readies that go to the log as one write (and one fsync): one per Ready when taken, merged
  // on the storage thread with those queued behind it.
  struct WriteBatch {
    std::vector<std::shared_ptr<InFlight>> flights;
    std::optional<HardState> hard_state;
    bool has_snapshot() const { return !flights.empty() && flights.front()->ready.snapshot.has_value(); }
  };
  void start_write(std::shared_ptr<InFlight> flight);
  bool writes_inline() const;
  void drain_storage_queue();
  Status write_batch(const WriteBatch& batch);
  void on_written(const WriteBatch& batch, const Status& status);
  void on_persisted(raft::Ready& ready, const Status& status);
  void apply_committed(const raft::Entry& entry);
  void serve_reads();
  void maybe_snapshot();
  void note_role();
  void note_snapshot_saved(std::size_t bytes, std::chrono::steady_clock::duration took);  // any thread
  void fail_all(const Status& why);
  void fail_storage(const Status& status);
  Status not_leader_status() const;

  boost::asio::io_context& io_;
  Stats stats_;
  // After construction, written by one thread at a time: the storage thread while
  // storage_jobs_ > 0, else a follower's io thread (writes_inline()).
  std::unique_ptr<LogStorage> log_;
  Options options_;
  Callbacks callbacks_;
  std::unique_ptr<raft::Raft> raft_;
  PeerTransport transport_;
  boost::asio::steady_timer tick_timer_;
  std::chrono::steady_clock::time_point last_tick_;  // when the core's clock last advanced

  boost::asio::io_context storage_io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> storage_work_;
  std::thread storage_thread_;

  std::vector<Command> queued_;           // proposals of this io-loop turn
  std::vector<Done> queued_done_;
  bool flush_posted_ = false;
  std::map<std::uint64_t, Pending> pending_;   // by log index
  struct PendingChange {
    std::uint64_t term = 0;
    std::function<void(const Status&)> done;
  };
  std::map<std::uint64_t, PendingChange> changes_;  // membership proposals, by log index
  MemberBook book_;                                 // addresses of the membership in effect
  std::uint64_t book_index_ = UINT64_MAX;           // raft membership_index() it was made for
  std::map<raft::NodeId, ServerAddress> peers_;  // last handed to transport_
  std::string members_described_;                 // last logged
  // The membership the applied state includes (stored with our snapshots); nothing while it
  // is the bootstrap one.
  std::optional<raft::Membership> applied_membership_;
  std::vector<ReadDone> queued_reads_;
  bool read_flush_posted_ = false;
  std::uint64_t next_read_context_ = 1;
  std::map<std::uint64_t, PendingRead> reads_;  // by context
  std::deque<std::shared_ptr<InFlight>> inflight_;  // taken from the core, in order
  int storage_jobs_ = 0;  // batches queued for the storage thread and not yet back (io thread)
  std::mutex storage_mutex_;
  std::deque<std::shared_ptr<WriteBatch>> storage_queue_;  // guarded by storage_mutex_
  bool storage_draining_ = false;                           // guarded by storage_mutex_
  Status storage_failure_;  // storage thread: the first failed write
  bool ready_posted_ = false;
  std::optional<raft::HardState> latest_hard_state_;  // not yet written (commit-only changes)
  std::uint64_t applied_ = 0;
  std::uint64_t applied_term_ = 0;  // term of the entry at applied_ (for snapshots)
  std::uint64_t snapshot_index_ = 0;
  // A stored snapshot the core may compact to once its applied index gets there.
  struct PendingCompaction {
    std::uint64_t index = 0;
    std::shared_ptr<const std::string> data;
  };
  std::optional<PendingCompaction> pending_compaction_;
  raft::Role last_role_ = raft::Role::follower;
  raft::NodeId last_leader_ = 0;
  std::uint64_t last_term_ = 0;
  Status failure_;
  bool stopped_ = false;
  std::function<void()> on_transferred_;  // shutdown waiting for leadership to move
};

}  // namespace fourinone::park
