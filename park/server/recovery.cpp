#include "park/server/recovery.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/wire_archive.hpp"
#include "park/server/stored_snapshot.hpp"
#include "park/store/serialize.hpp"

namespace fourinone::park {

raft::Entry to_raft_entry(LogEntry e) {
  raft::Entry out;
  out.index = e.index;
  out.term = e.term;
  out.type = e.data.empty()                       ? raft::EntryType::noop
             : raft::is_membership_data(e.data) ? raft::EntryType::membership
                                                : raft::EntryType::normal;
  out.data = std::move(e.data);
  return out;
}

namespace {

// Every entry after the snapshot: the ones opening the storage read, else read now.
Result<std::vector<LogEntry>> entries_after_snapshot(LogStorage& log) {
  std::vector<LogEntry> entries = log.take_opened_entries();
  const std::uint64_t first = log.first_index();
  const std::uint64_t last = log.last_index();
  if (!entries.empty()) {
    if (entries.front().index != first || entries.back().index != last || entries.size() != last - first + 1) {
      return Status(Errc::internal, "the log storage handed over entries [" + std::to_string(entries.front().index) +
                                        ", " + std::to_string(entries.back().index) + "] of [" + std::to_string(first) +
                                        ", " + std::to_string(last) + "]");
    }
    return entries;
  }
  for (std::uint64_t next = first; next <= last;) {
    auto batch = log.read(next, last + 1, 64u << 20);
    if (!batch.ok()) return Status(Errc::internal, "reading the log: " + batch.status().message());
    for (auto& e : batch.value()) entries.push_back(std::move(e));
    next = entries.back().index + 1;
  }
  return entries;
}

}  // namespace

Result<Recovered> recover(LogStorage& log, const StoreLimits& limits) {
  Recovered out{Store(limits), raft::Restore{}};
  std::uint64_t applied = 0;
  if (auto snap = log.snapshot()) {
    auto stored = unwrap_snapshot(std::move(snap->data));
    if (!stored.ok()) {
      return Status(Errc::internal, "snapshot at index " + std::to_string(snap->index) +
                                        " is corrupt: " + stored.status().message());
    }
    // One copy of the snapshot's bytes, shared by the store's load and the core.
    auto data = std::make_shared<const std::string>(std::move(stored->store_bytes));
    auto loaded = Store::load(*data, limits);
    if (!loaded.ok()) {
      return Status(Errc::internal, "snapshot at index " + std::to_string(snap->index) +
                                        " is corrupt: " + loaded.status().message());
    }
    out.store = std::move(loaded).value();
    applied = snap->index;
    out.restore.snapshot = raft::Snapshot{snap->index, snap->term, std::move(data), std::move(stored->membership)};
  }
  auto entries = entries_after_snapshot(log);
  if (!entries.ok()) return entries.status();
  const HardState hs = log.hard_state();
  // Only committed entries may be applied; the rest wait for the group's verdict (Raft
  // replays them once the leader confirms the commit index).
  const std::uint64_t commit = std::min(log.last_index(), hs.commit);
  out.restore.entries.reserve(entries.value().size());
  for (LogEntry& entry : entries.value()) {
    if (entry.index > applied && entry.index <= commit) {
      applied = entry.index;
      // A leader's noop entry carries nothing to apply; a membership entry is the core's.
      if (!entry.data.empty() && !raft::is_membership_data(entry.data)) {
        Command command;
        if (Status s = core::decode(entry.data, command, "log entry"); !s.ok()) {
          return Status(Errc::internal, "log entry " + std::to_string(entry.index) + " is corrupt: " + s.message());
        }
        out.store.apply(command);
      }
    }
    out.restore.entries.push_back(to_raft_entry(std::move(entry)));
  }
  // Entries up to `applied` are in the store, so they were committed.
  out.restore.hard_state = raft::HardState{hs.term, hs.vote, std::max(hs.commit, applied)};
  out.restore.applied = applied;
  return out;
}

}  // namespace fourinone::park
