// Construction, the public API, tick() and step(): the term rules every message passes first.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "park/raft/raft_impl.hpp"

namespace fourinone::raft {

namespace {

[[noreturn]] void config_fatal(const Config& c, const char* what) {
  std::fprintf(stderr, "raft %" PRIu64 ": bad config: %s\n", c.id, what);
  std::abort();
}

void validate(const Config& c) {
  if (c.id == 0) config_fatal(c, "id 0 is reserved for \"none\"");
  std::vector<NodeId> sorted = c.servers;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end() || (!sorted.empty() && sorted.front() == 0)) {
    config_fatal(c, "servers must be distinct and non-zero");
  }
  if (c.heartbeat_ticks < 1) config_fatal(c, "heartbeat_ticks must be >= 1");
  if (c.election_ticks <= c.heartbeat_ticks) {
    config_fatal(c, "election_ticks must be greater than heartbeat_ticks");
  }
  if (c.lease_reads && c.election_ticks - kLeaseMarginTicks <= c.heartbeat_ticks) {
    config_fatal(c, "lease_reads needs election_ticks - 3 > heartbeat_ticks (a lease outlives a heartbeat)");
  }
  if (c.max_entries_per_message == 0) config_fatal(c, "max_entries_per_message must be >= 1");
  if (c.max_inflight == 0) config_fatal(c, "max_inflight must be >= 1");
}

}  // namespace

Raft::Impl::Impl(const Config& config, Restore restore)
    : cfg(config), id(config.id), log(config.id) {
  validate(cfg);
  // Seeded from Config::seed and our id, so servers given one seed still draw different
  // timeouts, and a simulator replays a run exactly.
  std::seed_seq seq{static_cast<std::uint32_t>(cfg.seed), static_cast<std::uint32_t>(cfg.seed >> 32),
                    static_cast<std::uint32_t>(id), static_cast<std::uint32_t>(id >> 32)};
  rng.seed(seq);

  std::uint64_t snap_index = 0;
  std::uint64_t snap_term = 0;
  if (restore.snapshot) {
    snap_index = restore.snapshot->index;
    snap_term = restore.snapshot->term;
    snapshot = std::move(restore.snapshot);
  }
  std::vector<Entry> membership_entries;
  for (const Entry& e : restore.entries) {
    if (e.type == EntryType::membership) membership_entries.push_back(e);
  }
  log.restore_durable(snap_index, snap_term, std::move(restore.entries));
  set_base_membership(snapshot ? snapshot->membership : std::nullopt, snap_index);
  track_memberships(membership_entries);
  term = restore.hard_state.term;
  vote = restore.hard_state.vote;
  if (log.last_term() > term) fatal("restored log has an entry from a future term");
  // The state machine applied the snapshot and whatever the driver says beyond it; all of
  // that was committed. Entries in (applied, commit] are handed out again by ready(): the
  // state machine lost them in the crash (or never got them), and Raft re-delivers nothing at
  // or below `applied`.
  applied = std::max(restore.applied, snap_index);
  applying = applied;
  const std::uint64_t commit = std::max(restore.hard_state.commit, applied);
  if (commit > log.last_index()) fatal("restored commit/applied beyond the last entry");
  log.commit_to(commit);
  prev_hard_state = hard_state();
  // prev_hard_state equals what storage holds, except a commit raised to `applied` (worth no
  // write of its own).
  become_follower(term, 0);
}

void Raft::Impl::fatal(const std::string& what) const {
  std::fprintf(stderr, "raft %" PRIu64 " (term %" PRIu64 ", %s): invariant broken: %s\n", id, term,
               role_name(role), what.c_str());
  std::abort();
}

// A voter campaigns; so does a server whose removal is not committed yet, as far as it knows
// (thesis §4.2.2: it may still be needed). Say a leader of {1,2} appended {2} and lost its lead
// before that committed: 2, lacking the entry, needs 1's vote, which 1 refuses (its log is
// longer); unless 1 campaigns, nobody ever leads again (found by the simulator, seeds 200064
// and 200321 of the 3-of-6 runs). It counts only the votes of its latest membership's voters
// (poll), so it wins only where a server of that membership could, and a leader outside its
// membership steps down once the change commits. A learner, a server whose removal it knows
// committed, and one still waiting to join never campaign.
bool Raft::Impl::promotable() const { return is_voter(id) || membership_at(log.committed()).is_voter(id); }

Message Raft::Impl::make(MessageType type, NodeId to) const {
  Message m;
  m.type = type;
  m.from = id;
  m.to = to;
  m.term = term;
  return m;
}

void Raft::Impl::send(Message m) { msgs.push_back(std::move(m)); }

void Raft::Impl::send_after_persist(Message m) { msgs_after_persist.push_back(std::move(m)); }

void Raft::Impl::tick() {
  ++ticks;
  if (role == Role::leader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

bool Raft::Impl::in_vote_lease() const {
  if (!cfg.check_quorum) return false;
  if (lead != 0 && election_elapsed < cfg.election_ticks) return true;
  // With lease reads, a server that has just (re)started may have acknowledged a leader's
  // heartbeat a moment before it went down, and forgot it: that leader may be serving reads
  // on a lease our acknowledgement helped to grant. Ignore votes for one election timeout.
  return cfg.lease_reads && ticks < static_cast<std::uint64_t>(cfg.election_ticks);
}

void Raft::Impl::step(const Message& m) {
  // Messages to someone else, or from ourselves, are not ours to act on. Messages from servers
  // outside our membership are (thesis §4.1): a new server learns the membership from a leader
  // it does not know yet, and a voter whose promotion has not reached us must still get our
  // vote. A removed server cannot disrupt: it stops campaigning once it knows the entry that
  // removed it committed; before that, with the entry, it asks only the voters that entry names
  // (and could lead them as any server with its log could), and without it, its log lacks a
  // committed entry, so no majority grants its pre-vote.
  if (m.to != id || m.from == id || m.from == 0) return;

  if (m.term > term) {
    if (m.type == MessageType::vote || m.type == MessageType::pre_vote) {
      // Leader lease (thesis §4.2.3): while we heard from a leader within the minimum election
      // timeout, a (pre-)vote request comes from a server that cannot have noticed that
      // leader's failure: a partitioned or removed server rejoining. Ignoring it (no term
      // update, no answer) keeps it from deposing a working leader. With check-quorum the
      // leader steps down if it loses its majority, so a real failure is still detected. A
      // transfer (timeout_now, thesis §3.10) was asked for by the leader itself: let it through.
      if (!m.transfer && in_vote_lease()) return;
    }
    if (m.type == MessageType::pre_vote) {
      // Pre-vote (thesis §9.6) changes nothing: the candidate has not raised its term yet, and
      // neither do we.
    } else if (m.type == MessageType::pre_vote_response && !m.reject) {
      // A grant carries the term we would campaign at; we take it when we become candidate.
    } else {
      // §5.1: "If RPC request or response contains term T > currentTerm: set currentTerm = T,
      // convert to follower." Only a leader's messages tell us who leads.
      const bool from_leader = m.type == MessageType::append ||
                               m.type == MessageType::heartbeat ||
                               m.type == MessageType::install_snapshot;
      become_follower(m.term, from_leader ? m.from : 0);
    }
  } else if (m.term < term) {
    // A stale term. §5.1: reply so the sender learns the current term (and steps down if it
    // still thinks it leads). This matters most with check-quorum/pre-vote: a stale leader would
    // otherwise never hear a higher term, since our vote requests it might see are pre-votes
    // or are suppressed by its followers' lease. These replies promise nothing durable.
    switch (m.type) {
      case MessageType::append:
      case MessageType::heartbeat:
      case MessageType::install_snapshot: {
        Message r = make(MessageType::append_response, m.from);
        r.reject = true;
        send(std::move(r));
        break;
      }
      case MessageType::vote:
      case MessageType::pre_vote: {
        Message r = make(m.type == MessageType::vote ? MessageType::vote_response
                                                     : MessageType::pre_vote_response,
                         m.from);
        r.reject = true;
        send(std::move(r));
        break;
      }
      default:
        break;  // stale responses and timeout_now: ignore
    }
    return;
  }

  switch (m.type) {
    case MessageType::vote:
    case MessageType::pre_vote:
      handle_vote_request(m);
      return;
    default:
      break;
  }
  switch (role) {
    case Role::leader:
      step_leader(m);
      break;
    case Role::candidate:
    case Role::pre_candidate:
      step_candidate(m);
      break;
    case Role::follower:
      step_follower(m);
      break;
  }
}

void Raft::Impl::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::append_response:
      handle_append_response(m);
      break;
    case MessageType::heartbeat_response:
      handle_heartbeat_response(m);
      break;
    case MessageType::append:
    case MessageType::heartbeat:
    case MessageType::install_snapshot:
      // Election Safety (§5.2): one leader per term, so this cannot come from a peer.
      fatal(std::string("another leader in our term sent ") + message_type_name(m.type));
    default:
      break;  // late vote answers, timeout_now to a leader: nothing to do
  }
}

void Raft::Impl::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::append:
      // §5.2: a candidate that hears from a leader of its term recognizes it.
      become_follower(term, m.from);
      handle_append(m);
      break;
    case MessageType::heartbeat:
      become_follower(term, m.from);
      handle_heartbeat(m);
      break;
    case MessageType::install_snapshot:
      become_follower(term, m.from);
      handle_snapshot(m);
      break;
    case MessageType::vote_response:
      if (role == Role::candidate) poll(m.from, !m.reject);
      break;
    case MessageType::pre_vote_response:
      if (role == Role::pre_candidate) poll(m.from, !m.reject);
      break;
    default:
      break;
  }
}

void Raft::Impl::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::append:
      election_elapsed = 0;
      lead = m.from;
      handle_append(m);
      break;
    case MessageType::heartbeat:
      election_elapsed = 0;
      lead = m.from;
      handle_heartbeat(m);
      break;
    case MessageType::install_snapshot:
      election_elapsed = 0;
      lead = m.from;
      handle_snapshot(m);
      break;
    case MessageType::timeout_now:
      // Leader transfer (thesis §3.10): the leader found us caught up and asks us to start an
      // election now, skipping pre-vote; our requests override the others' lease.
      if (promotable()) campaign(false, true);
      break;
    default:
      break;
  }
}

// --- the public face ---

Raft::Raft(const Config& config, Restore restore)
    : impl_(std::make_unique<Impl>(config, std::move(restore))) {}
Raft::~Raft() = default;
Raft::Raft(Raft&&) noexcept = default;
Raft& Raft::operator=(Raft&&) noexcept = default;

void Raft::tick() { impl_->tick(); }
void Raft::step(const Message& message) { impl_->step(message); }
ProposeResult Raft::propose(std::vector<std::string> data) { return impl_->propose(std::move(data)); }
ProposeResult Raft::propose_membership(Membership next) { return impl_->propose_membership(std::move(next)); }
bool Raft::read_index(std::uint64_t context) { return impl_->read_index(context); }
bool Raft::transfer_leadership(NodeId to) { return impl_->transfer_leadership(to); }
void Raft::compact(std::uint64_t index, std::shared_ptr<const std::string> data) {
  impl_->compact(index, std::move(data));
}
bool Raft::has_ready() const { return impl_->has_ready(); }
Ready Raft::ready() { return impl_->ready(); }
void Raft::advance(const Ready& ready) { impl_->advance(ready); }

NodeId Raft::id() const { return impl_->id; }
Role Raft::role() const { return impl_->role; }
std::uint64_t Raft::term() const { return impl_->term; }
NodeId Raft::leader() const { return impl_->lead; }
std::uint64_t Raft::commit_index() const { return impl_->log.committed(); }
std::uint64_t Raft::applied_index() const { return impl_->applied; }
std::uint64_t Raft::last_index() const { return impl_->log.last_index(); }
std::uint64_t Raft::first_index() const { return impl_->log.first_index(); }
const Membership& Raft::membership() const { return impl_->conf; }
std::uint64_t Raft::membership_index() const { return impl_->conf_index; }

std::uint64_t Raft::match_index(NodeId server) const {
  if (impl_->role != Role::leader) return 0;
  if (server == impl_->id) return impl_->self_match();
  auto it = impl_->progress.find(server);
  return it == impl_->progress.end() ? 0 : it->second.match;
}

int Raft::ticks_since_heard(NodeId server) const {
  if (impl_->role != Role::leader || server == impl_->id) return 0;
  auto it = impl_->progress.find(server);
  return it == impl_->progress.end() ? 0 : it->second.ticks_since_heard;
}

}  // namespace fourinone::raft
