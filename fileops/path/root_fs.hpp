// RootFs: one exposed root folder and the only way the server reaches files under it.
//
// The file-system half of path resolution. Every open starts at the root's folder descriptor
// and goes through openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): the kernel walks the
// path and refuses (EXDEV) any '..' or symlink, absolute or relative, that would leave the
// root, at the moment of the open. A symlink replaced between a check and a use cannot win
// a race, because there is no separate check. On a kernel without openat2 (before 5.6) the
// walk is ours: one openat(O_NOFOLLOW) per component, so every symlink is refused.
// Callers pass paths already normalized by path_check.hpp. Thread-safe: the root descriptor
// is only read after construction.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>

#include "fileops/path/fd.hpp"
#include "fourinone/error.hpp"

namespace fourinone::fileops {

struct RootSpec {
  std::string name;    // the first component of an fttp URL's path
  std::string folder;  // absolute folder on the server's host
  bool read_only = false;
};

// errno -> the project's codes: ENOENT/ENOTDIR not_found, EEXIST exists, EACCES/EPERM/EROFS
// no_permission, EXDEV/ELOOP no_permission (leads out of the root), ENOSPC/EDQUOT/EFBIG
// too_large (the disk or the size limit is full), ENAMETOOLONG/EISDIR/ENOTEMPTY bad_request,
// anything else internal. `what` says what was being done ("opening data/a.txt").
Status errno_status(int err, std::string_view what);

class RootFs {
 public:
  // Opens the root folder, creating it (and its parents) when missing.
  // Errors: config_error naming the folder when it cannot be opened or is not a folder.
  static Result<RootFs> open(RootSpec spec);

  const RootSpec& spec() const noexcept { return spec_; }
  // "root/rel" (for messages and URLs).
  std::string display(const std::string& rel) const { return rel.empty() ? spec_.name : spec_.name + "/" + rel; }

  // Opens `rel` ("" is the root) beneath the root with open(2) `flags`.
  Result<Fd> open_beneath(const std::string& rel, int flags, mode_t mode = 0) const;
  // The same, then refuses what is not a regular file (devices, fifos, sockets: no_permission;
  // folders: bad_request unless allow_folder). Never blocks on a fifo. `st` gets the fstat.
  Result<Fd> open_file(const std::string& rel, int flags, struct stat& st, bool allow_folder = false,
                       mode_t mode = 0644) const;
  // The folder holding non-empty `rel` (an O_PATH descriptor for the *at calls) and its
  // last name, checked with check_file_name.
  Result<std::pair<Fd, std::string>> open_parent(const std::string& rel) const;

  // Test hook: use the component-by-component walk even where openat2 exists.
  static void TEST_force_walk(bool on);

 private:
  explicit RootFs(RootSpec spec, Fd root) : spec_(std::move(spec)), root_(std::make_shared<Fd>(std::move(root))) {}

  RootSpec spec_;
  std::shared_ptr<Fd> root_;  // shared: RootFs objects are copied into the server's table
};

}  // namespace fourinone::fileops
