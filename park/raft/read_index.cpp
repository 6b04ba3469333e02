// Linearizable reads without writing to the log: ReadIndex (thesis §6.4).
//
// 1. The leader must have committed an entry of its own term, so that its commit index is at
//    least every index committed by any earlier leader (Leader Completeness; the no-op from
//    become_leader() provides one). Until then reads wait.
// 2. It records the commit index as the read index.
// 3. It starts a new heartbeat round; once a majority answers a heartbeat of that round (or a
//    later one), no leader of a later term existed when the round started: such a leader was
//    elected by a majority that had moved to its term, one of whose members would have had to
//    answer our round. So the read index was still the newest commit index when the read
//    arrived.
// 4. The driver serves the read once its state machine has applied the read index.
// With Config::lease_reads, step 3 is skipped while the leader holds a lease (below): the
// answers to its periodic heartbeats already prove what a round of its own would.
#include <algorithm>
#include <optional>

#include "park/raft/quorum.hpp"
#include "park/raft/raft_impl.hpp"

namespace fourinone::raft {

bool Raft::Impl::committed_in_term() const { return log.term(log.committed()) == term; }

bool Raft::Impl::read_index(std::uint64_t context) {
  if (role != Role::leader) return false;
  if (!committed_in_term()) {
    reads_awaiting_commit.push_back(context);
    return true;
  }
  if (lease_valid()) {
    read_states.push_back(ReadState{log.committed(), context});
    return true;
  }
  start_reads({context});
  return true;
}

void Raft::Impl::start_reads(const std::vector<std::uint64_t>& contexts) {
  if (contexts.empty()) return;
  const std::uint64_t index = log.committed();
  if (voters.size() == 1 && is_voter(id)) {
    // A group of one voter is its own majority: nobody else can lead.
    for (std::uint64_t c : contexts) read_states.push_back(ReadState{index, c});
    return;
  }
  // A new round for every read accepted now; the round number only grows, so an answer to a
  // heartbeat sent before this point can never confirm it.
  bcast_heartbeat();
  for (std::uint64_t c : contexts) pending_reads.push_back(PendingRead{c, index, read_round});
}

// The lease (thesis §6.4.1). A majority answered a heartbeat we sent at tick T. Each of those
// followers reset its election clock when the heartbeat arrived (after T) and ignores votes
// until that clock reaches election_ticks (step(); a restarted one for its first
// election_ticks ticks); our own vote goes to nobody while we lead. A follower's first tick
// may come at once, so no other leader exists before (election_ticks - 1) tick periods after
// T in real time. Our clock reads D at a read_index at most one period before D + 1 (the
// driver catches up missed ticks first), so a read decided at D < T + election_ticks - 1 is
// served by the only leader there is, whose commit index covers every write acknowledged
// before it. kLeaseMarginTicks keeps two more ticks against clock-rate error and late timers.
// A transfer's timeout_now overrides the followers' lease: no lease for the rest of the term
// once one is sent.
bool Raft::Impl::lease_valid() const {
  return cfg.lease_reads && cfg.check_quorum && role == Role::leader && !lease_forfeited && transferee == 0 &&
         ticks < lease_until;
}

void Raft::Impl::note_round_confirmed(std::uint64_t confirmed) {
  std::optional<std::uint64_t> sent_at;
  while (!rounds_sent.empty() && rounds_sent.front().round <= confirmed) {
    sent_at = rounds_sent.front().tick;
    rounds_sent.pop_front();
  }
  if (!sent_at) return;
  const std::uint64_t until = *sent_at + static_cast<std::uint64_t>(cfg.election_ticks - kLeaseMarginTicks);
  lease_until = std::max(lease_until, until);
}

void Raft::Impl::advance_reads() {
  // We confirm our own leadership for every round; learners' answers count for nothing.
  const std::uint64_t confirmed = voters_quorum_value(read_round, &Progress::read_ack);
  note_round_confirmed(confirmed);
  std::size_t done = 0;
  // Rounds are in increasing order in pending_reads.
  while (done < pending_reads.size() && pending_reads[done].round <= confirmed) {
    read_states.push_back(ReadState{pending_reads[done].index, pending_reads[done].context});
    ++done;
  }
  pending_reads.erase(pending_reads.begin(), pending_reads.begin() + static_cast<std::ptrdiff_t>(done));
}

}  // namespace fourinone::raft
