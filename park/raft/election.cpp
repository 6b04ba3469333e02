// Roles and elections: randomized timeouts (§5.2), pre-vote (thesis §9.6), the election
// restriction (§5.4.1), check-quorum (thesis §6.2) and leader transfer (thesis §3.10).
#include <algorithm>

#include "park/raft/quorum.hpp"
#include "park/raft/raft_impl.hpp"

namespace fourinone::raft {

void Raft::Impl::reset_randomized_timeout() {
  // §5.2: election timeouts drawn from [T, 2T) make split votes rare. No std distribution
  // here: their output differs between standard libraries, and replays must not.
  const auto span = static_cast<std::uint64_t>(cfg.election_ticks);
  randomized_timeout = cfg.election_ticks + static_cast<int>(rng() % span);
}

void Raft::Impl::reset(std::uint64_t new_term) {
  if (term != new_term) {
    term = new_term;
    vote = 0;  // one vote per term (§5.2): a new term starts with none cast
  }
  lead = 0;
  election_elapsed = 0;
  heartbeat_elapsed = 0;
  reset_randomized_timeout();
  votes.clear();
  progress.clear();
  abort_transfer();
  uncommitted_bytes = 0;
  // Reads accepted as leader are never answered once we stop leading: the driver times them
  // out and retries elsewhere (see read_index in raft.hpp).
  pending_reads.clear();
  reads_awaiting_commit.clear();
  rounds_sent.clear();
  lease_until = 0;
  lease_forfeited = false;
}

void Raft::Impl::become_follower(std::uint64_t new_term, NodeId new_leader) {
  reset(new_term);
  role = Role::follower;
  lead = new_leader;
}

void Raft::Impl::become_pre_candidate() {
  if (role == Role::leader) fatal("leader cannot become pre-candidate");
  // Term and vote stay as they are: a pre-vote is only a question (thesis §9.6).
  votes.clear();
  lead = 0;
  election_elapsed = 0;
  reset_randomized_timeout();
  role = Role::pre_candidate;
}

void Raft::Impl::become_candidate() {
  if (role == Role::leader) fatal("leader cannot become candidate");
  reset(term + 1);
  vote = id;  // counted only after it is durable, see advance()
  role = Role::candidate;
}

void Raft::Impl::become_leader() {
  if (role == Role::follower) fatal("follower cannot become leader directly");
  reset(term);
  role = Role::leader;
  lead = id;
  for (NodeId p : peers) {
    Progress pr(cfg.max_inflight);
    pr.next = log.last_index() + 1;
    // Not active until it answers: a leader that no majority answers within its first
    // election timeout steps down (check-quorum).
    progress.emplace(p, std::move(pr));
  }
  // §5.4.2 / thesis §3.6.2: a leader may only count replicas for entries of its own term, so
  // it appends one at once (a no-op); committing it commits every earlier entry, and tells the
  // leader where the commit index is (needed before serving reads, thesis §6.4).
  Entry noop;
  noop.index = log.last_index() + 1;
  noop.term = term;
  noop.type = EntryType::noop;
  log.append({std::move(noop)});
  bcast_append();
}

void Raft::Impl::campaign(bool pre, bool transfer) {
  if (pre) {
    become_pre_candidate();
    // Our own answer: nothing changes in our state, so it counts at once.
    poll(id, true);
    if (role != Role::pre_candidate) return;  // a group of one moved on already
  } else {
    become_candidate();
    // Our own vote counts only once the term and vote are durable (advance()): a leader
    // elected on an unpersisted self-vote could, after a crash, vote again in the same term.
    // Nobody else to ask when we are the only voter (a server outside its latest membership
    // asks the voters, promotable()).
    if (voters.size() == 1 && is_voter(id)) return;
  }
  const std::uint64_t vote_term = pre ? term + 1 : term;
  for (NodeId p : voters) {  // learners have no vote
    if (p == id) continue;
    Message m = make(pre ? MessageType::pre_vote : MessageType::vote, p);
    m.term = vote_term;
    m.log_index = log.last_index();
    m.log_term = log.last_term();
    m.transfer = transfer;
    send(std::move(m));
  }
}

void Raft::Impl::handle_vote_request(const Message& m) {
  // Can we vote for this server in this term at all? §5.2: at most one vote per term (first
  // come, first served); a repeat request from the one we voted for gets the same answer. A
  // follower that knows a leader of this term refuses. A pre-vote for a later term binds
  // nothing, so it only needs the log check below.
  const bool can_vote = vote == m.from || (vote == 0 && lead == 0) ||
                        (m.type == MessageType::pre_vote && m.term > term);
  // §5.4.1 election restriction: grant only to a candidate whose log is at least as up to
  // date as ours. With majorities intersecting, the winner holds every committed entry
  // (Leader Completeness, §5.4.3).
  const bool grant = can_vote && log.is_up_to_date(m.log_index, m.log_term);
  Message r = make(m.type == MessageType::vote ? MessageType::vote_response
                                               : MessageType::pre_vote_response,
                   m.from);
  if (grant) {
    // A grant answers in the candidate's term (for a pre-vote, the term it would campaign in).
    r.term = m.term;
    if (m.type == MessageType::vote) {
      election_elapsed = 0;
      vote = m.from;
    }
  } else {
    r.reject = true;
  }
  // The vote is part of the hard state: the answer must not leave before it is durable
  // (thesis §3.8), or a crash could let us vote twice in one term.
  send_after_persist(std::move(r));
}

void Raft::Impl::poll(NodeId from, bool granted) {
  votes.emplace(from, granted);  // the first answer from each server counts
  std::size_t yes = 0;
  std::size_t no = 0;
  // Only the answers of the voters of the membership in effect count (it may have changed
  // since the election started, by an append from a leader of our old term).
  for (const auto& [server, g] : votes) {
    if (is_voter(server)) (g ? yes : no)++;
  }
  switch (vote_result(voters.size(), yes, no)) {
    case VoteResult::won:
      if (role == Role::pre_candidate) {
        // A majority would vote for us: now raise the term for real.
        campaign(false, false);
      } else {
        become_leader();
      }
      break;
    case VoteResult::lost:
      become_follower(term, 0);
      break;
    case VoteResult::pending:
      break;
  }
}

void Raft::Impl::tick_election() {
  ++election_elapsed;
  if (promotable() && election_elapsed >= randomized_timeout) {
    election_elapsed = 0;
    campaign(cfg.pre_vote, false);
  }
}

bool Raft::Impl::quorum_active() const {
  std::size_t active = 0;
  for (NodeId v : voters) {
    if (v == id) {
      ++active;
    } else if (auto it = progress.find(v); it != progress.end() && it->second.recent_active) {
      ++active;
    }
  }
  return active >= majority(voters.size());
}

void Raft::Impl::tick_heartbeat() {
  ++heartbeat_elapsed;
  ++election_elapsed;
  for (auto& [server, pr] : progress) {
    ++pr.ticks_since_heard;
    // The install_snapshot may have been lost: nothing tells us but silence. Fall back to
    // probing, which sends it again if the follower still needs it.
    if (pr.state == ProgressState::snapshot && ++pr.snapshot_ticks >= 2 * cfg.election_ticks) {
      pr.become_probe();
    }
  }
  if (election_elapsed >= cfg.election_ticks) {
    election_elapsed = 0;
    if (cfg.check_quorum) {
      // Check-quorum (thesis §6.2): a leader that has not heard from a majority within an
      // election timeout steps down, so clients stop waiting on a leader that cannot commit.
      // It is also what makes the followers' lease (step()) safe for liveness: a leader the
      // majority cannot reach stops holding it.
      if (!quorum_active()) {
        become_follower(term, 0);
        return;
      }
      for (auto& [server, pr] : progress) pr.recent_active = false;
    }
  }
  // A transfer that has not finished within an election timeout failed (the target is down or
  // slow): accept proposals again (thesis §3.10). Its own timer, so that starting transfers
  // never postpones check-quorum.
  if (transferee != 0 && ++transfer_elapsed >= cfg.election_ticks) abort_transfer();
  if (heartbeat_elapsed >= cfg.heartbeat_ticks) {
    heartbeat_elapsed = 0;
    bcast_heartbeat();
  }
  // Membership work waits for the tick rather than happening inside the commit that allows
  // it: stepping down there would pull the progress table out from under its callers.
  step_down_if_removed();
  if (role == Role::leader) maybe_promote_learner();
}

bool Raft::Impl::transfer_leadership(NodeId to) {
  if (role != Role::leader || !is_voter(to)) return false;
  if (to == id) {
    abort_transfer();
    return true;
  }
  if (transferee == to) return true;
  transferee = to;
  transfer_elapsed = 0;  // it gets one election timeout from now (tick_heartbeat)
  Progress& pr = progress.at(to);
  if (pr.match == log.last_index()) {
    send_timeout_now(to);
  } else {
    send_append(to, true);
  }
  return true;
}

}  // namespace fourinone::raft
