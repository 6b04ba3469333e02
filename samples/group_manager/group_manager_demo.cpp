// GroupManagerDemo: group membership with heartbeat nodes.
//
//   group_manager_demo NAME [--config F] [--for SECONDS]
//
// Each member creates the heartbeat node group/NAME and prints the member list whenever it
// changes. Kill a member (even with kill -9): its node goes when its session expires, and
// every other member prints the shorter list. Start it again: everyone sees it come back.
#include <fourinone/park.hpp>

#include <chrono>
#include <cstring>
#include <iostream>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: group_manager_demo NAME [--config F] [--for SECONDS]\n";
    return 2;
  }
  std::string name = argv[1];
  const char* config_path = "config.xml";
  int run_seconds = 3600;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0) config_path = argv[i + 1];
    if (std::strcmp(argv[i], "--for") == 0) run_seconds = std::atoi(argv[i + 1]);
  }
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) return std::cerr << config.status().to_string() << "\n", 1;
  auto park = fourinone::Park::connect(config.value());
  if (!park.ok()) return std::cerr << park.status().to_string() << "\n", 1;
  auto& p = *park.value();

  fourinone::CreateOptions options;
  options.heartbeat = true;
  auto me = p.create("group", name, "alive", options);
  if (!me.ok()) return std::cerr << name << ": " << me.status().to_string() << "\n", 1;

  std::uint64_t seen = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(run_seconds);
  while (std::chrono::steady_clock::now() < until) {
    auto members = p.get_latest_domain("group", seen, 2s);
    if (!members.ok()) return std::cerr << members.status().to_string() << "\n", 1;
    if (p.session_state() == fourinone::SessionState::expired) {
      std::cerr << name << ": my session expired; I am no longer a member\n";
      return 1;
    }
    if (!members.value()) continue;
    seen = members.value()->revision;  // the next call waits for a change after this read
    std::cout << name << " sees:";
    for (const auto& n : members.value()->nodes) std::cout << " " << n.name;
    std::cout << std::endl;
  }
  return 0;
}
