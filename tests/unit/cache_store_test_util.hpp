// Helpers shared by the CacheStore tests (cache_store_test.cpp, cache_store_model_test.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "cache/store/cache_store.hpp"

namespace cache_store_test {

using fourinone::errc_name;
using fourinone::Result;
using fourinone::cache::CacheStore;
using fourinone::cache::kEntryOverhead;
using fourinone::cache::SetMode;
using fourinone::cache::StoredValue;
using fourinone::cache::StoreStats;


inline constexpr std::int64_t kT0 = 1'000'000;  // an arbitrary steady-clock "now" in ms
inline constexpr std::uint64_t kBig = std::uint64_t{1} << 30;

inline std::uint64_t cs_charge(const std::string& key, const std::string& value) {
  return key.size() + value.size() + kEntryOverhead;
}

inline std::string cs_show(const StoredValue& v) {
  return "{'" + v.value + "' v" + std::to_string(v.version) + " exp " + std::to_string(v.expires_ms) + "}";
}

inline std::string cs_show(const std::optional<StoredValue>& v) { return v ? cs_show(*v) : std::string("absent"); }

inline std::string cs_show(const Result<StoredValue>& r) {
  return r.ok() ? cs_show(*r) : std::string(errc_name(r.status().code()));
}

inline bool cs_contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline Result<StoredValue> cs_set(CacheStore& s, const std::string& key, const std::string& value,
                           std::int64_t now = kT0, std::int64_t ttl = 0) {
  return s.set(key, value, SetMode::set, 0, ttl, now);
}

inline std::map<std::string, std::string> cs_contents(const CacheStore& s) {
  std::map<std::string, std::string> out;
  s.for_each([&](const std::string& k, const StoredValue& v) { out.emplace(k, cs_show(v)); });
  return out;
}

inline std::set<std::string> cs_keys(const CacheStore& s) {
  std::set<std::string> out;
  s.for_each([&](const std::string& k, const StoredValue&) { out.insert(k); });
  return out;
}

inline std::string cs_show(const StoreStats& st) {
  return "keys " + std::to_string(st.keys) + " bytes " + std::to_string(st.bytes) + " evictions " +
         std::to_string(st.evictions) + " expired " + std::to_string(st.expired) + " hits " +
         std::to_string(st.hits) + " misses " + std::to_string(st.misses);
}

// Entries of one size, so that max_bytes = n * kSlot holds exactly n of them.
inline const std::string kTen = "0123456789";
inline constexpr std::uint64_t kSlot = 1 + 10 + kEntryOverhead;


}  // namespace cache_store_test
