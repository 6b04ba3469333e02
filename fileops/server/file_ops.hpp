// FileOps: what the file server does with one request, as blocking calls on the file system.
//
// Each method takes a decoded request and returns the whole response frame (core
// frame_buffer, sealed by the caller), so that a read can pread straight into the frame. No
// sockets and no threads here: the server runs these on its disk pool. Every path goes
// through resolve(): the root by name, the path normalized (path_check.hpp), then the kernel's
// RESOLVE_BENEATH walk (root_fs.hpp). Thread-safe: the roots are read-only after start and
// PendingWrites has its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fileops/path/root_fs.hpp"
#include "fileops/protocol/messages.hpp"
#include "fileops/server/pending_writes.hpp"

namespace fourinone::fileops {

class FileOps {
 public:
  // max_data: the largest read or write one request may carry (bytes).
  FileOps(std::vector<RootFs> roots, std::uint64_t max_data, std::uint32_t max_frame);

  // Everything but copy. `owner` identifies the connection (two-phase writes it opens are
  // aborted when it closes).
  std::string handle(const proto::Request& request, std::string_view data, const void* owner);

  // An error response frame.
  static std::string error_frame(const Status& status);
  // A response frame with no data.
  static std::string response_frame(const proto::Response& response);

  PendingWrites& pending() { return pending_; }
  const std::vector<RootFs>& roots() const { return roots_; }
  // The root and normalized path of a request, or why not.
  Result<std::pair<const RootFs*, std::string>> resolve(const std::string& root, const std::string& path) const;
  // As resolve(), and the root must be writable.
  Result<std::pair<const RootFs*, std::string>> resolve_writable(const std::string& root, const std::string& path) const;

 private:
  std::string stat(const proto::Request& r);
  std::string list(const proto::Request& r);
  std::string list_roots();
  std::string mkdir(const proto::Request& r);
  std::string remove(const proto::Request& r);
  std::string rename(const proto::Request& r);
  std::string read(const proto::Request& r);
  std::string write(const proto::Request& r, std::string_view data);
  std::string write_pending(const proto::Request& r, std::string_view data);
  std::string open_write(const proto::Request& r, const void* owner);
  std::string commit(const proto::Request& r);
  std::string abort(const proto::Request& r);

  std::vector<RootFs> roots_;
  std::map<std::string, std::size_t> by_name_;
  std::uint64_t max_data_;
  std::uint32_t max_frame_;
  PendingWrites pending_;
};

// Which file this is: device, inode and change time mixed. A file replaced by a rename (a
// two-phase write) gets another identity, even if the inode number is reused.
std::uint64_t file_identity(const struct stat& st);
// stat(2) -> Entry (type, size, mtime, mode) named `name`.
proto::Entry entry_of(const std::string& name, const struct stat& st);
// pwrite all of `data` at `offset`, retrying short writes. Errors: errno_status.
Status pwrite_all(int fd, std::string_view data, std::uint64_t offset, const std::string& display);
// mkdir of every missing folder of normalized `rel` ("a/b/c": a, a/b, a/b/c).
Status make_folders(const RootFs& fs, const std::string& rel);

}  // namespace fourinone::fileops
