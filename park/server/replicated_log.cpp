#include "park/server/replicated_log.hpp"

#include <spdlog/spdlog.h>

#include <limits>
#include <random>

#include "core/wire_archive.hpp"
#include "park/server/recovery.hpp"
#include "park/server/stored_snapshot.hpp"
#include "park/store/serialize.hpp"

namespace fourinone::park {
namespace asio = boost::asio;

namespace {

// A noop entry (a new leader's first) is stored with empty data: a Command never encodes to
// nothing, so the two cannot be confused.
LogEntry to_log_entry(const raft::Entry& e) {
  return LogEntry{e.index, e.term, e.type == raft::EntryType::noop ? std::string() : e.data};
}

// The core's id while a joining server waits for its own: no message is ever addressed to it.
constexpr raft::NodeId kNotYetJoined = std::numeric_limits<raft::NodeId>::max();

}  // namespace

ReplicatedLog::ReplicatedLog(asio::io_context& io, std::unique_ptr<LogStorage> log, raft::Restore restore,
                             Options options, Callbacks callbacks)
    : io_(io),
      log_(std::move(log)),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      transport_(io, PeerTransport::Options{options_.self, {}, options_.peer_client}),
      tick_timer_(io),
      storage_work_(storage_io_.get_executor()),
      applied_(restore.applied) {
  snapshot_index_ = restore.snapshot ? restore.snapshot->index : 0;
  if (restore.snapshot && restore.snapshot->index == applied_) applied_term_ = restore.snapshot->term;
  if (restore.snapshot) applied_membership_ = restore.snapshot->membership;
  for (const auto& e : restore.entries) {
    if (e.index == applied_) applied_term_ = e.term;
    if (e.index <= applied_ && e.type == raft::EntryType::membership) applied_membership_ = raft::decode_membership(e.data);
  }
  raft_ = std::make_unique<raft::Raft>(core_config(), std::move(restore));
  last_role_ = raft_->role();
  last_term_ = raft_->term();
  refresh_members();
  storage_thread_ = std::thread([this] { storage_io_.run(); });
}

raft::Config ReplicatedLog::core_config() const {
  raft::Config config;
  config.id = options_.self != 0 ? options_.self : kNotYetJoined;
  // A joining server has no bootstrap membership: it must not count itself among PARK/SERVERS.
  if (options_.self != 0) {
    for (std::size_t i = 0; i < options_.servers.size(); ++i) config.servers.push_back(i + 1);
  }
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.lease_reads = options_.lease_reads;
  config.seed = options_.seed ? options_.seed : std::random_device{}() ^ static_cast<std::uint64_t>(options_.self);
  return config;
}

// The membership in effect changed (or this is the first look): the transport follows it.
void ReplicatedLog::refresh_members() {
  if (raft_->membership_index() == book_index_) return;
  auto book = member_book_of(raft_->membership(), options_.servers);
  if (!book.ok()) {
    // Every server reads the same entry: this is a bug or corruption, not bad input.
    spdlog::critical("the group's membership at index {} is unusable: {}", raft_->membership_index(),
                     book.status().message());
    std::abort();
  }
  book_ = std::move(book).value();
  book_index_ = raft_->membership_index();
  std::map<raft::NodeId, ServerAddress> peers;
  const raft::Membership& m = raft_->membership();
  std::string described;
  for (const auto& [id, address] : book_.addresses) {
    if (!m.contains(id)) continue;
    described += (described.empty() ? "" : ", ") + address.to_string() + (m.is_learner(id) ? " (learner)" : "");
    if (id == options_.self) continue;
    auto route = options_.routes.find(address);
    peers[id] = route != options_.routes.end() ? route->second : address;
  }
  // The index also moves when a snapshot takes the membership entry's place in the log; the
  // members are then the same and nothing more is to be done.
  if (peers == peers_ && described == members_described_) return;
  peers_ = peers;
  members_described_ = described;
  transport_.set_peers(std::move(peers));
  spdlog::info("group members (as of log index {}): {}", book_index_, described);
  if (options_.self != 0 && !m.contains(options_.self) && book_index_ != 0) {
    spdlog::warn("this server is not a member of the group any more; it can be stopped");
  }
}

std::string ReplicatedLog::address_of(raft::NodeId id) const {
  auto it = book_.addresses.find(id);
  return it != book_.addresses.end() ? it->second.to_string() : std::string();
}

// A joining server takes the id the leader's first message is addressed to. The frame came on
// a connection that proved the group key (when one is set), so it is the group speaking.
bool ReplicatedLog::adopt_id(const std::vector<raft::Message>& messages) {
  const raft::Message* first = nullptr;
  for (const auto& m : messages) {
    if (m.type == raft::MessageType::append || m.type == raft::MessageType::heartbeat ||
        m.type == raft::MessageType::install_snapshot) {
      first = &m;
      break;
    }
  }
  if (first == nullptr || first->to == 0 || first->to == kNotYetJoined) return false;
  if (log_->last_index() != 0 || storage_jobs_ != 0) return false;  // only a server that holds nothing
  if (options_.save_self) {
    if (Status s = options_.save_self(first->to); !s.ok()) {
      fail_storage(s);
      return false;
    }
  }
  options_.self = first->to;
  transport_.set_self(options_.self);
  raft_ = std::make_unique<raft::Raft>(core_config(), raft::Restore{});
  book_index_ = UINT64_MAX;
  refresh_members();
  spdlog::info("joined the group as member {}", options_.self);
  return true;
}

ReplicatedLog::~ReplicatedLog() {
  stopped_ = true;
  transport_.stop();
  storage_work_.reset();
  if (storage_thread_.joinable()) storage_thread_.join();
}

void ReplicatedLog::start() {
  last_tick_ = std::chrono::steady_clock::now();
  schedule_tick();
  schedule_ready();
}

void ReplicatedLog::schedule_tick() {
  tick_timer_.expires_at(last_tick_ + options_.tick);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_ || failed()) return;
    catch_up_ticks();
    refresh_members();  // a leader promotes caught-up learners on its ticks
    note_role();
    schedule_ready();
    schedule_tick();
  });
}

// The lease (raft::Config::lease_reads) needs a leader's clock never to run slow: a timer that
// fires late, or a busy io loop, must not make it believe less time has passed. So a leader
// ticks once for every whole period since the last tick. A follower ticks at most once per
// call: a clock that runs slow there only postpones its elections, which is the safe side.
void ReplicatedLog::catch_up_ticks() {
  const auto now = std::chrono::steady_clock::now();
  if (now < last_tick_ + options_.tick) return;
  if (!is_leader()) {
    last_tick_ = now;
    raft_->tick();
    return;
  }
  auto due = (now - last_tick_) / options_.tick;
  last_tick_ += due * options_.tick;
  for (; due > 0 && is_leader(); --due) raft_->tick();
}

// --- writes ----------------------------------------------------------------------------------

Status ReplicatedLog::not_leader_status() const {
  std::string where = leader_address();
  return Status(Errc::not_leader, where.empty() ? "no leader is known yet; retry"
                                                : "this server is not the leader; the leader is " + where);
}

void ReplicatedLog::propose(Command command, Done done) {
  if (stopped_) return done(ApplyResult{Status(Errc::unavailable, "server shutting down")});
  if (failed()) return done(ApplyResult{failure_});
  if (!is_leader()) return done(ApplyResult{not_leader_status()});
  queued_.push_back(std::move(command));
  queued_done_.push_back(std::move(done));
  if (queued_.size() >= options_.max_batch) {
    flush_proposals();
  } else if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(io_, [this] {
      flush_posted_ = false;
      flush_proposals();
    });
  }
}

void ReplicatedLog::flush_proposals() {
  if (queued_.empty() || stopped_) return;
  std::vector<Command> commands = std::move(queued_);
  std::vector<Done> dones = std::move(queued_done_);
  queued_.clear();
  queued_done_.clear();
  std::vector<std::string> data;
  data.reserve(commands.size());
  for (const auto& c : commands) data.push_back(core::encode(c));
  auto r = raft_->propose(std::move(data));
  if (r.error != raft::ProposeError::none) {
    Status why = r.error == raft::ProposeError::transferring
                     ? Status(Errc::not_leader, "leadership is being handed over; retry")
                 : r.error == raft::ProposeError::too_large
                     ? Status(Errc::unavailable, "too many writes are waiting for the group to commit; retry later")
                     : not_leader_status();
    for (auto& d : dones) d(ApplyResult{why});
    return;
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    pending_[r.index + i] = Pending{r.term, std::move(commands[i]), std::move(dones[i])};
  }
  schedule_ready();
}

// --- membership ------------------------------------------------------------------------------

void ReplicatedLog::change_membership(MemberChange change, const ServerAddress& address,
                                      std::function<void(const Status&)> done) {
  if (stopped_) return done(Status(Errc::unavailable, "server shutting down"));
  if (failed()) return done(failure_);
  if (!is_leader()) return done(not_leader_status());
  auto next = change == MemberChange::add ? membership_adding(raft_->membership(), options_.servers, address)
                                          : membership_removing(raft_->membership(), options_.servers, address);
  if (!next.ok()) return done(next.status());
  flush_proposals();  // proposals queued before this change go first, as they arrived
  auto r = raft_->propose_membership(std::move(next).value());
  switch (r.error) {
    case raft::ProposeError::none:
      break;
    case raft::ProposeError::change_pending:
      return done(Status(Errc::unavailable,
                         "an earlier membership change (or a learner's promotion) is not committed yet; retry"));
    case raft::ProposeError::bad_change:
      return done(Status(Errc::bad_request, "the group refuses this change (one server at a time, a voter left)"));
    case raft::ProposeError::transferring:
      return done(Status(Errc::not_leader, "leadership is being handed over; retry"));
    default:
      return done(not_leader_status());
  }
  spdlog::info("proposed to {} {} at log index {}", change == MemberChange::add ? "add" : "remove", address.to_string(),
               r.index);
  changes_[r.index] = PendingChange{r.term, std::move(done)};
  refresh_members();
  schedule_ready();
}

// --- reads -----------------------------------------------------------------------------------

void ReplicatedLog::read_barrier(ReadDone done) {
  if (stopped_) return done(Status(Errc::unavailable, "server shutting down"));
  if (failed()) return done(failure_);
  if (!is_leader()) return done(not_leader_status());
  queued_reads_.push_back(std::move(done));
  if (!read_flush_posted_) {
    read_flush_posted_ = true;
    asio::post(io_, [this] {
      read_flush_posted_ = false;
      flush_reads();
    });
  }
}

void ReplicatedLog::flush_reads() {
  if (queued_reads_.empty() || stopped_) return;
  std::uint64_t context = next_read_context_++;
  std::vector<ReadDone> waiters = std::move(queued_reads_);
  queued_reads_.clear();
  catch_up_ticks();  // the lease is judged by an up-to-date clock
  note_role();
  if (!raft_->read_index(context)) {
    Status why = not_leader_status();
    for (auto& w : waiters) w(why);
    schedule_ready();  // what the ticks produced
    return;
  }
  reads_[context] = PendingRead{0, std::move(waiters)};
  schedule_ready();
}

void ReplicatedLog::serve_reads() {
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.index != 0 && it->second.index <= applied_) {
      for (auto& w : it->second.waiters) w(Status());
      it = reads_.erase(it);
    } else {
      ++it;
    }
  }
}

// --- the Ready loop --------------------------------------------------------------------------

void ReplicatedLog::on_peer_messages(raft::NodeId from, std::vector<raft::Message> messages) {
  if (stopped_ || failed()) return;
  if (options_.self == 0 && !adopt_id(messages)) return;  // still waiting for the group's leader
  for (auto& m : messages) {
    // The sender's id comes from the frame; a message claiming another sender, or not meant
    // for us, is dropped rather than trusted.
    if (m.from != from || m.to != options_.self) {
      spdlog::warn("dropping a raft message from {} claiming {} -> {}", from, m.from, m.to);
      continue;
    }
    raft_->step(m);
  }
  refresh_members();
  note_role();
  schedule_ready();
}

void ReplicatedLog::on_peer_chunk(proto::PeerChunk chunk) {
  if (stopped_ || failed()) return;
  raft::NodeId from = chunk.from;
  if (auto request = transport_.on_chunk(std::move(chunk))) {
    if (request->from != from) return;
    on_peer_messages(from, std::move(request->messages));
  }
}

// Everything that happens in one turn of the io loop (several peer frames, a batch of
// proposals, a finished write) goes out as one Ready: fewer, larger messages and writes.
void ReplicatedLog::schedule_ready() {
  if (ready_posted_) return;
  ready_posted_ = true;
  asio::post(io_, [this] {
    ready_posted_ = false;
    process_ready();
  });
}

void ReplicatedLog::process_ready() {
  if (stopped_ || failed() || !raft_->has_ready()) return;
  // Readies are pipelined: this one's messages leave now, even while earlier readies are
  // still on disk; persistence and application happen strictly in the order taken.
  auto flight = std::make_shared<InFlight>();
  flight->ready = raft_->ready();
  raft::Ready& ready = flight->ready;
  if (!ready.messages.empty()) transport_.send(std::move(ready.messages));
  ready.messages.clear();
  inflight_.push_back(flight);
  note_read_states(ready);
  apply_early();

  if (ready.hard_state) latest_hard_state_ = ready.hard_state;
  bool must_write = ready.snapshot || !ready.entries.empty() || ready.must_sync;
  if (!must_write) {
    // A commit-only change of the hard state need not cost an fsync: the commit index can be
    // recomputed after a crash, so it rides along with the next real write.
    flight->persisted = true;
    drain_inflight();
    return;
  }
  start_write(flight);
}

// Under load the leader always has a Ready on disk, and a Ready that only carries commits
// would wait behind it: every client write one more fsync late. So committed entries are
// applied, and their clients answered, as soon as they are durable on this server, whichever
// in-flight Ready carries them; on_persisted() then finds them applied and skips them. Strictly
// in index order (a commit may run ahead of our own disk: two followers are a majority too),
// only on a leader (a follower's committed entries may be in the very Ready on its way to
// disk, and may replace older entries there), and never past a snapshot still waiting in an
// earlier Ready. Read states only name an index to wait for: note_read_states() notes them as
// soon as the Ready is taken, on any server.
void ReplicatedLog::apply_early() {
  if (is_leader()) {
    const std::uint64_t durable = raft_->match_index(options_.self);
    for (const auto& flight : inflight_) {
      if (flight->ready.snapshot && !flight->persisted) break;
      const auto& committed = flight->ready.committed;
      if (committed.empty() || committed.back().index <= applied_) continue;  // nothing new here
      for (const auto& entry : committed) {
        if (entry.index <= applied_) continue;
        if (entry.index != applied_ + 1 || entry.index > durable) return serve_reads();
        apply_committed(entry);
      }
    }
  }
  serve_reads();
}

void ReplicatedLog::note_read_states(const raft::Ready& ready) {
  for (const auto& rs : ready.read_states) {
    auto it = reads_.find(rs.context);
    if (it != reads_.end()) it->second.index = std::max<std::uint64_t>(rs.index, 1);
  }
}

// Group commit: the storage thread writes whatever is queued for it as one transaction and
// one fsync, so the Readies taken while a write is on disk (their messages already sent) go
// down together when it returns. It takes the next batch off its queue itself: waiting for
// the io thread to hand it over cost two thread wake-ups between consecutive fsyncs, which
// on a busy machine left the disk idle for about as long as it wrote.
void ReplicatedLog::start_write(std::shared_ptr<InFlight> flight) {
  auto batch = std::make_shared<WriteBatch>();
  batch->flights.push_back(std::move(flight));
  if (latest_hard_state_) {
    batch->hard_state = HardState{latest_hard_state_->term, latest_hard_state_->vote, latest_hard_state_->commit};
    latest_hard_state_.reset();
  }
  if (writes_inline() && !batch->has_snapshot()) return on_written(*batch, write_batch(*batch));
  ++storage_jobs_;
  std::lock_guard lock(storage_mutex_);
  storage_queue_.push_back(std::move(batch));
  if (!storage_draining_) {
    storage_draining_ = true;
    asio::post(storage_io_, [this] { drain_storage_queue(); });
  }
}

// Storage thread. Consecutive batches without a snapshot merge into one write (a snapshot
// replaces the log: it travels alone, later entries go in the next write); after a failed
// write nothing more is written (a later append would leave a gap) and every batch queued
// after it fails the same way.
void ReplicatedLog::drain_storage_queue() {
  for (;;) {
    std::deque<std::shared_ptr<WriteBatch>> queued;
    {
      std::lock_guard lock(storage_mutex_);
      if (storage_queue_.empty()) {
        storage_draining_ = false;
        return;
      }
      queued.swap(storage_queue_);
    }
    while (!queued.empty()) {
      auto merged = std::move(queued.front());
      queued.pop_front();
      int jobs = 1;
      while (!merged->has_snapshot() && !queued.empty() && !queued.front()->has_snapshot()) {
        auto& next = *queued.front();
        merged->flights.insert(merged->flights.end(), next.flights.begin(), next.flights.end());
        if (next.hard_state) merged->hard_state = next.hard_state;
        queued.pop_front();
        ++jobs;
      }
      Status status = storage_failure_.ok() ? write_batch(*merged) : storage_failure_;
      if (!status.ok()) storage_failure_ = status;
      asio::post(io_, [this, merged, status, jobs] {
        storage_jobs_ -= jobs;
        on_written(*merged, status);
      });
    }
  }
}

// Whichever thread owns the log at the moment (see log_).
Status ReplicatedLog::write_batch(const WriteBatch& batch) {
  std::vector<LogEntry> entries;
  for (const auto& flight : batch.flights) {
    const raft::Ready& rd = flight->ready;
    if (rd.snapshot) {
      const auto& snap = *rd.snapshot;
      const auto started = std::chrono::steady_clock::now();
      std::string wrapped = wrap_snapshot(snap.membership, snap.data ? *snap.data : std::string());
      const std::size_t size = wrapped.size();
      if (Status s = log_->save_snapshot(Snapshot{snap.index, snap.term, std::move(wrapped)}); !s.ok()) return s;
      note_snapshot_saved(size, std::chrono::steady_clock::now() - started);
    }
    if (rd.entries.empty()) continue;
    // A later ready may replace the tail of an earlier one (a new leader's entries).
    std::uint64_t first = rd.entries.front().index;
    while (!entries.empty() && entries.back().index >= first) entries.pop_back();
    for (const auto& e : rd.entries) entries.push_back(to_log_entry(e));
  }
  if (!batch.hard_state && entries.empty()) return Status();
  const auto started = std::chrono::steady_clock::now();
  Status s = log_->write(batch.hard_state, entries);
  stats_.write_seconds.observe(std::chrono::steady_clock::now() - started);
  stats_.writes.add();
  stats_.written_entries.add(entries.size());
  std::uint64_t bytes = 0;
  for (const auto& e : entries) bytes += e.data.size();
  stats_.written_bytes.add(bytes);
  return s;
}

void ReplicatedLog::on_written(const WriteBatch& batch, const Status& status) {
  for (const auto& flight : batch.flights) {
    flight->persisted = true;
    flight->status = status;
  }
  drain_inflight();
}

// A follower writes its log on the io thread itself when the storage thread has nothing
// queued (so the log still sees one writer, in order). Its io thread has little else to do:
// it only takes the leader's appends and answers them once they are durable, and appends that
// arrive during the write wait in the socket and make the next batch. Handing each batch to
// the storage thread and back cost two thread wake-ups per batch on the path of every write's
// commit. A leader keeps the storage thread: it must go on taking proposals and sending
// appends while its own write runs. Snapshots always go to the storage thread: a large one
// would stall the heartbeat answers long enough to cost the leader its quorum.
bool ReplicatedLog::writes_inline() const { return storage_jobs_ == 0 && !is_leader(); }

void ReplicatedLog::drain_inflight() {
  while (!inflight_.empty() && inflight_.front()->persisted && !stopped_ && !failed()) {
    auto flight = inflight_.front();
    inflight_.pop_front();
    on_persisted(flight->ready, flight->status);
  }
  // Our own disk got further: committed entries of Readies still in flight may be durable now.
  if (!stopped_ && !failed()) apply_early();
  schedule_ready();
}

void ReplicatedLog::on_persisted(raft::Ready& ready, const Status& status) {
  if (!status.ok()) return fail_storage(status);
  // Votes and acknowledgements promise durable state: only now may they leave.
  if (!ready.messages_after_persist.empty()) transport_.send(std::move(ready.messages_after_persist));
  ready.messages_after_persist.clear();
  if (ready.snapshot) {
    const auto& s = *ready.snapshot;
    if (Status loaded = callbacks_.load_snapshot(s.data ? *s.data : std::string()); !loaded.ok()) {
      return fail_storage(Status(Errc::internal, "installing the leader's snapshot at index " +
                                                     std::to_string(s.index) + ": " + loaded.message()));
    }
    applied_ = s.index;
    applied_term_ = s.term;
    applied_membership_ = s.membership;
    snapshot_index_ = s.index;
    // Proposals at or below the snapshot can no longer be matched to their entries.
    for (auto it = pending_.begin(); it != pending_.end() && it->first <= s.index;) {
      it->second.done(ApplyResult{Status(Errc::unavailable, "the outcome is unknown after a snapshot; retry")});
      it = pending_.erase(it);
    }
    for (auto it = changes_.begin(); it != changes_.end() && it->first <= s.index;) {
      it->second.done(Status(Errc::unavailable, "the outcome is unknown after a snapshot; look at the members"));
      it = changes_.erase(it);
    }
    spdlog::info("installed the leader's snapshot at index {}", s.index);
  }
  for (const auto& entry : ready.committed) apply_committed(entry);
  serve_reads();  // read states were noted when the Ready was taken (process_ready)
  raft_->advance(ready);
  refresh_members();
  compact_when_applied();
  maybe_snapshot();
  note_role();
  if (on_transferred_ && !is_leader()) std::exchange(on_transferred_, nullptr)();
}

void ReplicatedLog::apply_committed(const raft::Entry& entry) {
  if (failed() || entry.index <= applied_) return;  // already in the store (restart, snapshot, apply_early)
  if (entry.index != applied_ + 1) {
    // Skipping an entry would leave this store behind the others for good.
    return fail_storage(Status(Errc::internal, "entry " + std::to_string(entry.index) + " arrived to apply after " +
                                                   std::to_string(applied_) + ": the entries between are missing"));
  }
  applied_ = entry.index;
  applied_term_ = entry.term;
  if (entry.type == raft::EntryType::membership) {
    applied_membership_ = raft::decode_membership(entry.data);
    if (auto c = changes_.find(entry.index); c != changes_.end()) {
      auto done = std::move(c->second.done);
      const bool ours = c->second.term == entry.term;
      changes_.erase(c);
      done(ours ? Status() : Status(Errc::not_leader, "another leader took over before the change; retry"));
    }
  }
  auto it = pending_.find(entry.index);
  if (entry.type == raft::EntryType::noop || entry.type == raft::EntryType::membership) {
    if (it != pending_.end()) {
      it->second.done(ApplyResult{Status(Errc::not_leader, "another leader took over before the write; retry")});
      pending_.erase(it);
    }
    return;
  }
  if (it != pending_.end() && it->second.term == entry.term) {
    // Our own proposal: apply the command we still hold (no decode) and answer.
    ApplyResult result = callbacks_.apply(it->second.command);
    auto done = std::move(it->second.done);
    pending_.erase(it);
    done(result);
    return;
  }
  if (it != pending_.end()) {
    it->second.done(ApplyResult{Status(Errc::not_leader, "another leader took over before the write; retry")});
    pending_.erase(it);
  }
  Command command;
  if (Status s = core::decode(entry.data, command, "log entry"); !s.ok()) {
    // Every replica decodes the same bytes, so this is a bug or corruption, not bad input.
    spdlog::critical("committed log entry {} does not decode: {}", entry.index, s.message());
    std::abort();
  }
  (void)callbacks_.apply(command);
}

void ReplicatedLog::compact_when_applied() {
  if (!pending_compaction_ || raft_->applied_index() < pending_compaction_->index) return;
  auto [index, data] = std::move(*pending_compaction_);
  pending_compaction_.reset();
  raft_->compact(index, data);
  spdlog::info("snapshot at index {} ({} bytes); log compacted", index, data->size());
}

void ReplicatedLog::maybe_snapshot() {
  if (applied_ - snapshot_index_ < options_.snapshot_every) return;
  auto data = std::make_shared<const std::string>(callbacks_.save_snapshot());
  std::uint64_t index = applied_;
  std::uint64_t term = applied_term_;
  snapshot_index_ = index;
  // Stored first, then the core may drop the entries and hand the snapshot to lagging
  // followers. The serialisation above ran on this thread; the write runs on the storage
  // thread in order with the appends.
  ++storage_jobs_;
  asio::post(storage_io_, [this, index, term, data, membership = applied_membership_] {
    const auto started = std::chrono::steady_clock::now();
    std::string wrapped = wrap_snapshot(membership, *data);
    const std::size_t size = wrapped.size();
    Status s = log_->save_snapshot(Snapshot{index, term, std::move(wrapped)});
    if (s.ok()) note_snapshot_saved(size, std::chrono::steady_clock::now() - started);
    asio::post(io_, [this, index, data, s] {
      --storage_jobs_;
      if (stopped_) return;
      if (!s.ok()) {
        spdlog::error("snapshot at index {} failed: {}", index, s.to_string());
        return;
      }
      // Entries applied early (apply_early) may not have reached the core's advance() yet.
      pending_compaction_ = PendingCompaction{index, data};
      compact_when_applied();
    });
  });
}

// --- roles -----------------------------------------------------------------------------------

void ReplicatedLog::note_role() {
  raft::Role role = raft_->role();
  raft::NodeId leader = raft_->leader();
  std::uint64_t term = raft_->term();
  if (role == last_role_ && leader == last_leader_ && term == last_term_) return;
  if (leader != last_leader_) stats_.leader_changes.add();
  bool was_leader = last_role_ == raft::Role::leader;
  last_role_ = role;
  last_leader_ = leader;
  last_term_ = term;
  spdlog::info("raft: {} in term {}, leader {}", raft::role_name(role), term,
               leader ? address_of(leader) : std::string("unknown"));
  if (was_leader && role != raft::Role::leader) {
    // Whatever we proposed may still commit under the next leader, or not: the clients retry
    // with the same (client id, seq), which the store applies at most once.
    fail_all(not_leader_status());
  }
  if (callbacks_.role_changed) callbacks_.role_changed(role, leader, term);
}

void ReplicatedLog::fail_all(const Status& why) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [index, p] : pending) p.done(ApplyResult{why});
  auto changes = std::move(changes_);
  changes_.clear();
  for (auto& [index, c] : changes) c.done(why);
  auto reads = std::move(reads_);
  reads_.clear();
  for (auto& [context, r] : reads) {
    for (auto& w : r.waiters) w(why);
  }
}

void ReplicatedLog::fail_storage(const Status& status) {
  if (failed()) return;
  failure_ = Status(Errc::internal, "the log could not be written; this server no longer takes part: " +
                                        status.message());
  spdlog::critical("{}", failure_.message());
  tick_timer_.cancel();
  fail_all(failure_);
  if (callbacks_.storage_failed) callbacks_.storage_failed(failure_);
}

void ReplicatedLog::shutdown(std::chrono::milliseconds wait, std::function<void()> done) {
  auto finish = [this, done = std::move(done)] {
    stopped_ = true;
    tick_timer_.cancel();
    fail_all(Status(Errc::unavailable, "server shutting down"));
    transport_.stop();
    done();
  };
  if (!is_leader() || failed()) return finish();
  // Graceful: hand leadership to the voter with the most of the log (thesis §3.10).
  raft::NodeId best = 0;
  for (raft::NodeId id : raft_->membership().voters) {
    if (id != options_.self && (best == 0 || raft_->match_index(id) > raft_->match_index(best))) best = id;
  }
  if (best == 0 || !raft_->transfer_leadership(best)) return finish();
  spdlog::info("handing leadership to {} before stopping", address_of(best));
  auto timer = std::make_shared<asio::steady_timer>(io_);
  auto once = std::make_shared<std::function<void()>>(finish);
  on_transferred_ = [once, timer] {
    timer->cancel();
    if (*once) std::exchange(*once, nullptr)();
  };
  timer->expires_after(wait);
  timer->async_wait([this, once](const boost::system::error_code&) {
    on_transferred_ = nullptr;
    if (*once) std::exchange(*once, nullptr)();
  });
  schedule_ready();
}

// --- observers -------------------------------------------------------------------------------

bool ReplicatedLog::is_leader() const { return raft_->role() == raft::Role::leader; }
raft::Role ReplicatedLog::role() const { return raft_->role(); }
raft::NodeId ReplicatedLog::leader() const { return raft_->leader(); }
std::string ReplicatedLog::leader_address() const { return address_of(raft_->leader()); }

std::vector<ReplicatedLog::Member> ReplicatedLog::members() const {
  std::vector<Member> out;
  const raft::Membership& m = raft_->membership();
  for (const auto& [id, address] : book_.addresses) {
    if (m.contains(id)) out.push_back(Member{id, address, m.is_voter(id)});
  }
  return out;
}
std::uint64_t ReplicatedLog::term() const { return raft_->term(); }
std::uint64_t ReplicatedLog::commit_index() const { return raft_->commit_index(); }
std::uint64_t ReplicatedLog::last_log_index() const { return raft_->last_index(); }

void ReplicatedLog::note_snapshot_saved(std::size_t bytes, std::chrono::steady_clock::duration took) {
  stats_.snapshot_seconds.observe(took);
  stats_.snapshots.add();
  stats_.snapshot_bytes.store(bytes, std::memory_order_relaxed);
}
std::uint64_t ReplicatedLog::match_index(raft::NodeId server) const { return raft_->match_index(server); }
bool ReplicatedLog::peer_connected(raft::NodeId server) const { return transport_.connected(server); }
int ReplicatedLog::ticks_since_heard(raft::NodeId server) const { return raft_->ticks_since_heard(server); }

}  // namespace fourinone::park
