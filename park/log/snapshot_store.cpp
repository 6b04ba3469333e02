#include "park/log/snapshot_store.hpp"

#include "park/log/crc32c.hpp"

#include <cstring>
#include <filesystem>
#include <vector>

namespace fourinone::park {

namespace {
// A record: u64 term (big-endian), then "FSC1" and the CRC-32C of the data (u32 big-endian),
// then the data. Records without the marker were written before the checksum: term and data.
constexpr std::string_view kChecksumMagic = "FSC1";
constexpr std::size_t kHeaderSize = 16;
}  // namespace

using lmdb::get_be64;
using lmdb::IndexKey;
using lmdb::Txn;

Status SnapshotStore::error(const std::string& what, int rc) const {
  return Status(Errc::internal, "LMDB snapshot store in " + dir_ + ": " + what + ": " + mdb_strerror(rc));
}

Result<std::unique_ptr<SnapshotStore>> SnapshotStore::open(const std::string& dir, bool sync) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Errc::internal, "cannot create the snapshot directory " + dir + ": " + ec.message());
  auto fail = [&](const char* what, int rc) {
    return Status(Errc::internal, std::string("LMDB snapshot store in ") + dir + ": " + what + ": " + mdb_strerror(rc));
  };
  MDB_env* raw = nullptr;
  if (int rc = mdb_env_create(&raw)) return fail("environment create", rc);
  lmdb::EnvPtr env(raw);
  if (int rc = mdb_env_set_mapsize(env.get(), 64ull << 30)) return fail("set of map_size", rc);
  unsigned flags = MDB_NOTLS | (sync ? 0u : static_cast<unsigned>(MDB_NOSYNC));
  if (int rc = mdb_env_open(env.get(), dir.c_str(), flags, 0600)) return fail("environment open", rc);
  Txn txn;
  if (int rc = txn.begin(env.get(), 0)) return fail("begin", rc);
  MDB_dbi dbi = 0;
  if (int rc = mdb_dbi_open(txn.get(), nullptr, 0, &dbi)) return fail("open of the database", rc);
  if (int rc = txn.commit()) return fail("commit", rc);
  return std::unique_ptr<SnapshotStore>(new SnapshotStore(dir, std::move(env), dbi));
}

Status SnapshotStore::put(const Snapshot& snapshot) {
  Txn txn;
  if (int rc = txn.begin(env_.get(), 0)) return error("begin", rc);
  IndexKey key(snapshot.index);
  MDB_val k = key.val();
  MDB_val v{kHeaderSize + snapshot.data.size(), nullptr};
  if (int rc = mdb_put(txn.get(), dbi_, &k, &v, MDB_RESERVE)) return error("put", rc);
  auto* out = static_cast<char*>(v.mv_data);
  lmdb::put_be64(out, snapshot.term);
  std::memcpy(out + 8, kChecksumMagic.data(), kChecksumMagic.size());
  lmdb::put_be32(out + 12, crc32c(snapshot.data));
  if (!snapshot.data.empty()) std::memcpy(out + kHeaderSize, snapshot.data.data(), snapshot.data.size());
  if (int rc = txn.commit()) return error("commit", rc);
  return Status();
}

Result<Snapshot> SnapshotStore::get(std::uint64_t index) const {
  Txn txn;
  if (int rc = txn.begin(env_.get(), MDB_RDONLY)) return error("begin", rc);
  IndexKey key(index);
  MDB_val k = key.val();
  MDB_val v{0, nullptr};
  int rc = mdb_get(txn.get(), dbi_, &k, &v);
  if (rc == MDB_NOTFOUND) return Status(Errc::not_found, "no snapshot at index " + std::to_string(index) + " in " + dir_);
  if (rc != 0) return error("get", rc);
  const std::string where = "snapshot store in " + dir_ + " is corrupt: the snapshot at index " + std::to_string(index);
  if (v.mv_size < 8) return Status(Errc::internal, where + " is shorter than its header");
  const char* p = static_cast<const char*>(v.mv_data);
  const std::string_view rest(p + 8, v.mv_size - 8);
  if (!rest.starts_with(kChecksumMagic)) {
    // Written before snapshots carried a checksum: term and data only.
    return Snapshot{index, get_be64(p), std::string(rest)};
  }
  if (v.mv_size < kHeaderSize) return Status(Errc::internal, where + " is shorter than its header");
  const std::string_view data(p + kHeaderSize, v.mv_size - kHeaderSize);
  if (crc32c(data) != lmdb::get_be32(p + 12)) {
    return Status(Errc::internal, where + " fails its checksum (" + std::to_string(data.size()) +
                                      " bytes): the disk changed it");
  }
  return Snapshot{index, get_be64(p), std::string(data)};
}

Status SnapshotStore::keep_only(std::optional<std::uint64_t> index) {
  Txn txn;
  if (int rc = txn.begin(env_.get(), 0)) return error("begin", rc);
  std::vector<std::uint64_t> others;
  {
    MDB_cursor* cursor = nullptr;  // a write transaction frees its cursors; closed here all the same
    if (int rc = mdb_cursor_open(txn.get(), dbi_, &cursor)) return error("cursor", rc);
    MDB_val k{0, nullptr}, v{0, nullptr};
    for (int rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)) {
      if (k.mv_size == 8 && get_be64(k.mv_data) != index) others.push_back(get_be64(k.mv_data));
    }
    mdb_cursor_close(cursor);
  }
  for (std::uint64_t other : others) {
    IndexKey key(other);
    MDB_val k = key.val();
    if (int rc = mdb_del(txn.get(), dbi_, &k, nullptr)) return error("delete", rc);
  }
  if (int rc = txn.commit()) return error("commit", rc);
  return Status();
}

}  // namespace fourinone::park
