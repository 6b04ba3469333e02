#include "tests/support/cache_cluster.hpp"

#include <signal.h>

namespace fourinone::test {

CacheCluster::CacheCluster(std::vector<std::size_t> groups, std::map<std::string, std::string> cache_extra,
                           std::map<std::string, std::string> park_extra)
    : config_path_(dir_.file("config.xml")),
      park_port_(free_port()),
      cache_extra_(std::move(cache_extra)),
      park_extra_(std::move(park_extra)) {
  for (std::size_t n : groups) {
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < n; ++i) ports.push_back(free_port());
    groups_.push_back(std::move(ports));
  }
  write_config();
}

CacheCluster::~CacheCluster() {
  // Cache servers first, so they can leave the park cleanly; then the park.
  for (auto& [key, process] : servers_) {
    (void)key;
    if (process && process->running()) process->signal(SIGTERM);
  }
  for (auto& [key, process] : servers_) {
    (void)key;
    if (process && process->wait(std::chrono::seconds(5)) == -1) process->signal(SIGKILL);
  }
  servers_.clear();
  if (park_ && park_->running()) {
    park_->signal(SIGTERM);
    park_->wait(std::chrono::seconds(5));
  }
}

std::string CacheCluster::address(std::size_t g, std::size_t i) const {
  return "127.0.0.1:" + std::to_string(groups_.at(g).at(i));
}

void CacheCluster::write_config() {
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PROPSTABLE>\n  <PROPSROW DESC=\"PARK\">\n";
  xml += "    <SERVERS>127.0.0.1:" + std::to_string(park_port_) + "</SERVERS>\n";
  xml += "    <DATADIR>data</DATADIR>\n    <SESSIONTIMEOUT>2000</SESSIONTIMEOUT>\n    <HEARTBEAT>300</HEARTBEAT>\n";
  for (const auto& [k, v] : park_extra_) xml += "    <" + k + ">" + v + "</" + k + ">\n";
  xml += "  </PROPSROW>\n  <PROPSROW DESC=\"CACHE\">\n";
  for (const auto& [k, v] : cache_extra_) xml += "    <" + k + ">" + v + "</" + k + ">\n";
  xml += "  </PROPSROW>\n";
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    // One row per group, as users add them.
    xml += "  <PROPSROW DESC=\"CACHEGROUP\">\n    <GROUP>" + group_name(g) + "=";
    for (std::size_t i = 0; i < groups_[g].size(); ++i) xml += (i ? "," : "") + address(g, i);
    xml += "</GROUP>\n  </PROPSROW>\n";
  }
  xml += "  <PROPSROW DESC=\"LOG\">\n    <LEVELNAME>info</LEVELNAME>\n  </PROPSROW>\n</PROPSTABLE>\n";
  write_file(config_path_, xml);
}

bool CacheCluster::start_park() {
  park_ = std::make_unique<Process>(std::vector<std::string>{FOURINONE_BIN, "park", "--config", config_path_},
                                    dir_.file("park"));
  return wait_until([&] { return port_accepts(park_port_); }, std::chrono::seconds(10));
}

int CacheCluster::stop_park() {
  if (!park_) return -1;
  park_->signal(SIGTERM);
  return park_->wait(std::chrono::seconds(10));
}

bool CacheCluster::start(std::size_t g, std::size_t i) {
  static int starts = 0;
  auto& slot = servers_[{g, i}];
  slot = std::make_unique<Process>(
      std::vector<std::string>{FOURINONE_BIN, "cache", "--config", config_path_, "--server", address(g, i)},
      dir_.file("cache-" + std::to_string(g) + "-" + std::to_string(i) + "-" + std::to_string(++starts)));
  return wait_until([&] { return port_accepts(groups_[g][i]) || !slot->running(); }, std::chrono::seconds(30)) &&
         slot->running();
}

bool CacheCluster::start_all() {
  if (!park_ && !start_park()) return false;
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    for (std::size_t i = 0; i < groups_[g].size(); ++i) {
      if (!start(g, i)) return false;
    }
  }
  return true;
}

void CacheCluster::kill(std::size_t g, std::size_t i) {
  auto it = servers_.find({g, i});
  if (it == servers_.end() || !it->second) return;
  it->second->signal(SIGKILL);
  it->second->wait(std::chrono::seconds(5));
}

int CacheCluster::stop(std::size_t g, std::size_t i) {
  auto it = servers_.find({g, i});
  if (it == servers_.end() || !it->second) return -1;
  it->second->signal(SIGTERM);
  return it->second->wait(std::chrono::seconds(10));
}

std::string CacheCluster::log_of(std::size_t g, std::size_t i) const {
  auto it = servers_.find({g, i});
  return it == servers_.end() || !it->second ? std::string() : it->second->err();
}

std::size_t CacheCluster::add_group(std::size_t servers) {
  std::vector<std::uint16_t> ports;
  for (std::size_t i = 0; i < servers; ++i) ports.push_back(free_port());
  groups_.push_back(std::move(ports));
  write_config();
  return groups_.size() - 1;
}

std::optional<std::size_t> CacheCluster::wait_for_primary(std::size_t g, std::size_t backups,
                                                          std::chrono::milliseconds limit) {
  std::unique_ptr<Cache> cache;
  std::optional<std::size_t> found;
  wait_until(
      [&] {
        if (!cache) {
          auto connected = Cache::connect(options());
          if (!connected.ok()) {
            last_error_ = connected.status().to_string();
            return false;
          }
          cache = std::move(connected.value());
        }
        auto stats = cache->stats();
        if (!stats.ok()) return false;
        for (const auto& s : stats.value()) {
          if (s.group != group_name(g) || s.role != "primary" || s.backups_in_sync < backups) continue;
          for (std::size_t i = 0; i < groups_[g].size(); ++i) {
            if (address(g, i) == s.server) found = i;
          }
        }
        return found.has_value();
      },
      limit);
  return found;
}

CacheOptions CacheCluster::options() const {
  auto config = load_config(config_path_);
  auto options = CacheOptions::from_config(config.value()).value();
  options.park.call_timeout = std::chrono::seconds(5);
  options.call_timeout = std::chrono::seconds(8);
  return options;
}

std::unique_ptr<Cache> CacheCluster::connect() const {
  auto cache = Cache::connect(options());
  return cache.ok() ? std::move(cache.value()) : nullptr;
}

}  // namespace fourinone::test
