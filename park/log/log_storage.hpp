// LogStorage: where a park server keeps its log, its Raft hard state and its latest snapshot.
//
// The server appends every write here before applying it (DESIGN §4.4); a restarted server
// rebuilds its state from the snapshot plus the entries after it. append() returns only once
// the entries are durable (fsync) when the storage was opened with sync on: callers rely on
// that before acknowledging a write. Implementations: the WAL (wal_log.cpp, what servers use),
// LMDB (lmdb_log.cpp, data directories made before the WAL) and memory (tests, simulator).
// Not thread-safe: one thread (the server's storage thread) owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fourinone/error.hpp"

namespace fourinone::park {

struct LogEntry {
  std::uint64_t index = 0;  // 1, 2, 3, ... without gaps
  std::uint64_t term = 0;
  std::string data;         // an encoded Command
};

struct HardState {
  std::uint64_t term = 0;
  std::uint64_t vote = 0;    // server id voted for in `term`, 0 = none
  std::uint64_t commit = 0;  // highest index known committed
};

struct Snapshot {
  std::uint64_t index = 0;  // last log index the snapshot includes
  std::uint64_t term = 0;
  std::string data;         // Store::save()
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // Index of the first entry still held (snapshot index + 1 when compacted), and of the last
  // one (the snapshot index when no entry follows it; 0 when empty).
  virtual std::uint64_t first_index() const = 0;
  virtual std::uint64_t last_index() const = 0;

  // Appends entries whose indexes continue last_index() (or replace a suffix: an entry with
  // index <= last_index() first truncates the log from that index). Durable on return.
  // Errors: bad_request for a gap; internal for an I/O failure (the storage then refuses
  // every later write: a failed fsync is never retried and hoped over).
  virtual Status append(std::span<const LogEntry> entries) = 0;

  // Entries [from, to) up to about max_bytes (at least one entry). Errors: not_found when
  // `from` was compacted away or is past the end.
  virtual Result<std::vector<LogEntry>> read(std::uint64_t from, std::uint64_t to, std::size_t max_bytes) const = 0;
  // The term of entry `index` (the snapshot's term for its index). Errors: not_found.
  virtual Result<std::uint64_t> term(std::uint64_t index) const = 0;

  virtual Status save_hard_state(const HardState& state) = 0;
  // Saves the hard state (when given) and appends the entries (possibly none) in one durable
  // transaction: a Raft Ready costs one fsync, not two. Same rules and errors as append().
  virtual Status write(const std::optional<HardState>& state, std::span<const LogEntry> entries) = 0;
  virtual HardState hard_state() const = 0;

  // Stores the snapshot and drops every entry with index <= snapshot.index. Durable on return.
  virtual Status save_snapshot(const Snapshot& snapshot) = 0;
  virtual std::optional<Snapshot> snapshot() const = 0;

  // The entries after the snapshot as opening the storage read them, handed over once (then
  // empty), so a restarting server reads its log once rather than again through read(). A
  // storage that keeps none returns an empty vector; the caller then uses read().
  virtual std::vector<LogEntry> take_opened_entries() { return {}; }
};

struct LmdbOptions {
  std::uint64_t map_size = 64ull << 30;  // address space reserved; the file grows as needed
  bool sync = true;                      // fsync on every append (false only for tests)
};

// Opens (creating if needed) the LMDB environment in directory `dir` (created if missing).
// Errors: internal naming the path and LMDB's message.
Result<std::unique_ptr<LogStorage>> open_lmdb_log(const std::string& dir, const LmdbOptions& options = {});

struct WalOptions {
  std::uint64_t segment_size = 64ull << 20;  // bytes per segment file (a larger record gets a larger one)
  bool sync = true;                          // fdatasync on every write (false only for tests)
};

// Opens (creating if needed) the write-ahead log in directory `dir`: segment files under
// dir/wal, snapshots in an LMDB environment under dir/snapshots (format: park/log/README.md).
// A torn record at the end of the last segment (a crash mid-write) is cut off; any other
// damage fails the open. Errors: internal naming the path and what is wrong.
Result<std::unique_ptr<LogStorage>> open_wal_log(const std::string& dir, const WalOptions& options = {});

// The log of a park server's data directory: the LMDB log when `dir` holds one (data.mdb:
// made before the WAL existed), the WAL otherwise (with segments of `wal_segment` bytes).
// `sync` as in the options above.
Result<std::unique_ptr<LogStorage>> open_server_log(const std::string& dir, bool sync,
                                                    std::uint64_t wal_segment = 64ull << 20);

// A log in memory, for tests and the simulator.
std::unique_ptr<LogStorage> make_memory_log();

}  // namespace fourinone::park
