#include "park/raft/progress.hpp"

#include <algorithm>

namespace fourinone::raft {

void Inflights::free_le(std::uint64_t index) {
  while (!in_flight_.empty() && in_flight_.front() <= index) in_flight_.pop_front();
}

void Inflights::free_first_one() {
  if (!in_flight_.empty()) in_flight_.pop_front();
}

void Progress::become_probe() {
  // Coming back from a snapshot, the follower holds at least the snapshot once it is
  // installed; start right after it rather than at a match we know to be stale.
  if (state == ProgressState::snapshot) {
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = ProgressState::probe;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.reset();
}

void Progress::become_replicate() {
  state = ProgressState::replicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.reset();
}

void Progress::become_snapshot(std::uint64_t snapshot_index) {
  state = ProgressState::snapshot;
  pending_snapshot = snapshot_index;
  snapshot_ticks = 0;
  probe_sent = false;
  inflights.reset();
}

bool Progress::maybe_update(std::uint64_t index) {
  bool updated = false;
  if (match < index) {
    match = index;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, index + 1);
  return updated;
}

bool Progress::maybe_decr_to(std::uint64_t rejected, std::uint64_t hint) {
  if (state == ProgressState::replicate) {
    // A reject for an index at or below match is stale: we know the follower matched there.
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // Probe (or snapshot): only the reject of the append we sent last is news.
  if (next == 0 || next - 1 != rejected) return false;
  next = std::max(std::min(rejected, hint + 1), match + 1);
  probe_sent = false;
  return true;
}

void Progress::sent(std::uint64_t last) {
  switch (state) {
    case ProgressState::replicate:
      if (last != 0) {
        next = last + 1;  // optimistic: assume it arrives (pipelining)
        inflights.add(last);
      }
      break;
    case ProgressState::probe:
      probe_sent = true;
      break;
    case ProgressState::snapshot:
      break;
  }
}

bool Progress::is_paused() const {
  switch (state) {
    case ProgressState::probe:
      return probe_sent;
    case ProgressState::replicate:
      return inflights.full();
    case ProgressState::snapshot:
      return true;
  }
  return true;
}

}  // namespace fourinone::raft
