#include "park/log/log_rules.hpp"

namespace fourinone::park::log_rules {

Status check_append(std::span<const LogEntry> entries, std::uint64_t snapshot_index, std::uint64_t last) {
  if (entries.empty()) return Status();
  const std::uint64_t first = entries.front().index;
  if (first <= snapshot_index) {
    return Status(Errc::bad_request, "append at index " + std::to_string(first) +
                                         " is at or below the snapshot index " + std::to_string(snapshot_index));
  }
  if (first > last + 1) {
    return Status(Errc::bad_request, "append at index " + std::to_string(first) + " leaves a gap after the last index " +
                                         std::to_string(last));
  }
  for (std::size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].index != entries[i - 1].index + 1) {
      return Status(Errc::bad_request, "appended entries are not contiguous: index " +
                                           std::to_string(entries[i].index) + " follows " +
                                           std::to_string(entries[i - 1].index));
    }
  }
  return Status();
}

Status check_read(std::uint64_t from, std::uint64_t to, std::uint64_t first, std::uint64_t last) {
  if (from < first) {
    return Status(Errc::not_found, "log index " + std::to_string(from) + " was compacted (first index is " +
                                       std::to_string(first) + ")");
  }
  if (from > last) {
    return Status(Errc::not_found, "log index " + std::to_string(from) + " is past the last index " +
                                       std::to_string(last));
  }
  if (to <= from) {
    return Status(Errc::bad_request, "empty log range [" + std::to_string(from) + ", " + std::to_string(to) + ")");
  }
  return Status();
}

Status check_snapshot(const Snapshot& snapshot, std::uint64_t snapshot_index) {
  if (snapshot.index < snapshot_index) {
    return Status(Errc::bad_request, "snapshot at index " + std::to_string(snapshot.index) +
                                         " is older than the stored one at index " + std::to_string(snapshot_index));
  }
  return Status();
}

Status refuse_if_broken(const Status& broken) {
  if (broken.ok()) return Status();
  return Status(Errc::internal, "storage failed earlier: " + broken.message());
}

}  // namespace fourinone::park::log_rules
