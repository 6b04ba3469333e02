// DistributedLock and ReadWriteLock (lock.hpp) on the waiting line (waiting_line.hpp).
#include "fourinone/lock.hpp"

#include "park/recipes/waiting_line.hpp"

namespace fourinone {
namespace {

constexpr std::string_view kRead = "read";
constexpr std::string_view kWrite = "write";

// Joins the line, waits for our turn, and leaves the line again on any failure so that a
// timed-out or failed waiter never blocks the parties behind it.
Result<Node> take_turn(Park& park, const std::string& domain, std::string_view value,
                       const recipes::Blocker& blocker, std::chrono::milliseconds wait) {
  auto deadline = recipes::deadline_after(wait);
  auto mine = recipes::join_line(park, domain, value);
  if (!mine.ok()) return mine.status();
  Status s = recipes::wait_turn(park, domain, mine->name, blocker, deadline);
  if (!s.ok()) {
    (void)recipes::leave_line(park, domain, mine->name);  // best effort: the session ends it too
    return s;
  }
  return mine;
}

long immediate_predecessor(const std::vector<Node>& ahead) { return static_cast<long>(ahead.size()) - 1; }

long nearest_writer(const std::vector<Node>& ahead) {
  for (long i = static_cast<long>(ahead.size()) - 1; i >= 0; --i) {
    if (ahead[static_cast<std::size_t>(i)].value != kRead) return i;  // anything not a reader excludes
  }
  return -1;
}

}  // namespace

// --- DistributedLock ----------------------------------------------------------------------

DistributedLock::DistributedLock(Park& park, std::string name) : park_(park), domain_("lock." + std::move(name)) {}

DistributedLock::~DistributedLock() {
  if (!node_.empty()) (void)unlock();
}

Result<std::uint64_t> DistributedLock::try_lock(std::chrono::milliseconds wait) {
  if (!node_.empty() && !held()) node_.clear();  // lost with an expired session: nothing to release
  if (!node_.empty()) return Status(Errc::bad_request, "lock " + domain_ + " is already held by this object");
  auto mine = take_turn(park_, domain_, kWrite, immediate_predecessor, wait);
  if (!mine.ok()) return mine.status();
  node_ = mine->name;
  token_ = mine->create_revision;
  return token_;
}

Status DistributedLock::unlock() {
  if (node_.empty()) return Status(Errc::not_found, "lock " + domain_ + " is not held by this object");
  std::string node = std::move(node_);
  node_.clear();
  token_ = 0;
  return recipes::leave_line(park_, domain_, node);
}

bool DistributedLock::held() const { return !node_.empty() && park_.session_state() != SessionState::expired; }

// --- ReadWriteLock ------------------------------------------------------------------------

ReadWriteLock::ReadWriteLock(Park& park, std::string name) : park_(park), domain_("rwlock." + std::move(name)) {}

ReadWriteLock::~ReadWriteLock() {
  if (!node_.empty()) (void)unlock();
}

Result<std::uint64_t> ReadWriteLock::read_lock(std::chrono::milliseconds wait) { return acquire(false, wait); }
Result<std::uint64_t> ReadWriteLock::write_lock(std::chrono::milliseconds wait) { return acquire(true, wait); }

Result<std::uint64_t> ReadWriteLock::acquire(bool write, std::chrono::milliseconds wait) {
  if (!node_.empty() && !held()) node_.clear();  // lost with an expired session: nothing to release
  if (!node_.empty()) return Status(Errc::bad_request, "lock " + domain_ + " is already held by this object");
  auto mine = write ? take_turn(park_, domain_, kWrite, immediate_predecessor, wait)
                    : take_turn(park_, domain_, kRead, nearest_writer, wait);
  if (!mine.ok()) return mine.status();
  node_ = mine->name;
  token_ = mine->create_revision;
  writing_ = write;
  return token_;
}

Status ReadWriteLock::unlock() {
  if (node_.empty()) return Status(Errc::not_found, "lock " + domain_ + " is not held by this object");
  std::string node = std::move(node_);
  node_.clear();
  token_ = 0;
  writing_ = false;
  return recipes::leave_line(park_, domain_, node);
}

bool ReadWriteLock::held() const { return !node_.empty() && park_.session_state() != SessionState::expired; }

}  // namespace fourinone
