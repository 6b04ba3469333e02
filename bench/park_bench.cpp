// park_bench: measures a running park through the public client API and prints figures.
//
//   park_bench [--config F] [--seconds S] [--inflight N] [--keys K] [--value-size B] [--latency-ops N]
//
// 1. writes: updates of B-byte values over K keys with N requests in flight, for S seconds
// 2. reads:  gets of the same keys, N in flight, for S seconds
// 3. single-client write latency: one update at a time (p50/p99)
//    single-client read latency: one (linearizable) get at a time (p50/p99)
// 4. watch latency: time from an update's send to its watch event in another connection
// Figures only; nothing here asserts a timing.
#include <fourinone/park.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "percentile.hpp"

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Options {
  std::string config = "config.xml";
  int seconds = 5;
  int inflight = 64;
  int keys = 1000;
  int value_size = 100;
  int latency_ops = 2000;
};

using bench::percentile;

std::string key(int i) { return "k" + std::to_string(i); }

struct LoadResult {
  double ops_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::uint64_t errors = 0;
};

// Keeps `inflight` async calls going for `seconds`; `issue(i, done)` starts call number i.
template <class Issue>
LoadResult closed_loop(const Options& o, Issue issue) {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<double> latencies;
  latencies.reserve(1 << 20);
  std::uint64_t done = 0, errors = 0;
  int outstanding = 0;
  std::atomic<int> next{0};
  auto start = Clock::now();
  auto stop_at = start + std::chrono::seconds(o.seconds);
  std::function<void()> launch;
  launch = [&] {
    int i = next++;
    auto sent = Clock::now();
    issue(i, [&, sent](bool ok) {
      auto now = Clock::now();
      std::lock_guard lock(mutex);
      latencies.push_back(std::chrono::duration<double, std::micro>(now - sent).count());
      ++done;
      if (!ok) ++errors;
      if (now < stop_at) {
        launch();
      } else {
        --outstanding;
        cv.notify_all();
      }
    });
  };
  {
    std::lock_guard lock(mutex);
    outstanding = o.inflight;
  }
  for (int i = 0; i < o.inflight; ++i) launch();
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return outstanding == 0; });
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  return LoadResult{static_cast<double>(done) / secs, percentile(latencies, 0.5), percentile(latencies, 0.99), errors};
}

void print_row(const std::string& name, const LoadResult& r) {
  // A latency-only row (ops_per_s == 0) shows "-" rather than a meaningless rate.
  std::ostringstream rate;
  if (r.ops_per_s > 0) rate << std::fixed << std::setprecision(0) << r.ops_per_s;
  else rate << "-";
  std::cout << std::left << std::setw(34) << name << std::right << std::setw(12) << rate.str() << std::fixed
            << " ops/s   p50 " << std::setw(8) << std::setprecision(1) << r.p50_us << " us   p99 "
            << std::setw(8) << r.p99_us << " us" << (r.errors ? "   errors " + std::to_string(r.errors) : "")
            << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string v = argv[i + 1];
    if (flag == "--config") o.config = v;
    else if (flag == "--seconds") o.seconds = std::stoi(v);
    else if (flag == "--inflight") o.inflight = std::stoi(v);
    else if (flag == "--keys") o.keys = std::stoi(v);
    else if (flag == "--value-size") o.value_size = std::stoi(v);
    else if (flag == "--latency-ops") o.latency_ops = std::stoi(v);
    else {
      std::cerr << "unknown option " << flag << "\n";
      return 2;
    }
  }
  auto config = fourinone::load_config(o.config);
  if (!config.ok()) return std::cerr << config.status().to_string() << "\n", 1;
  auto connected = fourinone::Park::connect(config.value());
  if (!connected.ok()) return std::cerr << connected.status().to_string() << "\n", 1;
  auto& park = *connected.value();

  std::string value(static_cast<std::size_t>(o.value_size), 'v');
  (void)park.remove_domain("bench");
  for (int i = 0; i < o.keys; ++i) {
    auto r = park.create("bench", key(i), value);
    if (!r.ok()) return std::cerr << "setup: " << r.status().to_string() << "\n", 1;
  }
  std::cout << "park_bench: " << o.keys << " keys, " << o.value_size << "-byte values, " << o.inflight
            << " in flight, " << o.seconds << " s per load" << std::endl;

  // 1. writes. Each value differs (the counter) so every update is a real change.
  auto writes = closed_loop(o, [&](int i, std::function<void(bool)> done) {
    std::string v = value;
    auto tag = std::to_string(i);
    std::memcpy(v.data(), tag.data(), std::min(tag.size(), v.size()));
    park.async_update("bench", key(i % o.keys), v, fourinone::kAnyVersion,
                      [done](fourinone::Result<fourinone::Node> r) { done(r.ok()); });
  });
  print_row("write (update, 64 in flight)", writes);

  // 2. reads.
  auto reads = closed_loop(o, [&](int i, std::function<void(bool)> done) {
    park.async_get("bench", key(i % o.keys), [done](fourinone::Result<fourinone::Node> r) { done(r.ok()); });
  });
  print_row("read (get, 64 in flight)", reads);

  // 3. single-client sequential write latency.
  {
    std::vector<double> lat;
    auto start = Clock::now();
    for (int i = 0; i < o.latency_ops; ++i) {
      auto sent = Clock::now();
      auto r = park.update("bench", key(i % o.keys), "seq" + std::to_string(i));
      if (!r.ok()) return std::cerr << r.status().to_string() << "\n", 1;
      lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    print_row("write latency (1 in flight)", LoadResult{o.latency_ops / secs, percentile(lat, 0.5), percentile(lat, 0.99), 0});
  }
  {
    std::vector<double> lat;
    auto start = Clock::now();
    for (int i = 0; i < o.latency_ops; ++i) {
      auto sent = Clock::now();
      auto r = park.get("bench", key(i % o.keys));
      if (!r.ok()) return std::cerr << r.status().to_string() << "\n", 1;
      lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    print_row("read latency (1 in flight)", LoadResult{o.latency_ops / secs, percentile(lat, 0.5), percentile(lat, 0.99), 0});
  }

  // 4. watch latency: a second connection watches; this one writes one change at a time.
  {
    auto watcher_park = fourinone::Park::connect(config.value());
    if (!watcher_park.ok()) return std::cerr << watcher_park.status().to_string() << "\n", 1;
    (void)park.create("benchw", "n", "0");
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<double> lat;
    Clock::time_point sent;
    std::uint64_t seen = 0;
    auto watch = watcher_park.value()->watch("benchw", std::string("n"), 0, [&](const fourinone::WatchEvent& e) {
      auto now = Clock::now();
      std::lock_guard lock(mutex);
      lat.push_back(std::chrono::duration<double, std::micro>(now - sent).count());
      seen = e.revision;
      cv.notify_all();
    });
    if (!watch.ok()) return std::cerr << watch.status().to_string() << "\n", 1;
    int n = std::min(o.latency_ops, 1000);
    for (int i = 1; i <= n; ++i) {
      std::uint64_t revision;
      {
        std::lock_guard lock(mutex);
        sent = Clock::now();
      }
      auto r = park.update("benchw", "n", std::to_string(i));
      if (!r.ok()) return std::cerr << r.status().to_string() << "\n", 1;
      revision = r->mod_revision;
      std::unique_lock lock(mutex);
      if (!cv.wait_for(lock, 5s, [&] { return seen >= revision; })) {
        std::cerr << "watch event for revision " << revision << " did not arrive\n";
        return 1;
      }
    }
    print_row("watch notify latency", LoadResult{0, percentile(lat, 0.5), percentile(lat, 0.99), 0});
  }
  (void)park.remove_domain("bench");
  (void)park.remove_domain("benchw");
  return 0;
}
