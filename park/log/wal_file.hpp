// The file layer under the WAL (wal_log.cpp): a segment file written at growing offsets and
// read with pread, and a background maker of zero-filled spare segments. Internal to park/log/.
//
// Why zero-filled spares: fdatasync of a write into already-allocated, already-written blocks
// flushes only the data; a write that grows the file (or fills a fallocate'd hole) also has
// to commit file-system metadata. On this project's ext4 machines that is 180 us against
// 300-350 us per sync (park/log/README.md has the measurement). Writing 64 MiB of zeros takes
// about 100 ms, so it happens on a thread of its own, ahead of need.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "fourinone/error.hpp"

namespace fourinone::park {

class SegmentFile {
 public:
  SegmentFile() = default;
  ~SegmentFile();
  SegmentFile(SegmentFile&& other) noexcept;
  SegmentFile& operator=(SegmentFile&& other) noexcept;
  SegmentFile(const SegmentFile&) = delete;
  SegmentFile& operator=(const SegmentFile&) = delete;

  // Opens an existing file for reading and writing. Errors: internal naming the path.
  static Result<SegmentFile> open(const std::string& path);

  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }

  // Writes all of `bytes` at `offset` (within size()). Errors: internal naming path and errno.
  Status write_at(std::uint64_t offset, std::string_view bytes);
  // Reads exactly `n` bytes at `offset` into `out`. Errors: internal on a short read.
  Status read_at(std::uint64_t offset, std::size_t n, char* out) const;
  // fdatasync. Errors: internal; the caller must treat the storage as failed (never retry).
  Status sync();

 private:
  int fd_ = -1;
  std::string path_;
  std::uint64_t size_ = 0;
};

// Creates `path` with `size` bytes now, in the caller's thread: zero-filled and synced when
// `durable` (as a spare is), sparse otherwise. The file is sized as PATH.tmp and renamed, so
// `path` never exists short. Errors: internal (and PATH.tmp is removed).
Status create_segment_file(const std::string& path, std::uint64_t size, bool durable);

// fsync of a directory, so that a file created or renamed in it survives a crash.
Status sync_directory(const std::string& dir);

// Keeps one zero-filled file of `size` bytes ready in `dir` (as "spare"; "spare.tmp" while
// being written), and makes the next one as soon as it is taken.
class SparePreallocator {
 public:
  SparePreallocator(std::string dir, std::uint64_t size);
  ~SparePreallocator();  // stops the thread (an unfinished spare.tmp is left for the next open to delete)
  SparePreallocator(const SparePreallocator&) = delete;
  SparePreallocator& operator=(const SparePreallocator&) = delete;

  // Renames the ready spare to `path` and returns true; false when none is ready yet (the
  // caller then creates the file itself). Errors: internal when the rename fails.
  Result<bool> take(const std::string& path);

 private:
  void run();
  Status make_one(const std::string& tmp, const std::string& ready);

  const std::string dir_;
  const std::uint64_t size_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool ready_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace fourinone::park
