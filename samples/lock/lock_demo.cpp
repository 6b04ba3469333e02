// LockDemo: a fair distributed lock, taken in the order the contenders arrived.
//
//   lock_demo NAME [--hold SECONDS] [--config F]
//
// Each contender creates a sequential heartbeat node in domain "lock". The lowest node holds
// the lock; every other contender waits only for the node just before its own (no thundering
// herd) and re-checks when it goes. A holder that dies loses its node when its session
// expires, so a crash never blocks the others. The holder's node create revision is a
// fencing token: a resource guarded by the lock should refuse writes with an older token.
#include <fourinone/park.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: lock_demo NAME [--hold SECONDS] [--config F]\n";
    return 2;
  }
  std::string name = argv[1];
  const char* config_path = "config.xml";
  int hold_seconds = 8;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0) config_path = argv[i + 1];
    if (std::strcmp(argv[i], "--hold") == 0) hold_seconds = std::atoi(argv[i + 1]);
  }
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) return std::cerr << config.status().to_string() << "\n", 1;
  auto park = fourinone::Park::connect(config.value());
  if (!park.ok()) return std::cerr << park.status().to_string() << "\n", 1;
  auto& p = *park.value();

  fourinone::CreateOptions options;
  options.heartbeat = true;
  auto mine = p.create_sequential("lock", name, options);
  if (!mine.ok()) return std::cerr << mine.status().to_string() << "\n", 1;
  std::cout << name << ": waiting (ticket " << mine->name << ")" << std::endl;

  for (;;) {
    auto nodes = p.list("lock");
    if (!nodes.ok()) return std::cerr << nodes.status().to_string() << "\n", 1;
    auto it = std::find_if(nodes->begin(), nodes->end(), [&](const auto& n) { return n.name == mine->name; });
    if (it == nodes->end()) return std::cerr << name << ": my ticket vanished (session expired?)\n", 1;
    if (it == nodes->begin()) break;  // lowest ticket: the lock is mine
    // Wait until the predecessor's node is deleted (get_latest answers nothing for a missing
    // node, so check for existence after each wait).
    std::string predecessor = std::prev(it)->name;
    auto version = std::prev(it)->version;
    for (;;) {
      auto latest = p.get_latest("lock", predecessor, version, 2s);
      if (!latest.ok()) return std::cerr << latest.status().to_string() << "\n", 1;
      auto still = p.get("lock", predecessor);
      if (!still.ok()) break;  // gone: re-check our place
    }
  }
  std::cout << name << ": got the lock (fencing token " << mine->create_revision << ")" << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(hold_seconds));
  auto released = p.remove("lock", mine->name);
  if (!released.ok()) return std::cerr << released.status().to_string() << "\n", 1;
  std::cout << name << ": released the lock" << std::endl;
  return 0;
}
