// cache_bench: the side-by-side cache load generator. The same closed loops against Redis,
// memcached or our cache, through bench/cache/target.hpp; bench/cache.sh starts the three
// systems and runs this once per (system, op, depth).
//
//   cache_bench --system redis|memcached|fourinone|fourinone-wire (--server HOST:PORT | --config FILE)
//               [--ops get|set] [--depth 1] [--connections 50] [--value-size 100]
//               [--keys 100000] [--seconds 5] [--warmup 1] [--threads 1] [--preload]
//
// DESIGN: each connection is a closed loop: a batch of --depth ops on keys drawn uniformly
// from "key:000000".."key:<keys-1>" (a fixed seed per connection, so runs repeat), sent
// pipelined; the next batch goes out from the completion of the last. An op's latency is its
// batch's round trip (as redis-benchmark reports pipelined latency), so a batch is one sample.
// Only batches that complete inside the measured window (after the warm-up) count. A loop's
// counters and histogram are its own (one batch at a time, so its completions never overlap)
// and are summed once every loop stopped. --preload first SETs every key once, so GETs hit.
// The Asio targets run on this process's io_context with --threads threads; the generator's
// own CPU (getrusage over the window) is printed because client and servers share the cores.
//
// Prints one line, "system=... op=... depth=... ops_per_s=... p99_us=... client_cpu_pct=...".
// Exit status: 0 measured; 1 cannot connect, the server answered errors, or it stopped
// answering; 2 bad usage; 3 the fourinone target is not built in. Nothing asserts a timing.
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/cpu_time.hpp"
#include "target.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace cachebench;

struct Options {
  std::string system;
  std::string host;
  std::uint16_t port = 0;
  std::string config;
  bool is_set = false;  // --ops set
  int depth = 1;
  int connections = 50;
  int value_size = 100;
  int keys = 100000;
  double seconds = 5;
  double warmup = 1;
  int threads = 1;
  bool preload = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "cache_bench: " << why << "\n"
            << "usage: cache_bench --system redis|memcached|fourinone|fourinone-wire (--server HOST:PORT | --config FILE)\n"
            << "  [--ops get|set] [--depth 1] [--connections 50] [--value-size 100] [--keys 100000]\n"
            << "  [--seconds 5] [--warmup 1] [--threads 1] [--preload]\n";
  std::exit(2);
}

int positive(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    int n = std::stoi(text, &used);
    if (used == text.size() && n > 0) return n;
  } catch (const std::exception&) {
  }
  usage(flag + " wants a positive whole number, not '" + text + "'");
}

double seconds_of(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    double s = std::stod(text, &used);
    if (used == text.size() && s >= 0) return s;
  } catch (const std::exception&) {
  }
  usage(flag + " wants seconds, not '" + text + "'");
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--preload") {
      o.preload = true;
      continue;
    }
    if (i + 1 >= argc) usage(flag + " wants a value");
    std::string v = argv[++i];
    if (flag == "--system") o.system = v;
    else if (flag == "--server") {
      auto colon = v.rfind(':');
      if (colon == std::string::npos || colon == 0) usage("--server wants HOST:PORT");
      o.host = v.substr(0, colon);
      int port = positive("--server's port", v.substr(colon + 1));
      if (port > 65535) usage("--server's port is above 65535");
      o.port = static_cast<std::uint16_t>(port);
    } else if (flag == "--config") o.config = v;
    else if (flag == "--ops") {
      if (v != "get" && v != "set") usage("--ops is get or set");
      o.is_set = v == "set";
    } else if (flag == "--depth") o.depth = positive(flag, v);
    else if (flag == "--connections") o.connections = positive(flag, v);
    else if (flag == "--value-size") o.value_size = positive(flag, v);
    else if (flag == "--keys") o.keys = positive(flag, v);
    else if (flag == "--seconds") o.seconds = seconds_of(flag, v);
    else if (flag == "--warmup") o.warmup = seconds_of(flag, v);
    else if (flag == "--threads") o.threads = positive(flag, v);
    else usage("unknown option " + flag);
  }
  if (o.system == "redis" || o.system == "memcached") {
    if (o.host.empty()) usage("--system " + o.system + " wants --server HOST:PORT");
  } else if (o.system == "fourinone" || o.system == "fourinone-wire") {
    if (o.config.empty()) usage("--system " + o.system + " wants --config FILE");
  } else {
    usage("--system is redis, memcached, fourinone or fourinone-wire");
  }
  if (o.seconds <= 0) usage("--seconds must be above 0");
  return o;
}

using bench::cpu_seconds;

// Log-linear histogram of nanoseconds: exact below 128 ns, then 64 buckets per power of two
// (each at most 1.6 % wide) up to about 2,000 s. Recording is a few instructions and never
// allocates, so it costs the generator next to nothing.
class Histogram {
 public:
  void record(std::uint64_t ns) {
    ++counts_[bucket(ns)];
    ++total_;
  }

  void merge(const Histogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
  }

  // The value, in microseconds, that a fraction q of the samples do not exceed (the middle of
  // its bucket); 0 with no samples.
  double percentile_us(double q) const {
    if (total_ == 0) return 0;
    auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(q * static_cast<double>(total_) + 0.999999));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return middle(i) / 1000.0;
    }
    return middle(kBuckets - 1) / 1000.0;
  }

 private:
  static constexpr int kSubBits = 6;
  static constexpr std::uint64_t kLinear = 2u << kSubBits;  // 128: one bucket per ns below
  static constexpr std::size_t kOctaves = 34;
  static constexpr std::size_t kBuckets = kLinear + kOctaves * (kLinear / 2);

  static std::size_t bucket(std::uint64_t ns) {
    if (ns < kLinear) return static_cast<std::size_t>(ns);
    int shift = (63 - std::countl_zero(ns)) - kSubBits;  // >= 1: ns >> shift is in [64, 128)
    auto index = kLinear + static_cast<std::uint64_t>(shift - 1) * (kLinear / 2) + ((ns >> shift) - kLinear / 2);
    return static_cast<std::size_t>(std::min<std::uint64_t>(index, kBuckets - 1));
  }

  static double middle(std::size_t index) {
    if (index < kLinear) return static_cast<double>(index);
    std::size_t shift = (index - kLinear) / (kLinear / 2) + 1;
    std::uint64_t low = ((index - kLinear) % (kLinear / 2) + kLinear / 2) << shift;
    return static_cast<double>(low) + static_cast<double>(std::uint64_t{1} << shift) / 2;
  }

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t total_ = 0;
};

// Counts loops down to zero; the waiter may give up after a deadline.
class Countdown {
 public:
  explicit Countdown(int n) : left_(n) {}
  void count_down() {
    std::lock_guard lock(mutex_);
    if (--left_ == 0) zero_.notify_all();
  }
  bool wait_for(std::chrono::duration<double> limit) {
    std::unique_lock lock(mutex_);
    return zero_.wait_for(lock, limit, [this] { return left_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable zero_;
  int left_;  // guarded by mutex_
};

enum class Phase { warmup, measure, stopped };

// What the loops share. Read-only but for phase (set by main) and the first error.
struct Run {
  explicit Run(const Options& options) : o(options) {}

  const Options& o;
  std::vector<std::string> keys;
  std::string value;
  std::atomic<Phase> phase{Phase::warmup};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::string first_error;  // guarded by mutex

  void fail(const std::string& why) {
    std::lock_guard lock(mutex);
    if (first_error.empty()) first_error = why;
    failed = true;
  }
};

// SETs keys index, index + step, ... in pipelined batches of 100 over one connection.
class Preload {
 public:
  Preload(Run& run, Connection& connection, int index, int step, Countdown& finished)
      : run_(run), connection_(connection), next_(index), step_(step), finished_(finished) {}

  void start() { issue(); }
  std::size_t stored() const { return stored_; }  // read once `finished` reached zero

 private:
  void issue() {
    ops_.clear();
    for (; next_ < run_.keys.size() && ops_.size() < 100; next_ += step_) ops_.push_back({true, run_.keys[next_]});
    if (ops_.empty()) return finished_.count_down();
    connection_.async_batch(ops_, run_.value, [this](const BatchResult& r) {
      stored_ += r.ok;
      if (r.errors > 0) {
        run_.fail(r.error);
        return finished_.count_down();
      }
      issue();
    });
  }

  Run& run_;
  Connection& connection_;
  std::size_t next_;
  std::size_t step_;
  Countdown& finished_;
  std::vector<Op> ops_;
  std::size_t stored_ = 0;
};

// One connection's closed loop.
class Loop {
 public:
  Loop(Run& run, Connection& connection, int index, Countdown& stopped)
      : run_(run),
        connection_(connection),
        stopped_(stopped),
        rng_(1000003u * static_cast<unsigned>(index + 1)),
        pick_(0, run.keys.size() - 1),
        ops_(static_cast<std::size_t>(run.o.depth)) {
    for (Op& op : ops_) op.is_set = run.o.is_set;
  }

  void start() { issue(); }

  // Read once `stopped` reached zero.
  Histogram histogram;  // batch round trips in the window, ns
  std::uint64_t ops = 0, ok = 0, errors = 0;

 private:
  void issue() {
    for (Op& op : ops_) op.key = run_.keys[pick_(rng_)];  // no allocation: keys fit in SSO
    sent_ = Clock::now();
    connection_.async_batch(ops_, run_.value, [this](const BatchResult& r) { complete(r); });
  }

  void complete(const BatchResult& r) {
    auto now = Clock::now();
    Phase phase = run_.phase.load(std::memory_order_acquire);
    if (phase == Phase::measure) {
      histogram.record(static_cast<std::uint64_t>(std::chrono::nanoseconds(now - sent_).count()));
      ops += ops_.size();
      ok += r.ok;
      errors += r.errors;
    }
    if (r.errors > 0) run_.fail(r.error);
    if (r.errors > 0 || phase == Phase::stopped) return stopped_.count_down();
    issue();
  }

  Run& run_;
  Connection& connection_;
  Countdown& stopped_;
  std::mt19937 rng_;
  std::uniform_int_distribution<std::size_t> pick_;
  std::vector<Op> ops_;
  Clock::time_point sent_;
};

// Sleeps `seconds`, or less once a loop failed.
void sleep_unless_failed(const Run& run, double seconds) {
  auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (!run.failed && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// A deadline passed with batches still out: the handlers may still touch everything, so
// nothing is torn down.
[[noreturn]] void give_up(const std::string& why) {
  std::cerr << "cache_bench: " << why << "\n";
  std::fflush(nullptr);
  ::_exit(1);
}

std::string name_of_server(const Options& o) {
  return o.system + (o.config.empty() ? " at " + o.host + ":" + std::to_string(o.port) : " (" + o.config + ")");
}

// Preload, warm-up and the measured window over `connections`; prints the line, or only a
// message when the server answered errors. Exit status.
int measure(const Options& o, std::vector<std::unique_ptr<Connection>>& connections) {
  Run run{o};
  run.keys.reserve(static_cast<std::size_t>(o.keys));
  for (int i = 0; i < o.keys; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "key:%06d", i);
    run.keys.emplace_back(key);
  }
  for (int i = 0; i < o.value_size; ++i) run.value += static_cast<char>('a' + i % 26);
  int n = static_cast<int>(connections.size());

  if (o.preload) {
    Countdown finished(n);
    std::vector<std::unique_ptr<Preload>> loaders;
    for (int i = 0; i < n; ++i) loaders.push_back(std::make_unique<Preload>(run, *connections[i], i, n, finished));
    for (auto& l : loaders) l->start();
    if (!finished.wait_for(std::chrono::seconds(60 + o.keys / 1000))) give_up("the preload did not finish in time");
    std::size_t stored = 0;
    for (auto& l : loaders) stored += l->stored();
    if (run.failed) {
      std::cerr << "cache_bench: " << name_of_server(o) << " answered the preload with errors: " << run.first_error << "\n";
      return 1;
    }
    if (stored != run.keys.size()) {
      std::cerr << "cache_bench: the preload stored " << stored << " of " << run.keys.size() << " keys\n";
      return 1;
    }
  }

  Countdown stopped(n);
  std::vector<std::unique_ptr<Loop>> loops;
  for (int i = 0; i < n; ++i) loops.push_back(std::make_unique<Loop>(run, *connections[i], i, stopped));
  for (auto& l : loops) l->start();
  sleep_unless_failed(run, o.warmup);
  double cpu0 = cpu_seconds();
  auto t0 = Clock::now();
  run.phase.store(Phase::measure, std::memory_order_release);
  sleep_unless_failed(run, o.seconds);
  run.phase.store(Phase::stopped, std::memory_order_release);
  auto t1 = Clock::now();
  double cpu1 = cpu_seconds();
  if (!stopped.wait_for(std::chrono::seconds(10))) give_up(name_of_server(o) + " left batches unanswered for 10 s");

  Histogram all;
  std::uint64_t ops = 0, ok = 0, errors = 0;
  for (auto& l : loops) {
    all.merge(l->histogram);
    ops += l->ops;
    ok += l->ok;
    errors += l->errors;
  }
  if (run.failed) {
    std::cerr << "cache_bench: " << name_of_server(o) << " answered with errors (" << errors
              << " ops in the measured window): " << run.first_error << "\n";
    return 1;
  }
  double window = std::chrono::duration<double>(t1 - t0).count();
  std::printf(
      "system=%s op=%s depth=%d conns=%d value_size=%d keys=%d threads=%d seconds=%.2f ops_per_s=%.0f "
      "p50_us=%.1f p99_us=%.1f p999_us=%.1f %s=%.3f errors=%llu client_cpu_pct=%.1f\n",
      o.system.c_str(), o.is_set ? "set" : "get", o.depth, n, o.value_size, o.keys, o.threads, window,
      static_cast<double>(ops) / window, all.percentile_us(0.5), all.percentile_us(0.99), all.percentile_us(0.999),
      o.is_set ? "stored" : "hits", ops ? static_cast<double>(ok) / static_cast<double>(ops) : 0.0,
      static_cast<unsigned long long>(errors), 100.0 * (cpu1 - cpu0) / window);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  boost::asio::io_context io;
  std::unique_ptr<Target> target;
  if (o.system == "redis") target = make_redis_target(io, o.host, o.port);
  if (o.system == "memcached") target = make_memcached_target(io, o.host, o.port);
#ifdef CACHEBENCH_HAVE_FOURINONE
  if (o.system == "fourinone-wire") target = make_fourinone_wire_target(io, o.config);
#endif
  if (o.system == "fourinone") {
#ifdef CACHEBENCH_HAVE_FOURINONE
    target = make_fourinone_target(o.config, o.connections);
#else
    std::cerr << "cache_bench: the fourinone target is not built in (no bench/cache/fourinone_target.cpp)\n";
    return 3;
#endif
  }
  if (!target) {
    std::cerr << "cache_bench: cannot set up the " << o.system << " target\n";
    return 1;
  }
  std::vector<std::unique_ptr<Connection>> connections;
  for (int i = 0; i < o.connections; ++i) {
    auto c = target->connect(i);
    if (!c) {
      std::cerr << "cache_bench: cannot open connection " << i << " to " << name_of_server(o) << "\n";
      return 1;
    }
    connections.push_back(std::move(c));
  }

  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.threads; ++i) threads.emplace_back([&io] { io.run(); });
  int status = measure(o, connections);
  // Every batch has completed here (or measure gave up and exited), so no handler still
  // refers to a connection.
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();
  connections.clear();
  return status;
}
