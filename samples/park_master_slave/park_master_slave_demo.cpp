// ParkMasterSlaveDemo: configuration management through the park.
//
//   park_master_slave_demo set   [--config F]   writes zhejiang/hangzhou = "xihu", then "yuhang"
//   park_master_slave_demo get-a [--config F]   polls with get_latest (waiting, no busy loop)
//   park_master_slave_demo get-b [--config F]   listens with a listener that keeps listening
// The readers print every new version and stop after they have seen "yuhang".
#include <fourinone/park.hpp>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;

namespace {

std::unique_ptr<fourinone::Park> connect(const char* config_path) {
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) {
    std::cerr << config.status().to_string() << "\n";
    std::exit(1);
  }
  auto park = fourinone::Park::connect(config.value());
  if (!park.ok()) {
    std::cerr << "cannot reach the park: " << park.status().to_string() << "\n";
    std::exit(1);
  }
  return std::move(park).value();
}

int set_config(fourinone::Park& park) {
  // Start from a clean slate so the demo can run again.
  (void)park.remove("zhejiang", "hangzhou");
  auto created = park.create("zhejiang", "hangzhou", "xihu");
  if (!created.ok()) return std::cerr << created.status().to_string() << "\n", 1;
  std::cout << "set: zhejiang/hangzhou = xihu (version " << created->version << ")" << std::endl;
  std::this_thread::sleep_for(1s);  // let the readers print the first value
  auto updated = park.update("zhejiang", "hangzhou", "yuhang");
  if (!updated.ok()) return std::cerr << updated.status().to_string() << "\n", 1;
  std::cout << "set: zhejiang/hangzhou = yuhang (version " << updated->version << ")" << std::endl;
  return 0;
}

int get_config_a(fourinone::Park& park) {
  std::uint64_t version = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    // Returns at once when there is a newer version, else waits up to 5 s on the server.
    auto latest = park.get_latest("zhejiang", "hangzhou", version, 5s);
    if (!latest.ok()) return std::cerr << latest.status().to_string() << "\n", 1;
    if (!latest.value()) continue;
    version = latest.value()->version;
    std::cout << "get-a: " << latest.value()->value << " (version " << version << ")" << std::endl;
    if (latest.value()->value == "yuhang") return 0;
  }
  return 1;
}

int get_config_b(fourinone::Park& park) {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  auto listener = park.add_listener("zhejiang", "hangzhou", 0, [&](const fourinone::Node* node) {
    if (!node) return false;  // deleted (the setter's clean slate): keep listening
    std::cout << "get-b: " << node->value << " (version " << node->version << ")" << std::endl;
    if (node->value != "yuhang") return false;  // false: keep listening
    std::lock_guard lock(mutex);
    done = true;
    cv.notify_all();
    return true;  // true: stop
  });
  if (!listener.ok()) return std::cerr << listener.status().to_string() << "\n", 1;
  std::unique_lock lock(mutex);
  return cv.wait_for(lock, 60s, [&] { return done; }) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const char* config = "config.xml";
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0) config = argv[i + 1];
  }
  std::string role = argc > 1 ? argv[1] : "";
  if (role != "set" && role != "get-a" && role != "get-b") {
    std::cerr << "usage: park_master_slave_demo set|get-a|get-b [--config F]\n";
    return 2;
  }
  auto park = connect(config);
  if (role == "set") return set_config(*park);
  if (role == "get-a") return get_config_a(*park);
  return get_config_b(*park);
}
