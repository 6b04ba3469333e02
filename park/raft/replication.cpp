// Log replication (§5.3), commitment (§5.4.2), heartbeats and snapshots (§7).
#include <algorithm>
#include <string>

#include "park/raft/quorum.hpp"
#include "park/raft/raft_impl.hpp"

namespace fourinone::raft {

namespace {

// A message from the network that breaks the append format is dropped rather than trusted:
// the entries must follow prev_index one by one, with terms that never go down and never pass
// the sender's term, and a membership entry must decode.
bool well_formed_append(const Message& m) {
  std::uint64_t expect = m.log_index + 1;
  std::uint64_t prev_term = m.log_term;
  for (const Entry& e : m.entries) {
    if (e.index != expect || e.term < prev_term || e.term > m.term) return false;
    if (e.type == EntryType::membership && !decode_membership(e.data)) return false;
    prev_term = e.term;
    ++expect;
  }
  return true;
}

}  // namespace

std::optional<ProposeError> Raft::Impl::proposal_refused() const {
  if (role != Role::leader) return ProposeError::not_leader;
  // Thesis §3.10: during a transfer the leader stops taking proposals, or the target might
  // never catch up; the driver retries on the new leader.
  if (transferee != 0) return ProposeError::transferring;
  return std::nullopt;
}

ProposeResult Raft::Impl::propose(std::vector<std::string> data) {
  ProposeResult r;
  r.leader_hint = lead;
  if (auto why = proposal_refused()) {
    r.error = *why;
    return r;
  }
  std::uint64_t bytes = 0;
  for (const auto& d : data) bytes += d.size();
  // Flow control: the leader keeps uncommitted entries in memory. One proposal always fits
  // when nothing is pending, so a single big entry is never refused forever.
  if (cfg.max_uncommitted_bytes != 0 && uncommitted_bytes > 0 &&
      uncommitted_bytes + bytes > cfg.max_uncommitted_bytes) {
    r.error = ProposeError::too_large;
    return r;
  }
  r.term = term;
  if (data.empty()) return r;
  r.index = log.last_index() + 1;
  std::vector<Entry> entries;
  entries.reserve(data.size());
  for (auto& d : data) {
    Entry e;
    e.index = r.index + entries.size();
    e.term = term;
    e.type = EntryType::normal;
    e.data = std::move(d);
    entries.push_back(std::move(e));
  }
  log.append(std::move(entries));
  uncommitted_bytes += bytes;
  // Sent now, before our own copy is durable (thesis §10.2.1): the leader's write and the
  // followers' writes overlap. Our copy counts toward commit only after advance().
  bcast_append();
  return r;
}

bool Raft::Impl::send_append(NodeId to, bool send_if_empty) {
  Progress& pr = progress.at(to);
  if (pr.is_paused()) return false;
  const std::uint64_t prev = pr.next - 1;
  const auto prev_term = log.term(prev);
  if (!prev_term) {
    // The entry before `next` is compacted away: only the snapshot can catch this follower up.
    send_snapshot(to, pr);
    return true;
  }
  std::vector<Entry> entries = log.slice(pr.next, log.last_index() + 1,
                                         cfg.max_entries_per_message, cfg.max_bytes_per_message);
  if (entries.empty() && !send_if_empty) return false;
  Message m = make(MessageType::append, to);
  m.log_index = prev;
  m.log_term = *prev_term;
  m.commit = log.committed();
  pr.sent(entries.empty() ? 0 : entries.back().index);
  m.entries = std::move(entries);
  send(std::move(m));
  return true;
}

void Raft::Impl::send_snapshot(NodeId to, Progress& pr) {
  if (!snapshot || snapshot->index != log.snapshot_index()) {
    fatal("entries compacted but no snapshot to send");
  }
  Message m = make(MessageType::install_snapshot, to);
  m.snapshot = *snapshot;  // shares the bytes
  m.commit = log.committed();
  pr.become_snapshot(snapshot->index);
  send(std::move(m));
}

void Raft::Impl::bcast_append() {
  for (NodeId p : peers) {
    // One append even if empty (it carries the commit index), then fill the pipeline up to
    // max_inflight (thesis §10.2.2); a probing follower pauses after the first.
    if (!send_append(p, true)) continue;
    while (send_append(p, false)) {
    }
  }
}

void Raft::Impl::send_heartbeat(NodeId to, const Progress& pr) {
  Message m = make(MessageType::heartbeat, to);
  // Never more than the follower is known to match: its log may still hold entries of an old
  // term up there, which must not be committed by this number (etcd raft does the same).
  m.commit = std::min(pr.match, log.committed());
  // The latest read round: a heartbeat sent now was sent after that round started.
  m.read_round = read_round;
  send(std::move(m));
}

void Raft::Impl::bcast_heartbeat() {
  // Every broadcast is a new round, so a majority's answers date the leader's lease
  // (read_index.cpp); a read waiting for round R is confirmed by any later round as well.
  ++read_round;
  rounds_sent.push_back(RoundSent{read_round, ticks});
  // Rounds older than a lease can grant nothing any more; bound the queue while peers are down.
  while (rounds_sent.front().tick + static_cast<std::uint64_t>(cfg.election_ticks) < ticks) rounds_sent.pop_front();
  for (NodeId p : peers) send_heartbeat(p, progress.at(p));
}

void Raft::Impl::send_timeout_now(NodeId to) {
  // The target campaigns at once, and the voters let its transfer request through their
  // lease (step()): from now on in this term our lease proves nothing.
  lease_forfeited = true;
  send(make(MessageType::timeout_now, to));
}

void Raft::Impl::handle_append(const Message& m) {
  if (!well_formed_append(m)) return;
  Message r = make(MessageType::append_response, m.from);
  if (m.log_index < log.committed()) {
    // A stale or duplicated append: everything up to our commit index matches any current
    // leader's log (Leader Completeness), so say how far we are.
    r.match_index = log.committed();
  } else if (auto last_new = log.maybe_append(m.log_index, m.log_term, m.entries)) {
    track_memberships(m.entries);
    r.match_index = *last_new;
    // §5.3 receiver rule 5: commit up to the leader's commit, but only over entries this
    // message proved to match the leader's log (not our possibly stale suffix).
    log.commit_to(std::min(m.commit, *last_new));
  } else {
    // Reject, with a hint for fast backtracking (thesis §3.5 end, etcd's findConflictByTerm):
    // the largest index at or before the leader's probe whose term is <= the probe's term.
    // Every entry between cannot match, so the leader skips them in one round trip.
    r.reject = true;
    r.log_index = m.log_index;
    r.reject_hint = log.find_conflict_by_term(std::min(m.log_index, log.last_index()), m.log_term);
    r.log_term = log.term(r.reject_hint).value_or(0);
  }
  // An acknowledgement promises the entries are durable here: the leader counts it toward a
  // majority (thesis §3.8). It leaves only after the driver persisted this Ready.
  send_after_persist(std::move(r));
}

void Raft::Impl::handle_heartbeat(const Message& m) {
  // The leader sends commit <= our match, and we acknowledged that match only once the entries
  // were durable: they are still here, and equal to the leader's.
  log.commit_to(m.commit);
  Message r = make(MessageType::heartbeat_response, m.from);
  r.read_round = m.read_round;
  send(std::move(r));
}

void Raft::Impl::handle_snapshot(const Message& m) {
  if (!m.snapshot || (m.snapshot->membership && !m.snapshot->membership->well_formed())) return;
  const Snapshot& s = *m.snapshot;
  Message r = make(MessageType::append_response, m.from);
  if (s.index <= log.committed()) {
    // Old news (duplicate or delayed): we already have everything it holds.
    r.match_index = log.committed();
  } else if (log.match_term(s.index, s.term)) {
    // We hold the snapshot's last entry: by Log Matching our log equals the leader's up to
    // there, and everything in a snapshot is committed. Keep our entries after it (§7 rule 6).
    log.commit_to(s.index);
    r.match_index = s.index;
  } else {
    // §7 rule 7: discard the whole log and take the snapshot. Only uncommitted entries are
    // lost (s.index > committed), which is safe.
    log.restore_snapshot(s.index, s.term);
    set_base_membership(s.membership, s.index);
    snapshot = s;
    snapshot_pending = true;
    r.match_index = s.index;
  }
  send_after_persist(std::move(r));
}

void Raft::Impl::handle_append_response(const Message& m) {
  auto it = progress.find(m.from);
  if (it == progress.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.ticks_since_heard = 0;

  if (m.reject) {
    // Fast backtracking: the follower's hint is an index whose term is <= the term we probed
    // with. Find the largest index at or before it whose term in OUR log is <= the hint's term:
    // everything between is known not to match either.
    std::uint64_t next_probe = m.reject_hint;
    if (m.log_term > 0) next_probe = log.find_conflict_by_term(m.reject_hint, m.log_term);
    if (pr.maybe_decr_to(m.log_index, next_probe)) {
      if (pr.state == ProgressState::replicate) pr.become_probe();
      send_append(m.from, true);
    }
    return;
  }
  if (m.match_index > log.last_index()) return;  // not about our log: ignore

  if (pr.maybe_update(m.match_index)) {
    switch (pr.state) {
      case ProgressState::probe:
        pr.become_replicate();
        break;
      case ProgressState::snapshot:
        if (pr.match + 1 >= log.first_index()) {
          pr.become_probe();
          pr.become_replicate();
        }
        break;
      case ProgressState::replicate:
        pr.inflights.free_le(pr.match);
        break;
    }
    if (maybe_commit()) {
      bcast_append();  // tell everyone the new commit index
    }
    // Fill the pipeline.
    while (send_append(m.from, false)) {
    }
    if (m.from == transferee && pr.match == log.last_index()) {
      // Thesis §3.10: the target has our whole log, so it can win an election; tell it to start
      // one now.
      send_timeout_now(m.from);
    }
  }
}

void Raft::Impl::handle_heartbeat_response(const Message& m) {
  auto it = progress.find(m.from);
  if (it == progress.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.ticks_since_heard = 0;
  // Has the follower acknowledged nothing since the previous heartbeat answer?
  const bool stalled = pr.match == pr.heartbeat_match;
  pr.heartbeat_match = pr.match;
  switch (pr.state) {
    case ProgressState::probe:
      // The probe may have been lost: send it again.
      pr.probe_sent = false;
      send_append(m.from, true);
      break;
    case ProgressState::replicate:
      // An append may have been lost, leaving the pipeline waiting for answers that never
      // come. While acknowledgements flow, leave the pipeline alone (an empty append racing
      // appends still in flight would only be rejected). Once they stop, free a slot and send
      // an append at `next`: the follower rejects it if it lacks the entries before, and we
      // fall back to probing from its match.
      if (stalled && pr.match < log.last_index()) {
        if (pr.inflights.full()) pr.inflights.free_first_one();
        send_append(m.from, true);
      }
      break;
    case ProgressState::snapshot:
      break;  // waiting for the snapshot's answer (or the retry timer)
  }
  if (m.read_round > pr.read_ack) {
    pr.read_ack = m.read_round;
    advance_reads();
  }
}

bool Raft::Impl::maybe_commit() {
  if (role != Role::leader) return false;
  // Our own entries count only once durable (advance()): committed means on a majority's disks.
  // Learners' copies count for nothing; nor do ours while we lead a membership we left.
  const std::uint64_t index = voters_quorum_value(self_match(), &Progress::match);
  if (index <= log.committed()) return false;
  // §5.4.2 (thesis §3.6.2, Figure 3.7): only an entry of the current term is committed by
  // counting replicas. An older-term entry on a majority can still be overwritten by a leader
  // of a later term; it is committed indirectly, by the Log Matching property, once an entry
  // of our term after it is.
  if (log.term(index) != term) return false;
  const std::uint64_t old_commit = log.committed();
  log.commit_to(index);
  on_committed(old_commit);
  return true;
}

void Raft::Impl::on_committed(std::uint64_t old_commit) {
  for (std::uint64_t i = old_commit + 1; i <= log.committed(); ++i) {
    const Entry& e = log.at(i);
    if (e.term == term) uncommitted_bytes -= std::min<std::uint64_t>(uncommitted_bytes, e.data.size());
  }
  // The first commit in our term: reads held until now can be served (thesis §6.4 step 1).
  if (!reads_awaiting_commit.empty() && committed_in_term()) {
    std::vector<std::uint64_t> waiting;
    waiting.swap(reads_awaiting_commit);
    start_reads(waiting);
  }
}

void Raft::Impl::compact(std::uint64_t index, std::shared_ptr<const std::string> data) {
  if (index <= log.snapshot_index()) return;  // older than what we have
  if (index > applied) fatal("compact beyond the applied index");
  const std::uint64_t t = *log.term(index);
  std::optional<Membership> at_index = snapshot_membership_at(index);
  log.compact(index);
  snapshot = Snapshot{index, t, std::move(data), at_index};
  set_base_membership(std::move(at_index), index);
}

}  // namespace fourinone::raft
