// File servers for integration tests: one `fourinone park` and N `fourinone fttp` processes
// on free loopback ports. Server i has its own config file (the same PARK row) exposing
// data=DIR/s<i>/data and ro=DIR/s<i>/ro (read-only), so a copy between servers crosses
// folders that the test can look into directly.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fourinone/fileops.hpp"
#include "tests/support/process.hpp"

namespace fourinone::test {

class FttpCluster {
 public:
  struct Settings {
    std::size_t servers = 2;
    std::string chunk = "64K";      // small, so a few hundred KiB make many blocks
    std::string users;              // PARK/USERS (core::format_user_entry entries), "" = no login
    std::string fsize_limit_kib;    // non-empty: server 0 runs under `ulimit -f` (a full disk)
  };
  explicit FttpCluster(Settings settings);
  FttpCluster() : FttpCluster(Settings{}) {}
  ~FttpCluster();

  bool start_park();
  bool start(std::size_t i);  // true once it accepts connections
  bool start_all();           // the park, then every server
  int stop(std::size_t i);    // SIGTERM; the exit code

  std::string address(std::size_t i) const { return "127.0.0.1:" + std::to_string(ports_.at(i)); }
  const std::string& config(std::size_t i) const { return configs_.at(i); }
  std::string folder(std::size_t i, const std::string& root) const;
  FttpUrl url(std::size_t i, const std::string& root, const std::string& path) const;
  std::string log_of(std::size_t i) const;
  // Client options: the cluster's chunk, 3 connections with 2 requests in flight each.
  FttpOptions options() const;
  std::unique_ptr<Fttp> connect() const;
  ParkOptions park_options() const;
  const TempDir& dir() const { return dir_; }

 private:
  Settings settings_;
  TempDir dir_;
  std::uint16_t park_port_ = 0;
  std::vector<std::uint16_t> ports_;
  std::vector<std::string> configs_;
  std::unique_ptr<Process> park_;
  std::vector<std::unique_ptr<Process>> servers_;
};

}  // namespace fourinone::test
