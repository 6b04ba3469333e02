// SessionTracker: the leader's view of which sessions are alive. Pure: the caller passes the
// time in, so tests drive it with a manual clock.
//
// Liveness is not replicated: only the leader hears heartbeats, and it proposes
// expire_session through the log when a session has been silent for its timeout, so every
// replica deletes the same heartbeat nodes (STYLE §3). When a server becomes leader (or
// restarts) every known session gets a fresh full timeout plus the rescue period (MAXDELAY):
// a failover never expires healthy clients. Not thread-safe: owned by the server's thread.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "park/store/command.hpp"

namespace fourinone::park {

class SessionTracker {
 public:
  // Every session in `sessions` is alive until now + its timeout + grace.
  void reset_all(const std::map<std::uint64_t, SessionRecord>& sessions, std::int64_t now_ms, std::int64_t grace_ms);
  void add(std::uint64_t id, std::int64_t timeout_ms, std::int64_t now_ms);
  // A heartbeat; false if the session is unknown here.
  bool touch(std::uint64_t id, std::int64_t now_ms);
  void remove(std::uint64_t id);
  bool contains(std::uint64_t id) const { return sessions_.count(id) != 0; }
  // Sessions silent past their deadline, in id order.
  std::vector<std::uint64_t> expired(std::int64_t now_ms) const;
  std::size_t size() const { return sessions_.size(); }

 private:
  struct Entry {
    std::int64_t timeout_ms = 0;
    std::int64_t deadline_ms = 0;
  };
  std::map<std::uint64_t, Entry> sessions_;
};

}  // namespace fourinone::park
