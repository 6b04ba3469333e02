// The README's C++ tour as a program that runs: everything between the "tour" markers is
// copied verbatim into README.md ("The park in C++"), and a test checks the two agree.
//
//   park_tour [--config config.xml]
#include <chrono>
#include <future>
#include <iostream>
#include <string>

// [tour]
#include <fourinone/park.hpp>

int tour(const std::string& config_file) {
  auto config = fourinone::load_config(config_file);            // file/line/element on errors
  if (!config.ok()) { std::cerr << config.status().to_string() << "\n"; return 1; }
  auto park = fourinone::Park::connect(config.value());         // Result<std::unique_ptr<Park>>
  if (!park.ok()) { std::cerr << park.status().to_string() << "\n"; return 1; }
  auto& p = *park.value();

  auto created = p.create("zhejiang", "hangzhou", "xihu");      // Result<Node>
  if (!created.ok()) { std::cerr << created.status().to_string() << "\n"; return 1; }
  auto node = p.get("zhejiang", "hangzhou");                    // node->value, ->version, ...
  auto moved = p.update("zhejiang", "hangzhou", "yuhang", node->version);  // compare-and-set
  std::cout << "hangzhou: " << moved->value << " (version " << moved->version << ")\n";

  fourinone::CreateOptions hb;
  hb.heartbeat = true;                                          // deleted when this client dies
  auto me = p.create("group", "me", "alive", hb);                // Results must be looked at:
  if (!me.ok()) { std::cerr << me.status().to_string() << "\n"; return 1; }  // [[nodiscard]]

  auto latest = p.get_latest("zhejiang", "hangzhou", node->version, std::chrono::seconds(5));
  if (latest.ok() && *latest) std::cout << "newer than version " << node->version << ": " << (*latest)->value << "\n";

  std::promise<void> log_removed;                               // events come on another thread
  auto watch = p.watch("zhejiang", std::nullopt, 0, [&](const fourinone::WatchEvent& e) {
    std::cout << "event " + std::string(fourinone::event_type_name(e.type)) + " " + e.node.name + "\n";  // one write
    if (e.type == fourinone::WatchEvent::Type::deleted && e.node.name == "log") log_removed.set_value();
  });

  fourinone::Txn txn;                                           // all or nothing
  txn.check("zhejiang", "log", 0)                               // version 0: must not exist
      .update("zhejiang", "hangzhou", "lingyin", moved->version)
      .create("zhejiang", "log", "moved to lingyin");
  auto done = p.commit(txn);
  if (!done.ok()) { std::cerr << done.status().to_string() << "\n"; return 1; }
  std::cout << "transaction at revision " << done->revision << "\n";

  auto removed = p.remove_domain("zhejiang");                   // returns the removed nodes
  std::cout << "removed " << (removed.ok() ? removed->size() : 0) << " nodes\n";
  log_removed.get_future().wait_for(std::chrono::seconds(5));   // let the watch tell of it
  return removed.ok() ? 0 : 1;
}
// [/tour]

int main(int argc, char** argv) {
  std::string config = "config.xml";
  if (argc == 3 && std::string(argv[1]) == "--config") config = argv[2];
  else if (argc != 1) {
    std::cerr << "usage: park_tour [--config FILE]\n";
    return 2;
  }
  return tour(config);
}
