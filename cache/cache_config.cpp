#include "cache/cache_config.hpp"

#include "core/config_row.hpp"

#include <set>
#include <string_view>

namespace fourinone::cache {
using RowReader = core::ConfigRow;

Result<CacheSettings> load_cache_settings(const Config& config) {
  CacheSettings s;
  RowReader cache(config, "CACHE");
  if (const std::string* service = cache.text("SERVICE"); service != nullptr && !service->empty()) {
    if (Status ok = check_group_name(*service); !ok.ok()) {
      return cache.bad("SERVICE", "expected letters, digits, '_', '.' or '-' (at most 64)");
    }
    s.service = *service;
  }
  auto memory = cache.number("MAXMEMORY", s.max_memory, 1u << 20, 1ull << 40, true);
  if (!memory.ok()) return memory.status();
  s.max_memory = *memory;
  auto key = cache.number("MAXKEY", s.max_key, 1, 65535, false);
  if (!key.ok()) return key.status();
  s.max_key = *key;
  auto value = cache.number("MAXVALUE", s.max_value, 1, 64u << 20, true);
  if (!value.ok()) return value.status();
  s.max_value = *value;
  if (s.max_value + s.max_key + 1024 > s.max_memory) {
    return cache.bad("MAXVALUE", "must leave room in MAXMEMORY (" + std::to_string(s.max_memory) + " bytes)");
  }
  auto vnodes = cache.number("VNODES", s.vnodes, 1, 4096, false);
  if (!vnodes.ok()) return vnodes.status();
  s.vnodes = static_cast<std::uint32_t>(*vnodes);
  auto threads = cache.number("THREADS", s.threads, 1, 64, false);
  if (!threads.ok()) return threads.status();
  s.threads = static_cast<std::uint32_t>(*threads);
  RowReader facade(config, "CACHEFACADE");
  auto tries = facade.number("TRYKEYSNUM", s.try_keys, 1, 10000, false);
  if (!tries.ok()) return tries.status();
  s.try_keys = static_cast<std::uint32_t>(*tries);

  std::set<std::string> names;
  std::set<ServerAddress> servers;
  for (int row_number = 1;; ++row_number) {
    std::string row = row_number == 1 ? "CACHEGROUP" : "CACHEGROUP#" + std::to_string(row_number);
    if (config.rows.find(row) == config.rows.end()) break;
    RowReader reader(config, row);
    const std::string* text = reader.text("GROUP");
    if (text == nullptr || text->empty()) {  // element text comes trimmed
      return reader.bad("GROUP", "a CACHEGROUP row needs GROUP, e.g. a=localhost:2000,localhost:2001");
    }
    for (const std::string& entry : split_config_list(*text, ';')) {
      if (entry.empty()) continue;
      GroupLayout group;
      std::vector<std::string> named = split_config_list(entry, '=');  // NAME=members, or members
      if (named.size() > 2) return reader.bad("GROUP", "group '" + entry + "' has more than one '='");
      const std::string members = named.back();
      if (named.size() == 2) {
        group.name = named.front();
        if (!check_group_name(group.name).ok()) {
          return reader.bad("GROUP", "group name '" + group.name + "' must be letters, digits, '_', '.' or '-'");
        }
      } else {
        group.name = "g" + std::to_string(s.groups.size() + 1);
      }
      if (!names.insert(group.name).second) return reader.bad("GROUP", "group '" + group.name + "' is named twice");
      for (std::string member : split_config_list(members, ',')) {
        member = split_config_list(member, '@').front();  // the original's "@date" is ignored
        auto address = parse_server_address(member);
        if (!address.ok()) return reader.bad("GROUP", "group '" + group.name + "': " + address.status().message());
        if (!servers.insert(*address).second) {
          return reader.bad("GROUP", "server " + address->to_string() + " is listed twice");
        }
        group.servers.push_back(*address);
      }
      s.groups.push_back(std::move(group));
    }
  }
  // HTTP ports: SERVER=HOST:PORT pairs, each SERVER a cache server of a CACHEGROUP row.
  if (const std::string* text = cache.text("HTTP"); text != nullptr && !text->empty()) {
    for (const std::string& pair : split_config_list(*text, ',')) {
      auto eq = pair.find('=');
      if (eq == std::string::npos) return cache.bad("HTTP", "'" + pair + "' is not SERVER=HOST:PORT");
      auto server = parse_server_address(pair.substr(0, eq));
      auto http = parse_server_address(pair.substr(eq + 1));
      if (!server.ok()) return cache.bad("HTTP", server.status().message());
      if (!http.ok()) return cache.bad("HTTP", http.status().message());
      if (servers.count(*server) == 0) {
        return cache.bad("HTTP", "names " + server->to_string() + ", which no CACHEGROUP row lists");
      }
      if (!s.http.emplace(*server, *http).second) return cache.bad("HTTP", server->to_string() + " is named twice");
    }
  }
  return s;
}

Result<std::string> group_of_server(const CacheSettings& settings, const ServerAddress& self,
                                    const std::string& config_file) {
  for (const auto& group : settings.groups) {
    for (const auto& server : group.servers) {
      if (server == self) return group.name;
    }
  }
  return Status(Errc::config_error, (config_file.empty() ? std::string("(config text)") : config_file) +
                                        ": no CACHEGROUP row lists " + self.to_string());
}

}  // namespace fourinone::cache
