// PartitionBalancer: N consumers of one group share M partitions (SCENARIOS.md: load
// balancing of consumers, as metaq does it), built only on the public Park API.
//
// How: each consumer is a heartbeat node in "<group>:members". Who should own what is a pure
// function of the live member names (assign_partitions below). A partition is held through a
// heartbeat node named by the partition in "<group>:owners"; creating it fails while another session holds
// it, so two live sessions never own one partition at the same time. On every membership or
// ownership change each consumer releases what is no longer its own (on_revoked first, then
// the node goes) and claims its new partitions (create; retried when the previous owner
// lets go or its session ends).
//
// What is guaranteed:
// - At no moment do two live sessions hold the owner node of one partition; on_assigned is
//   called only after the node is ours, on_revoked before we delete it. When our connection
//   to the park is lost (session suspended) we report all our partitions revoked at the next
//   check, before the park can end our session and hand them to someone else (provided the
//   recheck period is well below the session timeout).
// - After a consumer dies, its partitions are taken over about one session timeout later
//   (when the park ends its session), and the final assignment is assign_partitions of the
//   live members.
// Callbacks run on the balancer's own thread, one at a time (the last on_revoked on the thread
// destroying the balancer); they may call the Park.
// Layout: domains "fourinone.partitions:<group>:members" (node = member id) and
// "fourinone.partitions:<group>:owners" (node = partition number, value = member id).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/park.hpp"

namespace fourinone {

// Pure: member -> its partitions. Members are sorted and deduplicated first, so every consumer
// computes the same answer; partitions 0..partitions-1 are split in contiguous ranges whose
// sizes differ by at most one (the first `partitions % n` members get one more). Every
// partition goes to exactly one member; with no members the map is empty.
std::map<std::string, std::vector<int>> assign_partitions(std::vector<std::string> members, int partitions);

struct PartitionOptions {
  std::string group;
  std::string member_id;  // unique in the group, e.g. host:pid
  int partitions = 0;
  std::function<void(const std::vector<int>&)> on_assigned;  // newly owned
  std::function<void(const std::vector<int>&)> on_revoked;   // no longer owned: stop using them
  // Safety net besides the watches: how often the session state and ownership are checked.
  std::chrono::milliseconds recheck{500};
};

class PartitionBalancer {
 public:
  // Starts the balancing thread; the first assignment arrives through on_assigned.
  // Errors: bad_request (no partitions or no member id), and those of Park::watch.
  static Result<std::unique_ptr<PartitionBalancer>> start(Park& park, PartitionOptions options);
  // Stops: revokes everything held (on_revoked) and removes our nodes.
  ~PartitionBalancer();
  PartitionBalancer(const PartitionBalancer&) = delete;
  PartitionBalancer& operator=(const PartitionBalancer&) = delete;

  // The partitions held now, ascending.
  std::vector<int> owned() const;

  std::string members_domain() const;
  std::string owners_domain() const;

 private:
  PartitionBalancer(Park& park, PartitionOptions options);
  void run();
  void rebalance();
  void revoke(const std::vector<int>& partitions, bool delete_nodes);

  // What wakes the balancing thread. Shared with the watch callbacks, which may still be
  // running while the balancer is destroyed (Watch::cancel does not wait for them).
  struct Wakeup {
    std::mutex mutex;
    std::condition_variable cv;
    bool dirty = true;
    bool stopping = false;
    void poke();
  };

  Park& park_;
  PartitionOptions options_;
  std::shared_ptr<Wakeup> wakeup_ = std::make_shared<Wakeup>();
  mutable std::mutex mutex_;  // owned_
  std::set<int> owned_;
  std::map<int, std::int64_t> owned_versions_;  // only touched by the balancing thread
  std::unique_ptr<Watch> members_watch_;
  std::unique_ptr<Watch> owners_watch_;
  std::thread thread_;
};

}  // namespace fourinone
