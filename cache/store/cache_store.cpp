// CacheStore (see cache_store.hpp for the contract).
//
// DESIGN: one unordered_map node per key holds the key, the StoredValue and the links of an
// intrusive LRU list (newest_ .. oldest_). get and set of an existing key allocate nothing
// inside the store: the lookup takes a string_view, the node is reused and the value string
// keeps its capacity. Eviction takes oldest_.
//
// Expiry is lazy: an access that finds an entry past its expires_ms drops it. sweep_expired()
// walks the same LRU list with a cursor, from newest to oldest, then starts again at the
// newest, so a periodic sweep costs no bookkeeping on the hot path. Why a sweep reaches every
// entry: an entry that is expired is never moved (any access drops it), and entries only ever
// join or move to the newest end, that is, behind the cursor. So the entries between the cursor
// and oldest_ only get fewer, each pass ends within (entries at its start) / budget sweeps,
// and an expired entry is dropped at the latest during the pass after it expired.
#include "cache/store/cache_store.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <tuple>
#include <utility>

namespace fourinone::cache {
namespace {

std::uint64_t charge_of(std::size_t key_size, std::size_t value_size) {
  return static_cast<std::uint64_t>(key_size) + value_size + kEntryOverhead;
}

bool is_expired(const StoredValue& v, std::int64_t now_ms) {
  return v.expires_ms != 0 && now_ms >= v.expires_ms;
}

std::int64_t expiry_for(std::int64_t ttl_ms, std::int64_t now_ms) {
  if (ttl_ms <= 0) return 0;
  // Saturate rather than overflow on an absurd TTL: it then never expires in practice.
  if (now_ms > std::numeric_limits<std::int64_t>::max() - ttl_ms) return std::numeric_limits<std::int64_t>::max();
  std::int64_t at = now_ms + ttl_ms;
  return at == 0 ? 1 : at;  // 0 would mean "no TTL"
}

Status too_large(std::size_t key_size, std::size_t value_size, std::uint64_t max_bytes) {
  return Status(Errc::too_large, "entry of " + std::to_string(charge_of(key_size, value_size)) + " bytes (key " +
                                     std::to_string(key_size) + " + value " + std::to_string(value_size) +
                                     " + overhead " + std::to_string(kEntryOverhead) +
                                     ") exceeds the cache's max_bytes " + std::to_string(max_bytes));
}

Status bad_version(std::uint64_t expected, std::uint64_t actual) {
  return Status(Errc::bad_version,
                "expected version " + std::to_string(expected) + " but the key has version " + std::to_string(actual));
}

}  // namespace

CacheStore::CacheStore(std::uint64_t max_bytes, Recency recency) : max_bytes_(max_bytes), recency_(recency) {}

CacheStore::~CacheStore() { clear(); }

std::optional<StoredValue> CacheStore::get(std::string_view key, std::int64_t now_ms) {
  const StoredValue* found = peek(key, now_ms);
  if (found == nullptr) return std::nullopt;
  return *found;
}

const StoredValue* CacheStore::peek(std::string_view key, std::int64_t now_ms) {
  Slot* slot = find_slot(key);
  if (slot != nullptr && is_expired(slot->second.stored, now_ms)) {
    erase(slot);
    ++expired_;
    slot = nullptr;
  }
  if (slot == nullptr) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  touch_read(slot);
  return &slot->second.stored;
}

const StoredValue* CacheStore::peek_shared(std::string_view key, std::int64_t now_ms) const {
  Slot* slot = find_slot(key);
  if (slot == nullptr || is_expired(slot->second.stored, now_ms)) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  slot->second.referenced.store(true, std::memory_order_relaxed);
  return &slot->second.stored;
}

Result<StoredValue> CacheStore::set(std::string_view key, std::string_view value, SetMode mode,
                                    std::uint64_t expected_version, std::int64_t ttl_ms, std::int64_t now_ms) {
  auto slot = write(key, value, mode, expected_version, ttl_ms, now_ms);
  if (!slot.ok()) return slot.status();
  return slot.value()->second.stored;
}

Result<std::uint64_t> CacheStore::put(std::string_view key, std::string_view value, SetMode mode,
                                      std::uint64_t expected_version, std::int64_t ttl_ms, std::int64_t now_ms) {
  auto slot = write(key, value, mode, expected_version, ttl_ms, now_ms);
  if (!slot.ok()) return slot.status();
  return slot.value()->second.stored.version;
}

Result<CacheStore::Slot*> CacheStore::write(std::string_view key, std::string_view value, SetMode mode,
                                            std::uint64_t expected_version, std::int64_t ttl_ms,
                                            std::int64_t now_ms) {
  // First, so that a refused entry leaves the store exactly as it was (not even a lazy expiry).
  const std::uint64_t incoming = charge_of(key.size(), value.size());
  if (incoming > max_bytes_) return too_large(key.size(), value.size(), max_bytes_);

  Slot* slot = find_slot(key);
  bool live = slot != nullptr;
  if (live && is_expired(slot->second.stored, now_ms)) {
    ++expired_;
    live = false;
    // set and add reuse the expired node below; the other modes fail, so drop it now.
    if (mode == SetMode::replace || mode == SetMode::cas) {
      erase(slot);
      slot = nullptr;
    }
  }

  switch (mode) {
    case SetMode::set:
      break;
    case SetMode::add:
      if (live) return Status(Errc::exists, "key exists with version " + std::to_string(slot->second.stored.version));
      break;
    case SetMode::replace:
      if (!live) return Status(Errc::not_found, "no such key");
      break;
    case SetMode::cas:
      if (!live) return Status(Errc::not_found, "no such key");
      if (slot->second.stored.version != expected_version) {
        return bad_version(expected_version, slot->second.stored.version);
      }
      break;
  }

  const std::int64_t expires_ms = expiry_for(ttl_ms, now_ms);
  if (slot != nullptr) {
    // An expired entry's history is gone: it starts again at version 1.
    overwrite(slot, value, live ? slot->second.stored.version + 1 : 1, expires_ms);
    return slot;
  }
  return insert_new(key, value, 1, expires_ms);
}

Result<StoredValue> CacheStore::remove(std::string_view key, std::uint64_t expected_version, std::int64_t now_ms) {
  Slot* slot = find_slot(key);
  if (slot != nullptr && is_expired(slot->second.stored, now_ms)) {
    erase(slot);
    ++expired_;
    slot = nullptr;
  }
  if (slot == nullptr) return Status(Errc::not_found, "no such key");
  if (expected_version != 0 && slot->second.stored.version != expected_version) {
    return bad_version(expected_version, slot->second.stored.version);
  }
  return take(slot);
}

Status CacheStore::apply_replica(std::string_view key, const StoredValue& entry) {
  return apply_replica(key, entry.value, entry.version, entry.expires_ms);
}

Status CacheStore::apply_replica(std::string_view key, std::string_view value, std::uint64_t version,
                                 std::int64_t expires_ms) {
  const std::uint64_t incoming = charge_of(key.size(), value.size());
  if (incoming > max_bytes_) return too_large(key.size(), value.size(), max_bytes_);

  if (Slot* slot = find_slot(key)) {
    overwrite(slot, value, version, expires_ms);
  } else {
    insert_new(key, value, version, expires_ms);
  }
  return Status();
}

void CacheStore::apply_replica_remove(std::string_view key) {
  if (Slot* slot = find_slot(key)) erase(slot);
}

std::size_t CacheStore::sweep_expired(std::int64_t now_ms, std::size_t budget) {
  // At most one look per entry present at the start, so no entry is looked at twice per call.
  const std::size_t looks = std::min(budget, index_.size());
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < looks; ++i) {
    if (sweep_cursor_ == nullptr) sweep_cursor_ = newest_;  // wrap around
    Slot* slot = sweep_cursor_;
    if (slot == nullptr) break;
    sweep_cursor_ = slot->second.older;
    if (is_expired(slot->second.stored, now_ms)) {
      erase(slot);
      ++expired_;
      ++dropped;
    }
  }
  return dropped;
}

void CacheStore::for_each(const std::function<void(const std::string& key, const StoredValue& entry)>& visit) const {
  // Oldest first: a backup that apply_replica()s in this order ends with the same LRU order.
  for (const Slot* slot = oldest_; slot != nullptr; slot = slot->second.newer) visit(slot->first, slot->second.stored);
}

std::size_t CacheStore::remove_if(const std::function<bool(const std::string& key)>& drop) {
  std::size_t removed = 0;
  for (Slot* slot = oldest_; slot != nullptr;) {
    Slot* next = slot->second.newer;
    if (drop(slot->first)) {
      erase(slot);
      ++removed;
    }
    slot = next;
  }
  return removed;
}

void CacheStore::clear() {
  // The counters (evictions, expired, hits, misses) count since start, so they stay.
  for (Slot* slot = oldest_; slot != nullptr;) {
    Slot* next = slot->second.newer;
    delete slot;
    slot = next;
  }
  index_.clear();
  newest_ = oldest_ = sweep_cursor_ = nullptr;
  bytes_ = 0;
}

StoreStats CacheStore::stats() const {
  StoreStats s;
  s.keys = index_.size();
  s.bytes = bytes_;
  s.max_bytes = max_bytes_;
  s.evictions = evictions_;
  s.expired = expired_;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  return s;
}

// --- private ---------------------------------------------------------------------------------

CacheStore::Slot* CacheStore::find_slot(std::string_view key) const {
  return index_.find(key, SlotIndex<Slot, KeyOf>::hash(key));
}

CacheStore::Slot* CacheStore::insert_new(std::string_view key, std::string_view value, std::uint64_t version,
                                         std::int64_t expires_ms) {
  const std::uint64_t incoming = charge_of(key.size(), value.size());
  make_room(incoming, 0, nullptr);
  Slot* fresh = new Slot(std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple());
  fresh->second.stored.value.assign(value.data(), value.size());
  fresh->second.stored.version = version;
  fresh->second.stored.expires_ms = expires_ms;
  fresh->second.hash = SlotIndex<Slot, KeyOf>::hash(key);
  index_.insert(fresh, fresh->second.hash);
  link_newest(fresh);
  bytes_ += incoming;
  return fresh;
}

void CacheStore::link_newest(Slot* slot) {
  Entry& e = slot->second;
  e.newer = nullptr;
  e.older = newest_;
  if (newest_ != nullptr) newest_->second.newer = slot;
  newest_ = slot;
  if (oldest_ == nullptr) oldest_ = slot;
}

void CacheStore::unlink(Slot* slot) {
  Entry& e = slot->second;
  // The cursor must not follow the entry to the newest end, or a pass could restart early.
  if (sweep_cursor_ == slot) sweep_cursor_ = e.older;
  (e.newer != nullptr ? e.newer->second.older : newest_) = e.older;
  (e.older != nullptr ? e.older->second.newer : oldest_) = e.newer;
  e.newer = e.older = nullptr;
}

void CacheStore::touch_read(Slot* slot) {
  if (recency_ == Recency::second_chance) {
    slot->second.referenced.store(true, std::memory_order_relaxed);
    return;
  }
  touch(slot);
}

void CacheStore::touch(Slot* slot) {
  slot->second.referenced.store(false, std::memory_order_relaxed);
  if (slot == newest_) return;
  unlink(slot);
  link_newest(slot);
}

void CacheStore::erase(Slot* slot) { (void)take(slot); }

StoredValue CacheStore::take(Slot* slot) {
  unlink(slot);
  bytes_ -= charge_of(slot->first.size(), slot->second.stored.value.size());
  index_.erase(slot, slot->second.hash);
  StoredValue removed = std::move(slot->second.stored);  // moved out, not copied
  delete slot;
  return removed;
}

void CacheStore::overwrite(Slot* slot, std::string_view value, std::uint64_t version, std::int64_t expires_ms) {
  StoredValue& stored = slot->second.stored;
  touch(slot);
  make_room(charge_of(slot->first.size(), value.size()), charge_of(slot->first.size(), stored.value.size()), slot);
  bytes_ = bytes_ - stored.value.size() + value.size();
  stored.value.assign(value.data(), value.size());  // keeps the string's capacity
  stored.version = version;
  stored.expires_ms = expires_ms;
}

void CacheStore::make_room(std::uint64_t incoming, std::uint64_t outgoing, const Slot* keep) {
  while (bytes_ + incoming > max_bytes_ + outgoing) {
    Slot* victim = oldest_;
    if (victim == keep) victim = victim->second.newer;
    if (victim == nullptr) {  // unreachable while `keep` alone fits (incoming <= max_bytes_)
      std::fprintf(stderr, "CacheStore: nothing left to evict: %llu bytes held, %llu incoming, max %llu\n",
                   static_cast<unsigned long long>(bytes_), static_cast<unsigned long long>(incoming),
                   static_cast<unsigned long long>(max_bytes_));
      std::abort();
    }
    if (victim->second.referenced.load(std::memory_order_relaxed)) {
      // Read since it last moved: one more round at the newest end. Each entry is spared
      // at most once per pass, so this ends.
      victim->second.referenced.store(false, std::memory_order_relaxed);
      touch(victim);
      continue;
    }
    erase(victim);
    ++evictions_;
  }
}

}  // namespace fourinone::cache
