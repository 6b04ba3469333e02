// Recovery: a restarting server's store and its Raft core's starting state, from its log
// storage, reading the log once.
//
// The store gets the snapshot and then every committed entry after it; the core gets the
// hard state, the snapshot and every entry after it (committed or not: only the group may
// decide about the rest). One pass serves both, and the entries the storage read while
// opening are reused when it kept them (LogStorage::take_opened_entries): the log's bytes
// are read from disk once at start-up, not three times.
#pragma once

#include <cstdint>

#include "fourinone/error.hpp"
#include "park/log/log_storage.hpp"
#include "park/raft/raft.hpp"
#include "park/store/store.hpp"

namespace fourinone::park {

struct Recovered {
  Store store;
  raft::Restore restore;  // restore.applied: the last index in `store`
};

// Errors: internal for a corrupt snapshot or entry, or a log that cannot be read.
Result<Recovered> recover(LogStorage& log, const StoreLimits& limits);

// The core's form of a stored entry (an empty one is a leader's noop).
raft::Entry to_raft_entry(LogEntry entry);

}  // namespace fourinone::park
