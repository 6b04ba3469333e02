#include "fileops/server/file_ops.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/frame.hpp"
#include "fileops/path/fd.hpp"
#include "fileops/path/path_check.hpp"

namespace fourinone::fileops {
namespace {

std::string u64(std::uint64_t v) { return std::to_string(v); }

// Removes everything inside the open folder `dir` (never following a symlink), then nothing else.
Status remove_tree_contents(int dir, const std::string& display, int depth) {
  if (depth > 256) return Status(Errc::bad_request, "removing " + display + ": folders nested too deep");
  int copy = ::dup(dir);
  if (copy < 0) return errno_status(errno, "removing " + display);
  DIR* d = ::fdopendir(copy);
  if (d == nullptr) {
    ::close(copy);
    return errno_status(errno, "removing " + display);
  }
  std::vector<std::pair<std::string, bool>> names;  // name, is a folder
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st{};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    names.emplace_back(name, S_ISDIR(st.st_mode));
  }
  ::closedir(d);
  for (const auto& [name, folder] : names) {
    if (folder) {
      Fd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) return errno_status(errno, "removing " + display + "/" + name);
      if (Status s = remove_tree_contents(sub.get(), display + "/" + name, depth + 1); !s.ok()) return s;
    }
    if (::unlinkat(dir, name.c_str(), folder ? AT_REMOVEDIR : 0) != 0) {
      return errno_status(errno, "removing " + display + "/" + name);
    }
  }
  return {};
}

}  // namespace

std::uint64_t file_identity(const struct stat& st) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the fields
  for (std::uint64_t v : {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                          static_cast<std::uint64_t>(st.st_ctim.tv_sec), static_cast<std::uint64_t>(st.st_ctim.tv_nsec)}) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  return h == 0 ? 1 : h;  // 0 means "any" in a request
}

proto::Entry entry_of(const std::string& name, const struct stat& st) {
  proto::Entry e;
  e.name = name;
  e.type = S_ISREG(st.st_mode) ? proto::kFile : S_ISDIR(st.st_mode) ? proto::kFolder : proto::kOther;
  e.size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  e.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  e.mode = st.st_mode & 07777;
  return e;
}

Status pwrite_all(int fd, std::string_view data, std::uint64_t offset, const std::string& display) {
  return pwrite_full(fd, data, offset) ? Status() : errno_status(errno, "writing " + display);
}

Status make_folders(const RootFs& fs, const std::string& rel) {
  std::size_t at = 0;
  while (at != std::string::npos) {
    at = rel.find('/', at + 1);
    std::string prefix = rel.substr(0, at);
    auto parent = fs.open_parent(prefix);
    if (!parent.ok()) return parent.status();
    if (::mkdirat(parent->first.get(), parent->second.c_str(), 0755) != 0 && errno != EEXIST) {
      return errno_status(errno, "making folder " + fs.display(prefix));
    }
  }
  return {};
}

FileOps::FileOps(std::vector<RootFs> roots, std::uint64_t max_data, std::uint32_t max_frame)
    : roots_(std::move(roots)), max_data_(max_data), max_frame_(max_frame) {
  for (std::size_t i = 0; i < roots_.size(); ++i) by_name_[roots_[i].spec().name] = i;
}

std::string FileOps::response_frame(const proto::Response& response) {
  std::string frame = core::frame_buffer(64 + response.message.size());
  proto::encode_body(frame, response, {});
  return frame;
}

std::string FileOps::error_frame(const Status& status) {
  proto::Response r;
  r.code = static_cast<std::uint8_t>(status.code());
  r.message = status.message();
  return response_frame(r);
}

Result<std::pair<const RootFs*, std::string>> FileOps::resolve(const std::string& root, const std::string& path) const {
  auto it = by_name_.find(root);
  if (it == by_name_.end()) {
    std::string names;
    for (const auto& r : roots_) names += (names.empty() ? "" : ", ") + r.spec().name;
    return Status(Errc::not_found, "no root named '" + root.substr(0, 80) + "' on this server (roots: " + names + ")");
  }
  auto rel = normalize_relative_path(path);
  if (!rel.ok()) return rel.status();
  return std::make_pair(&roots_[it->second], rel.value());
}

Result<std::pair<const RootFs*, std::string>> FileOps::resolve_writable(const std::string& root,
                                                                       const std::string& path) const {
  auto r = resolve(root, path);
  if (r.ok() && r->first->spec().read_only) {
    return Status(Errc::no_permission, "root " + root + " is read-only: " + r->first->display(r->second) + " cannot change");
  }
  return r;
}

std::string FileOps::handle(const proto::Request& r, std::string_view data, const void* owner) {
  if (r.op != static_cast<std::uint8_t>(proto::Op::write) && !data.empty()) {
    return error_frame(Status(Errc::bad_request, "only write requests carry data"));
  }
  switch (static_cast<proto::Op>(r.op)) {
    case proto::Op::stat: return stat(r);
    case proto::Op::list: return list(r);
    case proto::Op::mkdir: return mkdir(r);
    case proto::Op::remove: return remove(r);
    case proto::Op::rename: return rename(r);
    case proto::Op::read: return read(r);
    case proto::Op::write: return r.handle != 0 ? write_pending(r, data) : write(r, data);
    case proto::Op::open_write: return open_write(r, owner);
    case proto::Op::commit: return commit(r);
    case proto::Op::abort: return abort(r);
    case proto::Op::roots: return list_roots();
    default: return error_frame(Status(Errc::bad_request, "unknown fttp operation " + std::to_string(r.op)));
  }
}

std::string FileOps::stat(const proto::Request& r) {
  auto where = resolve(r.root, r.path);
  if (!where.ok()) return error_frame(where.status());
  auto [fs, rel] = where.value();
  auto fd = fs->open_beneath(rel, O_PATH);
  if (!fd.ok()) return error_frame(fd.status());
  struct stat st{};
  if (::fstat(fd->get(), &st) != 0) return error_frame(errno_status(errno, "stat of " + fs->display(rel)));
  proto::Response out;
  out.entry = entry_of(rel.empty() ? fs->spec().name : split_parent(rel).second, st);
  return response_frame(out);
}

std::string FileOps::list_roots() {
  proto::Response out;
  for (const auto& root : roots_) {
    proto::Entry e;
    e.name = root.spec().name;
    e.type = proto::kFolder;
    e.size = root.spec().read_only ? 1 : 0;
    out.entries.push_back(std::move(e));
  }
  return response_frame(out);
}

std::string FileOps::list(const proto::Request& r) {
  auto where = resolve(r.root, r.path);
  if (!where.ok()) return error_frame(where.status());
  auto [fs, rel] = where.value();
  auto fd = fs->open_beneath(rel, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return error_frame(fd.status());
  int copy = ::dup(fd->get());
  DIR* d = copy < 0 ? nullptr : ::fdopendir(copy);
  if (d == nullptr) {
    if (copy >= 0) ::close(copy);
    return error_frame(errno_status(errno, "listing " + fs->display(rel)));
  }
  proto::Response out;
  std::size_t bytes = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || is_temp_name(name)) continue;
    struct stat st{};
    if (::fstatat(fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    if (S_ISLNK(st.st_mode)) {
      // A link is shown as what it leads to, when that stays inside the root.
      auto target = fs->open_beneath(rel.empty() ? name : rel + "/" + name, O_PATH);
      if (!target.ok() || ::fstat(target->get(), &st) != 0) st.st_mode = S_IFLNK | (st.st_mode & 07777);
    }
    bytes += name.size() + 40;
    if (bytes + 1024 > max_frame_) {
      ::closedir(d);
      return error_frame(Status(Errc::too_large, fs->display(rel) + " holds too many entries for one answer"));
    }
    out.entries.push_back(entry_of(name, st));
  }
  ::closedir(d);
  std::sort(out.entries.begin(), out.entries.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return response_frame(out);
}

std::string FileOps::mkdir(const proto::Request& r) {
  auto where = resolve_writable(r.root, r.path);
  if (!where.ok()) return error_frame(where.status());
  auto [fs, rel] = where.value();
  if (r.flags & proto::kParents) {
    if (rel.empty()) return response_frame({});
    if (Status s = make_folders(*fs, rel); !s.ok()) return error_frame(s);
    auto fd = fs->open_beneath(rel, O_PATH | O_DIRECTORY);  // it may have existed as a file
    if (!fd.ok()) return error_frame(fd.status().code() == Errc::not_found
                                          ? Status(Errc::exists, fs->display(rel) + " exists and is not a folder")
                                          : fd.status());
    return response_frame({});
  }
  auto parent = fs->open_parent(rel);
  if (!parent.ok()) return error_frame(parent.status());
  if (::mkdirat(parent->first.get(), parent->second.c_str(), 0755) != 0) {
    return error_frame(errno_status(errno, "making folder " + fs->display(rel)));
  }
  return response_frame({});
}

std::string FileOps::remove(const proto::Request& r) {
  auto where = resolve_writable(r.root, r.path);
  if (!where.ok()) return error_frame(where.status());
  auto [fs, rel] = where.value();
  auto parent = fs->open_parent(rel);
  if (!parent.ok()) return error_frame(parent.status());
  int dir = parent->first.get();
  const std::string& name = parent->second;
  struct stat st{};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return error_frame(errno_status(errno, "removing " + fs->display(rel)));
  }
  if (S_ISDIR(st.st_mode)) {
    if (r.flags & proto::kRecursive) {
      Fd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) return error_frame(errno_status(errno, "removing " + fs->display(rel)));
      if (Status s = remove_tree_contents(sub.get(), fs->display(rel), 0); !s.ok()) return error_frame(s);
    }
    if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0) {
      if (errno == ENOTEMPTY || errno == EEXIST) {
        return error_frame(Status(Errc::bad_request, "removing " + fs->display(rel) +
                                                         ": the folder is not empty (remove it recursively)"));
      }
      return error_frame(errno_status(errno, "removing " + fs->display(rel)));
    }
    return response_frame({});
  }
  if (::unlinkat(dir, name.c_str(), 0) != 0) return error_frame(errno_status(errno, "removing " + fs->display(rel)));
  return response_frame({});
}

std::string FileOps::rename(const proto::Request& r) {
  auto from = resolve_writable(r.root, r.path);
  if (!from.ok()) return error_frame(from.status());
  const std::string& root2 = r.root2.empty() ? r.root : r.root2;
  if (root2 != r.root) return error_frame(Status(Errc::bad_request, "rename within one root only; copy between roots"));
  auto to = resolve_writable(root2, r.path2);
  if (!to.ok()) return error_frame(to.status());
  const RootFs* fs = from->first;
  auto a = fs->open_parent(from->second);
  if (!a.ok()) return error_frame(a.status());
  auto b = fs->open_parent(to->second);
  if (!b.ok()) return error_frame(b.status());
  if (::renameat(a->first.get(), a->second.c_str(), b->first.get(), b->second.c_str()) != 0) {
    return error_frame(errno_status(errno, "renaming " + fs->display(from->second) + " to " + fs->display(to->second)));
  }
  return response_frame({});
}

std::string FileOps::read(const proto::Request& r) {
  auto where = resolve(r.root, r.path);
  if (!where.ok()) return error_frame(where.status());
  auto [fs, rel] = where.value();
  if (r.length > max_data_) {
    return error_frame(Status(Errc::too_large, "read of " + u64(r.length) + " bytes in one request; the limit is " +
                                                   u64(max_data_)));
  }
  struct stat st{};
  auto fd = fs->open_file(rel, O_RDONLY, st);
  if (!fd.ok()) return error_frame(fd.status());
  auto size = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t identity = file_identity(st);
  if (r.handle != 0 && r.handle != identity) {
    return error_frame(Status(Errc::bad_version, fs->display(rel) + " was replaced during the read"));
  }
  if (r.offset > size) {
    return error_frame(Status(Errc::bad_request, "range past the end of " + fs->display(rel) + ": offset " +
                                                     u64(r.offset) + ", the file has " + u64(size) + " bytes"));
  }
  std::uint64_t want = std::min(r.length, size - r.offset);
  proto::Response head;
  head.size = size;
  head.handle = identity;
  std::string frame = core::frame_buffer(static_cast<std::size_t>(want) + 128);
  core::encode_into(frame, head);
  std::size_t length_at = frame.size();
  core::encode_into(frame, std::uint64_t{0});
  std::size_t data_at = frame.size();
  frame.resize(data_at + static_cast<std::size_t>(want));
  // A file that shrank meanwhile gives what there is.
  const ssize_t read = pread_full(fd->get(), frame.data() + data_at, static_cast<std::size_t>(want), r.offset);
  if (read < 0) return error_frame(errno_status(errno, "reading " + fs->display(rel)));
  const auto got = static_cast<std::uint64_t>(read);
  frame.resize(data_at + static_cast<std::size_t>(got));
  std::uint64_t le = core::to_little_endian(got);
  std::memcpy(frame.data() + length_at, &le, sizeof(le));
  return frame;
}

std::string FileOps::write(const proto::Request& r, std::string_view data) {
  auto where = resolve_writable(r.root, r.path);
  if (!where.ok()) return error_frame(where.status());
  auto [fs, rel] = where.value();
  if (rel.empty()) return error_frame(Status(Errc::bad_request, "the root " + fs->spec().name + " is a folder"));
  struct stat st{};
  int flags = O_WRONLY | ((r.flags & proto::kCreate) ? O_CREAT : 0);
  auto fd = fs->open_file(rel, flags, st);
  if (!fd.ok()) return error_frame(fd.status());
  if (!(r.flags & proto::kNoHoleCheck) && r.offset > static_cast<std::uint64_t>(st.st_size)) {
    return error_frame(Status(Errc::bad_request, "range past the end of " + fs->display(rel) + ": writing at " +
                                                     u64(r.offset) + " would leave a hole after its " +
                                                     u64(static_cast<std::uint64_t>(st.st_size)) + " bytes"));
  }
  if (Status s = pwrite_all(fd->get(), data, r.offset, fs->display(rel)); !s.ok()) return error_frame(s);
  if ((r.flags & proto::kTruncate) && ::ftruncate(fd->get(), static_cast<off_t>(r.offset + data.size())) != 0) {
    return error_frame(errno_status(errno, "truncating " + fs->display(rel)));
  }
  proto::Response out;
  out.size = data.size();
  return response_frame(out);
}

std::string FileOps::write_pending(const proto::Request& r, std::string_view data) {
  auto write = pending_.find(r.handle);
  if (!write.ok()) return error_frame(write.status());
  PendingWrite& w = *write.value();
  if (Status s = pwrite_all(w.file.get(), data, r.offset, w.display); !s.ok()) return error_frame(s);
  proto::Response out;
  out.size = data.size();
  return response_frame(out);
}

std::string FileOps::open_write(const proto::Request& r, const void* owner) {
  auto where = resolve_writable(r.root, r.path);
  if (!where.ok()) return error_frame(where.status());
  auto [fs, rel] = where.value();
  if (rel.empty()) return error_frame(Status(Errc::bad_request, "the root " + fs->spec().name + " is a folder"));
  if (r.flags & proto::kParents) {
    auto folder = split_parent(rel).first;
    if (!folder.empty()) {
      if (Status s = make_folders(*fs, folder); !s.ok()) return error_frame(s);
    }
  }
  auto parent = fs->open_parent(rel);
  if (!parent.ok()) return error_frame(parent.status());
  auto w = std::make_shared<PendingWrite>();
  w->folder = Fd(::openat(parent->first.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!w->folder.valid()) return error_frame(errno_status(errno, "opening the folder of " + fs->display(rel)));
  w->name = parent->second;
  w->display = fs->display(rel);
  w->exclusive = (r.flags & proto::kExclusive) != 0;
  w->owner = owner;
  struct stat st{};
  mode_t mode = 0644;
  if (::fstatat(w->folder.get(), w->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (w->exclusive) return error_frame(Status(Errc::exists, w->display + " exists"));
    if (S_ISDIR(st.st_mode)) return error_frame(Status(Errc::bad_request, w->display + " is a folder, not a file"));
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
      return error_frame(Status(Errc::no_permission, w->display + " refused: a device, fifo or socket"));
    }
    if (S_ISREG(st.st_mode)) mode = st.st_mode & 07777;  // the new file keeps the old one's permissions
  }
  for (int attempt = 0; attempt < 8 && !w->file.valid(); ++attempt) {
    w->temp = make_temp_name();
    w->file = Fd(::openat(w->folder.get(), w->temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!w->file.valid() && errno != EEXIST) break;
  }
  if (!w->file.valid()) return error_frame(errno_status(errno, "creating a temporary file for " + w->display));
  ::fchmod(w->file.get(), mode);  // umask must not narrow the old file's permissions
  if (r.length > 0) {
    // Claim the space now: a full disk is found before any byte is sent, not in the middle.
    int rc = ::posix_fallocate(w->file.get(), 0, static_cast<off_t>(r.length));
    if (rc == ENOSPC || rc == EFBIG || rc == EDQUOT) {
      PendingWrites::discard(*w);
      return error_frame(errno_status(rc, "writing " + w->display + " (" + u64(r.length) + " bytes)"));
    }
  }
  proto::Response out;
  out.handle = pending_.add(std::move(w));
  return response_frame(out);
}

std::string FileOps::commit(const proto::Request& r) {
  auto write = pending_.take(r.handle);
  if (!write.ok()) return error_frame(write.status());
  PendingWrite& w = *write.value();
  // A size hint may have allocated past what was written: cut the file at its real end.
  if (r.length > 0 || (r.flags & proto::kTruncate)) {
    if (::ftruncate(w.file.get(), static_cast<off_t>(r.length)) != 0) {
      Status s = errno_status(errno, "committing " + w.display);
      PendingWrites::discard(w);
      return error_frame(s);
    }
  }
  auto size = PendingWrites::commit(w);
  if (!size.ok()) return error_frame(size.status());
  proto::Response out;
  out.size = size.value();
  return response_frame(out);
}

std::string FileOps::abort(const proto::Request& r) {
  auto write = pending_.take(r.handle);
  if (!write.ok()) return error_frame(write.status());
  PendingWrites::discard(*write.value());
  return response_frame({});
}

}  // namespace fourinone::fileops
