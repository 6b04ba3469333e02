// startup_bench: the two halves of bench/startup.sh's start-up measurement.
//
//   startup_bench fill --config F --mib N [--value-size B]
//       writes N MiB of B-byte values (default 64 KiB) as updates over 256 nodes of domain
//       "startup", 16 in flight, so the server's log grows by about N MiB.
//   startup_bench wait --config F [--timeout-s S]
//       from its own start, tries a linearizable get of startup/n0 until one succeeds and
//       prints the milliseconds that took: started together with a server, its start-up time.
// Figures only; nothing here asserts a timing.
#include <fourinone/park.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr int kNodes = 256;
std::string node(int i) { return "n" + std::to_string(i); }

int fill(fourinone::Park& park, std::uint64_t mib, std::size_t value_size) {
  const std::string value(value_size, 'f');
  for (int i = 0; i < kNodes; ++i) {
    auto r = park.create("startup", node(i), "0");
    if (!r.ok() && r.status().code() != fourinone::Errc::exists) {
      std::cerr << "fill: " << r.status().to_string() << "\n";
      return 1;
    }
  }
  const std::uint64_t total = (mib << 20) / value_size;
  std::mutex mutex;
  std::condition_variable cv;
  std::uint64_t sent = 0, done = 0, failed = 0;
  int inflight = 0;
  const auto start = Clock::now();
  std::unique_lock lock(mutex);
  while (done < total) {
    while (sent < total && inflight < 16) {
      ++inflight;
      const int i = static_cast<int>(sent++ % kNodes);
      lock.unlock();
      park.async_update("startup", node(i), value, fourinone::kAnyVersion, [&](fourinone::Result<fourinone::Node> r) {
        std::lock_guard guard(mutex);
        --inflight;
        ++done;
        if (!r.ok()) ++failed;
        cv.notify_all();
      });
      lock.lock();
    }
    cv.wait(lock, [&] { return (sent < total && inflight < 16) || done >= total; });
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << "startup_bench: wrote " << done << " values of " << value_size << " bytes (" << mib << " MiB) in "
            << secs << " s, " << failed << " failed" << std::endl;
  return failed == 0 ? 0 : 1;
}

int wait_until_served(const fourinone::Config& config, int timeout_s) {
  const auto start = Clock::now();
  while (Clock::now() - start < std::chrono::seconds(timeout_s)) {
    auto park = fourinone::Park::connect(config);
    if (park.ok()) {
      auto r = park.value()->get("startup", node(0));
      if (r.ok()) {
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        std::cout << "startup_ms: " << ms << std::endl;
        return 0;
      }
    }
    std::this_thread::sleep_for(10ms);
  }
  std::cerr << "startup_bench: nothing served startup/n0 within " << timeout_s << " s\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return std::cerr << "usage: startup_bench fill|wait --config F [...]\n", 2;
  const std::string role = argv[1];
  std::string config_file = "config.xml";
  std::uint64_t mib = 1024;
  std::size_t value_size = 64 << 10;
  int timeout_s = 300;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--config") config_file = v;
    else if (flag == "--mib") mib = std::stoull(v);
    else if (flag == "--value-size") value_size = std::stoull(v);
    else if (flag == "--timeout-s") timeout_s = std::stoi(v);
    else return std::cerr << "unknown flag " << flag << "\n", 2;
  }
  auto config = fourinone::load_config(config_file);
  if (!config.ok()) return std::cerr << config.status().to_string() << "\n", 1;
  if (role == "wait") return wait_until_served(config.value(), timeout_s);
  if (role != "fill") return std::cerr << "unknown role " << role << "\n", 2;
  auto park = fourinone::Park::connect(config.value());
  if (!park.ok()) return std::cerr << park.status().to_string() << "\n", 1;
  return fill(*park.value(), mib, value_size);
}
