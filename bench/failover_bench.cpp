// failover_bench: how long a park group is without a leader when its leader dies.
//
//   failover_bench --config F --pids HOST:PORT=PID,... [--kills N] [--restart 'COMMAND %s']
//
// Runs against a group that bench/group.sh started (it passes the member pids, since a
// client cannot learn them). Under a steady write load (8 clients, one write in flight each),
// it kills the leader with SIGKILL N times (default 10) and measures, each time, the time from
// the kill to the first write acknowledged afterwards. After each kill it runs the restart
// command (%s = the killed member's HOST:PORT; it must print the new pid). Prints the median
// and the worst, and how many acknowledged writes are missing at the end (must be 0).
#include <fourinone/park.hpp>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  std::string config_path = "config.xml";
  int kills = 10;
  std::map<std::string, pid_t> pids;
  std::string restart_command;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--config") config_path = v;
    else if (flag == "--kills") kills = std::stoi(v);
    else if (flag == "--restart") restart_command = v;  // shell command; %s = HOST:PORT
    else if (flag == "--pids") {
      std::size_t at = 0;
      while (at < v.size()) {
        auto end = std::min(v.find(',', at), v.size());
        auto item = v.substr(at, end - at);
        auto eq = item.find('=');
        pids[item.substr(0, eq)] = static_cast<pid_t>(std::stol(item.substr(eq + 1)));
        at = end + 1;
      }
    } else {
      std::cerr << "unknown option " << flag << "\n";
      return 2;
    }
  }
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) return std::cerr << config.status().to_string() << "\n", 1;

  std::atomic<bool> stop{false};
  std::mutex mutex;
  // Every acknowledged write: when it was sent and when its answer came.
  std::vector<std::pair<Clock::time_point, Clock::time_point>> acked;
  std::set<std::string> acknowledged;
  std::vector<std::thread> writers;
  for (int c = 0; c < 8; ++c) {
    writers.emplace_back([&, c] {
      auto park = fourinone::Park::connect(config.value());
      if (!park.ok()) return;
      for (int n = 0; !stop.load(); ++n) {
        std::string name = "w" + std::to_string(c) + "-" + std::to_string(n);
        auto sent = Clock::now();
        auto r = park.value()->create("failover", name, "x");
        if (r.ok() || r.status().code() == fourinone::Errc::exists) {
          std::lock_guard lock(mutex);
          acked.emplace_back(sent, Clock::now());
          acknowledged.insert(name);
        }
      }
    });
  }

  auto leader_of_group = [&]() -> std::string {
    auto park = fourinone::Park::connect(config.value());
    if (!park.ok()) return "";
    auto s = park.value()->status();
    return s.ok() ? s->leader : "";
  };
  std::vector<double> gaps_ms;
  for (int k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(1s);
    std::string leader = leader_of_group();
    if (leader.empty() || !pids.count(leader)) {
      std::cerr << "no leader found (or no pid for '" << leader << "')\n";
      break;
    }
    auto killed_at = Clock::now();
    ::kill(pids[leader], SIGKILL);
    // The first acknowledged write sent after the kill (one sent before may still be
    // answered by the dying leader a moment later: it does not count).
    std::optional<double> gap;
    for (auto deadline = killed_at + 20s; Clock::now() < deadline && !gap; std::this_thread::sleep_for(1ms)) {
      std::lock_guard lock(mutex);
      for (auto it = acked.rbegin(); it != acked.rend() && it->second > killed_at; ++it) {
        if (it->first <= killed_at) continue;
        double ms = std::chrono::duration<double, std::milli>(it->second - killed_at).count();
        if (!gap || ms < *gap) gap = ms;
      }
    }
    if (!gap) {
      std::cerr << "no write was acknowledged within 20 s of killing " << leader << "\n";
      break;
    }
    gaps_ms.push_back(*gap);
    std::cout << "kill " << (k + 1) << ": " << leader << " -> first acknowledged write after " << *gap << " ms"
              << std::endl;
    if (!restart_command.empty()) {
      std::string cmd = restart_command;
      auto at = cmd.find("%s");
      if (at != std::string::npos) cmd.replace(at, 2, leader);
      FILE* out = ::popen(cmd.c_str(), "r");  // prints the new pid
      long pid = 0;
      if (out && std::fscanf(out, "%ld", &pid) == 1) pids[leader] = static_cast<pid_t>(pid);
      if (out) ::pclose(out);
    }
  }
  stop = true;
  for (auto& t : writers) t.join();

  if (static_cast<int>(gaps_ms.size()) != kills) {
    std::cout << "stopped early; acknowledged writes not verified\n";
    return 1;
  }
  auto park = fourinone::Park::connect(config.value());
  std::size_t lost = 0;
  if (park.ok()) {
    for (const auto& name : acknowledged) {
      auto r = park.value()->get("failover", name);
      if (!r.ok()) ++lost;
    }
  }
  if (!gaps_ms.empty()) {
    std::sort(gaps_ms.begin(), gaps_ms.end());
    std::cout << "failover (kill -9 of the leader -> first acknowledged write), " << gaps_ms.size()
              << " kills: median " << gaps_ms[gaps_ms.size() / 2] << " ms, max " << gaps_ms.back() << " ms\n";
  }
  std::cout << "acknowledged writes: " << acknowledged.size() << ", lost: " << lost << "\n";
  return lost == 0 && static_cast<int>(gaps_ms.size()) == kills ? 0 : 1;
}
