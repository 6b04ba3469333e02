// CacheFacade: the original's add/put/get/remove of names under generated keys, on top of
// Cache. Each key holds one map (cereal-encoded) changed only by compare-and-set, so two
// clients putting different names into one key both keep theirs.
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <random>

#include "cache/routing/layout.hpp"
#include "core/wire_archive.hpp"
#include "fourinone/cache.hpp"

namespace fourinone {
namespace {

using NameMap = std::map<std::string, std::string>;

Result<NameMap> decode_map(const std::string& bytes) {
  NameMap map;
  if (Status s = core::decode(bytes, map, "facade entry"); !s.ok()) {
    return Status(Errc::bad_request, "the key does not hold a facade map (was it written with Cache::set?)");
  }
  return map;
}

std::string random_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789ABCDEF";
  std::uint64_t a = rng(), b = rng();
  std::string id;
  for (int i = 0; i < 16; ++i) id.push_back(kHex[(a >> (4 * i)) & 15]);
  for (int i = 0; i < 8; ++i) id.push_back(kHex[(b >> (4 * i)) & 15]);
  return id;
}

constexpr int kCasAttempts = 100;

}  // namespace

Result<std::string> CacheFacade::add(std::string_view name, std::string_view value) {
  auto groups = cache_.groups();
  if (groups.empty()) return Status(Errc::unavailable, "the cache layout has no groups");
  thread_local std::mt19937 rng{std::random_device{}()};
  const std::string bytes = core::encode(NameMap{{std::string(name), std::string(value)}});
  Status last(Errc::unavailable, "no attempt made");
  for (std::uint32_t attempt = 0; attempt < std::max<std::uint32_t>(1, try_keys_); ++attempt) {
    const std::string& group = groups[rng() % groups.size()];
    std::string key = cache::make_pinned_key(group, random_id());
    auto stored = cache_.add(key, bytes);
    if (stored.ok()) return key;
    last = stored.status();
    // A refused group (down, full) or a key collision: try a new key, likely elsewhere.
    // Input errors will not get better with another key.
    if (last.code() == Errc::bad_request || last.code() == Errc::too_large) return last;
  }
  return last;
}

Result<std::string> CacheFacade::put(std::string_view key, std::string_view name, std::string_view value) {
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    auto current = cache_.get(key);
    if (!current.ok() && current.status().code() != Errc::not_found) return current.status();
    NameMap map;
    if (current.ok()) {
      auto decoded = decode_map(current->value);
      if (!decoded.ok()) return decoded.status();
      map = std::move(decoded.value());
    }
    map[std::string(name)] = std::string(value);
    const std::string bytes = core::encode(map);
    auto stored = current.ok() ? cache_.compare_and_set(key, bytes, current->version) : cache_.add(key, bytes);
    if (stored.ok()) return std::string(value);
    const Errc code = stored.status().code();
    if (code != Errc::bad_version && code != Errc::exists && code != Errc::not_found) return stored.status();
  }
  return Status(Errc::timeout, "too many concurrent changes of this key");
}

Result<std::string> CacheFacade::get(std::string_view key, std::string_view name) {
  auto map = get(key);
  if (!map.ok()) return map.status();
  auto it = map->find(std::string(name));
  if (it == map->end()) return Status(Errc::not_found, "no name '" + std::string(name) + "' under this key");
  return it->second;
}

Result<std::map<std::string, std::string>> CacheFacade::get(std::string_view key) {
  auto current = cache_.get(key);
  if (!current.ok()) return current.status();
  return decode_map(current->value);
}

Result<std::string> CacheFacade::remove(std::string_view key, std::string_view name) {
  for (int attempt = 0; attempt < kCasAttempts; ++attempt) {
    auto current = cache_.get(key);
    if (!current.ok()) return current.status();
    auto map = decode_map(current->value);
    if (!map.ok()) return map.status();
    auto it = map->find(std::string(name));
    if (it == map->end()) return Status(Errc::not_found, "no name '" + std::string(name) + "' under this key");
    std::string removed = it->second;
    map->erase(it);
    Status s;
    if (map->empty()) {
      auto r = cache_.remove(key, current->version);
      s = r.status();
    } else {
      auto r = cache_.compare_and_set(key, core::encode(map.value()), current->version);
      s = r.status();
    }
    if (s.ok()) return removed;
    if (s.code() != Errc::bad_version && s.code() != Errc::not_found) return s;
  }
  return Status(Errc::timeout, "too many concurrent changes of this key");
}

Result<std::map<std::string, std::string>> CacheFacade::remove(std::string_view key) {
  auto removed = cache_.remove(key);
  if (!removed.ok()) return removed.status();
  return decode_map(removed->value);
}

}  // namespace fourinone
