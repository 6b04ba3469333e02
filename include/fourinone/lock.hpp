// Locks on the park (issue #15): a fair mutual-exclusion lock and a read-write lock, built on
// the public Park API only.
//
// Each contender holds one sequential heartbeat node in the lock's domain; the park names
// those nodes in creation order, so the line is fair (first come, first served). A waiter
// watches one node only -- the one it must outlive -- and re-checks its place when that node
// goes; a release wakes only the waiters it was blocking (one, for DistributedLock), never
// the whole line (no thundering herd). A holder that crashes or hangs loses its node when
// its session ends, so the lock passes on by itself.
//
// Fencing. The park cannot stop a holder that was paused (GC, SIGSTOP, a slow disk) past its
// session timeout from acting after the lock has moved on. Every acquisition therefore
// returns a fencing token: the create revision of the holder's node, which grows with every
// acquisition of the same lock. A resource the lock guards must refuse writes carrying a
// lower token than one it has already seen. fenced_update() below does that for a resource
// kept in a park node; anything else (a database row, a file server) compares the token the
// same way.
//
// Thread-safety: one lock object is one contender; do not call its methods from two threads
// at once. The Park must outlive the lock objects made on it. Any number of lock objects -- on one Park or on many, in one process or many --
// contend with each other correctly. A waiter whose session expires gets session_expired;
// heartbeat creates then fail until park.open_session() opens a new session.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "fourinone/park.hpp"

namespace fourinone {

// "Wait as long as it takes" for the waiting calls below.
inline constexpr std::chrono::milliseconds kWaitForever = std::chrono::milliseconds::max();

class DistributedLock {
 public:
  // The lock called `name` (any node-name text; the line lives in domain "lock.<name>").
  DistributedLock(Park& park, std::string name);
  // Releases the lock (or the place in line) if this object still has one.
  ~DistributedLock();
  DistributedLock(const DistributedLock&) = delete;
  DistributedLock& operator=(const DistributedLock&) = delete;

  // Waits until the lock is ours; returns the fencing token. Errors: session_expired (the
  // session ended while waiting: nothing is held; after park.open_session() lock() works
  // again), bad_request (already held by this object), park errors.
  Result<std::uint64_t> lock() { return try_lock(kWaitForever); }
  // The same, giving up after `wait` with timeout (and leaving the line).
  Result<std::uint64_t> try_lock(std::chrono::milliseconds wait);
  // Leaves the lock. Errors: not_found (not held), session_expired (the lock was lost
  // already: another holder may have had it since), park errors.
  Status unlock();

  // Whether this object holds the lock as far as it knows (false once the session expired).
  bool held() const;
  std::uint64_t token() const noexcept { return token_; }  // 0 when not held
  const std::string& domain() const noexcept { return domain_; }

 private:
  Park& park_;
  std::string domain_;
  std::string node_;  // our node in the line; empty when we hold nothing
  std::uint64_t token_ = 0;
};

// Many readers or one writer. Readers wait only for the nearest writer ahead of them in line;
// a writer waits for its immediate predecessor. The line is fair both ways: a writer is not
// starved by a stream of readers, and readers behind a writer wait for it.
class ReadWriteLock {
 public:
  // The line lives in domain "rwlock.<name>".
  ReadWriteLock(Park& park, std::string name);
  ~ReadWriteLock();
  ReadWriteLock(const ReadWriteLock&) = delete;
  ReadWriteLock& operator=(const ReadWriteLock&) = delete;

  // Each returns the fencing token (create revision of our node). Errors as DistributedLock.
  Result<std::uint64_t> read_lock(std::chrono::milliseconds wait = kWaitForever);
  Result<std::uint64_t> write_lock(std::chrono::milliseconds wait = kWaitForever);
  Status unlock();  // whichever of the two is held

  bool held() const;
  bool writing() const noexcept { return writing_; }
  std::uint64_t token() const noexcept { return token_; }

 private:
  Result<std::uint64_t> acquire(bool write, std::chrono::milliseconds wait);

  Park& park_;
  std::string domain_;
  std::string node_;
  std::uint64_t token_ = 0;
  bool writing_ = false;
};

// A resource in a park node that refuses stale lock holders. The node's value is
// "<highest token seen> <payload>". fenced_update reads it, refuses with bad_version when
// `token` is lower than the token stored, else writes `change(payload)` under `token` with
// compare-and-set on the node's version -- so a stale holder's write can never land after a
// newer holder's, even if both race. Creates the node (payload "") when missing.
//
//   auto token = lock.lock();
//   auto r = fenced_update(park, "jobs", "report", *token, [](std::string_view old) {
//     return std::string(old) + "line\n";
//   });
//   if (!r.ok() && r.status().code() == Errc::bad_version) { /* we lost the lock: stop */ }
struct FencedValue {
  std::uint64_t token = 0;  // the highest token that wrote it
  std::string payload;
  Node node;
};
Result<FencedValue> fenced_update(Park& park, std::string_view domain, std::string_view node, std::uint64_t token,
                                  const std::function<std::string(std::string_view payload)>& change);
// Reads such a node. Errors: not_found, bad_request (not "<token> <payload>").
Result<FencedValue> fenced_read(Park& park, std::string_view domain, std::string_view node);

}  // namespace fourinone
