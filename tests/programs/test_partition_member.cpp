// One consumer of a partition group, for the partition balancing tests:
// `fourinone_test_partition_member PORT[,PORT...] GROUP MEMBER_ID PARTITIONS`.
// Prints its view after every change, with the system-wide monotonic clock so the test can
// line up the views of several processes:
//   assigned MS P,P,...   (newly owned)     revoked MS P,P,...   (given up)
// Runs until killed; SIGTERM stops it cleanly (revoking everything), SIGKILL is the crash.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>

#include "fourinone/park.hpp"
#include "fourinone/partitions.hpp"

namespace {

std::atomic<bool> g_stop{false};

void on_term(int) { g_stop = true; }

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void print(const char* what, const std::vector<int>& partitions) {
  std::string list;
  for (int p : partitions) list += (list.empty() ? "" : ",") + std::to_string(p);
  std::printf("%s %lld %s\n", what, now_ms(), list.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s PORT[,PORT...] GROUP MEMBER_ID PARTITIONS\n", argv[0]);
    return 2;
  }
  std::signal(SIGTERM, on_term);
  fourinone::ParkOptions options;
  std::stringstream ports(argv[1]);
  for (std::string port; std::getline(ports, port, ',');) {
    options.servers.push_back(fourinone::ServerAddress{"127.0.0.1", static_cast<std::uint16_t>(std::atoi(port.c_str()))});
  }
  options.session_timeout = std::chrono::milliseconds(2000);
  options.heartbeat = std::chrono::milliseconds(300);
  options.call_timeout = std::chrono::milliseconds(3000);
  auto park = fourinone::Park::connect(options);
  if (!park.ok()) {
    std::fprintf(stderr, "%s\n", park.status().to_string().c_str());
    return 1;
  }
  fourinone::PartitionOptions p;
  p.group = argv[2];
  p.member_id = argv[3];
  p.partitions = std::atoi(argv[4]);
  p.on_assigned = [](const std::vector<int>& got) { print("assigned", got); };
  p.on_revoked = [](const std::vector<int>& lost) { print("revoked", lost); };
  auto balancer = fourinone::PartitionBalancer::start(**park, p);
  if (!balancer.ok()) {
    std::fprintf(stderr, "%s\n", balancer.status().to_string().c_str());
    return 1;
  }
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  balancer->reset();
  return 0;
}
