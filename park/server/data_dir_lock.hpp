// An exclusive lock on a server's data folder, so that two park servers started with the same
// config and address cannot both write one log (neither the WAL nor LMDB would stop them).
#pragma once

#include <string>

#include "fourinone/error.hpp"

namespace fourinone::park {

class DataDirLock {
 public:
  DataDirLock() = default;
  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

  // Takes the lock on `dir`/LOCK without waiting; fails if another process holds it.
  static Result<DataDirLock> acquire(const std::string& dir);

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace fourinone::park
