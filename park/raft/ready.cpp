// ready() / advance(): the hand-over to the driver (order in raft.hpp).
//
// What a Ready promises, and why it is safe:
// - `committed` never runs past the entries handed out so far (each Ready takes every
//   unstable entry, and commit <= last index): the driver persists a Ready's entries before
//   applying its committed entries, so nothing is applied that a crash could take back from
//   this server's log;
// - `committed` starts right after the last index handed out to apply (or the snapshot), so no
//   entry is delivered twice, and after a restart nothing at or below Restore::applied;
// - `messages_after_persist` holds every answer that promises durable state (votes and append
//   acknowledgements, thesis §3.8);
// - our own vote and our own log entries count only in advance(), after they are durable.
#include <algorithm>
#include <cstdint>

#include "park/raft/raft_impl.hpp"

namespace fourinone::raft {

bool Raft::Impl::has_ready() const {
  if (hard_state() != prev_hard_state || snapshot_pending || log.has_unstable()) return true;
  if (!msgs.empty() || !msgs_after_persist.empty() || !read_states.empty()) return true;
  return applying < log.committed();
}

Ready Raft::Impl::ready() {
  Ready rd;
  const HardState hs = hard_state();
  if (hs != prev_hard_state) {
    rd.hard_state = hs;
    // A commit-only change need not be synced: commit can be recomputed after a crash.
    if (hs.term != prev_hard_state.term || hs.vote != prev_hard_state.vote) rd.must_sync = true;
    prev_hard_state = hs;
  }
  if (snapshot_pending) {
    rd.snapshot = snapshot;
    snapshot_pending = false;
    // The driver applies the snapshot before any committed entry of this Ready.
    applying = std::max(applying, snapshot->index);
    rd.must_sync = true;
  }
  rd.entries = log.take_unstable();
  if (!rd.entries.empty()) rd.must_sync = true;
  const std::uint64_t hi = log.committed();  // <= last_index(), all handed out by now
  if (applying < hi) {
    rd.committed = log.slice(applying + 1, hi + 1, SIZE_MAX, SIZE_MAX);
    applying = hi;
  }
  rd.messages.swap(msgs);
  rd.messages_after_persist.swap(msgs_after_persist);
  rd.read_states.swap(read_states);
  return rd;
}

void Raft::Impl::advance(const Ready& rd) {
  if (rd.snapshot) {
    log.stable_snapshot_to(rd.snapshot->index, rd.snapshot->term);
    applied = std::max(applied, rd.snapshot->index);
  }
  if (!rd.entries.empty()) log.stable_to(rd.entries.back().index, rd.entries.back().term);
  if (!rd.committed.empty()) applied = std::max(applied, rd.committed.back().index);

  if (rd.hard_state && role == Role::candidate && rd.hard_state->term == term &&
      rd.hard_state->vote == id) {
    // Our vote for ourselves in this term is durable now: count it.
    poll(id, true);
  }
  if (role == Role::leader && maybe_commit()) bcast_append();
}

}  // namespace fourinone::raft
