// The Raft simulator: see raft_sim.hpp. Checker first, then the cluster.
#include "tests/support/raft_sim.hpp"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>

namespace fourinone::raft::sim {

namespace {

[[noreturn]] void failf(const std::string& what) { throw SimFailure(what); }

std::string ids_str(const std::vector<NodeId>& ids) {
  std::string out;
  for (NodeId id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

}  // namespace

std::string membership_str(const std::optional<Membership>& m) {
  if (!m) return "{bootstrap}";
  return "{voters " + ids_str(m->voters) + " learners " + ids_str(m->learners) + "}";
}

namespace {

std::string entry_str(const Entry& e) {
  std::ostringstream o;
  o << e.index << "/t" << e.term << (e.type == EntryType::noop ? "/noop" : "");
  if (e.type == EntryType::membership) {
    o << "/membership " << membership_str(decode_membership(e.data));
  } else {
    o << "/'" << e.data << "'";
  }
  return o.str();
}

// 0 absent, 1 learner, 2 voter.
int part_of(const Membership& m, NodeId server) { return m.is_voter(server) ? 2 : m.is_learner(server) ? 1 : 0; }

// The servers whose part differs between two memberships.
std::vector<NodeId> changed_servers(const Membership& a, const Membership& b) {
  std::vector<NodeId> all = a.voters;
  for (const auto* ids : {&a.learners, &b.voters, &b.learners}) all.insert(all.end(), ids->begin(), ids->end());
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<NodeId> out;
  for (NodeId s : all) {
    if (part_of(a, s) != part_of(b, s)) out.push_back(s);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------- LogView / StateMachine

namespace {

// Storage taking a snapshot from the leader, as park/log does (§7 rule 6): stored entries after
// it stay only if the stored entry at its index has its term.
void store_snapshot(std::optional<Snapshot>& stored, LogView& log, const Snapshot& snap) {
  stored = snap;
  if (snap.index > log.snapshot_index() && log.term(snap.index) == snap.term) {
    log.compact(snap.index);
  } else {
    log.reset_to_snapshot(snap.index, snap.term);
  }
}

}  // namespace

std::optional<std::uint64_t> LogView::term(std::uint64_t index) const {
  if (index == snap_index_) return snap_term_;
  if (index < snap_index_ || index > last_index()) return std::nullopt;
  return entries_[index - snap_index_ - 1].term;
}

const Entry* LogView::find(std::uint64_t index) const {
  if (index <= snap_index_ || index > last_index()) return nullptr;
  return &entries_[index - snap_index_ - 1];
}

void LogView::reset_to_snapshot(std::uint64_t index, std::uint64_t t) {
  snap_index_ = index;
  snap_term_ = t;
  entries_.clear();
}

std::size_t LogView::write(const std::vector<Entry>& entries) {
  if (entries.empty()) return 0;
  const std::uint64_t from = entries.front().index;
  if (from <= snap_index_ || from > last_index() + 1) {
    failf("Ready::entries start at " + std::to_string(from) + " outside the log (" +
          std::to_string(snap_index_) + ", " + std::to_string(last_index()) + "]");
  }
  std::size_t deleted = 0;
  while (last_index() >= from) {
    entries_.pop_back();
    ++deleted;
  }
  std::uint64_t expect = from;
  for (const Entry& e : entries) {
    if (e.index != expect++) failf("Ready::entries not contiguous at " + entry_str(e));
    entries_.push_back(e);
  }
  return deleted;
}

void LogView::compact(std::uint64_t index) {
  if (index <= snap_index_) return;
  const auto t = term(index);
  if (!t) failf("compact beyond the log at " + std::to_string(index));
  snap_term_ = *t;
  while (!entries_.empty() && entries_.front().index <= index) entries_.pop_front();
  snap_index_ = index;
}

void StateMachine::apply(const Entry& e) {
  // FNV-1a over (index, type, data), chained: equal digests at an index mean equal histories.
  std::uint64_t h = digest ^ 0xcbf29ce484222325ull;
  auto mix = [&h](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 0x100000001b3ull;
    }
  };
  mix(e.index);
  mix(static_cast<std::uint64_t>(e.type));
  for (unsigned char c : e.data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  digest = h;
  applied = e.index;
}

std::string StateMachine::save() const { return std::to_string(applied) + " " + std::to_string(digest); }

std::optional<StateMachine> StateMachine::load(const std::string& data) {
  StateMachine sm;
  if (std::sscanf(data.c_str(), "%" SCNu64 " %" SCNu64, &sm.applied, &sm.digest) != 2) return std::nullopt;
  return sm;
}

// ---------------------------------------------------------------- SafetyChecker

void SafetyChecker::observe_role(NodeId server, Role role, std::uint64_t term) {
  if (role != Role::leader) return;
  auto [it, inserted] = leader_of_term_.emplace(term, server);
  if (!inserted && it->second != server) {
    failf("election safety: servers " + std::to_string(it->second) + " and " + std::to_string(server) +
          " both lead term " + std::to_string(term));
  }
}

void SafetyChecker::observe_entry(NodeId server, const Entry& e, std::uint64_t prev_term) {
  if (e.term < prev_term) {
    failf("log of server " + std::to_string(server) + ": term goes down at " + entry_str(e));
  }
  auto key = std::make_pair(e.index, e.term);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    entries_.emplace(key, EntryRecord{prev_term, e.type, e.data});
    return;
  }
  const EntryRecord& r = it->second;
  if (r.prev_term != prev_term || r.type != e.type || r.data != e.data) {
    failf("log matching: server " + std::to_string(server) + " holds " + entry_str(e) + " after term " +
          std::to_string(prev_term) + ", another log holds index/term " + std::to_string(e.index) + "/" +
          std::to_string(e.term) + " as '" + r.data + "' after term " + std::to_string(r.prev_term));
  }
}

SafetyChecker::Committed& SafetyChecker::committed_at(std::uint64_t index) {
  if (committed_.size() <= index) committed_.resize(index + 1);
  return committed_[index];
}

void SafetyChecker::note_content(std::uint64_t index, const Entry& e, const char* source) {
  Committed& c = committed_at(index);
  if (!c.have_content) {
    c.have_content = true;
    c.term = e.term;
    c.type = e.type;
    c.data = e.data;
    dirty_.push_back(index);
    return;
  }
  if (c.term != e.term || c.type != e.type || c.data != e.data) {
    failf(std::string("state machine safety: ") + source + " " + entry_str(e) + " but index " +
          std::to_string(index) + " was committed as term " + std::to_string(c.term) + " '" + c.data + "'");
  }
}

void SafetyChecker::observe_commit(NodeId server, std::uint64_t term, std::uint64_t commit, const LogView& log) {
  std::uint64_t& seen = commit_seen_[server];
  max_commit_ = std::max(max_commit_, commit);
  if (commit <= seen) return;
  for (std::uint64_t i = seen + 1; i <= commit; ++i) {
    Committed& c = committed_at(i);
    if (term < c.commit_term) {
      c.commit_term = term;
      dirty_.push_back(i);
    }
    if (const Entry* e = log.find(i)) note_content(i, *e, "committed");
  }
  seen = commit;
}

void SafetyChecker::observe_apply(NodeId server, std::uint64_t term, const Entry& e, const StateMachine& after) {
  std::uint64_t& last = last_applied_[server];
  if (e.index != last + 1) {
    failf("server " + std::to_string(server) + " applied " + entry_str(e) + " after index " +
          std::to_string(last) + " (gap or re-delivery)");
  }
  last = e.index;
  note_content(e.index, e, "applied");
  if (e.type == EntryType::membership) note_membership(server, e);
  Committed& c = committed_at(e.index);
  if (term < c.commit_term) {
    c.commit_term = term;
    dirty_.push_back(e.index);
  }
  auto [it, inserted] = digest_at_.emplace(e.index, after.digest);
  if (!inserted && it->second != after.digest) {
    failf("state machine safety: server " + std::to_string(server) + " has a different state after index " +
          std::to_string(e.index));
  }
}

void SafetyChecker::observe_snapshot_apply(NodeId server, std::uint64_t index, std::uint64_t snapshot_term,
                                           const StateMachine& sm) {
  if (sm.applied != index) {
    failf("snapshot at " + std::to_string(index) + " holds a state machine at " + std::to_string(sm.applied));
  }
  std::uint64_t& last = last_applied_[server];
  if (index <= last) {
    failf("server " + std::to_string(server) + " applied a snapshot at " + std::to_string(index) +
          " after index " + std::to_string(last));
  }
  auto it = digest_at_.find(index);
  if (it == digest_at_.end() || it->second != sm.digest) {
    failf("snapshot at " + std::to_string(index) + " does not match the state anyone applied there");
  }
  const Committed& c = committed_at(index);
  if (c.have_content && c.term != snapshot_term) {
    failf("snapshot at " + std::to_string(index) + " claims term " + std::to_string(snapshot_term) +
          ", committed entry has term " + std::to_string(c.term));
  }
  last = index;
}

void SafetyChecker::observe_state_machine_reset(NodeId server, const StateMachine& sm) {
  if (sm.applied > 0) {
    auto it = digest_at_.find(sm.applied);
    if (it == digest_at_.end() || it->second != sm.digest) {
      failf("server " + std::to_string(server) + " restarted with a state machine at " +
            std::to_string(sm.applied) + " nobody applied");
    }
  }
  last_applied_[server] = sm.applied;
}

void SafetyChecker::check_leader(NodeId server, std::uint64_t term, const LogView& log,
                                 const std::vector<std::uint64_t>& indexes) const {
  auto check_one = [&](std::uint64_t i) {
    if (i >= committed_.size()) return;
    const Committed& c = committed_[i];
    if (!c.have_content || c.commit_term >= term || i <= log.snapshot_index()) return;
    const Entry* e = log.find(i);
    if (e == nullptr || e->term != c.term || e->type != c.type || e->data != c.data) {
      failf("leader completeness: leader " + std::to_string(server) + " of term " + std::to_string(term) +
            " lacks index " + std::to_string(i) + " (term " + std::to_string(c.term) + " '" + c.data +
            "', committed by term " + std::to_string(c.commit_term) + "); it holds " +
            (e ? entry_str(*e) : std::string("nothing")));
    }
  };
  if (indexes.empty()) {
    for (std::uint64_t i = 1; i < committed_.size(); ++i) check_one(i);
  } else {
    for (std::uint64_t i : indexes) check_one(i);
  }
}

void SafetyChecker::note_membership(NodeId server, const Entry& e) {
  if (committed_memberships_.count(e.index)) return;
  auto next = decode_membership(e.data);
  if (!next || !next->well_formed() || next->voters.empty()) {
    failf("server " + std::to_string(server) + " applied a membership entry that is not one: " + entry_str(e));
  }
  // One server at a time (thesis §4.1): each committed membership differs from the one before
  // it in one server's part, so the majorities of consecutive memberships overlap.
  const Membership prev = membership_at(e.index - 1);
  const std::vector<NodeId> changed = changed_servers(prev, *next);
  if (changed.size() > 1) {
    failf("membership: committed " + entry_str(e) + " changes servers " + ids_str(changed) + " at once, after " +
          membership_str(prev));
  }
  ++changes_committed_;
  if (changed.size() == 1 && prev.is_learner(changed[0]) && next->is_voter(changed[0])) ++learners_promoted_;
  if (changed.size() == 1 && !next->contains(changed[0]) && leader_of(e.term) == changed[0]) ++leaders_removed_;
  committed_memberships_.emplace(e.index, std::move(*next));
}

const Membership& SafetyChecker::membership_at(std::uint64_t index) const {
  auto it = committed_memberships_.upper_bound(index);
  return it == committed_memberships_.begin() ? bootstrap_ : std::prev(it)->second;
}

void SafetyChecker::check_snapshot_membership(NodeId server, std::uint64_t index,
                                              const std::optional<Membership>& m) const {
  const Membership& truth = membership_at(index);
  if ((m && *m != truth) || (!m && bootstrap_ != truth)) {
    failf("snapshot membership: server " + std::to_string(server) + " has a snapshot at " + std::to_string(index) +
          " with membership " + membership_str(m) + ", but " + membership_str(truth) + " was in effect there");
  }
}

NodeId SafetyChecker::leader_of(std::uint64_t term) const {
  auto it = leader_of_term_.find(term);
  return it == leader_of_term_.end() ? 0 : it->second;
}

std::vector<std::uint64_t> SafetyChecker::take_dirty() {
  std::vector<std::uint64_t> out;
  out.swap(dirty_);
  return out;
}

void SafetyChecker::observe_read_request(NodeId server, std::uint64_t context) {
  if (!reads_.emplace(context, ReadRequest{server, max_commit_, false}).second) {
    failf("read context " + std::to_string(context) + " used twice");
  }
}

bool SafetyChecker::answered(std::uint64_t context) const {
  auto it = reads_.find(context);
  return it != reads_.end() && it->second.answered;
}

void SafetyChecker::observe_read_state(NodeId server, const ReadState& rs) {
  auto it = reads_.find(rs.context);
  if (it == reads_.end()) failf("ReadState for unknown context " + std::to_string(rs.context));
  ReadRequest& r = it->second;
  if (r.server != server) {
    failf("ReadState " + std::to_string(rs.context) + " came from server " + std::to_string(server) +
          ", asked " + std::to_string(r.server));
  }
  if (r.answered) failf("ReadState " + std::to_string(rs.context) + " answered twice");
  r.answered = true;
  if (rs.index < r.min_index) {
    failf("linearizable read: ReadState " + std::to_string(rs.context) + " at index " + std::to_string(rs.index) +
          " but index " + std::to_string(r.min_index) + " was committed before the read was requested");
  }
}

void SafetyChecker::observe_durable_hard_state(NodeId server, const HardState& before, const HardState& after) const {
  if (after.term < before.term) {
    failf("server " + std::to_string(server) + " stored term " + std::to_string(after.term) + " after " +
          std::to_string(before.term));
  }
  if (after.term == before.term && before.vote != 0 && after.vote != before.vote) {
    failf("server " + std::to_string(server) + " voted for " + std::to_string(after.vote) + " and " +
          std::to_string(before.vote) + " in term " + std::to_string(after.term));
  }
}

// ---------------------------------------------------------------- Scenario / stats

Scenario Scenario::random(std::uint64_t seed, int servers) {
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + static_cast<std::uint64_t>(servers));
  auto pick = [&rng](auto... values) {
    using T = std::common_type_t<decltype(values)...>;
    const T all[] = {static_cast<T>(values)...};
    return all[rng() % sizeof...(values)];
  };
  Scenario s;
  s.seed = seed;
  s.servers = servers;
  s.chaos_ticks = pick(150, 250, 350);
  s.election_ticks = pick(6, 10, 10, 15);
  s.heartbeat_ticks = pick(1, 1, 2);
  s.pre_vote = rng() % 10 != 0;
  s.check_quorum = rng() % 10 != 0;
  s.max_entries_per_message = pick(1, 2, 8, 4096);
  s.max_bytes_per_message = pick(16, 64, 1u << 20);
  s.max_inflight = pick(1, 2, 4, 256);
  s.max_uncommitted_bytes = pick(200, 600, 2000);
  s.loss = pick(0.0, 0.01, 0.05, 0.15, 0.3);
  s.duplicate = pick(0.0, 0.0, 0.02, 0.1);
  s.max_delay = pick(0, 1, 2, 4);
  s.partition_rate = pick(0.0, 0.01, 0.03);
  s.max_partition_ticks = pick(10, 40, 80);
  s.crash_rate = pick(0.0, 0.005, 0.02);
  s.stage_crash = pick(0.0, 0.002, 0.01);
  s.max_down_ticks = pick(5, 30, 60);
  s.slow_disk = pick(0.0, 0.3, 0.8);
  s.durable_state_machine = rng() % 2 == 0;
  s.compact_every = pick(0, 3, 10, 50);
  s.propose_rate = pick(0.2, 0.5, 1.0);
  s.read_rate = pick(0.1, 0.3);
  s.transfer_rate = pick(0.0, 0.0, 0.01);
  s.liveness_ticks = 30 * s.election_ticks;
  // Drawn last, so the draws above (and the runs of older seeds) stay what they were.
  s.lease_reads = s.check_quorum && s.election_ticks - kLeaseMarginTicksForSim > s.heartbeat_ticks && rng() % 2 == 0;
  return s;
}

Scenario Scenario::random_membership(std::uint64_t seed, int servers, int pool) {
  Scenario s = random(seed, servers);
  // A generator of its own: random()'s draws stay what they are for this seed.
  std::mt19937_64 rng(seed * 0xd1b54a32d192ed03ull + static_cast<std::uint64_t>(pool));
  s.pool = pool;
  const double rates[] = {0.02, 0.05, 0.1};
  s.membership_rate = rates[rng() % 3];
  return s;
}

std::string Scenario::describe() const {
  std::ostringstream o;
  o << "seed=" << seed << " servers=" << servers << " pool=" << pool << " chaos_ticks=" << chaos_ticks
    << " election_ticks=" << election_ticks << " heartbeat_ticks=" << heartbeat_ticks
    << " pre_vote=" << pre_vote << " check_quorum=" << check_quorum
    << " max_entries=" << max_entries_per_message << " max_bytes=" << max_bytes_per_message
    << " max_inflight=" << max_inflight << " max_uncommitted=" << max_uncommitted_bytes << " loss=" << loss << " duplicate=" << duplicate
    << " max_delay=" << max_delay << " partition_rate=" << partition_rate
    << " max_partition_ticks=" << max_partition_ticks << " crash_rate=" << crash_rate
    << " stage_crash=" << stage_crash << " max_down_ticks=" << max_down_ticks << " slow_disk=" << slow_disk
    << " durable_sm=" << durable_state_machine << " compact_every=" << compact_every
    << " propose_rate=" << propose_rate << " read_rate=" << read_rate << " transfer_rate=" << transfer_rate
    << " lease_reads=" << lease_reads << " membership_rate=" << membership_rate;
  return o.str();
}

void SimStats::add(const SimStats& o) {
  runs += o.runs;
  events += o.events;
  ticks += o.ticks;
  leaders += o.leaders;
  proposals += o.proposals;
  applied_entries += o.applied_entries;
  messages_sent += o.messages_sent;
  messages_dropped += o.messages_dropped;
  crashes += o.crashes;
  crashes_before_send += o.crashes_before_send;
  crashes_before_persist += o.crashes_before_persist;
  truncations += o.truncations;
  snapshots_taken += o.snapshots_taken;
  snapshots_installed += o.snapshots_installed;
  rejects += o.rejects;
  reads_served += o.reads_served;
  reads_on_lease += o.reads_on_lease;
  transfers_done += o.transfers_done;
  redeliveries += o.redeliveries;
  changes_proposed += o.changes_proposed;
  changes_refused += o.changes_refused;
  changes_committed += o.changes_committed;
  learners_promoted += o.learners_promoted;
  leaders_removed += o.leaders_removed;
  membership_reverts += o.membership_reverts;
  joins += o.joins;
  max_liveness_ticks = std::max(max_liveness_ticks, o.max_liveness_ticks);
  max_catchup_ticks = std::max(max_catchup_ticks, o.max_catchup_ticks);
}

std::string SimStats::describe() const {
  std::ostringstream o;
  o << "runs=" << runs << " ticks=" << ticks << " events=" << events << " leaders=" << leaders
    << " proposals=" << proposals << " applied=" << applied_entries << " sent=" << messages_sent
    << " dropped=" << messages_dropped << " crashes=" << crashes << " (before_persist=" << crashes_before_persist
    << " before_send=" << crashes_before_send << ") truncated_entries=" << truncations
    << " snapshots_taken=" << snapshots_taken << " snapshots_installed=" << snapshots_installed
    << " rejects=" << rejects << " reads_served=" << reads_served << " reads_on_lease=" << reads_on_lease << " transfers=" << transfers_done
    << " redelivered=" << redeliveries;
  if (changes_proposed > 0) {
    o << " changes_proposed=" << changes_proposed << " changes_refused=" << changes_refused
      << " changes_committed=" << changes_committed << " learners_promoted=" << learners_promoted
      << " leaders_removed=" << leaders_removed << " membership_reverts=" << membership_reverts << " joins=" << joins;
  }
  o << " max_liveness_ticks=" << max_liveness_ticks << " max_catchup_ticks=" << max_catchup_ticks;
  return o.str();
}

std::optional<std::uint64_t> seed_from_env() {
  const char* env = std::getenv("RAFT_SEED");
  if (env == nullptr || *env == '\0') return std::nullopt;
  return std::strtoull(env, nullptr, 10);
}

bool trace_from_env() {
  const char* env = std::getenv("RAFT_TRACE");
  return env != nullptr && *env != '\0' && std::strcmp(env, "0") != 0;
}

// ---------------------------------------------------------------- Group (focused tests)

Group::Group(int servers, Config base) : base_(std::move(base)), n_(servers) {
  for (int i = 1; i <= servers; ++i) add_server();
}

NodeId Group::add_server() {
  const auto id = static_cast<NodeId>(rafts_.size() + 1);
  rafts_.push_back(std::make_unique<Raft>(config(id), Restore{}));
  applied_.emplace_back();
  reads_.emplace_back();
  stored_.emplace_back();
  return id;
}

Config Group::config(NodeId id) const {
  Config c = base_;
  c.id = id;
  c.servers.clear();
  if (id > static_cast<NodeId>(n_)) return c;  // joined later: no bootstrap membership
  for (int i = 1; i <= n_; ++i) c.servers.push_back(static_cast<NodeId>(i));
  return c;
}

void Group::flush() {
  for (std::size_t k = 0; k < rafts_.size(); ++k) {
    Raft& r = *rafts_[k];
    Stored& disk = stored_[k];
    while (r.has_ready()) {
      Ready rd = r.ready();
      if (rd.snapshot) {
        store_snapshot(disk.snapshot, disk.log, *rd.snapshot);
        disk.applied_membership = rd.snapshot->membership;
      }
      // A test that took Readies of its own (not through flush) leaves gaps: storage is unusable.
      if (!rd.entries.empty() && (rd.entries.front().index <= disk.log.snapshot_index() ||
                                  rd.entries.front().index > disk.log.last_index() + 1)) {
        disk.bypassed = true;
      }
      if (!disk.bypassed) disk.log.write(rd.entries);
      if (rd.hard_state) disk.hard_state = *rd.hard_state;
      for (const Message& m : rd.messages) outbox_.push_back(m);
      for (const Message& m : rd.messages_after_persist) outbox_.push_back(m);
      for (const Entry& e : rd.committed) {
        applied_[k].push_back(e);
        if (e.type == EntryType::membership) disk.applied_membership = decode_membership(e.data);
      }
      for (const ReadState& rs : rd.read_states) reads_[k].push_back(rs);
      r.advance(rd);
    }
  }
}

Restore Group::stored(NodeId id) const {
  const Stored& disk = stored_.at(id - 1);
  if (disk.bypassed) failf("Group::stored: server " + std::to_string(id) + "'s Readies were taken outside flush()");
  Restore r;
  r.hard_state = disk.hard_state;
  r.snapshot = disk.snapshot;
  r.entries = disk.log.entries();
  r.applied = disk.snapshot ? disk.snapshot->index : 0;
  return r;
}

void Group::compact(NodeId id) {
  flush();
  Stored& disk = stored_.at(id - 1);
  if (disk.bypassed) failf("Group::compact: server " + std::to_string(id) + "'s Readies were taken outside flush()");
  const std::uint64_t index = at(id).applied_index();
  const auto t = disk.log.term(index);
  if (!t) failf("Group::compact: applied index " + std::to_string(index) + " is not stored");
  auto data = std::make_shared<const std::string>("state@" + std::to_string(index));
  at(id).compact(index, data);
  disk.snapshot = Snapshot{index, *t, data, disk.applied_membership};
  disk.log.compact(index);
}

std::vector<Message> Group::take(NodeId from, NodeId to, std::optional<MessageType> type) {
  flush();
  std::vector<Message> out;
  std::vector<Message> keep;
  for (Message& m : outbox_) {
    const bool match = (from == 0 || m.from == from) && (to == 0 || m.to == to) && (!type || m.type == *type);
    (match ? out : keep).push_back(std::move(m));
  }
  outbox_.swap(keep);
  return out;
}

void Group::deliver_all(const std::function<bool(const Message&)>& drop) {
  for (int round = 0; round < 10000; ++round) {
    flush();
    if (outbox_.empty()) return;
    std::vector<Message> batch;
    batch.swap(outbox_);
    for (const Message& m : batch) {
      if (cut_.count({m.from, m.to}) == 0 && !(drop && drop(m))) at(m.to).step(m);
    }
  }
  failf("Group::deliver_all: no quiet after 10000 rounds");
}

void Group::tick(NodeId id, int times) {
  for (int i = 0; i < times; ++i) {
    at(id).tick();
    flush();
  }
}

void Group::tick_all(int times) {
  for (int i = 0; i < times; ++i) {
    for (auto& r : rafts_) r->tick();
    deliver_all();
  }
}

void Group::isolate(NodeId id) {
  for (int i = 1; i <= size(); ++i) {
    const auto other = static_cast<NodeId>(i);
    if (other != id) {
      cut(id, other);
      cut(other, id);
    }
  }
}

void Group::elect(NodeId id) {
  for (int i = 0; i < 2 * base_.election_ticks && at(id).role() != Role::leader; ++i) {
    at(id).tick();
    deliver_all();
  }
}

void Group::restart(NodeId id, Restore restore) {
  // Storage holds what the server restarts from; a membership applied before the crash is the
  // snapshot's, or comes again with the committed entries.
  Stored& disk = stored_.at(id - 1);
  disk = Stored{};
  disk.hard_state = restore.hard_state;
  disk.snapshot = restore.snapshot;
  if (restore.snapshot) {
    disk.log.reset_to_snapshot(restore.snapshot->index, restore.snapshot->term);
    disk.applied_membership = restore.snapshot->membership;
  }
  disk.log.write(restore.entries);
  rafts_.at(id - 1) = std::make_unique<Raft>(config(id), std::move(restore));
  applied_.at(id - 1).clear();
  reads_.at(id - 1).clear();
}

// ---------------------------------------------------------------- the cluster

namespace {

// If the core aborts (a broken invariant), say which run it was.
// The previous handler (doctest's crash report) runs next.
char g_abort_note[512];
void (*g_previous_abort_handler)(int) = SIG_DFL;
void on_abort(int) {
  const std::size_t n = std::strlen(g_abort_note);
  if (n > 0) {
    ssize_t ignored = ::write(2, g_abort_note, n);
    (void)ignored;
  }
  std::signal(SIGABRT, g_previous_abort_handler == SIG_ERR ? SIG_DFL : g_previous_abort_handler);
  std::raise(SIGABRT);
}

struct PendingReady {
  Ready rd;
  int stage = 0;  // 0 persist, 1 send after persist, 2 apply, 3 advance
  std::uint64_t not_before = 0;  // tick (slow disk)
};

struct Disk {
  HardState hard_state;
  std::optional<Snapshot> snapshot;
  LogView log;
  StateMachine sm;  // only when the state machine is durable
};

struct Server {
  NodeId id = 0;
  bool started = false;  // a pool id nobody has added yet never runs
  bool up = false;
  std::uint64_t down_until = 0;
  std::unique_ptr<Raft> raft;
  Disk disk;
  LogView mem;  // the core's log as handed out in Readies
  StateMachine sm;
  std::deque<PendingReady> queue;
  std::vector<ReadState> waiting_reads;  // received, waiting for the state machine
  std::uint64_t last_snapshot = 0;
  std::uint64_t led_term = 0;  // term it was last seen leading (0: none)
  std::uint64_t leader_since = 0;  // tick it became leader of led_term
  std::map<NodeId, std::uint64_t> heard;  // peer -> last tick a message of our term arrived
  // The driver's membership at sm.applied (nothing: the bootstrap one), stored with snapshots.
  std::optional<Membership> applied_membership;
  // The membership the core must be using, worked out from its Readies alone (the snapshot's or
  // the bootstrap one, then the log's membership entries): the oracle for Raft::membership().
  Membership mem_base;
  std::uint64_t mem_base_index = 0;
  std::map<std::uint64_t, Membership> mem_confs;
  Membership conf_seen;             // Raft::membership() at the last check
  std::uint64_t conf_changed_at = 0;  // tick it last changed
};

struct InFlight {
  std::uint64_t deliver_at = 0;
  Message m;
};

struct Partition {
  std::uint64_t until = 0;
  std::vector<std::pair<NodeId, NodeId>> blocked;  // (from, to)
  std::string what;
};

class Cluster {
 public:
  Cluster(const Scenario& s, bool trace) : s_(s), trace_(trace), rng_(s.seed ^ 0x5eedc0ffee15600dull) {
    pool_ = static_cast<std::size_t>(std::max(s.pool, s.servers));
    servers_.resize(pool_ + 1);
    for (std::size_t i = 1; i <= pool_; ++i) servers_[i].id = static_cast<NodeId>(i);
    blocked_.assign((pool_ + 1) * (pool_ + 1), false);
    checker_.set_bootstrap(bootstrap_for(1));
    for (int i = 1; i <= s.servers; ++i) join(static_cast<NodeId>(i));
  }

  void run() {
    for (int t = 0; t < s_.chaos_ticks; ++t) step_tick(true);
    heal();
    // Liveness, part 1: a leader is elected, commits a fresh proposal and serves a read. The
    // fresh entry queues behind whatever uncommitted entries the logs hold at healing time;
    // with the smallest windows (one message in flight, one entry each, delays up to
    // max_delay each way) each of them may cost a round trip.
    const std::uint64_t healed_at = now_;
    std::uint64_t max_last = 0;
    std::uint64_t min_commit = UINT64_MAX;
    for (NodeId id : ids_) {
      max_last = std::max(max_last, servers_[id].raft->last_index());
      min_commit = std::min(min_commit, servers_[id].raft->commit_index());
    }
    const std::uint64_t backlog = max_last - std::min(max_last, min_commit);
    const std::uint64_t per_entry = 2 * (static_cast<std::uint64_t>(s_.max_delay) + 2);
    const std::uint64_t live_bound = static_cast<std::uint64_t>(s_.liveness_ticks) + backlog * per_entry;
    while (!liveness_committed_and_read()) {
      if (now_ - healed_at >= live_bound) {
        failf("liveness: " + std::to_string(live_bound) + " ticks after healing (backlog " + std::to_string(backlog) +
              "), " + liveness_state());
      }
      step_tick(false);
    }
    stats_.max_liveness_ticks = now_ - healed_at;
    // Part 2: every server catches up (by entries or a snapshot). The bound grows with the
    // lag: the smallest windows move one entry per round trip.
    const std::uint64_t started = now_;
    std::uint64_t lag = 0;
    for (NodeId id : ids_) lag = std::max(lag, probe_index_ - std::min(probe_index_, servers_[id].sm.applied));
    const std::uint64_t bound = static_cast<std::uint64_t>(s_.liveness_ticks) + lag * per_entry;
    // Every member of the final membership (a removed server is left behind, as it should be).
    auto caught_up = [this] {
      Server* leader = current_leader();
      if (leader == nullptr) return false;
      const Membership& m = leader->raft->membership();
      for (NodeId id : ids_) {
        if (m.contains(id) && servers_[id].sm.applied < probe_index_) return false;
      }
      return true;
    };
    while (!caught_up()) {
      if (now_ - started >= bound) {
        failf("catch-up: " + std::to_string(bound) + " ticks after the probe committed (lag " + std::to_string(lag) +
              "), " + liveness_state());
      }
      step_tick(false);
    }
    stats_.max_catchup_ticks = now_ - started;
  }

  SimStats& stats() {
    stats_.changes_committed = checker_.changes_committed();
    stats_.learners_promoted = checker_.learners_promoted();
    stats_.leaders_removed = checker_.leaders_removed();
    return stats_;
  }
  std::uint64_t now() const { return now_; }

 private:
  // ---- randomness
  bool chance(double p) { return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  void trace(const std::string& line) {
    if (trace_) std::fprintf(stderr, "t=%" PRIu64 " %s\n", now_, line.c_str());
  }

  // The founders list each other; a server added later starts empty and waits for a leader.
  Membership bootstrap_for(NodeId id) const {
    Membership m;
    if (id > static_cast<NodeId>(s_.servers)) return m;
    for (int i = 1; i <= s_.servers; ++i) m.voters.push_back(static_cast<NodeId>(i));
    return m;
  }

  Config config_for(NodeId id) const {
    Config c;
    c.id = id;
    c.servers = bootstrap_for(id).voters;
    c.election_ticks = s_.election_ticks;
    c.heartbeat_ticks = s_.heartbeat_ticks;
    c.pre_vote = s_.pre_vote;
    c.check_quorum = s_.check_quorum;
    c.lease_reads = s_.lease_reads;
    c.max_entries_per_message = s_.max_entries_per_message;
    c.max_bytes_per_message = s_.max_bytes_per_message;
    c.max_inflight = s_.max_inflight;
    c.max_uncommitted_bytes = s_.max_uncommitted_bytes;
    c.seed = s_.seed;
    return c;
  }

  // ---- servers: start, crash, restart
  void start(Server& sv) {
    Restore r;
    r.hard_state = sv.disk.hard_state;
    r.snapshot = sv.disk.snapshot;
    r.entries = sv.disk.log.entries();
    // The state machine after a restart: durable, or rebuilt from the snapshot. Either way the
    // driver brings it up to the snapshot first (raft.hpp: the snapshot is already applied).
    if (!s_.durable_state_machine) sv.disk.sm = StateMachine{};
    sv.sm = sv.disk.sm;
    if (sv.disk.snapshot && sv.sm.applied < sv.disk.snapshot->index) {
      auto sm = StateMachine::load(*sv.disk.snapshot->data);
      if (!sm) failf("unreadable snapshot on disk");
      sv.sm = *sm;
    }
    r.applied = sv.sm.applied;
    checker_.observe_state_machine_reset(sv.id, sv.sm);
    // The driver's membership at `applied`: the snapshot's, then the log's up to applied.
    sv.applied_membership = sv.disk.snapshot ? sv.disk.snapshot->membership : std::nullopt;
    sv.mem_base = sv.applied_membership.value_or(bootstrap_for(sv.id));
    sv.mem_base_index = sv.disk.snapshot ? sv.disk.snapshot->index : 0;
    sv.mem_confs.clear();
    for (const Entry& e : r.entries) {
      if (e.type != EntryType::membership) continue;
      sv.mem_confs[e.index] = *decode_membership(e.data);
      if (e.index <= sv.sm.applied) sv.applied_membership = sv.mem_confs[e.index];
    }
    sv.mem = sv.disk.log;
    sv.queue.clear();
    sv.waiting_reads.clear();
    sv.up = true;
    sv.led_term = 0;
    sv.heard.clear();
    const std::uint64_t redeliver = sv.disk.hard_state.commit > sv.sm.applied ? sv.disk.hard_state.commit - sv.sm.applied : 0;
    stats_.redeliveries += redeliver;
    sv.raft = std::make_unique<Raft>(config_for(sv.id), std::move(r));
    trace("start " + std::to_string(sv.id) + " term " + std::to_string(sv.disk.hard_state.term) + " applied " +
          std::to_string(sv.sm.applied) + " commit " + std::to_string(sv.disk.hard_state.commit) + " log (" +
          std::to_string(sv.disk.log.snapshot_index()) + "," + std::to_string(sv.disk.log.last_index()) + "]");
    pull_ready(sv);
  }

  // A founder at the start, or a pool id a client just added: it runs from now on.
  void join(NodeId id) {
    Server& sv = servers_[id];
    if (sv.started) return;
    sv.started = true;
    ids_.push_back(id);
    if (id > static_cast<NodeId>(s_.servers)) ++stats_.joins;
    start(sv);
  }

  void crash(Server& sv, const char* where) {
    if (!sv.up) return;
    ++stats_.crashes;
    trace(std::string("crash ") + std::to_string(sv.id) + " " + where);
    sv.up = false;
    sv.raft.reset();
    sv.queue.clear();  // unpersisted Readies and unsent messages_after_persist are gone
    sv.waiting_reads.clear();
    sv.down_until = now_ + 1 + below(static_cast<std::uint64_t>(s_.max_down_ticks));
  }

  // ---- the driver: take a Ready, then persist -> send -> apply -> advance
  void pull_ready(Server& sv) {
    while (sv.up && sv.raft->has_ready()) {
      PendingReady p;
      p.rd = sv.raft->ready();
      const Ready& rd = p.rd;
      // The core's log as it now stands (mem) = its log before + this Ready's changes.
      if (rd.snapshot) {
        sv.mem.reset_to_snapshot(rd.snapshot->index, rd.snapshot->term);
        checker_.check_snapshot_membership(sv.id, rd.snapshot->index, rd.snapshot->membership);
        sv.mem_base = rd.snapshot->membership.value_or(bootstrap_for(sv.id));
        sv.mem_base_index = rd.snapshot->index;
        sv.mem_confs.clear();
      }
      if (!rd.entries.empty()) {
        // A truncated suffix takes its membership entries with it.
        auto gone = sv.mem_confs.lower_bound(rd.entries.front().index);
        stats_.membership_reverts += static_cast<std::uint64_t>(std::distance(gone, sv.mem_confs.end()));
        sv.mem_confs.erase(gone, sv.mem_confs.end());
        for (const Entry& e : rd.entries) {
          if (e.type == EntryType::membership) sv.mem_confs[e.index] = *decode_membership(e.data);
        }
        if (sv.raft->role() == Role::leader && sv.led_term == sv.raft->term() &&
            rd.entries.front().index <= sv.mem.last_index()) {
          failf("leader append-only: leader " + std::to_string(sv.id) + " rewrites its log from index " +
                std::to_string(rd.entries.front().index));
        }
        stats_.truncations += sv.mem.write(rd.entries);
        for (const Entry& e : rd.entries) checker_.observe_entry(sv.id, e, *sv.mem.term(e.index - 1));
      }
      for (const ReadState& rs : rd.read_states) checker_.observe_read_state(sv.id, rs);
      for (const Message& m : rd.messages) send(m);
      p.not_before = chance(s_.slow_disk) ? now_ + 1 : now_;
      sv.queue.push_back(std::move(p));
    }
  }

  // One driver stage of the oldest Ready of `sv`.
  void disk_stage(Server& sv) {
    PendingReady& p = sv.queue.front();
    Ready& rd = p.rd;
    switch (p.stage) {
      case 0: {  // persist: hard state, snapshot, entries in one transaction
        if (rd.snapshot) {
          store_snapshot(sv.disk.snapshot, sv.disk.log, *rd.snapshot);
        }
        sv.disk.log.write(rd.entries);
        if (rd.hard_state) {
          checker_.observe_durable_hard_state(sv.id, sv.disk.hard_state, *rd.hard_state);
          sv.disk.hard_state = *rd.hard_state;
        }
        p.stage = 1;
        maybe_stage_crash(sv, "after persist, before messages_after_persist");
        return;
      }
      case 1:
        for (const Message& m : rd.messages_after_persist) send(m);
        p.stage = 2;
        maybe_stage_crash(sv, "after send, before apply");
        return;
      case 2: {
        if (rd.snapshot) {
          auto sm = StateMachine::load(*rd.snapshot->data);
          if (!sm) failf("unreadable snapshot from the leader");
          checker_.observe_snapshot_apply(sv.id, rd.snapshot->index, rd.snapshot->term, *sm);
          sv.sm = *sm;
          sv.applied_membership = rd.snapshot->membership;
          ++stats_.snapshots_installed;
          trace("apply snapshot " + std::to_string(sv.id) + " at " + std::to_string(sm->applied));
        }
        for (const Entry& e : rd.committed) {
          sv.sm.apply(e);
          checker_.observe_apply(sv.id, sv.raft->term(), e, sv.sm);
          if (e.type == EntryType::membership) sv.applied_membership = decode_membership(e.data);
          if (!liveness_data_.empty() && e.data == liveness_data_) {
            liveness_applied_[sv.id] = true;
            probe_index_ = e.index;
          }
        }
        stats_.applied_entries = std::max(stats_.applied_entries, sv.sm.applied);
        if (s_.durable_state_machine) sv.disk.sm = sv.sm;
        for (const ReadState& rs : rd.read_states) sv.waiting_reads.push_back(rs);
        serve_reads(sv);
        p.stage = 3;
        maybe_stage_crash(sv, "after apply, before advance");
        return;
      }
      default: {
        Ready done = std::move(rd);
        sv.queue.pop_front();
        sv.raft->advance(done);
        if (sv.raft->applied_index() != sv.sm.applied) {
          failf("server " + std::to_string(sv.id) + " applied_index " + std::to_string(sv.raft->applied_index()) +
                " but its state machine is at " + std::to_string(sv.sm.applied));
        }
        maybe_compact(sv);
        pull_ready(sv);
        return;
      }
    }
  }

  void maybe_stage_crash(Server& sv, const char* where) {
    if (!in_chaos_ || !chance(s_.stage_crash)) return;
    if (sv.queue.front().stage == 1 && !sv.queue.front().rd.messages_after_persist.empty()) {
      ++stats_.crashes_before_send;
    }
    crash(sv, where);
  }

  void serve_reads(Server& sv) {
    auto& w = sv.waiting_reads;
    for (auto it = w.begin(); it != w.end();) {
      if (it->index <= sv.sm.applied) {
        ++stats_.reads_served;
        if (it->context == liveness_read_) liveness_read_done_ = true;
        it = w.erase(it);
      } else {
        ++it;
      }
    }
  }

  void maybe_compact(Server& sv) {
    if (s_.compact_every == 0) return;
    const std::uint64_t applied = sv.sm.applied;
    if (applied < sv.last_snapshot + static_cast<std::uint64_t>(s_.compact_every)) return;
    if (applied <= sv.disk.log.snapshot_index()) return;
    const auto t = sv.disk.log.term(applied);
    if (!t) failf("applied index " + std::to_string(applied) + " is not on disk");
    auto data = std::make_shared<const std::string>(sv.sm.save());
    checker_.check_snapshot_membership(sv.id, applied, sv.applied_membership);
    sv.disk.snapshot = Snapshot{applied, *t, data, sv.applied_membership};
    sv.disk.log.compact(applied);
    if (applied > sv.mem.snapshot_index()) {
      // (The core ignores a compaction below a snapshot from the leader it already took.)
      sv.mem_base = expected_membership_at(sv, applied);
      sv.mem_base_index = applied;
      sv.mem_confs.erase(sv.mem_confs.begin(), sv.mem_confs.upper_bound(applied));
    }
    sv.mem.compact(applied);
    sv.raft->compact(applied, data);
    sv.last_snapshot = applied;
    ++stats_.snapshots_taken;
  }

  // ---- network
  bool blocked(NodeId from, NodeId to) const { return blocked_[from * (pool_ + 1) + to]; }

  void send(const Message& m) {
    ++stats_.messages_sent;
    const int copies = chance(s_.duplicate) ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      if (blocked(m.from, m.to) || chance(s_.loss)) {
        ++stats_.messages_dropped;
        continue;
      }
      net_.push_back(InFlight{now_ + below(static_cast<std::uint64_t>(s_.max_delay) + 1), m});
    }
  }

  void deliver(std::size_t k) {
    InFlight f = std::move(net_[k]);
    net_[k] = std::move(net_.back());
    net_.pop_back();
    Server& to = servers_[f.m.to];
    if (!to.up || blocked(f.m.from, f.m.to)) {
      ++stats_.messages_dropped;
      return;
    }
    if (f.m.type == MessageType::append_response && f.m.reject) ++stats_.rejects;
    if (f.m.term == to.raft->term()) to.heard[f.m.from] = now_;
    if (trace_) {
      const Message& m = f.m;
      trace("deliver " + std::to_string(m.from) + "->" + std::to_string(m.to) + " " + message_type_name(m.type) +
            " term " + std::to_string(m.term) + " idx " + std::to_string(m.log_index) + "/" +
            std::to_string(m.log_term) + " ents " + std::to_string(m.entries.size()) + " commit " +
            std::to_string(m.commit) + (m.reject ? " reject hint " + std::to_string(m.reject_hint) : "") +
            " match " + std::to_string(m.match_index) + " round " + std::to_string(m.read_round));
    }
    to.raft->step(f.m);
    pull_ready(to);
  }

  // ---- faults
  void recompute_blocked() {
    std::fill(blocked_.begin(), blocked_.end(), false);
    for (const Partition& p : partitions_) {
      for (auto [from, to] : p.blocked) blocked_[from * (pool_ + 1) + to] = true;
    }
  }

  void new_partition() {
    Partition p;
    p.until = now_ + 1 + below(static_cast<std::uint64_t>(s_.max_partition_ticks));
    const NodeId a = ids_[below(ids_.size())];
    switch (below(5)) {
      case 0:  // isolate one server
        for (NodeId b : ids_) {
          if (b != a) {
            p.blocked.emplace_back(a, b);
            p.blocked.emplace_back(b, a);
          }
        }
        p.what = "isolate " + std::to_string(a);
        break;
      case 1: {  // split in two random groups
        std::vector<bool> side(pool_ + 1);
        for (NodeId b : ids_) side[b] = below(2) == 0;
        for (NodeId x : ids_) {
          for (NodeId y : ids_) {
            if (side[x] != side[y]) p.blocked.emplace_back(x, y);
          }
        }
        p.what = "split";
        break;
      }
      case 2:  // a hears nobody (everyone hears a)
        for (NodeId b : ids_) {
          if (b != a) p.blocked.emplace_back(b, a);
        }
        p.what = "deaf " + std::to_string(a);
        break;
      case 3:  // nobody hears a (a hears everyone)
        for (NodeId b : ids_) {
          if (b != a) p.blocked.emplace_back(a, b);
        }
        p.what = "mute " + std::to_string(a);
        break;
      default: {  // one direction of one link
        NodeId b = ids_[below(ids_.size())];
        if (b == a) b = ids_[(static_cast<std::size_t>(std::find(ids_.begin(), ids_.end(), a) - ids_.begin()) + 1) % ids_.size()];
        p.blocked.emplace_back(a, b);
        p.what = "link " + std::to_string(a) + "-/->" + std::to_string(b);
        break;
      }
    }
    trace("partition " + p.what + " until " + std::to_string(p.until));
    partitions_.push_back(std::move(p));
    recompute_blocked();
  }

  void faults() {
    const std::size_t before = partitions_.size();
    partitions_.erase(std::remove_if(partitions_.begin(), partitions_.end(),
                                     [this](const Partition& p) { return p.until <= now_; }),
                      partitions_.end());
    if (partitions_.size() != before) recompute_blocked();
    if (chance(s_.partition_rate)) new_partition();
    for (NodeId id : ids_) {
      Server& sv = servers_[id];
      if (!sv.up && sv.down_until <= now_) {
        start(sv);
        check();
      }
    }
    if (chance(s_.crash_rate)) {
      Server& sv = servers_[ids_[below(ids_.size())]];
      if (sv.up) {
        if (!sv.queue.empty() && sv.queue.front().stage == 0) ++stats_.crashes_before_persist;
        crash(sv, "random");
        check();
      }
    }
  }

  void heal() {
    in_chaos_ = false;
    partitions_.clear();
    recompute_blocked();
    s_.loss = 0;
    s_.duplicate = 0;
    for (NodeId id : ids_) {
      if (!servers_[id].up) start(servers_[id]);
    }
    trace("heal");
    check();
  }

  // ---- clients
  Server* some_leader() {
    std::vector<Server*> leaders;
    for (NodeId id : ids_) {
      Server& sv = servers_[id];
      if (sv.up && sv.raft->role() == Role::leader) leaders.push_back(&sv);
    }
    if (leaders.empty()) return nullptr;
    return leaders[below(leaders.size())];
  }

  Server* some_up_server() {
    std::vector<Server*> up;
    for (NodeId id : ids_) {
      if (servers_[id].up) up.push_back(&servers_[id]);
    }
    if (up.empty()) return nullptr;
    return up[below(up.size())];
  }

  void client_ops() {
    if (in_chaos_ && chance(s_.propose_rate)) {
      Server* sv = below(5) == 0 ? some_up_server() : some_leader();
      if (sv != nullptr) {
        std::vector<std::string> data;
        const std::uint64_t n = 1 + below(2);
        for (std::uint64_t i = 0; i < n; ++i) {
          std::string d = "v" + std::to_string(++value_seq_);
          d.append(below(24), static_cast<char>('a' + value_seq_ % 26));
          data.push_back(std::move(d));
        }
        ProposeResult r = sv->raft->propose(std::move(data));
        if (r.error == ProposeError::none) stats_.proposals += n;
        pull_ready(*sv);
        check();
      }
    }
    if (chance(s_.read_rate)) {
      Server* sv = below(5) == 0 ? some_up_server() : some_leader();
      if (sv != nullptr) {
        const std::uint64_t ctx = ++read_seq_;
        checker_.observe_read_request(sv->id, ctx);
        sv->raft->read_index(ctx);
        pull_ready(*sv);
        // Answered in the same step, in a group: by the leader's lease, with no round.
        if (s_.servers > 1 && checker_.answered(ctx)) ++stats_.reads_on_lease;
        check();
      }
    }
    if (in_chaos_ && chance(s_.membership_rate)) membership_op();
    if (chance(s_.transfer_rate)) {
      if (Server* sv = some_leader()) {
        const NodeId to = ids_[below(ids_.size())];
        if (sv->raft->transfer_leadership(to) && to != sv->id) {
          transfer_to_ = to;
          transfer_from_term_ = sv->raft->term();
          trace("transfer " + std::to_string(sv->id) + " -> " + std::to_string(to));
        }
        pull_ready(*sv);
        check();
      }
    }
  }

  // ---- membership: the oracle, and clients changing it
  Membership expected_membership_at(const Server& sv, std::uint64_t index) const {
    auto it = sv.mem_confs.upper_bound(index);
    return it == sv.mem_confs.begin() ? sv.mem_base : std::prev(it)->second;
  }

  // A client asks some server (mostly a leader) to add a pool id nobody has added yet (as a
  // learner, now and then straight as a voter) or to remove a member (the leader included);
  // one time in ten it asks for two changes at once. The answer must be what raft.hpp promises.
  void membership_op() {
    Server* sv = below(5) == 0 ? some_up_server() : some_leader();
    if (sv == nullptr) return;
    Raft& r = *sv->raft;
    const Membership now = r.membership();
    std::vector<NodeId> unused;
    for (std::size_t i = 1; i <= pool_; ++i) {
      if (!servers_[i].started) unused.push_back(static_cast<NodeId>(i));
    }
    Membership next = now;
    std::vector<NodeId> joining;
    auto change_one = [&] {
      std::vector<NodeId> members = next.voters;
      members.insert(members.end(), next.learners.begin(), next.learners.end());
      const bool add = !unused.empty() && (members.size() <= 2 || below(2) == 0);
      if (add) {
        const std::size_t k = below(unused.size());
        const NodeId x = unused[k];
        unused.erase(unused.begin() + static_cast<std::ptrdiff_t>(k));
        auto& list = below(5) == 0 ? next.voters : next.learners;
        list.insert(std::upper_bound(list.begin(), list.end(), x), x);
        joining.push_back(x);
      } else if (!members.empty()) {
        const NodeId x = members[below(members.size())];
        for (auto* list : {&next.voters, &next.learners}) list->erase(std::remove(list->begin(), list->end(), x), list->end());
      }
    };
    change_one();
    if (below(10) == 0) change_one();
    const bool leader = r.role() == Role::leader;
    // change_pending: the latest membership is not committed, or nothing of this term is.
    const bool pending =
        leader && (r.membership_index() > r.commit_index() || sv->mem.term(r.commit_index()).value_or(0) != r.term());
    const bool bad = changed_servers(now, next).size() != 1 || next.voters.empty();
    const ProposeResult res = r.propose_membership(next);
    trace("membership " + std::to_string(sv->id) + " " + membership_str(now) + " -> " + membership_str(next) + ": " +
          propose_error_name(res.error));
    ProposeError want = ProposeError::none;
    if (!leader) {
      want = ProposeError::not_leader;
    } else if (pending) {
      want = ProposeError::change_pending;
    } else if (bad) {
      want = ProposeError::bad_change;
    }
    // A transfer under way shows only in the answer (no observer for it).
    if (res.error != want && !(leader && res.error == ProposeError::transferring)) {
      failf("propose_membership on " + std::to_string(sv->id) + " (" + role_name(r.role()) + ") " + membership_str(now) +
            " -> " + membership_str(next) + " answered " + propose_error_name(res.error) + ", expected " +
            propose_error_name(want));
    }
    if (res.error == ProposeError::change_pending || res.error == ProposeError::bad_change) ++stats_.changes_refused;
    pull_ready(*sv);
    if (res.error == ProposeError::none) {
      ++stats_.changes_proposed;
      for (NodeId x : joining) join(x);
    }
    check();
  }

  // ---- liveness: after healing, a fresh proposal commits and a read completes
  Server* current_leader() {
    Server* leader = nullptr;
    for (NodeId id : ids_) {
      Server& sv = servers_[id];
      if (sv.up && sv.raft->role() == Role::leader && (leader == nullptr || sv.raft->term() > leader->raft->term())) {
        leader = &sv;
      }
    }
    return leader;
  }

  bool liveness_committed_and_read() {
    Server* leader = current_leader();
    if (leader == nullptr) return false;
    if (liveness_applied_.empty() && (liveness_data_.empty() || now_ >= liveness_retry_at_)) {
      // (Re)propose: a proposal may be lost with its leader, and a client retries.
      std::string data = "live-" + std::to_string(++value_seq_);
      liveness_retry_at_ = now_ + 5 * static_cast<std::uint64_t>(s_.election_ticks);
      ProposeResult r = leader->raft->propose({data});
      if (r.error == ProposeError::none) {
        liveness_data_ = data;
        probe_index_ = r.index;
        trace("probe '" + data + "' at " + std::to_string(r.index));
      }
      pull_ready(*leader);
      check();
      return false;
    }
    if (liveness_applied_.empty()) return false;  // not committed yet
    if (liveness_read_ == 0 || (!liveness_read_done_ && now_ >= liveness_read_retry_at_)) {
      liveness_read_ = ++read_seq_;
      liveness_read_retry_at_ = now_ + 5 * static_cast<std::uint64_t>(s_.election_ticks);
      checker_.observe_read_request(leader->id, liveness_read_);
      leader->raft->read_index(liveness_read_);
      pull_ready(*leader);
      check();
      return false;
    }
    return liveness_read_done_;
  }

  std::string liveness_state() const {
    std::ostringstream o;
    for (NodeId id : ids_) {
      const Server& sv = servers_[id];
      o << "[" << id << " " << role_name(sv.raft->role()) << " term " << sv.raft->term() << " leader "
        << sv.raft->leader() << " commit " << sv.raft->commit_index() << " applied " << sv.sm.applied << " last "
        << sv.raft->last_index() << " membership " << membership_str(sv.raft->membership()) << "] ";
    }
    o << "probe '" << liveness_data_ << "' applied on " << liveness_applied_.size() << " read "
      << (liveness_read_done_ ? "done" : "pending");
    return o.str();
  }

  // ---- the checks after every event
  void check() {
    ++stats_.events;
    for (NodeId id : ids_) {
      Server& sv = servers_[id];
      if (!sv.up) continue;
      const Raft& r = *sv.raft;
      if (r.last_index() != sv.mem.last_index() || r.first_index() != sv.mem.snapshot_index() + 1) {
        failf("server " + std::to_string(id) + ": core log (" + std::to_string(r.first_index() - 1) + "," +
              std::to_string(r.last_index()) + "] but Readies handed out (" +
              std::to_string(sv.mem.snapshot_index()) + "," + std::to_string(sv.mem.last_index()) + "]");
      }
      checker_.observe_role(id, r.role(), r.term());
      checker_.observe_commit(id, r.term(), r.commit_index(), sv.mem);
      // Thesis §4.1: a server uses the latest membership in its log, committed or not.
      const Membership& want = sv.mem_confs.empty() ? sv.mem_base : sv.mem_confs.rbegin()->second;
      const std::uint64_t want_index = sv.mem_confs.empty() ? sv.mem_base_index : sv.mem_confs.rbegin()->first;
      if (r.membership() != want || r.membership_index() != want_index) {
        failf("server " + std::to_string(id) + " uses membership " + membership_str(r.membership()) + " from index " +
              std::to_string(r.membership_index()) + ", its log says " + membership_str(want) + " from index " +
              std::to_string(want_index));
      }
      if (r.membership() != sv.conf_seen) {
        sv.conf_seen = r.membership();
        sv.conf_changed_at = now_;
      }
      if (r.role() == Role::leader && sv.led_term != r.term()) {
        sv.led_term = r.term();
        sv.leader_since = now_;
        ++stats_.leaders;
        trace("leader " + std::to_string(id) + " term " + std::to_string(r.term()));
        if (transfer_to_ == id && r.term() > transfer_from_term_) {
          ++stats_.transfers_done;
          transfer_to_ = 0;
        }
        checker_.check_leader(id, r.term(), sv.mem, {});
      }
    }
    check_quorum_property();
    const std::vector<std::uint64_t> dirty = checker_.take_dirty();
    if (dirty.empty()) return;
    for (NodeId id : ids_) {
      Server& sv = servers_[id];
      if (sv.up && sv.raft->role() == Role::leader) checker_.check_leader(id, sv.raft->term(), sv.mem, dirty);
    }
  }

  // Check-quorum (thesis §6.2): a leader that heard nothing in its term from a majority of its
  // voters (itself included if it is one) for two election timeouts has passed a full check
  // round without one, so it must have stepped down. Not checked within that window after its
  // membership changed: a server just added counts as heard from until the next round.
  void check_quorum_property() {
    if (!s_.check_quorum) return;
    const std::uint64_t window = 2 * static_cast<std::uint64_t>(s_.election_ticks) + 1;
    for (NodeId id : ids_) {
      Server& sv = servers_[id];
      if (!sv.up || sv.raft->role() != Role::leader || now_ < sv.leader_since + window ||
          now_ < sv.conf_changed_at + window) {
        continue;
      }
      const std::vector<NodeId>& voters = sv.raft->membership().voters;
      std::size_t heard = 0;
      for (NodeId p : voters) {
        auto it = sv.heard.find(p);
        if (p == id || (it != sv.heard.end() && it->second + window > now_)) ++heard;
      }
      if (heard < voters.size() / 2 + 1) {
        failf("check-quorum: leader " + std::to_string(id) + " of term " + std::to_string(sv.raft->term()) +
              " heard from only " + std::to_string(heard) + " servers in " + std::to_string(window) +
              " ticks and still leads");
      }
    }
  }

  // ---- one tick of simulated time
  void step_tick(bool chaos) {
    ++now_;
    ++stats_.ticks;
    in_chaos_ = chaos;
    if (chaos) faults();
    client_ops();
    // Deliver messages and run driver stages, in random order, until nothing is due.
    for (int guard = 0;; ++guard) {
      if (guard > 200000) failf("livelock: too many events in one tick");
      due_.clear();
      for (std::size_t k = 0; k < net_.size(); ++k) {
        if (net_[k].deliver_at <= now_) due_.push_back(k);
      }
      stage_ready_.clear();
      for (NodeId id : ids_) {
        const Server& sv = servers_[id];
        if (sv.up && !sv.queue.empty() && sv.queue.front().not_before <= now_) stage_ready_.push_back(id);
      }
      const std::size_t n = due_.size() + stage_ready_.size();
      if (n == 0) break;
      const std::size_t pick = below(n);
      if (pick < due_.size()) {
        deliver(due_[pick]);
      } else {
        disk_stage(servers_[stage_ready_[pick - due_.size()]]);
      }
      check();
    }
    // Every live server ticks, in random order.
    std::vector<NodeId> order = ids_;
    std::shuffle(order.begin(), order.end(), rng_);
    for (NodeId id : order) {
      Server& sv = servers_[id];
      if (!sv.up) continue;
      sv.raft->tick();
      pull_ready(sv);
      check();
    }
  }

  Scenario s_;
  bool trace_;
  std::mt19937_64 rng_;
  std::size_t pool_ = 0;          // ids 1..pool_
  std::vector<NodeId> ids_;       // the servers started so far, in the order they were
  std::vector<Server> servers_;  // by id (0 unused)
  std::vector<InFlight> net_;
  std::vector<Partition> partitions_;
  std::vector<bool> blocked_;
  std::vector<std::size_t> due_;
  std::vector<NodeId> stage_ready_;
  SafetyChecker checker_;
  SimStats stats_;
  std::uint64_t now_ = 0;
  bool in_chaos_ = true;
  std::uint64_t value_seq_ = 0;
  std::uint64_t read_seq_ = 0;
  NodeId transfer_to_ = 0;
  std::uint64_t transfer_from_term_ = 0;
  std::string liveness_data_;
  std::map<NodeId, bool> liveness_applied_;
  std::uint64_t liveness_retry_at_ = 0;
  std::uint64_t liveness_read_retry_at_ = 0;
  std::uint64_t probe_index_ = 0;
  std::uint64_t liveness_read_ = 0;
  bool liveness_read_done_ = false;
};

}  // namespace

RunResult run_scenario(const Scenario& scenario, bool trace) {
  static const bool installed = [] {
    g_previous_abort_handler = std::signal(SIGABRT, on_abort);
    return true;
  }();
  (void)installed;
  std::snprintf(g_abort_note, sizeof g_abort_note,
                "\nraft sim: the core aborted during seed %" PRIu64 " with %d servers; replay with RAFT_SEED=%" PRIu64
                " RAFT_TRACE=1\n",
                scenario.seed, scenario.servers, scenario.seed);
  RunResult result;
  std::unique_ptr<Cluster> cluster;
  try {
    cluster = std::make_unique<Cluster>(scenario, trace);
    cluster->run();
  } catch (const SimFailure& f) {
    result.ok = false;
    result.failure = "t=" + std::to_string(cluster ? cluster->now() : 0) + ": " + f.what();
  }
  if (cluster) result.stats = cluster->stats();
  result.stats.runs = 1;
  g_abort_note[0] = '\0';
  return result;
}

}  // namespace fourinone::raft::sim
