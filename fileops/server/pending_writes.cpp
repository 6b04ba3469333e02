#include "fileops/server/pending_writes.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <vector>

#include "fileops/path/root_fs.hpp"

namespace fourinone::fileops {
namespace {

std::uint64_t random_u64() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                          (static_cast<std::uint64_t>(std::random_device{}()) << 32)};
  std::uint64_t v = 0;
  while (v == 0) v = rng();
  return v;
}

constexpr std::string_view kTempPrefix = ".fttp-";
constexpr std::string_view kTempSuffix = ".tmp";

}  // namespace

std::string make_temp_name() {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(random_u64()));
  return std::string(kTempPrefix) + buf + std::string(kTempSuffix);
}

bool is_temp_name(std::string_view name) {
  return name.size() == kTempPrefix.size() + 16 + kTempSuffix.size() && name.substr(0, kTempPrefix.size()) == kTempPrefix &&
         name.substr(name.size() - kTempSuffix.size()) == kTempSuffix;
}

std::uint64_t PendingWrites::add(std::shared_ptr<PendingWrite> write) {
  std::lock_guard lock(mutex_);
  std::uint64_t handle = 0;
  do {
    handle = random_u64();  // unguessable: another client cannot write into or commit our file
  } while (writes_.count(handle) != 0);
  writes_.emplace(handle, std::move(write));
  return handle;
}

Result<std::shared_ptr<PendingWrite>> PendingWrites::find(std::uint64_t handle) const {
  std::lock_guard lock(mutex_);
  auto it = writes_.find(handle);
  if (it == writes_.end()) return Status(Errc::not_found, "no two-phase write with this handle (committed, aborted or never opened)");
  return it->second;
}

Result<std::shared_ptr<PendingWrite>> PendingWrites::take(std::uint64_t handle) {
  std::lock_guard lock(mutex_);
  auto it = writes_.find(handle);
  if (it == writes_.end()) return Status(Errc::not_found, "no two-phase write with this handle (committed, aborted or never opened)");
  auto write = std::move(it->second);
  writes_.erase(it);
  return write;
}

std::size_t PendingWrites::abort_owned_by(const void* owner) {
  std::vector<std::shared_ptr<PendingWrite>> gone;
  {
    std::lock_guard lock(mutex_);
    for (auto it = writes_.begin(); it != writes_.end();) {
      if (it->second->owner == owner) {
        gone.push_back(std::move(it->second));
        it = writes_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& w : gone) discard(*w);
  return gone.size();
}

void PendingWrites::abort_all() {
  std::map<std::uint64_t, std::shared_ptr<PendingWrite>> gone;
  {
    std::lock_guard lock(mutex_);
    gone.swap(writes_);
  }
  for (auto& [handle, w] : gone) discard(*w);
}

void PendingWrites::discard(PendingWrite& write) {
  if (write.folder.valid()) ::unlinkat(write.folder.get(), write.temp.c_str(), 0);
  write.file.reset();
}

Result<std::uint64_t> PendingWrites::commit(PendingWrite& write) {
  struct stat st{};
  if (::fsync(write.file.get()) != 0 || ::fstat(write.file.get(), &st) != 0) {
    Status s = errno_status(errno, "committing " + write.display);
    discard(write);
    return s;
  }
  int rc = write.exclusive ? ::renameat2(write.folder.get(), write.temp.c_str(), write.folder.get(), write.name.c_str(),
                                         RENAME_NOREPLACE)
                           : ::renameat(write.folder.get(), write.temp.c_str(), write.folder.get(), write.name.c_str());
  if (rc != 0) {
    Status s = errno_status(errno, "committing " + write.display);
    discard(write);
    return s;
  }
  write.file.reset();
  // The rename is durable only once the folder is (a crash could otherwise bring the old name back).
  if (::fsync(write.folder.get()) != 0) return errno_status(errno, "syncing the folder of " + write.display);
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace fourinone::fileops
