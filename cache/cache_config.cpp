#include "cache/cache_config.hpp"

#include <charconv>
#include <set>
#include <string_view>

namespace fourinone::cache {
namespace {

class RowReader {
 public:
  RowReader(const Config& config, std::string row) : config_(config), row_(std::move(row)) {
    auto it = config.rows.find(row_);
    if (it != config.rows.end()) elements_ = &it->second;
  }
  const std::string* text(const std::string& name) const {
    if (elements_ == nullptr) return nullptr;
    auto it = elements_->find(name);
    return it == elements_->end() ? nullptr : &it->second;
  }
  Status bad(const std::string& name, const std::string& why) const {
    const std::string* line = text(name + "@LINE");
    const std::string* value = text(name);
    const std::string file = config_.file.empty() ? std::string("(config text)") : config_.file;
    return Status(Errc::config_error, file + ":" + (line ? *line : std::string("?")) + ": " + name + " in row " +
                                          row_ + ": " + why + ", got '" + (value ? *value : std::string()) + "'");
  }
  Result<std::uint64_t> number(const std::string& name, std::uint64_t fallback, std::uint64_t low,
                               std::uint64_t high, bool sizes) const {
    const std::string* t = text(name);
    if (t == nullptr) return fallback;
    std::optional<std::uint64_t> v;
    if (sizes) {
      v = parse_config_bytes(*t);
    } else {
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
      if (!t->empty() && ec == std::errc() && end == t->data() + t->size()) v = n;
    }
    if (!v || *v < low || *v > high) {
      return bad(name, "expected " + std::string(sizes ? "a size (K, M, G allowed) " : "a whole number ") + "from " +
                           std::to_string(low) + " to " + std::to_string(high));
    }
    return *v;
  }

 private:
  const Config& config_;
  std::string row_;
  const std::map<std::string, std::string>* elements_ = nullptr;
};

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t at = text.find(sep, start);
    parts.push_back(trim(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start)));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

}  // namespace

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
    if (text == nullptr || trim(*text).empty()) {
      return reader.bad("GROUP", "a CACHEGROUP row needs GROUP, e.g. a=localhost:2000,localhost:2001");
    }
    for (const std::string& entry : split(*text, ';')) {
      if (entry.empty()) continue;
      GroupLayout group;
      std::string members = entry;
      if (auto eq = entry.find('='); eq != std::string::npos) {
        group.name = trim(std::string_view(entry).substr(0, eq));
        members = entry.substr(eq + 1);
        if (!check_group_name(group.name).ok()) {
          return reader.bad("GROUP", "group name '" + group.name + "' must be letters, digits, '_', '.' or '-'");
        }
      } else {
        group.name = "g" + std::to_string(s.groups.size() + 1);
      }
      if (!names.insert(group.name).second) return reader.bad("GROUP", "group '" + group.name + "' is named twice");
      for (std::string member : split(members, ',')) {
        if (auto at = member.find('@'); at != std::string::npos) member = trim(member.substr(0, at));  // original's date
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
