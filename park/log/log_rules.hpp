// The rules every LogStorage implementation follows, shared so that the LMDB and the memory
// log cannot drift apart (the memory log stands in for LMDB in the simulator). Internal to
// park/log/. Pure functions; thread-safe.
//
// Both implementations keep the invariant first_index() == snapshot index + 1 (1 with no
// snapshot), so "the snapshot index" below is always first_index() - 1, and term(0) is 0 until
// a snapshot exists (the Raft "entry 0" before the first entry).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fourinone/error.hpp"
#include "park/log/log_storage.hpp"

namespace fourinone::park::log_rules {

// Bytes an entry counts for against read()'s max_bytes: its data plus index and term.
inline constexpr std::size_t kEntryOverhead = 16;
inline std::size_t entry_size(const LogEntry& entry) { return entry.data.size() + kEntryOverhead; }

// OK when `entries` may be appended to a log whose last index is `last` and whose snapshot
// index is `snapshot_index`: the entries are contiguous, the first is at most last + 1 (no gap)
// and above the snapshot index. Errors: bad_request naming the offending index.
Status check_append(std::span<const LogEntry> entries, std::uint64_t snapshot_index, std::uint64_t last);

// OK when read(from, to, ...) may proceed on a log holding [first, last]. Errors: not_found
// when `from` was compacted away or is past the end; bad_request when to <= from.
Status check_read(std::uint64_t from, std::uint64_t to, std::uint64_t first, std::uint64_t last);

// Persist before you tell anyone: once a durable log's write fails it is broken for good (a
// failed fsync is never retried). This is what every later write returns: OK while `broken`
// is OK, else internal "storage failed earlier: ...".
Status refuse_if_broken(const Status& broken);

// OK when `snapshot` may replace a stored snapshot at `snapshot_index` (it is not older).
// Errors: bad_request.
Status check_snapshot(const Snapshot& snapshot, std::uint64_t snapshot_index);

}  // namespace fourinone::park::log_rules
