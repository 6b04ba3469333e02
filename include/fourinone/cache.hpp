// The distributed cache, seen from a client (DESIGN §5, cache/README.md).
//
// The cache is made of cache groups (CACHEGROUP rows of config.xml). A group is one primary
// and any number of backups; each key lives in one group, chosen by consistent hashing over
// the layout kept in the park (so adding a group moves only about 1/N of the keys). Every
// write is acknowledged only after each in-sync backup of the key's group has it; when a
// primary dies, one in-sync backup takes over (decided through the park) and clients follow.
//
// Cache semantics: a server bounded by its memory evicts least-recently-used keys, keys may
// carry a time to live, and a group that loses every member loses its keys. Values are bytes.
//
// Thread-safety: a Cache object may be used from many threads at once. Asynchronous
// callbacks run on the client's io thread, one at a time: they must not block and must not
// call the synchronous methods (those fail with bad_request when called from a callback).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"
#include "fourinone/park.hpp"

namespace fourinone {

// Keys: 1..max_key bytes (default 250, as memcached), no control characters or spaces.
// Values: 0..max_value bytes (default 1 MiB, as memcached). Keys of the form "@GROUP:rest"
// are pinned to GROUP (that is what CacheFacade::add makes).
inline constexpr std::size_t kDefaultCacheMaxKey = 250;
inline constexpr std::size_t kDefaultCacheMaxValue = 1u << 20;

struct CacheOptions {
  ParkOptions park;                               // where the layout and the groups are found
  std::string service = "fourinone.cache";        // CACHE/SERVICE: the park domains' prefix
  // Deadline of each call, retries included. from_config makes it at least twice the park's
  // SESSIONTIMEOUT plus 1 s, so a call outlives a primary's failover.
  std::chrono::milliseconds call_timeout{5000};
  std::size_t max_key = kDefaultCacheMaxKey;      // CACHE/MAXKEY
  std::size_t max_value = kDefaultCacheMaxValue;  // CACHE/MAXVALUE
  std::size_t connections_per_server = 1;         // requests are spread over this many sockets
  std::uint32_t try_keys = 100;                   // CACHEFACADE/TRYKEYSNUM: add() attempts

  // The PARK and CACHE rows of the config (login from FOURINONE_USER/FOURINONE_PASSWORD).
  // Errors: config_error naming file, line and element.
  static Result<CacheOptions> from_config(const Config& config);
};

struct CacheItem {
  std::string value;
  std::uint64_t version = 0;   // 1 when created, +1 per write: what compare_and_set compares
  std::int64_t ttl_ms = 0;     // time left to live when read; 0: no TTL
};

struct CacheServerStats {
  std::string server;          // HOST:PORT
  std::string group;
  std::string role;            // "primary", "backup", "syncing", "starting", "unreachable"
  std::uint64_t epoch = 0;     // the group's primary term
  std::uint64_t keys = 0;
  std::uint64_t bytes = 0;     // charged bytes (keys + values + per-entry overhead)
  std::uint64_t max_bytes = 0;
  std::uint64_t evictions = 0; // keys dropped by the memory bound (LRU)
  std::uint64_t expired = 0;   // keys dropped when their TTL passed
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t backups_in_sync = 0;  // on a primary: backups that have every write
  std::uint64_t layout_version = 0;
};

class Cache {
 public:
  using ItemCallback = std::function<void(Result<CacheItem>)>;
  using VersionCallback = std::function<void(Result<std::uint64_t>)>;
  using Loader = std::function<Result<std::string>()>;

  // Reads the layout from the park and connects. Errors: unavailable (no park, or no layout
  // yet: no cache server has ever started), config_error.
  static Result<std::unique_ptr<Cache>> connect(const CacheOptions& options);
  static Result<std::unique_ptr<Cache>> connect(const Config& config);

  virtual ~Cache() = default;

  // Errors common to every call: bad_request (bad key), too_large (value above max_value,
  // or a value the server's memory bound cannot hold), unavailable (the key's group has no
  // reachable primary before the deadline), timeout.

  // The value. Errors: not_found (absent, expired or evicted).
  virtual Result<CacheItem> get(std::string_view key) = 0;
  // Stores the value whatever was there; returns the new version. ttl 0: no TTL.
  virtual Result<std::uint64_t> set(std::string_view key, std::string_view value,
                                    std::chrono::milliseconds ttl = std::chrono::milliseconds(0)) = 0;
  // Stores only if the key is absent. Errors: exists.
  virtual Result<std::uint64_t> add(std::string_view key, std::string_view value,
                                    std::chrono::milliseconds ttl = std::chrono::milliseconds(0)) = 0;
  // Stores only if the key has expected_version. Errors: not_found, bad_version.
  virtual Result<std::uint64_t> compare_and_set(std::string_view key, std::string_view value,
                                                std::uint64_t expected_version,
                                                std::chrono::milliseconds ttl = std::chrono::milliseconds(0)) = 0;
  // Removes the key (only at expected_version when that is not 0); returns what was there.
  // Errors: not_found, bad_version.
  virtual Result<CacheItem> remove(std::string_view key, std::uint64_t expected_version = 0) = 0;

  // One answer per key, in order: the item or nullopt when absent. Keys of several groups
  // are fetched from the groups in parallel.
  virtual Result<std::vector<std::optional<CacheItem>>> multi_get(const std::vector<std::string>& keys) = 0;
  // Sets every pair (all with the same ttl); returns the new versions in order. Not atomic
  // across keys: on an error some pairs may be stored.
  virtual Result<std::vector<std::uint64_t>> multi_set(const std::vector<std::pair<std::string, std::string>>& items,
                                                       std::chrono::milliseconds ttl = std::chrono::milliseconds(0)) = 0;

  // The value of key; on a miss, runs loader once in this process however many threads
  // miss the same key at the same time (single flight), stores its value with ttl (add: a
  // value written meanwhile by another process wins) and returns it. A loader error is
  // returned to every waiting caller and nothing is stored.
  virtual Result<CacheItem> get_or_load(std::string_view key, const Loader& loader,
                                        std::chrono::milliseconds ttl = std::chrono::milliseconds(0)) = 0;

  // Asynchronous forms: return at once; the callback runs on the io thread.
  virtual void async_get(std::string_view key, ItemCallback done) = 0;
  virtual void async_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl,
                         VersionCallback done) = 0;

  // Every registered cache server's figures (unreachable ones say so).
  virtual Result<std::vector<CacheServerStats>> stats() = 0;
  // The group a key belongs to under the layout this client holds.
  virtual std::string group_of(std::string_view key) const = 0;
  // The groups of the layout, in the order they were added.
  virtual std::vector<std::string> groups() const = 0;
  virtual std::uint64_t layout_version() const = 0;
};

// The original Fourinone's CacheFacade: add(name, value) makes a new key, pinned to one
// group, that holds a small map of names to values (a session map); the key stays valid
// after any scale-out, with no clock involved. put/get/remove work on names inside a key.
// Thread-safe when the Cache is. The map lives in one cache entry, updated by
// compare-and-set, so concurrent puts to one key never lose each other's names.
class CacheFacade {
 public:
  // try_keys: attempts of add() (CacheOptions::try_keys, CACHEFACADE/TRYKEYSNUM).
  explicit CacheFacade(Cache& cache, std::uint32_t try_keys = 100) : cache_(cache), try_keys_(try_keys) {}

  // A new key holding {name: value}, on a group chosen at random; a group that refuses
  // (unreachable, full) is tried again with a new key, up to CacheOptions::try_keys times.
  // Errors: the last group's error when every attempt failed (never a key that holds nothing).
  Result<std::string> add(std::string_view name, std::string_view value);
  // Sets name in key's map (creating the key if needed); returns the value stored.
  Result<std::string> put(std::string_view key, std::string_view name, std::string_view value);
  // Errors: not_found (no such key or name).
  Result<std::string> get(std::string_view key, std::string_view name);
  Result<std::map<std::string, std::string>> get(std::string_view key);
  // Removes one name and returns its value; the key goes when its last name does.
  Result<std::string> remove(std::string_view key, std::string_view name);
  // Removes the whole key and returns its map.
  Result<std::map<std::string, std::string>> remove(std::string_view key);

 private:
  Cache& cache_;
  std::uint32_t try_keys_;
};

}  // namespace fourinone
