// CacheStore: one cache server's keys, values, versions, TTLs and its memory bound.
//
// DESIGN: a plain class (no threads, no clock reads, no I/O), owned by the cache server's one
// io thread (Redis-style), so it needs no lock. Time comes in as `now_ms` on every call (the
// caller's steady clock in ms), which keeps TTL logic testable with a manual clock.
//
// Memory: every entry is charged key.size() + value.size() + kEntryOverhead bytes. A write
// that would push the total over max_bytes first evicts least-recently-used entries (a get
// or a write makes an entry most recently used); a single entry larger than max_bytes is
// refused with too_large and nothing is evicted for it. Expired entries are dropped lazily on
// access and by sweep_expired(), which callers run periodically with a bounded budget.
//
// Versions: each key has a version that starts at 1 on creation and grows by 1 on every set;
// it is what compare-and-set compares. A backup applies the primary's writes with
// apply_replica(), which stores the primary's version as is, so that the two agree.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/store/slot_index.hpp"
#include "fourinone/error.hpp"

namespace fourinone::cache {

inline constexpr std::size_t kEntryOverhead = 64;  // bytes charged per entry beyond key + value

struct StoredValue {
  std::string value;
  std::uint64_t version = 0;
  std::int64_t expires_ms = 0;  // 0: no TTL; else the now_ms at which it is gone
};

enum class SetMode : std::uint8_t {
  set = 0,      // store whatever was there
  add = 1,      // only if absent (exists otherwise)
  replace = 2,  // only if present (not_found otherwise)
  cas = 3,      // only if present with expected_version (not_found / bad_version otherwise)
};

struct StoreStats {
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;        // charged bytes (see above)
  std::uint64_t max_bytes = 0;
  std::uint64_t evictions = 0;    // entries dropped by the LRU bound since start
  std::uint64_t expired = 0;      // entries dropped because their TTL passed
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
};

class CacheStore {
 public:
  // How a read counts for eviction.
  //  exact:         a read moves the entry to the most-recently-used end (strict LRU).
  //  second_chance: a read only marks the entry; eviction gives a marked entry one more
  //                 round (moves it to the newest end, unmarked) and takes the next one
  //                 (CLOCK, as memcached's active bit). Moving an entry on every read writes
  //                 to its neighbours' nodes, random memory on every hit; marking touches
  //                 only the entry just read.
  // Writes always move the entry to the newest end.
  enum class Recency : std::uint8_t { exact, second_chance };
  explicit CacheStore(std::uint64_t max_bytes, Recency recency = Recency::exact);
  ~CacheStore();
  CacheStore(const CacheStore&) = delete;
  CacheStore& operator=(const CacheStore&) = delete;

  // The value, or nullopt when absent or expired (counts a hit or a miss; a hit makes the
  // entry most recently used).
  std::optional<StoredValue> get(std::string_view key, std::int64_t now_ms);

  // The same as get() without copying the value: the pointer stays valid until the next
  // call that changes the store.
  const StoredValue* peek(std::string_view key, std::int64_t now_ms);

  // Writes per mode. ttl_ms > 0 sets expires_ms = now_ms + ttl_ms; 0 means no TTL.
  // Returns the stored entry (its new version). Errors: exists (add), not_found (replace,
  // cas), bad_version (cas), too_large (entry above max_bytes).
  Result<StoredValue> set(std::string_view key, std::string_view value, SetMode mode,
                          std::uint64_t expected_version, std::int64_t ttl_ms, std::int64_t now_ms);

  // peek() for readers that share the store with each other (under a shared lock held by the
  // caller, while no other call runs): an expired entry is a miss but stays until the next
  // exclusive call drops it. REQUIRES: Recency::second_chance (a read moves nothing).
  const StoredValue* peek_shared(std::string_view key, std::int64_t now_ms) const;

  // set() without copying the stored entry out: returns the new version.
  Result<std::uint64_t> put(std::string_view key, std::string_view value, SetMode mode,
                            std::uint64_t expected_version, std::int64_t ttl_ms, std::int64_t now_ms);

  // Removes; expected_version 0 means any. Returns the removed entry.
  // Errors: not_found, bad_version.
  Result<StoredValue> remove(std::string_view key, std::uint64_t expected_version, std::int64_t now_ms);

  // A backup applying the primary's decision: stores exactly this entry (value, version,
  // expires_ms), evicting as needed; never refuses except too_large.
  Status apply_replica(std::string_view key, const StoredValue& entry);
  // The same from the bytes of a replication request, without building a StoredValue.
  Status apply_replica(std::string_view key, std::string_view value, std::uint64_t version, std::int64_t expires_ms);
  // For a batch of keys known in advance (a replication batch): call prefetch(key, 0) a few
  // keys ahead and prefetch(key, 1) a little later; then the access finds its memory warm.
  void prefetch(std::string_view key, int stage) const noexcept {
    const std::uint64_t h = SlotIndex<Slot, KeyOf>::hash(key);
    if (stage == 0) {
      index_.prefetch_bucket(h);
    } else {
      index_.prefetch_slot(h);
    }
  }

  // A backup applying the primary's remove (absent is fine).
  void apply_replica_remove(std::string_view key);

  // Drops expired entries, looking at no more than `budget` entries; returns how many went.
  std::size_t sweep_expired(std::int64_t now_ms, std::size_t budget);

  // Visits every stored entry (for a backup's full sync and for purging moved keys), least
  // recently used first, so a backup that apply_replica()s them in this order ends with the
  // same LRU order. With no now_ms here, entries whose TTL has passed but that no access or
  // sweep has dropped yet are visited too: check expires_ms. The visitor must not modify the
  // store.
  void for_each(const std::function<void(const std::string& key, const StoredValue& entry)>& visit) const;
  // Removes every entry whose key `drop` says to drop; returns how many.
  std::size_t remove_if(const std::function<bool(const std::string& key)>& drop);
  void clear();

  StoreStats stats() const;
  std::size_t size() const noexcept { return index_.size(); }
  std::uint64_t max_bytes() const noexcept { return max_bytes_; }

 private:
  struct Entry;
  using Slot = std::pair<const std::string, Entry>;  // one allocation per key, never moved
  // The LRU list is intrusive: its links live in the slots, whose addresses are stable, so an
  // entry costs one allocation and a move to the front is O(1).
  struct Entry {
    StoredValue stored;
    Slot* newer = nullptr;  // toward newest_ (more recently used)
    Slot* older = nullptr;  // toward oldest_ (the next to evict)
    // Read since it last moved (Recency::second_chance). Atomic: readers sharing the store
    // (peek_shared) may set it at once.
    std::atomic<bool> referenced{false};
    std::uint64_t hash = 0;   // SlotIndex::hash(key), kept for erase
  };
  struct KeyOf {
    std::string_view operator()(const Slot& slot) const noexcept { return slot.first; }
  };

  Slot* find_slot(std::string_view key) const;
  // An existing entry's new value (newest end, room made by evicting others).
  void overwrite(Slot* slot, std::string_view value, std::uint64_t version, std::int64_t expires_ms);
  // Removes the entry and hands back its value.
  StoredValue take(Slot* slot);
  // A new entry at the newest end, after evicting what its charge needs. REQUIRES: key absent.
  Slot* insert_new(std::string_view key, std::string_view value, std::uint64_t version, std::int64_t expires_ms);
  void link_newest(Slot* slot);
  void unlink(Slot* slot);
  void touch(Slot* slot);
  // A read's touch, per recency_.
  void touch_read(Slot* slot);
  Result<Slot*> write(std::string_view key, std::string_view value, SetMode mode, std::uint64_t expected_version,
                      std::int64_t ttl_ms, std::int64_t now_ms);
  void erase(Slot* slot);
  // Evicts least-recently-used entries other than `keep` until bytes_ - outgoing + incoming
  // fits in max_bytes_. REQUIRES: incoming <= max_bytes_; `keep` (if any) is charged outgoing.
  void make_room(std::uint64_t incoming, std::uint64_t outgoing, const Slot* keep);

  SlotIndex<Slot, KeyOf> index_;
  Slot* newest_ = nullptr;
  Slot* oldest_ = nullptr;
  Slot* sweep_cursor_ = nullptr;  // where sweep_expired() goes on; null: at newest_
  std::uint64_t max_bytes_;
  Recency recency_;
  std::uint64_t bytes_ = 0;  // charged bytes of every stored entry, expired or not
  std::uint64_t evictions_ = 0;
  std::uint64_t expired_ = 0;
  mutable std::atomic<std::uint64_t> hits_{0};  // atomic: counted by peek_shared readers too
  mutable std::atomic<std::uint64_t> misses_{0};
};

}  // namespace fourinone::cache
