// What mq_bench checks end to end: every message a producer issued, whether its send was
// acknowledged, whether a consumer received it (and how often). From it come the figures
// that say the run was honest: lost (acknowledged, never received), duplicates (received
// again: at-least-once delivery allows it, but it is counted), unexpected (received, never
// sent), and the backlog (issued, not yet received) that keeps producers from running away.
//
// A message is named by (producer, sequence number), both carried in its body with its send
// time: "<producer>:<sequence>:<steady_clock ns>:" padded to the message size.
#pragma once

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mqbench {

struct Stamp {
  std::uint32_t producer = 0;
  std::uint64_t sequence = 0;
  std::int64_t sent_ns = 0;  // steady_clock, this host
};

// The body of a message of `size` bytes (longer if its header needs more).
inline std::string make_body(const Stamp& s, std::size_t size) {
  char head[64];
  int n = std::snprintf(head, sizeof head, "%u:%llu:%lld:", s.producer, static_cast<unsigned long long>(s.sequence),
                        static_cast<long long>(s.sent_ns));
  std::string body(head, static_cast<std::size_t>(n));
  if (body.size() < size) body.resize(size, '.');
  return body;
}

// The stamp in a body, or nullopt when it is not one of ours.
inline std::optional<Stamp> read_body(std::string_view body) {
  Stamp s;
  const char* p = body.data();
  const char* end = body.data() + body.size();
  auto field = [&](auto& value) {
    auto [next, ec] = std::from_chars(p, end, value);
    if (ec != std::errc() || next == end || *next != ':') return false;
    p = next + 1;
    return true;
  };
  if (!field(s.producer) || !field(s.sequence) || !field(s.sent_ns)) return std::nullopt;
  return s;
}

class Ledger {
 public:
  explicit Ledger(std::size_t producers) : books_(producers) {}

  // The producer is about to send `sequence`, its next (0, 1, 2, ...).
  void issued(std::uint32_t producer, std::uint64_t sequence) {
    Book& b = books_[producer];
    std::lock_guard lock(b.mutex);
    if (b.state.size() <= sequence) b.state.resize(sequence + 1, 0);
    issued_.fetch_add(1, std::memory_order_relaxed);
  }

  // Its send was answered.
  void answered(std::uint32_t producer, std::uint64_t sequence, bool ok) {
    Book& b = books_[producer];
    std::lock_guard lock(b.mutex);
    if (!ok) {
      send_failures_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    b.state[sequence] |= kAcked;
    sends_acked_.fetch_add(1, std::memory_order_relaxed);
    if (!(b.state[sequence] & kReceived)) unreceived_.fetch_add(1, std::memory_order_relaxed);
  }

  // A consumer got this body.
  void received(std::string_view body) {
    auto s = read_body(body);
    if (!s || s->producer >= books_.size()) {
      unexpected_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Book& b = books_[s->producer];
    std::lock_guard lock(b.mutex);
    if (s->sequence >= b.state.size()) {  // never issued
      unexpected_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::uint8_t& state = b.state[s->sequence];
    if (state & kReceived) {
      duplicates_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    state |= kReceived;
    received_.fetch_add(1, std::memory_order_relaxed);
    if (state & kAcked) unreceived_.fetch_sub(1, std::memory_order_relaxed);
  }

  std::uint64_t issued() const { return issued_.load(std::memory_order_relaxed); }
  std::uint64_t sends_acked() const { return sends_acked_.load(std::memory_order_relaxed); }
  std::uint64_t send_failures() const { return send_failures_.load(std::memory_order_relaxed); }
  std::uint64_t received() const { return received_.load(std::memory_order_relaxed); }  // distinct
  std::uint64_t duplicates() const { return duplicates_.load(std::memory_order_relaxed); }
  std::uint64_t unexpected() const { return unexpected_.load(std::memory_order_relaxed); }
  // Acknowledged sends not received (yet): after the drain, the lost ones.
  std::uint64_t unreceived() const { return unreceived_.load(std::memory_order_relaxed); }
  // Issued and not received yet: what the channel holds or is on its way.
  std::uint64_t backlog() const {
    std::uint64_t i = issued(), r = received();
    return i > r ? i - r : 0;
  }

 private:
  static constexpr std::uint8_t kAcked = 1;
  static constexpr std::uint8_t kReceived = 2;

  struct Book {
    std::mutex mutex;
    std::vector<std::uint8_t> state;  // guarded by mutex: kAcked | kReceived per sequence
  };

  std::vector<Book> books_;
  std::atomic<std::uint64_t> issued_{0}, sends_acked_{0}, send_failures_{0}, received_{0}, duplicates_{0},
      unexpected_{0}, unreceived_{0};
};

}  // namespace mqbench
