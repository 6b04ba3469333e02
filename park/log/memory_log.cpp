// MemoryLog: the LogStorage contract held in memory, for tests and the simulator. It follows
// the same rules as the LMDB log (log_rules.hpp) and never fails an operation it accepted; a
// fault-injecting wrapper (STYLE §4) is the place for simulated I/O errors and lost writes.
#include <algorithm>
#include <deque>
#include <exception>
#include <iterator>

#include "park/log/log_rules.hpp"
#include "park/log/log_storage.hpp"

namespace fourinone::park {
namespace {

class MemoryLog final : public LogStorage {
 public:
  std::uint64_t first_index() const override { return first_; }
  std::uint64_t last_index() const override { return first_ + entries_.size() - 1; }

  Status append(std::span<const LogEntry> entries) override {
    if (Status s = log_rules::check_append(entries, first_ - 1, last_index()); !s.ok()) return s;
    if (entries.empty()) return Status();
    try {
      // Build the new tail first so an allocation failure leaves the log unchanged.
      std::deque<LogEntry> tail(entries.begin(), entries.end());
      entries_.resize(entries.front().index - first_);  // conflict truncation (no-op when appending)
      std::move(tail.begin(), tail.end(), std::back_inserter(entries_));
    } catch (const std::exception& e) {
      return Status(Errc::internal, std::string("memory log append: ") + e.what());
    }
    return Status();
  }

  Result<std::vector<LogEntry>> read(std::uint64_t from, std::uint64_t to, std::size_t max_bytes) const override {
    if (Status s = log_rules::check_read(from, to, first_, last_index()); !s.ok()) return s;
    try {
      std::vector<LogEntry> out;
      std::size_t bytes = 0;
      const std::uint64_t end = std::min(to, last_index() + 1);
      for (std::uint64_t i = from; i < end; ++i) {
        const LogEntry& e = entries_[i - first_];
        bytes += log_rules::entry_size(e);
        if (!out.empty() && bytes > max_bytes) break;
        out.push_back(e);
      }
      return out;
    } catch (const std::exception& e) {
      return Status(Errc::internal, std::string("memory log read: ") + e.what());
    }
  }

  Result<std::uint64_t> term(std::uint64_t index) const override {
    if (index == first_ - 1) return snapshot_term_;
    if (index < first_ || index > last_index()) {
      return Status(Errc::not_found, "no log entry at index " + std::to_string(index));
    }
    return entries_[index - first_].term;
  }

  Status save_hard_state(const HardState& state) override {
    hard_state_ = state;
    return Status();
  }

  Status write(const std::optional<HardState>& state, std::span<const LogEntry> entries) override {
    if (Status s = append(entries); !s.ok()) return s;  // checks first: a refused write changes nothing
    if (state) hard_state_ = *state;
    return Status();
  }
  HardState hard_state() const override { return hard_state_; }

  Status save_snapshot(const Snapshot& snapshot) override {
    if (Status s = log_rules::check_snapshot(snapshot, first_ - 1); !s.ok()) return s;
    try {
      std::optional<Snapshot> copy = snapshot;  // may throw; nothing changed yet
      // Raft §7: keep the entries after the snapshot only if the log agrees with it at its index.
      auto t = term(snapshot.index);
      if (snapshot.index <= last_index() && t.ok() && *t == snapshot.term) {
        entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(snapshot.index + 1 - first_));
      } else {
        entries_.clear();
      }
      first_ = snapshot.index + 1;
      snapshot_term_ = snapshot.term;
      snapshot_ = std::move(copy);
    } catch (const std::exception& e) {
      return Status(Errc::internal, std::string("memory log snapshot: ") + e.what());
    }
    return Status();
  }

  std::optional<Snapshot> snapshot() const override { return snapshot_; }

 private:
  std::deque<LogEntry> entries_;  // entries_[i].index == first_ + i
  std::uint64_t first_ = 1;       // snapshot index + 1
  std::uint64_t snapshot_term_ = 0;
  std::optional<Snapshot> snapshot_;
  HardState hard_state_;
};

}  // namespace

std::unique_ptr<LogStorage> make_memory_log() { return std::make_unique<MemoryLog>(); }

}  // namespace fourinone::park
