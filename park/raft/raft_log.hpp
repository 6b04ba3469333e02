// RaftLog: the in-memory log of one Raft server (internal to park/raft/).
//
// DESIGN. The log is a snapshot boundary (index, term) followed by contiguous entries. Three
// cursors split those entries by how far the driver has taken them:
//
//   snapshot_index | persisted | handed out, not yet durable | unstable (not yet in a Ready)
//                  ^persisted_                              ^unstable_from_
//
// - `unstable_from_`: the first index not yet handed to the driver in Ready::entries;
// - `persisted_`: the last index the driver reported durable through advance();
// - `committed_`: the last index known committed (never decreases, never beyond last_index).
//
// Truncating a suffix (a follower meeting a conflicting leader, §5.3) pulls both cursors back:
// the replaced entries must be written again and are no longer durable in their new form.
// Not thread-safe; owned by one Raft::Impl.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "park/raft/raft.hpp"

namespace fourinone::raft {

class RaftLog {
 public:
  explicit RaftLog(NodeId id) : id_(id) {}

  // Starts from what storage held: everything given here is already durable.
  // REQUIRES: entries contiguous, starting right after the snapshot (if any).
  void restore_durable(std::uint64_t snapshot_index, std::uint64_t snapshot_term,
                       std::vector<Entry> entries);

  std::uint64_t snapshot_index() const { return snapshot_index_; }
  std::uint64_t snapshot_term() const { return snapshot_term_; }
  std::uint64_t first_index() const { return snapshot_index_ + 1; }
  std::uint64_t last_index() const { return snapshot_index_ + entries_.size(); }
  std::uint64_t last_term() const;
  std::uint64_t committed() const { return committed_; }
  std::uint64_t persisted() const { return persisted_; }
  std::uint64_t unstable_from() const { return unstable_from_; }

  // The term of the entry at `index`: the snapshot's term at its index, nothing for an index
  // compacted away or beyond the last entry.
  std::optional<std::uint64_t> term(std::uint64_t index) const;
  bool match_term(std::uint64_t index, std::uint64_t term) const;
  // The entry at `index`. REQUIRES: first_index() <= index <= last_index().
  const Entry& at(std::uint64_t index) const;

  // Election restriction (§5.4.1): is a log ending at (last_index, last_term) at least as up to
  // date as ours? Compare last terms first, then lengths.
  bool is_up_to_date(std::uint64_t last_index, std::uint64_t last_term) const;

  // Leader: appends at the end. REQUIRES: entries[0].index == last_index() + 1.
  void append(std::vector<Entry> entries);

  // Follower (§5.3, AppendEntries receiver rules 2-5): if our entry at prev_index has
  // prev_term, writes `entries` after it, truncating only from the first conflicting entry, and
  // returns the index of the last entry the message covers; otherwise nothing (reject).
  std::optional<std::uint64_t> maybe_append(std::uint64_t prev_index, std::uint64_t prev_term,
                                            const std::vector<Entry>& entries);

  // Fast backtracking: the largest index <= `index` whose term is <= `term` (or the snapshot
  // boundary, below which we know nothing). Entries in between cannot match a log whose entry
  // at `index` has `term`, so the leader may skip them all in one round trip.
  std::uint64_t find_conflict_by_term(std::uint64_t index, std::uint64_t term) const;

  // Entries [lo, hi), at most max_entries and about max_bytes of data (at least one entry).
  // REQUIRES: first_index() <= lo, hi <= last_index() + 1.
  std::vector<Entry> slice(std::uint64_t lo, std::uint64_t hi, std::size_t max_entries,
                           std::size_t max_bytes) const;

  // Commits up to `index`. Commit never decreases; committing beyond the last entry is a
  // broken invariant.
  void commit_to(std::uint64_t index);

  // Ready/advance bookkeeping.
  bool has_unstable() const { return unstable_from_ <= last_index(); }
  std::vector<Entry> take_unstable();
  // The driver made entries up to (index, term) durable. Ignored if the log has since been
  // truncated there (the term no longer matches): those entries come again in a later Ready.
  void stable_to(std::uint64_t index, std::uint64_t term);
  // The driver made the snapshot at `index` durable.
  void stable_snapshot_to(std::uint64_t index, std::uint64_t term);

  // Replaces the whole log with a snapshot from the leader (§7, InstallSnapshot rule 7).
  void restore_snapshot(std::uint64_t index, std::uint64_t term);
  // Drops entries up to `index`, which the state machine has applied and storage keeps.
  // REQUIRES: snapshot_index() < index <= persisted() and index <= committed().
  void compact(std::uint64_t index);

 private:
  [[noreturn]] void fatal(const char* what, std::uint64_t a, std::uint64_t b) const;
  void truncate_and_append(std::vector<Entry> entries);

  NodeId id_;
  std::uint64_t snapshot_index_ = 0;
  std::uint64_t snapshot_term_ = 0;
  std::deque<Entry> entries_;        // entries_[k].index == snapshot_index_ + 1 + k
  std::uint64_t unstable_from_ = 1;  // first index not yet handed out
  std::uint64_t persisted_ = 0;      // last index known durable
  std::uint64_t committed_ = 0;
};

}  // namespace fourinone::raft
