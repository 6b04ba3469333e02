// PendingWrites: the two-phase writes open on one file server.
//
// A two-phase write is a temporary file ".fttp-<hex>.tmp" in the target's folder (same file
// system, so the final rename is atomic). It is named by a random 64-bit handle that the
// owner may pass to other connections of its own for parallel block writes. Commit: fsync the
// file, rename it over the target, fsync the folder. Abort, a failed commit or the owner's
// connection closing: the temporary file is removed, the target is untouched. A server killed
// with -9 leaves its temporary files behind (hidden from list; see fileops/README.md).
// Thread-safe: one mutex guards the table; file I/O on an entry runs outside it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "fileops/path/fd.hpp"
#include "fourinone/error.hpp"

namespace fourinone::fileops {

struct PendingWrite {
  Fd file;            // the temporary file, O_WRONLY
  Fd folder;          // its folder, O_RDONLY|O_DIRECTORY (renameat and fsync)
  std::string temp;   // the temporary name in `folder`
  std::string name;   // the final name in `folder`
  std::string display;  // root/path, for messages
  bool exclusive = false;
  const void* owner = nullptr;  // the connection that opened it
};

class PendingWrites {
 public:
  // Registers `write` and returns its handle.
  std::uint64_t add(std::shared_ptr<PendingWrite> write);
  // The write of `handle`, or not_found.
  Result<std::shared_ptr<PendingWrite>> find(std::uint64_t handle) const;
  // Takes the write out of the table (commit and abort do this first, so a handle ends once).
  Result<std::shared_ptr<PendingWrite>> take(std::uint64_t handle);
  // Removes and aborts every write of `owner`; returns how many.
  std::size_t abort_owned_by(const void* owner);
  // Removes and aborts them all (server shutdown).
  void abort_all();

  // Unlinks the temporary file (errors ignored: there is nothing better to do with them).
  static void discard(PendingWrite& write);
  // fsync, rename over the target (RENAME_NOREPLACE when exclusive), fsync the folder.
  // On error the temporary file is removed. Returns the file's size.
  static Result<std::uint64_t> commit(PendingWrite& write);

 private:
  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::shared_ptr<PendingWrite>> writes_;  // guarded by mutex_
};

// True for the names PendingWrites gives its temporary files (list hides them).
bool is_temp_name(std::string_view name);
std::string make_temp_name();

}  // namespace fourinone::fileops
