// A steady client load for fault tests: reads, writes and compare-and-sets on a few keys of
// domain "lin" recorded for the linearizability checker, plus creates of unique nodes in
// domain "acked" whose acknowledgement is remembered (none of them may ever be lost).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/park.hpp"
#include "tests/support/linearizability.hpp"

namespace fourinone::test {

class RegisterLoad {
 public:
  static constexpr int kKeys = 4;
  static std::string key(int k) { return "k" + std::to_string(k); }

  // Creates the keys (through `setup`) and records their initial values.
  explicit RegisterLoad(Park& setup);
  ~RegisterLoad();

  // Starts a client thread with its own connection made from `options`.
  void add_client(const ParkOptions& options);
  void stop();  // joins every client

  std::uint64_t acked_creates() const { return acked_.load(); }
  std::set<std::string> acknowledged() const;
  std::vector<lin::Operation> history() const { return history_.history(); }
  // Acknowledged unique nodes missing from `present` (names of domain "acked").
  std::size_t lost(const std::vector<Node>& present) const;
  // What a fault test checks at its end: stops the load, then CHECKs that no acknowledged
  // create is missing from `park`'s domain "acked" and that the history is linearizable
  // (`budget` per key), with the counts as MESSAGEs.
  void stop_and_check(Park& park, std::chrono::milliseconds budget = std::chrono::seconds(20));

 private:
  void run(ParkOptions options, int client);

  lin::HistoryRecorder history_;
  mutable std::mutex mutex_;
  std::set<std::string> acknowledged_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> acked_{0};
  std::vector<std::thread> clients_;
};

}  // namespace fourinone::test
