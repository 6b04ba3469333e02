// SlotIndex: the cache store's key index — open addressing with linear probing over
// (hash, pointer) pairs, power-of-two sized, at most half full.
//
// Why not std::unordered_map: libstdc++'s buckets point at the node *before* a bucket's first
// node, and a node keeps its cached hash after the element, so a hit costs two or three
// cache misses in nodes before the key is even compared. Here a lookup reads one bucket run
// (hashes compared without touching any entry) and then the one entry whose hash matches.
// Entries are owned by the store; the index only points at them. Erase shifts the run back
// (no tombstones), so lookups never slow down with churn.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace fourinone::cache {

template <class Slot, class KeyOf>
class SlotIndex {
 public:
  explicit SlotIndex(KeyOf key_of = {}) : key_of_(key_of), buckets_(16), mask_(15) {}

  static std::uint64_t hash(std::string_view key) noexcept { return std::hash<std::string_view>{}(key); }

  Slot* find(std::string_view key, std::uint64_t h) const noexcept {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Bucket& b = buckets_[i];
      if (b.slot == nullptr) return nullptr;
      if (b.hash == h && key_of_(*b.slot) == key) return b.slot;
    }
  }

  // Hints for a batch of lookups known in advance: the bucket of hash h (a few lookups
  // ahead), then the entry it points at (once the bucket is likely in cache). Touch nothing
  // but caches; a stale or wrong hint costs nothing but the prefetch.
  void prefetch_bucket(std::uint64_t h) const noexcept { __builtin_prefetch(&buckets_[h & mask_]); }
  void prefetch_slot(std::uint64_t h) const noexcept {
    const Bucket& b = buckets_[h & mask_];
    if (b.slot != nullptr && b.hash == h) __builtin_prefetch(b.slot);
  }

  // REQUIRES: no slot with this key is indexed.
  void insert(Slot* slot, std::uint64_t h) {
    if ((size_ + 1) * 2 > buckets_.size()) grow();
    place(slot, h);
    ++size_;
  }

  // REQUIRES: slot is indexed under hash h.
  void erase(const Slot* slot, std::uint64_t h) noexcept {
    std::size_t i = h & mask_;
    while (buckets_[i].slot != slot) i = (i + 1) & mask_;
    // Backward shift: pull later members of the run into the hole when their home allows.
    for (std::size_t j = (i + 1) & mask_; buckets_[j].slot != nullptr; j = (j + 1) & mask_) {
      const std::size_t home = buckets_[j].hash & mask_;
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      buckets_[i] = buckets_[j];
      i = j;
    }
    buckets_[i] = Bucket{};
    --size_;
  }

  void clear() {
    buckets_.assign(16, Bucket{});
    mask_ = 15;
    size_ = 0;
  }

  std::size_t size() const noexcept { return size_; }

 private:
  struct Bucket {
    std::uint64_t hash = 0;
    Slot* slot = nullptr;
  };

  void place(Slot* slot, std::uint64_t h) noexcept {
    std::size_t i = h & mask_;
    while (buckets_[i].slot != nullptr) i = (i + 1) & mask_;
    buckets_[i] = Bucket{h, slot};
  }

  void grow() {
    std::vector<Bucket> old(buckets_.size() * 2);
    old.swap(buckets_);
    mask_ = buckets_.size() - 1;
    for (const Bucket& b : old) {
      if (b.slot != nullptr) place(b.slot, b.hash);
    }
  }

  KeyOf key_of_;
  std::vector<Bucket> buckets_;
  std::size_t mask_;
  std::size_t size_ = 0;
};

}  // namespace fourinone::cache
