// SnapshotStore: the WAL log's snapshots, kept in an LMDB environment of their own (LMDB gives
// the atomic, checksummed-by-structure replacement a multi-megabyte blob needs). Keyed by
// snapshot index; the WAL names the one that counts (wal_log.cpp), so a snapshot written just
// before a crash, and never referenced, is simply dropped at the next open. Internal to
// park/log/. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fourinone/error.hpp"
#include "park/log/lmdb_util.hpp"
#include "park/log/log_storage.hpp"

namespace fourinone::park {

class SnapshotStore {
 public:
  // Opens (creating) the environment in `dir`. With `sync`, put() is durable on return.
  static Result<std::unique_ptr<SnapshotStore>> open(const std::string& dir, bool sync);

  Status put(const Snapshot& snapshot);
  // The snapshot stored at `index`. Errors: not_found; internal for an LMDB failure.
  Result<Snapshot> get(std::uint64_t index) const;
  // Deletes every snapshot but the one at `index` (all of them for nullopt). Durability is
  // not needed: a leftover is deleted at the next open.
  Status keep_only(std::optional<std::uint64_t> index);

 private:
  SnapshotStore(std::string dir, lmdb::EnvPtr env, MDB_dbi dbi) : dir_(std::move(dir)), env_(std::move(env)), dbi_(dbi) {}
  Status error(const std::string& what, int rc) const;

  std::string dir_;
  lmdb::EnvPtr env_;
  MDB_dbi dbi_;
};

}  // namespace fourinone::park
