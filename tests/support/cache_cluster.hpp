// A cache of real processes for integration tests: one `fourinone park` server and cache
// groups of `fourinone cache` servers on free loopback ports, all from one config.xml that
// can grow (add_group) for scale-out tests.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fourinone/cache.hpp"
#include "tests/support/process.hpp"

namespace fourinone::test {

class CacheCluster {
 public:
  // groups: how many servers each group has ({2} = one group of primary + backup).
  // cache_extra: CACHE row elements (e.g. MAXMEMORY).
  // park_extra: PARK row elements (e.g. USERS).
  explicit CacheCluster(std::vector<std::size_t> groups, std::map<std::string, std::string> cache_extra = {},
                        std::map<std::string, std::string> park_extra = {});
  ~CacheCluster();

  const std::string& config_path() const { return config_path_; }
  const TempDir& dir() const { return dir_; }
  std::size_t group_count() const { return groups_.size(); }
  std::string group_name(std::size_t g) const { return "grp" + std::to_string(g); }
  std::string address(std::size_t g, std::size_t i) const;
  std::size_t group_size(std::size_t g) const { return groups_.at(g).size(); }

  bool start_park();
  int stop_park();  // SIGTERM; the exit code (its data stays, so a restart keeps the records)
  // Starts server i of group g; true once it accepts connections.
  bool start(std::size_t g, std::size_t i);
  bool start_all();
  void kill(std::size_t g, std::size_t i);  // SIGKILL
  int stop(std::size_t g, std::size_t i);   // SIGTERM; the exit code
  std::string log_of(std::size_t g, std::size_t i) const;

  // Appends a group of `servers` servers to config.xml (scale-out); start its servers next.
  std::size_t add_group(std::size_t servers);

  // Index of group g's primary once stats show one primary with `backups` backups in sync.
  std::optional<std::size_t> wait_for_primary(std::size_t g, std::size_t backups,
                                              std::chrono::milliseconds limit = std::chrono::seconds(15));

  // The last error met while waiting (for test messages).
  const std::string& last_error() const { return last_error_; }
  CacheOptions options() const;
  std::unique_ptr<Cache> connect() const;

 private:
  void write_config();

  TempDir dir_;
  std::string config_path_;
  std::uint16_t park_port_ = 0;
  std::map<std::string, std::string> cache_extra_;
  std::map<std::string, std::string> park_extra_;
  std::vector<std::vector<std::uint16_t>> groups_;                 // ports
  std::unique_ptr<Process> park_;
  std::string last_error_;
  std::map<std::pair<std::size_t, std::size_t>, std::unique_ptr<Process>> servers_;
};

}  // namespace fourinone::test
