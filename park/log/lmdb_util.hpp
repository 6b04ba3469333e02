// Small LMDB helpers shared by the LMDB log (lmdb_log.cpp) and the WAL's snapshot store
// (snapshot_store.cpp): big-endian integer keys, and RAII for environments, transactions and
// cursors. Internal to park/log/.
#pragma once

#include <lmdb.h>

#include <boost/endian/conversion.hpp>
#include <cstdint>
#include <memory>
#include <string_view>

namespace fourinone::park::lmdb {

// Big-endian integers through Boost.Endian (header-only, part of the Boost we use already).
inline void put_be64(char* p, std::uint64_t v) { boost::endian::store_big_u64(reinterpret_cast<unsigned char*>(p), v); }

inline std::uint64_t get_be64(const void* data) {
  return boost::endian::load_big_u64(static_cast<const unsigned char*>(data));
}

inline void put_be32(char* p, std::uint32_t v) { boost::endian::store_big_u32(reinterpret_cast<unsigned char*>(p), v); }

inline std::uint32_t get_be32(const void* data) {
  return boost::endian::load_big_u32(static_cast<const unsigned char*>(data));
}

inline MDB_val as_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

// A log key: the index as 8 big-endian bytes, so LMDB's memcmp order is numeric order.
struct IndexKey {
  explicit IndexKey(std::uint64_t index) { put_be64(bytes, index); }
  MDB_val val() { return MDB_val{sizeof bytes, bytes}; }
  char bytes[8];
};

// A transaction that aborts unless committed. mdb_txn_commit frees the handle even when it
// fails, so commit() forgets it either way.
class Txn {
 public:
  Txn() = default;
  ~Txn() { abort(); }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  int begin(MDB_env* env, unsigned flags) { return mdb_txn_begin(env, nullptr, flags, &txn_); }
  int commit() {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    return mdb_txn_commit(t);
  }
  void abort() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
    txn_ = nullptr;
  }
  MDB_txn* get() const { return txn_; }

 private:
  MDB_txn* txn_ = nullptr;
};

// A cursor, closed on destruction. Used in read-only transactions only: declare it after its
// Txn so that it is closed first (a write transaction frees its cursors itself on commit).
class Cursor {
 public:
  Cursor() = default;
  ~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  int open(MDB_txn* txn, MDB_dbi dbi) { return mdb_cursor_open(txn, dbi, &cursor_); }
  MDB_cursor* get() const { return cursor_; }

 private:
  MDB_cursor* cursor_ = nullptr;
};

struct EnvCloser {
  void operator()(MDB_env* env) const { mdb_env_close(env); }
};
using EnvPtr = std::unique_ptr<MDB_env, EnvCloser>;

}  // namespace fourinone::park::lmdb
