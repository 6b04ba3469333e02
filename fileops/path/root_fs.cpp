#include "fileops/path/root_fs.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "fileops/path/path_check.hpp"

namespace fourinone::fileops {
namespace {

std::atomic<bool> g_force_walk{false};
std::atomic<bool> g_no_openat2{false};  // set once the kernel answered ENOSYS

// -1 with errno set, like open(2).
int walk_open(int root, const std::string& rel, int flags, mode_t mode) {
  if (rel.empty()) return ::openat(root, ".", flags, mode);
  Fd current(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) return -1;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = rel.find('/', start);
    std::string name = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) return ::openat(current.get(), name.c_str(), flags | O_NOFOLLOW, mode);
    // O_PATH | O_NOFOLLOW opens a symlink itself, so that it can be told apart and refused.
    Fd next(::openat(current.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return -1;
    struct stat st{};
    if (::fstat(next.get(), &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
      errno = S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR;
      return -1;
    }
    current = std::move(next);
    start = slash + 1;
  }
}

}  // namespace

Status errno_status(int err, std::string_view what) {
  std::string w(what);
  std::string reason = std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status(Errc::not_found, w + ": " + reason);
    case EEXIST:
      return Status(Errc::exists, w + ": " + reason);
    case EACCES:
    case EPERM:
    case EROFS:
      return Status(Errc::no_permission, w + ": " + reason);
    case EXDEV:
      return Status(Errc::no_permission, w + ": refused, the path leads out of its root (through '..' or a symlink)");
    case ELOOP:
      return Status(Errc::no_permission, w + ": refused, a symlink on the way is not followed (" + reason + ")");
    case ENXIO:
      return Status(Errc::no_permission, w + ": refused, not a regular file (" + reason + ")");
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return Status(Errc::too_large, w + ": " + reason + "; nothing under the final name was changed");
    case ENAMETOOLONG:
    case EISDIR:
    case ENOTEMPTY:
    case EINVAL:
      return Status(Errc::bad_request, w + ": " + reason);
    default:
      return Status(Errc::internal, w + ": " + reason);
  }
}

void RootFs::TEST_force_walk(bool on) { g_force_walk = on; }

Result<RootFs> RootFs::open(RootSpec spec) {
  std::error_code ec;
  std::filesystem::create_directories(spec.folder, ec);
  Fd fd(::open(spec.folder.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return Status(Errc::config_error, "root " + spec.name + ": cannot open folder " + spec.folder + ": " +
                                          std::strerror(errno) + (ec ? " (creating it: " + ec.message() + ")" : ""));
  }
  return RootFs(std::move(spec), std::move(fd));
}

Result<Fd> RootFs::open_beneath(const std::string& rel, int flags, mode_t mode) const {
  // openat2 refuses (EINVAL) any flag O_PATH does not take, O_NOCTTY among them.
  flags |= (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
  int fd = -1;
  if (!g_force_walk && !g_no_openat2) {
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const char* path = rel.empty() ? "." : rel.c_str();
    do {
      fd = static_cast<int>(::syscall(SYS_openat2, root_->get(), path, &how, sizeof(how)));
    } while (fd < 0 && errno == EAGAIN);  // a concurrent rename in the tree: the kernel asks us to retry
    if (fd < 0 && errno == ENOSYS) g_no_openat2 = true;
  }
  if (g_force_walk || g_no_openat2) fd = walk_open(root_->get(), rel, flags, mode);
  if (fd < 0) return errno_status(errno, "opening " + display(rel));
  return Fd(fd);
}

Result<Fd> RootFs::open_file(const std::string& rel, int flags, struct stat& st, bool allow_folder, mode_t mode) const {
  // O_NONBLOCK: opening a fifo must not wait for its other end; it is refused just below.
  auto fd = open_beneath(rel, flags | O_NONBLOCK, mode);
  if (!fd.ok()) return fd.status();
  if (::fstat(fd->get(), &st) != 0) return errno_status(errno, "stat of " + display(rel));
  if (S_ISDIR(st.st_mode)) {
    if (!allow_folder) return Status(Errc::bad_request, display(rel) + " is a folder, not a file");
  } else if (!S_ISREG(st.st_mode)) {
    return Status(Errc::no_permission, display(rel) + " refused: a device, fifo or socket, not a regular file");
  } else if ((flags & O_PATH) == 0) {
    ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) & ~O_NONBLOCK);
  }
  return fd;
}

Result<std::pair<Fd, std::string>> RootFs::open_parent(const std::string& rel) const {
  if (rel.empty()) return Status(Errc::no_permission, "the root " + spec_.name + " itself cannot be changed");
  auto [folder, name] = split_parent(rel);
  if (Status s = check_file_name(name); !s.ok()) return s;
  auto fd = open_beneath(folder, O_PATH | O_DIRECTORY);
  if (!fd.ok()) return fd.status();
  return std::make_pair(std::move(fd.value()), name);
}

}  // namespace fourinone::fileops
