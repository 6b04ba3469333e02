#include "park/raft/raft_log.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace fourinone::raft {

void RaftLog::fatal(const char* what, std::uint64_t a, std::uint64_t b) const {
  std::fprintf(stderr,
               "raft %" PRIu64 ": log invariant broken: %s (%" PRIu64 ", %" PRIu64
               "); log (%" PRIu64 ", %" PRIu64 "] committed %" PRIu64 "\n",
               id_, what, a, b, snapshot_index_, last_index(), committed_);
  std::abort();
}

void RaftLog::restore_durable(std::uint64_t snapshot_index, std::uint64_t snapshot_term,
                              std::vector<Entry> entries) {
  snapshot_index_ = snapshot_index;
  snapshot_term_ = snapshot_term;
  entries_.clear();
  std::uint64_t expect = snapshot_index + 1;
  std::uint64_t prev_term = snapshot_term;
  for (auto& e : entries) {
    if (e.index != expect) fatal("restored entries are not contiguous", e.index, expect);
    if (e.term < prev_term) fatal("restored entry terms decrease", e.index, e.term);
    prev_term = e.term;
    ++expect;
    entries_.push_back(std::move(e));
  }
  persisted_ = last_index();
  unstable_from_ = last_index() + 1;
  committed_ = snapshot_index;
}

std::uint64_t RaftLog::last_term() const {
  return entries_.empty() ? snapshot_term_ : entries_.back().term;
}

std::optional<std::uint64_t> RaftLog::term(std::uint64_t index) const {
  if (index == snapshot_index_) return snapshot_term_;
  if (index < snapshot_index_ || index > last_index()) return std::nullopt;
  return entries_[index - snapshot_index_ - 1].term;
}

bool RaftLog::match_term(std::uint64_t index, std::uint64_t t) const {
  auto ours = term(index);
  return ours && *ours == t;
}

const Entry& RaftLog::at(std::uint64_t index) const {
  if (index <= snapshot_index_ || index > last_index()) fatal("entry out of range", index, 0);
  return entries_[index - snapshot_index_ - 1];
}

bool RaftLog::is_up_to_date(std::uint64_t index, std::uint64_t t) const {
  // §5.4.1: "If the logs have last entries with different terms, then the log with the later
  // term is more up-to-date. If the logs end with the same term, then whichever log is longer
  // is more up-to-date."
  return t > last_term() || (t == last_term() && index >= last_index());
}

void RaftLog::append(std::vector<Entry> entries) {
  if (entries.empty()) return;
  if (entries.front().index != last_index() + 1) {
    fatal("leader append not at the end", entries.front().index, last_index());
  }
  for (auto& e : entries) entries_.push_back(std::move(e));
}

std::optional<std::uint64_t> RaftLog::maybe_append(std::uint64_t prev_index,
                                                   std::uint64_t prev_term,
                                                   const std::vector<Entry>& entries) {
  // §5.3 consistency check: the entry before the new ones must match, which by induction makes
  // our whole log up to prev_index equal to the leader's (Log Matching).
  if (!match_term(prev_index, prev_term)) return std::nullopt;
  const std::uint64_t last_new = prev_index + entries.size();
  // Skip entries we already hold with the same term: they are the same entries (Log
  // Matching), and truncating them would throw away data a stale, reordered message cannot
  // vouch for. Only a real conflict truncates (AppendEntries receiver rule 3).
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const Entry& e = entries[k];
    if (match_term(e.index, e.term)) continue;
    if (e.index <= committed_) {
      // A committed entry is never replaced (State Machine Safety, §5.4.3).
      fatal("conflict at or below commit", e.index, e.term);
    }
    truncate_and_append(std::vector<Entry>(entries.begin() + static_cast<std::ptrdiff_t>(k),
                                           entries.end()));
    break;
  }
  return last_new;
}

void RaftLog::truncate_and_append(std::vector<Entry> entries) {
  const std::uint64_t from = entries.front().index;
  if (from <= snapshot_index_ || from > last_index() + 1) {
    fatal("truncation outside the log", from, last_index());
  }
  while (last_index() >= from) entries_.pop_back();
  // What was handed out or durable from `from` on is gone: write it again.
  unstable_from_ = std::min(unstable_from_, from);
  persisted_ = std::min(persisted_, from - 1);
  for (auto& e : entries) entries_.push_back(std::move(e));
}

std::uint64_t RaftLog::find_conflict_by_term(std::uint64_t index, std::uint64_t t) const {
  index = std::min(index, last_index());
  while (index > snapshot_index_) {
    if (entries_[index - snapshot_index_ - 1].term <= t) return index;
    --index;
  }
  return index;
}

std::vector<Entry> RaftLog::slice(std::uint64_t lo, std::uint64_t hi, std::size_t max_entries,
                                  std::size_t max_bytes) const {
  std::vector<Entry> out;
  if (lo >= hi) return out;
  if (lo <= snapshot_index_ || hi > last_index() + 1) fatal("slice out of range", lo, hi);
  std::size_t bytes = 0;
  for (std::uint64_t i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - snapshot_index_ - 1];
    if (!out.empty() && (out.size() >= max_entries || bytes + e.data.size() > max_bytes)) break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

void RaftLog::commit_to(std::uint64_t index) {
  if (index <= committed_) return;
  if (index > last_index()) fatal("commit beyond the last entry", index, last_index());
  committed_ = index;
}

std::vector<Entry> RaftLog::take_unstable() {
  std::vector<Entry> out;
  for (std::uint64_t i = std::max(unstable_from_, first_index()); i <= last_index(); ++i) {
    out.push_back(entries_[i - snapshot_index_ - 1]);
  }
  unstable_from_ = last_index() + 1;
  return out;
}

void RaftLog::stable_to(std::uint64_t index, std::uint64_t t) {
  // If the entry at `index` still has term `t` it is the same entry that was written (Log
  // Matching), and so is every entry before it: no truncation happened below it since.
  if (index <= persisted_ || index >= unstable_from_ || !match_term(index, t)) return;
  persisted_ = index;
}

void RaftLog::stable_snapshot_to(std::uint64_t index, std::uint64_t t) {
  if (index <= persisted_ || !match_term(index, t)) return;
  persisted_ = index;
}

void RaftLog::restore_snapshot(std::uint64_t index, std::uint64_t t) {
  if (index <= committed_) fatal("snapshot restore at or below commit", index, committed_);
  snapshot_index_ = index;
  snapshot_term_ = t;
  entries_.clear();
  unstable_from_ = index + 1;
  // Whatever was durable below the snapshot stays durable (the snapshot covers it); nothing
  // above it is ours any more.
  persisted_ = std::min(persisted_, index);
  committed_ = index;
}

void RaftLog::compact(std::uint64_t index) {
  if (index <= snapshot_index_) return;
  if (index > persisted_ || index > committed_) fatal("compaction beyond durable commit", index, persisted_);
  snapshot_term_ = entries_[index - snapshot_index_ - 1].term;
  while (!entries_.empty() && entries_.front().index <= index) entries_.pop_front();
  snapshot_index_ = index;
  unstable_from_ = std::max(unstable_from_, index + 1);
}

}  // namespace fourinone::raft
