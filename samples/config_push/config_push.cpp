// ConfigPush: one program changes settings, a fleet of watchers all see every change, in order
// (SCENARIOS.md: configuration center), on the library's ConfigSubscription.
//
//   config_push demo  --config F [--watchers N] [--changes K]
//                     N watchers (each its own park client) subscribe to domain "app.config";
//                     one writer makes K changes; every watcher must report the initial state
//                     and then exactly the K changes, in the writer's order
//   config_push watch --config F [--count K]   prints the state, then K changes, then exits
//   config_push set   --config F KEY VALUE     creates or updates one setting
//   config_push rm    --config F KEY           removes one setting
#include <fourinone/config_watch.hpp>
#include <fourinone/park.hpp>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

namespace {

constexpr const char* kDomain = "app.config";

int fail(const fourinone::Status& s) {
  std::cerr << "config_push: " << s.to_string() << "\n";
  return 1;
}

fourinone::Status set(fourinone::Park& park, const std::string& key, const std::string& value) {
  auto created = park.create(kDomain, key, value);
  if (created.ok() || created.status().code() != fourinone::Errc::exists) return created.status();
  return park.update(kDomain, key, value).status();
}

std::string describe(const fourinone::ConfigEvent& e) {
  std::string out = std::string(fourinone::config_event_kind_name(e.kind)) + " @" + std::to_string(e.revision);
  if (e.kind == fourinone::ConfigEvent::Kind::initial || e.kind == fourinone::ConfigEvent::Kind::resync) {
    out += ":";
    for (const auto& n : e.state) out += " " + n.name + "=" + n.value;
  } else {
    out += " " + e.node + (e.kind == fourinone::ConfigEvent::Kind::removed ? " (removed)" : "=" + e.value);
  }
  return out;
}

// One watcher: records every change it is told of, and wakes whoever waits for `want` of them.
struct Watcher {
  std::mutex mutex;
  std::condition_variable arrived;
  std::vector<std::string> changes;

  void on_event(const fourinone::ConfigEvent& e) {
    if (e.kind != fourinone::ConfigEvent::Kind::changed && e.kind != fourinone::ConfigEvent::Kind::removed) return;
    std::lock_guard lock(mutex);
    changes.push_back(e.node + "=" + e.value);
    arrived.notify_all();
  }
  bool wait_for(std::size_t want, std::chrono::seconds limit) {
    std::unique_lock lock(mutex);
    return arrived.wait_for(lock, limit, [&] { return changes.size() >= want; });
  }
};

int demo(const fourinone::Config& config, int watchers, int changes) {
  auto writer = fourinone::Park::connect(config);
  if (!writer.ok()) return fail(writer.status());
  if (auto s = set(**writer, "feature.x", "off"); !s.ok()) return fail(s);

  std::vector<std::unique_ptr<fourinone::Park>> parks;
  std::vector<std::unique_ptr<Watcher>> seen;
  std::vector<std::unique_ptr<fourinone::ConfigSubscription>> subscriptions;
  for (int i = 0; i < watchers; ++i) {
    auto park = fourinone::Park::connect(config);
    if (!park.ok()) return fail(park.status());
    auto watcher = std::make_unique<Watcher>();
    Watcher* w = watcher.get();
    auto sub = fourinone::ConfigSubscription::subscribe(**park, kDomain, [w, i](const fourinone::ConfigEvent& e) {
      if (e.kind == fourinone::ConfigEvent::Kind::initial) std::cout << "watcher " << i << ": " << describe(e) << "\n";
      w->on_event(e);
    });
    if (!sub.ok()) return fail(sub.status());
    parks.push_back(std::move(park).value());
    seen.push_back(std::move(watcher));
    subscriptions.push_back(std::move(sub).value());
  }
  std::vector<std::string> written;
  for (int k = 1; k <= changes; ++k) {
    std::string key = k % 2 ? "feature.x" : "pool.size";
    std::string value = k % 2 ? (k % 4 == 1 ? "on" : "off") : std::to_string(10 * k);
    if (auto s = set(**writer, key, value); !s.ok()) return fail(s);
    written.push_back(key + "=" + value);
    std::cout << "writer: " << key << " = " << value << "\n";
  }
  int bad = 0;
  for (int i = 0; i < watchers; ++i) {
    bool all = seen[i]->wait_for(written.size(), std::chrono::seconds(10));
    std::lock_guard lock(seen[i]->mutex);
    bool same = all && seen[i]->changes == written;
    std::cout << "watcher " << i << " saw " << seen[i]->changes.size() << " changes"
              << (same ? ", all of them, in the writer's order\n" : ", NOT the writer's sequence\n");
    bad += same ? 0 : 1;
  }
  return bad == 0 ? 0 : 1;
}

int watch(const fourinone::Config& config, int count) {
  auto park = fourinone::Park::connect(config);
  if (!park.ok()) return fail(park.status());
  Watcher w;
  auto sub = fourinone::ConfigSubscription::subscribe(**park, kDomain, [&w](const fourinone::ConfigEvent& e) {
    std::cout << describe(e) << std::endl;
    w.on_event(e);
  });
  if (!sub.ok()) return fail(sub.status());
  return w.wait_for(static_cast<std::size_t>(count), std::chrono::hours(24)) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: config_push demo|watch|set|rm [--config F] ... (see the top of config_push.cpp)\n";
    return 2;
  }
  std::string command = argv[1];
  std::string config_path = "config.xml";
  int watchers = 3, changes = 5, count = 1;
  std::vector<std::string> words;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a == "--watchers" && i + 1 < argc) {
      watchers = std::atoi(argv[++i]);
    } else if (a == "--changes" && i + 1 < argc) {
      changes = std::atoi(argv[++i]);
    } else if (a == "--count" && i + 1 < argc) {
      count = std::atoi(argv[++i]);
    } else {
      words.push_back(a);
    }
  }
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) return fail(config.status());
  if (command == "demo") return demo(*config, watchers, changes);
  if (command == "watch") return watch(*config, count);
  auto park = fourinone::Park::connect(*config);
  if (!park.ok()) return fail(park.status());
  if (command == "set" && words.size() == 2) {
    if (auto s = set(**park, words[0], words[1]); !s.ok()) return fail(s);
    return 0;
  }
  if (command == "rm" && words.size() == 1) {
    auto r = (*park)->remove(kDomain, words[0]);
    return r.ok() ? 0 : fail(r.status());
  }
  std::cerr << "config_push: unknown command or arguments (see the top of config_push.cpp)\n";
  return 2;
}
