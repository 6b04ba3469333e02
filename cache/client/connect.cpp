// Cache::connect and CacheOptions::from_config: the public entry points of the cache client.
#include <algorithm>

#include "cache/cache_config.hpp"
#include "cache/client/cache_client.hpp"

namespace fourinone {

Result<CacheOptions> CacheOptions::from_config(const Config& config) {
  auto settings = cache::load_cache_settings(config);
  if (!settings.ok()) return settings.status();
  CacheOptions o;
  o.park = ParkOptions::from_config(config);
  o.service = settings->service;
  o.max_key = settings->max_key;
  o.max_value = settings->max_value;
  o.try_keys = settings->try_keys;
  // A call must outlive a failover: the backup takes over once the dead primary's session
  // expires, so give each call that long and as much again.
  o.call_timeout = std::max(o.call_timeout, 2 * config.park.session_timeout + std::chrono::seconds(1));
  return o;
}

Result<std::unique_ptr<Cache>> Cache::connect(const CacheOptions& options) {
  auto client = std::make_unique<cache::CacheClient>(options);
  if (Status s = client->start(); !s.ok()) return s;
  return std::unique_ptr<Cache>(std::move(client));
}

Result<std::unique_ptr<Cache>> Cache::connect(const Config& config) {
  auto options = CacheOptions::from_config(config);
  if (!options.ok()) return options.status();
  return connect(options.value());
}

}  // namespace fourinone
