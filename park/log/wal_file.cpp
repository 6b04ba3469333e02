#include "park/log/wal_file.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace fourinone::park {
namespace {

Status io_error(const std::string& what, const std::string& path, int err) {
  return Status(Errc::internal, what + " " + path + ": " + std::strerror(err));
}

// Writes `size` zero bytes to `fd` from offset 0, then fdatasync. Checks `stop` between
// megabytes; returns cancelled when it says so.
template <typename Stop>
Status write_zeros(int fd, const std::string& path, std::uint64_t size, Stop&& stop) {
  const std::vector<char> zeros(1 << 20, 0);
  for (std::uint64_t done = 0; done < size;) {
    if (stop()) return Status(Errc::cancelled, "stopping");
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), size - done));
    ssize_t w = ::pwrite(fd, zeros.data(), n, static_cast<off_t>(done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return io_error("cannot write zeros to", path, w < 0 ? errno : EIO);
    done += static_cast<std::uint64_t>(w);
  }
  if (::fdatasync(fd) != 0) return io_error("cannot fdatasync", path, errno);
  return Status();
}

}  // namespace

SegmentFile::~SegmentFile() {
  if (fd_ >= 0) ::close(fd_);
}

SegmentFile::SegmentFile(SegmentFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)), size_(other.size_) {}

SegmentFile& SegmentFile::operator=(SegmentFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    size_ = other.size_;
  }
  return *this;
}

Result<SegmentFile> SegmentFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open WAL segment", path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error("cannot stat WAL segment", path, err);
  }
  SegmentFile file;
  file.fd_ = fd;
  file.path_ = path;
  file.size_ = static_cast<std::uint64_t>(st.st_size);
  return file;
}

Status SegmentFile::write_at(std::uint64_t offset, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error("cannot write WAL segment", path_, n < 0 ? errno : EIO);
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return Status();
}

Status SegmentFile::read_at(std::uint64_t offset, std::size_t n, char* out) const {
  while (n > 0) {
    ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return io_error("cannot read WAL segment", path_, errno);
    if (got == 0) return Status(Errc::internal, "short read of WAL segment " + path_);
    out += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return Status();
}

Status SegmentFile::sync() {
  if (::fdatasync(fd_) != 0) return io_error("fdatasync failed on WAL segment", path_, errno);
  return Status();
}

Status create_segment_file(const std::string& path, std::uint64_t size, bool durable) {
  // Sized under a temporary name, so that a crash or a failure never leaves a short segment.
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create WAL segment", tmp, errno);
  Status status;
  if (durable) {
    status = write_zeros(fd, tmp, size, [] { return false; });
  } else if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    status = io_error("cannot size WAL segment", tmp, errno);
  }
  ::close(fd);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) status = io_error("cannot rename", tmp, errno);
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

Status sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open directory", dir, errno);
  int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  if (rc != 0) return io_error("cannot fsync directory", dir, rc);
  return Status();
}

SparePreallocator::SparePreallocator(std::string dir, std::uint64_t size)
    : dir_(std::move(dir)), size_(size), thread_([this] { run(); }) {}

SparePreallocator::~SparePreallocator() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Result<bool> SparePreallocator::take(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (!ready_) return false;
  const std::string spare = dir_ + "/spare";
  if (::rename(spare.c_str(), path.c_str()) != 0) return io_error("cannot rename spare segment to", path, errno);
  ready_ = false;
  wake_.notify_all();
  return true;
}

void SparePreallocator::run() {
  const std::string tmp = dir_ + "/spare.tmp";
  const std::string ready = dir_ + "/spare";
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !ready_; });
      if (stopping_) return;
    }
    Status s = make_one(tmp, ready);
    if (s.code() == Errc::cancelled) return;
    if (!s.ok()) {
      // Not fatal: the log creates segments itself (slower syncs) when no spare is ready.
      spdlog::warn("WAL: cannot preallocate a spare segment, going on without: {}", s.message());
      return;
    }
  }
}

Status SparePreallocator::make_one(const std::string& tmp, const std::string& ready) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create", tmp, errno);
  Status status = write_zeros(fd, tmp, size_, [this] {
    std::lock_guard lock(mutex_);
    return stopping_;
  });
  ::close(fd);
  if (!status.ok()) return status;
  std::lock_guard lock(mutex_);
  if (::rename(tmp.c_str(), ready.c_str()) != 0) return io_error("cannot rename", tmp, errno);
  ready_ = true;
  return Status();
}

}  // namespace fourinone::park
