// LmdbLog: the park server's durable log, hard state and snapshot in one LMDB environment.
//
// DESIGN. The on-disk layout (databases, key encoding, value layout) is described in
// park/log/README.md; keep the two in step. One thread owns the object (LogStorage is not
// thread-safe), but that thread may change (the server opens the log on its main thread and
// then hands it to its storage thread), so the environment is opened with MDB_NOTLS: a read
// transaction's reader slot belongs to the transaction, not to the thread that began it.
//
// Every write call (append, save_hard_state, save_snapshot) is one write transaction; with
// options.sync the commit fsyncs before the call returns, so a batch of appended entries costs
// one fsync (group commit). The in-memory bounds (first_, last_, last_term_, snapshot term,
// hard state) change only after a successful commit.
//
// Persist before you tell anyone (STYLE §2): once a write fails for any LMDB reason, the
// storage is broken and refuses every later write with the first error. A failed fsync is not
// retried: after it the kernel may have dropped the dirty pages, and a later "successful"
// fsync would lie. Reads go on, and reopening the directory shows what really reached the disk.
#include <lmdb.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "park/log/lmdb_util.hpp"
#include "park/log/log_rules.hpp"
#include "park/log/log_storage.hpp"

namespace fourinone::park {
namespace {
using namespace lmdb;  // NOLINT: the helpers of lmdb_util.hpp, used throughout

constexpr std::uint64_t kFormatVersion = 1;
constexpr unsigned kMaxDbs = 4;  // "log", "meta", "snapshot" and one spare for a future format
constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kHardStateKey = "hard_state";
constexpr std::string_view kSnapshotKey = "snapshot";
constexpr std::string_view kSnapshotDataKey = "data";
constexpr std::size_t kHardStateSize = 24;  // term, vote, commit
constexpr std::size_t kSnapshotMetaSize = 16;  // index, term
constexpr std::size_t kTermSize = 8;  // a log value starts with the entry's term

[[noreturn]] void die_reading_snapshot(const std::string& dir, std::uint64_t index, const char* why) {
  std::fprintf(stderr, "fatal: LMDB log in %s: cannot read the snapshot at index %llu: %s\n", dir.c_str(),
               static_cast<unsigned long long>(index), why);
  std::abort();
}


class LmdbLog final : public LogStorage {
 public:
  LmdbLog(std::string dir, EnvPtr env, bool sync) : dir_(std::move(dir)), env_(std::move(env)), sync_(sync) {}

  ~LmdbLog() override {
    // Without sync the commits sit in the page cache; a clean close flushes them once.
    if (!sync_ && broken_.ok()) (void)mdb_env_sync(env_.get(), 1);
  }

  LmdbLog(const LmdbLog&) = delete;
  LmdbLog& operator=(const LmdbLog&) = delete;

  // Opens the databases (creating them) and loads the cached bounds and hard state.
  Status init();

  std::uint64_t first_index() const override { return first_; }
  std::uint64_t last_index() const override { return last_; }

  Status append(std::span<const LogEntry> entries) override;
  Result<std::vector<LogEntry>> read(std::uint64_t from, std::uint64_t to, std::size_t max_bytes) const override;
  Result<std::uint64_t> term(std::uint64_t index) const override;
  Status save_hard_state(const HardState& state) override;
  Status write(const std::optional<HardState>& state, std::span<const LogEntry> entries) override;
  HardState hard_state() const override { return hard_state_; }
  Status save_snapshot(const Snapshot& snapshot) override;
  std::optional<Snapshot> snapshot() const override;

 private:
  Status do_write(const std::optional<HardState>& state, std::span<const LogEntry> entries);
  Status put_entries(MDB_txn* txn, std::span<const LogEntry> entries);
  Status put_hard_state(MDB_txn* txn, const HardState& state);
  Status do_save_snapshot(const Snapshot& snapshot);
  Result<std::vector<LogEntry>> do_read(std::uint64_t from, std::uint64_t to, std::size_t max_bytes) const;
  Result<std::uint64_t> read_term(MDB_txn* txn, std::uint64_t index) const;
  Status load(MDB_txn* txn);

  // An internal error naming the directory, the operation and LMDB's message.
  Status lmdb_error(const std::string& what, int rc) const;
  Status corrupt(const std::string& what) const {
    return Status(Errc::internal, "LMDB log in " + dir_ + " is corrupt: " + what);
  }
  // Records the first write failure; every later write returns it (never retried).
  Status fail(Status status) {
    broken_ = status;
    return status;
  }
  Status refuse_if_broken() const { return log_rules::refuse_if_broken(broken_); }

  const std::string dir_;
  EnvPtr env_;
  const bool sync_;
  MDB_dbi log_db_ = 0;
  MDB_dbi meta_db_ = 0;
  MDB_dbi snapshot_db_ = 0;

  // Cached from disk; changed only after a commit succeeds.
  std::uint64_t first_ = 1;          // snapshot index + 1
  std::uint64_t last_ = 0;           // last entry's index (snapshot index when no entry follows)
  std::uint64_t last_term_ = 0;      // term(last_)
  std::uint64_t snapshot_term_ = 0;  // term(first_ - 1); 0 without a snapshot
  bool has_snapshot_ = false;
  HardState hard_state_;
  Status broken_;  // OK until a write fails
};

Status LmdbLog::lmdb_error(const std::string& what, int rc) const {
  std::string message = "LMDB " + what + " in " + dir_ + ": " + mdb_strerror(rc);
  if (rc == MDB_MAP_FULL) {
    MDB_envinfo info{};
    std::size_t map_size = mdb_env_info(env_.get(), &info) == 0 ? info.me_mapsize : 0;
    message += " (the map_size of " + std::to_string(map_size) + " bytes is used up; raise LmdbOptions::map_size)";
  }
  return Status(Errc::internal, std::move(message));
}

Status LmdbLog::init() {
  Txn txn;
  if (int rc = txn.begin(env_.get(), 0)) return lmdb_error("begin of the opening transaction", rc);
  if (int rc = mdb_dbi_open(txn.get(), "log", MDB_CREATE, &log_db_)) return lmdb_error("open of database log", rc);
  if (int rc = mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &meta_db_)) return lmdb_error("open of database meta", rc);
  if (int rc = mdb_dbi_open(txn.get(), "snapshot", MDB_CREATE, &snapshot_db_)) {
    return lmdb_error("open of database snapshot", rc);
  }
  MDB_val key = as_val(kFormatKey);
  MDB_val value;
  int rc = mdb_get(txn.get(), meta_db_, &key, &value);
  if (rc == MDB_NOTFOUND) {
    char bytes[8];
    put_be64(bytes, kFormatVersion);
    value = MDB_val{sizeof bytes, bytes};
    if ((rc = mdb_put(txn.get(), meta_db_, &key, &value, 0))) return lmdb_error("write of the format version", rc);
  } else if (rc != 0) {
    return lmdb_error("read of the format version", rc);
  } else if (value.mv_size != 8 || get_be64(value.mv_data) != kFormatVersion) {
    return Status(Errc::internal, "LMDB log in " + dir_ + " has an unknown format version (this build reads version " +
                                      std::to_string(kFormatVersion) + ")");
  }
  if (Status s = load(txn.get()); !s.ok()) return s;
  if ((rc = txn.commit())) return lmdb_error("commit of the opening transaction", rc);
  return Status();
}

// Reads the hard state, the snapshot metadata and the log bounds, and checks that they agree.
Status LmdbLog::load(MDB_txn* txn) {
  MDB_val key = as_val(kHardStateKey);
  MDB_val value;
  int rc = mdb_get(txn, meta_db_, &key, &value);
  if (rc == 0) {
    if (value.mv_size != kHardStateSize) return corrupt("hard state of " + std::to_string(value.mv_size) + " bytes");
    const char* p = static_cast<const char*>(value.mv_data);
    hard_state_ = HardState{get_be64(p), get_be64(p + 8), get_be64(p + 16)};
  } else if (rc != MDB_NOTFOUND) {
    return lmdb_error("read of the hard state", rc);
  }

  std::uint64_t snapshot_index = 0;
  key = as_val(kSnapshotKey);
  rc = mdb_get(txn, meta_db_, &key, &value);
  if (rc == 0) {
    if (value.mv_size != kSnapshotMetaSize) {
      return corrupt("snapshot metadata of " + std::to_string(value.mv_size) + " bytes");
    }
    const char* p = static_cast<const char*>(value.mv_data);
    snapshot_index = get_be64(p);
    snapshot_term_ = get_be64(p + 8);
    has_snapshot_ = true;
    MDB_val data_key = as_val(kSnapshotDataKey);
    rc = mdb_get(txn, snapshot_db_, &data_key, &value);
    if (rc == MDB_NOTFOUND) return corrupt("snapshot metadata without snapshot data");
    if (rc != 0) return lmdb_error("read of the snapshot", rc);
  } else if (rc != MDB_NOTFOUND) {
    return lmdb_error("read of the snapshot metadata", rc);
  }

  first_ = snapshot_index + 1;
  last_ = snapshot_index;
  last_term_ = snapshot_term_;
  MDB_stat stat;
  if ((rc = mdb_stat(txn, log_db_, &stat))) return lmdb_error("stat of the log", rc);
  if (stat.ms_entries == 0) return Status();

  // The cursor is closed before the caller commits the (write) transaction.
  Cursor cursor;
  if ((rc = cursor.open(txn, log_db_))) return lmdb_error("cursor open on the log", rc);
  MDB_val first_key;
  MDB_val last_key;
  if ((rc = mdb_cursor_get(cursor.get(), &first_key, &value, MDB_FIRST))) return lmdb_error("read of the first entry", rc);
  if ((rc = mdb_cursor_get(cursor.get(), &last_key, &value, MDB_LAST))) return lmdb_error("read of the last entry", rc);
  if (first_key.mv_size != 8 || last_key.mv_size != 8) return corrupt("a log key is not 8 bytes");
  if (value.mv_size < kTermSize) return corrupt("the last entry is shorter than its term");
  const std::uint64_t first = get_be64(first_key.mv_data);
  const std::uint64_t last = get_be64(last_key.mv_data);
  if (first != snapshot_index + 1) {
    return corrupt("the log starts at index " + std::to_string(first) + " but the snapshot index is " +
                   std::to_string(snapshot_index));
  }
  if (last < first || last - first + 1 != stat.ms_entries) {
    return corrupt("the log holds " + std::to_string(stat.ms_entries) + " entries between indexes " +
                   std::to_string(first) + " and " + std::to_string(last));
  }
  last_ = last;
  last_term_ = get_be64(value.mv_data);
  return Status();
}

Status LmdbLog::append(std::span<const LogEntry> entries) { return write(std::nullopt, entries); }

Status LmdbLog::write(const std::optional<HardState>& state, std::span<const LogEntry> entries) {
  if (Status s = refuse_if_broken(); !s.ok()) return s;
  if (Status s = log_rules::check_append(entries, first_ - 1, last_); !s.ok()) return s;
  if (entries.empty() && !state) return Status();
  try {
    return do_write(state, entries);
  } catch (const std::exception& e) {  // allocation failure; the transaction was aborted
    return Status(Errc::internal, std::string("LMDB log write: ") + e.what());
  }
}

Status LmdbLog::do_write(const std::optional<HardState>& state, std::span<const LogEntry> entries) {
  Txn txn;
  if (int rc = txn.begin(env_.get(), 0)) return fail(lmdb_error("begin of a write transaction", rc));
  if (!entries.empty()) {
    if (Status s = put_entries(txn.get(), entries); !s.ok()) return fail(s);
  }
  if (state) {
    if (Status s = put_hard_state(txn.get(), *state); !s.ok()) return fail(s);
  }
  if (int rc = txn.commit()) return fail(lmdb_error(entries.empty() ? "commit of the hard state" : "commit of an append", rc));
  if (!entries.empty()) {
    last_ = entries.back().index;
    last_term_ = entries.back().term;
  }
  if (state) hard_state_ = *state;
  return Status();
}

Status LmdbLog::put_entries(MDB_txn* txn, std::span<const LogEntry> entries) {
  // Raft conflict truncation: drop the suffix the new entries replace.
  for (std::uint64_t i = entries.front().index; i <= last_; ++i) {
    IndexKey key(i);
    MDB_val k = key.val();
    if (int rc = mdb_del(txn, log_db_, &k, nullptr)) return lmdb_error("delete of entry " + std::to_string(i), rc);
  }
  for (const LogEntry& entry : entries) {
    IndexKey key(entry.index);
    MDB_val k = key.val();
    MDB_val v{kTermSize + entry.data.size(), nullptr};
    // Every new key is above all remaining ones: MDB_APPEND fills pages sequentially;
    // MDB_RESERVE lets us write the value in place, without a copy of a large entry.
    if (int rc = mdb_put(txn, log_db_, &k, &v, MDB_APPEND | MDB_RESERVE)) {
      return lmdb_error("write of entry " + std::to_string(entry.index), rc);
    }
    char* p = static_cast<char*>(v.mv_data);
    put_be64(p, entry.term);
    if (!entry.data.empty()) std::memcpy(p + kTermSize, entry.data.data(), entry.data.size());
  }
  return Status();
}

Result<std::vector<LogEntry>> LmdbLog::read(std::uint64_t from, std::uint64_t to, std::size_t max_bytes) const {
  if (Status s = log_rules::check_read(from, to, first_, last_); !s.ok()) return s;
  try {
    return do_read(from, to, max_bytes);
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("LMDB log read: ") + e.what());
  }
}

Result<std::vector<LogEntry>> LmdbLog::do_read(std::uint64_t from, std::uint64_t to, std::size_t max_bytes) const {
  Txn txn;
  if (int rc = txn.begin(env_.get(), MDB_RDONLY)) return lmdb_error("begin of a read transaction", rc);
  Cursor cursor;
  if (int rc = cursor.open(txn.get(), log_db_)) return lmdb_error("cursor open on the log", rc);
  const std::uint64_t end = std::min(to, last_ + 1);
  std::vector<LogEntry> out;
  std::size_t bytes = 0;
  IndexKey first_key(from);
  MDB_val k = first_key.val();
  MDB_val v;
  int rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_SET_KEY);
  for (std::uint64_t i = from; i < end; ++i) {
    if (i != from) rc = mdb_cursor_get(cursor.get(), &k, &v, MDB_NEXT);
    if (rc == MDB_NOTFOUND) return corrupt("entry " + std::to_string(i) + " is missing");
    if (rc != 0) return lmdb_error("read of entry " + std::to_string(i), rc);
    if (k.mv_size != 8 || get_be64(k.mv_data) != i) return corrupt("entry " + std::to_string(i) + " is missing");
    if (v.mv_size < kTermSize) return corrupt("entry " + std::to_string(i) + " is shorter than its term");
    bytes += v.mv_size - kTermSize + log_rules::kEntryOverhead;
    if (!out.empty() && bytes > max_bytes) break;
    const char* p = static_cast<const char*>(v.mv_data);
    out.push_back(LogEntry{i, get_be64(p), std::string(p + kTermSize, v.mv_size - kTermSize)});
  }
  return out;
}

Result<std::uint64_t> LmdbLog::term(std::uint64_t index) const {
  if (index == first_ - 1) return snapshot_term_;
  if (index < first_ || index > last_) return Status(Errc::not_found, "no log entry at index " + std::to_string(index));
  if (index == last_) return last_term_;
  try {
    Txn txn;
    if (int rc = txn.begin(env_.get(), MDB_RDONLY)) return lmdb_error("begin of a read transaction", rc);
    return read_term(txn.get(), index);
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("LMDB log term: ") + e.what());
  }
}

Result<std::uint64_t> LmdbLog::read_term(MDB_txn* txn, std::uint64_t index) const {
  IndexKey key(index);
  MDB_val k = key.val();
  MDB_val v;
  int rc = mdb_get(txn, log_db_, &k, &v);
  if (rc == MDB_NOTFOUND) return corrupt("entry " + std::to_string(index) + " is missing");
  if (rc != 0) return lmdb_error("read of entry " + std::to_string(index), rc);
  if (v.mv_size < kTermSize) return corrupt("entry " + std::to_string(index) + " is shorter than its term");
  return get_be64(v.mv_data);
}

Status LmdbLog::save_hard_state(const HardState& state) { return write(state, {}); }

Status LmdbLog::put_hard_state(MDB_txn* txn, const HardState& state) {
  char bytes[kHardStateSize];
  put_be64(bytes, state.term);
  put_be64(bytes + 8, state.vote);
  put_be64(bytes + 16, state.commit);
  MDB_val k = as_val(kHardStateKey);
  MDB_val v{sizeof bytes, bytes};
  if (int rc = mdb_put(txn, meta_db_, &k, &v, 0)) return lmdb_error("write of the hard state", rc);
  return Status();
}

Status LmdbLog::save_snapshot(const Snapshot& snapshot) {
  if (Status s = refuse_if_broken(); !s.ok()) return s;
  if (Status s = log_rules::check_snapshot(snapshot, first_ - 1); !s.ok()) return s;
  try {
    return do_save_snapshot(snapshot);
  } catch (const std::exception& e) {
    return Status(Errc::internal, std::string("LMDB log snapshot: ") + e.what());
  }
}

Status LmdbLog::do_save_snapshot(const Snapshot& snapshot) {
  Txn txn;
  if (int rc = txn.begin(env_.get(), 0)) return fail(lmdb_error("begin of a write transaction", rc));

  // Raft §7: the entries after the snapshot stay only if the log agrees with the snapshot at
  // its index (same term); otherwise they belong to another history and all go.
  bool keep_suffix = false;
  if (snapshot.index <= last_) {
    std::uint64_t t = snapshot_term_;
    if (snapshot.index == last_) {
      t = last_term_;
    } else if (snapshot.index >= first_) {
      auto r = read_term(txn.get(), snapshot.index);
      if (!r.ok()) return fail(r.status());
      t = *r;
    }
    keep_suffix = t == snapshot.term;
  }
  if (keep_suffix) {
    for (std::uint64_t i = first_; i <= snapshot.index; ++i) {
      IndexKey key(i);
      MDB_val k = key.val();
      if (int rc = mdb_del(txn.get(), log_db_, &k, nullptr)) {
        return fail(lmdb_error("delete of entry " + std::to_string(i), rc));
      }
    }
  } else if (int rc = mdb_drop(txn.get(), log_db_, 0)) {
    return fail(lmdb_error("truncation of the log", rc));
  }

  MDB_val k = as_val(kSnapshotDataKey);
  MDB_val v{snapshot.data.size(), nullptr};
  if (int rc = mdb_put(txn.get(), snapshot_db_, &k, &v, MDB_RESERVE)) {
    return fail(lmdb_error("write of the snapshot", rc));
  }
  if (!snapshot.data.empty()) std::memcpy(v.mv_data, snapshot.data.data(), snapshot.data.size());

  char meta[kSnapshotMetaSize];
  put_be64(meta, snapshot.index);
  put_be64(meta + 8, snapshot.term);
  k = as_val(kSnapshotKey);
  v = MDB_val{sizeof meta, meta};
  if (int rc = mdb_put(txn.get(), meta_db_, &k, &v, 0)) return fail(lmdb_error("write of the snapshot metadata", rc));
  if (int rc = txn.commit()) return fail(lmdb_error("commit of a snapshot", rc));

  first_ = snapshot.index + 1;
  if (!keep_suffix || last_ == snapshot.index) {
    last_ = snapshot.index;
    last_term_ = snapshot.term;
  }
  snapshot_term_ = snapshot.term;
  has_snapshot_ = true;
  return Status();
}

std::optional<Snapshot> LmdbLog::snapshot() const {
  if (!has_snapshot_) return std::nullopt;
  // The metadata says a snapshot exists; failing to read it is a broken invariant that this
  // signature cannot report, and pretending there is none would lose the state it holds.
  try {
    Txn txn;
    if (int rc = txn.begin(env_.get(), MDB_RDONLY)) die_reading_snapshot(dir_, first_ - 1, mdb_strerror(rc));
    MDB_val k = as_val(kSnapshotDataKey);
    MDB_val v{0, nullptr};
    if (int rc = mdb_get(txn.get(), snapshot_db_, &k, &v)) die_reading_snapshot(dir_, first_ - 1, mdb_strerror(rc));
    return Snapshot{first_ - 1, snapshot_term_, std::string(static_cast<const char*>(v.mv_data), v.mv_size)};
  } catch (const std::exception& e) {
    die_reading_snapshot(dir_, first_ - 1, e.what());
  }
}

Result<std::unique_ptr<LogStorage>> open_lmdb(const std::string& dir, const LmdbOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Errc::internal, "cannot create the log directory " + dir + ": " + ec.message());

  auto env_error = [&](const char* what, int rc) {
    return Status(Errc::internal, std::string("LMDB ") + what + " in " + dir + ": " + mdb_strerror(rc));
  };
  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw)) return env_error("environment create", rc);
  EnvPtr env(raw);  // closes the environment on every error path below, as LMDB requires
  if (int rc = mdb_env_set_mapsize(env.get(), options.map_size)) return env_error("set of map_size", rc);
  if (int rc = mdb_env_set_maxdbs(env.get(), kMaxDbs)) return env_error("set of maxdbs", rc);
  unsigned flags = MDB_NOTLS | (options.sync ? 0u : static_cast<unsigned>(MDB_NOSYNC));
  if (int rc = mdb_env_open(env.get(), dir.c_str(), flags, 0600)) return env_error("environment open", rc);

  auto log = std::make_unique<LmdbLog>(dir, std::move(env), options.sync);
  if (Status s = log->init(); !s.ok()) return s;
  return std::unique_ptr<LogStorage>(std::move(log));
}

}  // namespace

Result<std::unique_ptr<LogStorage>> open_lmdb_log(const std::string& dir, const LmdbOptions& options) {
  try {
    return open_lmdb(dir, options);
  } catch (const std::exception& e) {
    return Status(Errc::internal, "cannot open the LMDB log in " + dir + ": " + e.what());
  }
}

}  // namespace fourinone::park
