#include "park/session/session_tracker.hpp"

namespace fourinone::park {

void SessionTracker::reset_all(const std::map<std::uint64_t, SessionRecord>& sessions, std::int64_t now_ms,
                               std::int64_t grace_ms) {
  sessions_.clear();
  for (const auto& [id, record] : sessions) {
    sessions_[id] = Entry{record.timeout_ms, now_ms + record.timeout_ms + grace_ms};
  }
}

void SessionTracker::add(std::uint64_t id, std::int64_t timeout_ms, std::int64_t now_ms) {
  sessions_[id] = Entry{timeout_ms, now_ms + timeout_ms};
}

bool SessionTracker::touch(std::uint64_t id, std::int64_t now_ms) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  // A late grace deadline (after a restart) is never shortened by a heartbeat.
  it->second.deadline_ms = std::max(it->second.deadline_ms, now_ms + it->second.timeout_ms);
  return true;
}

void SessionTracker::remove(std::uint64_t id) { sessions_.erase(id); }

std::vector<std::uint64_t> SessionTracker::expired(std::int64_t now_ms) const {
  std::vector<std::uint64_t> out;
  for (const auto& [id, entry] : sessions_) {
    if (entry.deadline_ms <= now_ms) out.push_back(id);
  }
  return out;
}

}  // namespace fourinone::park
