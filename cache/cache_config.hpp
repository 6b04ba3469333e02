// The cache's rows of config.xml: CACHE (settings) and CACHEGROUP (the groups).
//
//   <PROPSROW DESC="CACHE">
//     <SERVICE>fourinone.cache</SERVICE>   park domain prefix (default fourinone.cache)
//     <MAXMEMORY>256M</MAXMEMORY>           bytes each server may hold before LRU eviction
//     <MAXKEY>250</MAXKEY> <MAXVALUE>1M</MAXVALUE> <VNODES>160</VNODES> <THREADS>1</THREADS>
//   </PROPSROW>
//   <PROPSROW DESC="CACHEGROUP">
//     <GROUP>a=localhost:2000,localhost:2001;b=localhost:2002,localhost:2003</GROUP>
//   </PROPSROW>
//
// GROUP keeps the original's shape (groups separated by ';', servers by ','; the first
// server is the preferred primary). "NAME=" is ours and optional: a group without one is
// named gN by its position over all CACHEGROUP rows (g1, g2, ...), so keep the order when
// you add groups at the end. The original's "@date" suffix and STARTTIME are accepted and
// ignored: placement is consistent hashing, not dates.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cache/routing/layout.hpp"
#include "fourinone/config.hpp"
#include "fourinone/error.hpp"

namespace fourinone::cache {

struct CacheSettings {
  std::string service = "fourinone.cache";
  std::uint64_t max_memory = 256ull << 20;
  std::size_t max_key = 250;
  std::size_t max_value = 1u << 20;
  std::uint32_t vnodes = kDefaultVnodes;
  std::uint32_t threads = 1;           // io threads of a cache server (CACHE/THREADS)
  std::uint32_t try_keys = 100;        // CACHEFACADE/TRYKEYSNUM
  std::vector<GroupLayout> groups;     // config order
  // CACHE/HTTP: SERVER=HOST:PORT pairs, where each cache server serves its status page and
  // /metrics (fourinone cache --http overrides).
  std::map<ServerAddress, ServerAddress> http;
};

// Errors: config_error "FILE:LINE: ELEMENT in row ROW: why, got 'text'".
Result<CacheSettings> load_cache_settings(const Config& config);

// The group this server belongs to; config_error when no CACHEGROUP lists it.
Result<std::string> group_of_server(const CacheSettings& settings, const ServerAddress& self,
                                    const std::string& config_file);

}  // namespace fourinone::cache
