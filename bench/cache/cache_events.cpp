// cache_events: the two cache measurements besides throughput (bench/cache/events.sh runs them).
//
//   cache_events failover --config F --pid PID [--writers 4] [--before-ms 1000] [--after-ms 3000]
//   cache_events scaleout --config F [--keys 100000] --phase before|after
//
// failover: W threads set unique keys in a loop; after --before-ms the program sends SIGKILL to
// PID (the group's primary: a client cannot learn its pid, so the script passes it) and writes
// on for --after-ms (longer if no write sent after the kill has been acknowledged yet, up to
// 30 s). Prints one line:
//   failover_ms=F max_gap_ms=G acknowledged=N lost=M failed_writes=E writers=W kill_to_exit_us=K
// F: kill -> first acknowledgement of a write *sent* after the killed process was gone (a
// write sent before may still be answered by the dying primary, its answer read from the
// socket after the death, or finish on the backup after waiting in the client: none of that
// proves a fresh write gets through). K: kill -> the process seen gone (zombie) in /proc.
// G: the longest time without any acknowledgement. Then every
// acknowledged key is read back through the same client; lost counts the absent or changed
// ones (named on stderr, up to 10). E: writes that ended in an error (outcome unknown; not
// counted as acknowledged). Exit 1 when lost > 0 or F could not be measured.
//
// scaleout: `before` sets key:0 .. key:N-1 (one group: all live there). `after` (once a second
// group has joined) connects afresh, counts the keys the new layout gives to another group
// than the first, reads every key and prints
//   moved=M of N (P%) stayed_hits=S stayed_misses=X moved_hits=H wrong=W layout_version=V
// Moved keys are misses by design (cache/README.md, "Routing and scale-out"); a key that
// stayed must hit with its value. Exit 1 when X or W is not 0.
#include <fourinone/cache.hpp>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kChunk = 500;  // keys per multi_set / multi_get

struct Args {
  std::string mode;
  std::map<std::string, std::string> flags;

  std::string text(const std::string& name, const std::string& fallback = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
  long number(const std::string& name, long fallback) const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : std::stol(it->second);
  }
};

int usage() {
  std::cerr << "usage: cache_events failover --config F --pid PID [--writers 4] [--before-ms 1000] [--after-ms 3000]\n"
               "       cache_events scaleout --config F [--keys 100000] --phase before|after\n";
  return 2;
}

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::unique_ptr<fourinone::Cache> connect(const std::string& config_path) {
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) {
    std::cerr << "cache_events: " << config.status().to_string() << "\n";
    return nullptr;
  }
  auto cache = fourinone::Cache::connect(config.value());
  if (!cache.ok()) {
    std::cerr << "cache_events: cannot connect: " << cache.status().to_string() << "\n";
    return nullptr;
  }
  return std::move(cache.value());
}

// True once PID has exited (a zombie counts: it can no longer answer) or is gone.
bool is_dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!stat || !std::getline(stat, line)) return true;
  auto paren = line.rfind(')');  // the command name may hold spaces or parentheses
  if (paren == std::string::npos || paren + 2 >= line.size()) return true;
  char state = line[paren + 2];
  return state == 'Z' || state == 'X';
}

// multi_get of keys in chunks; a chunk that fails is tried three times (the client already
// retries within its deadline, so a failure here means the group is really unavailable).
fourinone::Result<std::vector<std::optional<fourinone::CacheItem>>> read_all(fourinone::Cache& cache,
                                                                             const std::vector<std::string>& keys) {
  std::vector<std::optional<fourinone::CacheItem>> out;
  out.reserve(keys.size());
  for (std::size_t at = 0; at < keys.size(); at += kChunk) {
    std::vector<std::string> chunk(keys.begin() + at, keys.begin() + std::min(keys.size(), at + kChunk));
    auto got = cache.multi_get(chunk);
    for (int attempt = 1; !got.ok() && attempt < 3; ++attempt) got = cache.multi_get(chunk);
    if (!got.ok()) return got.status();
    for (auto& item : got.value()) out.push_back(std::move(item));
  }
  return out;
}

// --- failover ------------------------------------------------------------------------------

struct Ack {
  std::string key;
  std::string value;
  Clock::time_point sent;
  Clock::time_point acked;
};

int run_failover(const Args& args) {
  const long pid = args.number("--pid", 0);
  const int writers = static_cast<int>(args.number("--writers", 4));
  const auto before = std::chrono::milliseconds(args.number("--before-ms", 1000));
  const auto after = std::chrono::milliseconds(args.number("--after-ms", 3000));
  if (pid <= 0 || writers < 1) return usage();
  if (is_dead(static_cast<pid_t>(pid))) {
    std::cerr << "cache_events: no live process " << pid << "\n";
    return 1;
  }
  auto cache = connect(args.text("--config", "config.xml"));
  if (!cache) return 1;

  // Writers compare their send time with this (nanoseconds of Clock; 0 until the kill is done)
  // without taking a lock.
  std::atomic<Clock::rep> dead_at{0};
  std::atomic<bool> fresh_acked{false};  // a write sent after dead_at has been acknowledged
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> failed{0};
  std::vector<std::vector<Ack>> acks(static_cast<std::size_t>(writers));
  std::vector<std::thread> threads;
  const std::string run = std::to_string(Clock::now().time_since_epoch().count());
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto& mine = acks[static_cast<std::size_t>(w)];
      for (std::uint64_t n = 0; !stop.load(); ++n) {
        std::string key = "fo:" + std::to_string(w) + ":" + std::to_string(n);
        std::string value = "v:" + run + ":" + key;
        const auto sent = Clock::now();
        auto r = cache->set(key, value);
        const auto acked = Clock::now();
        if (!r.ok()) {
          failed.fetch_add(1);
          continue;
        }
        const auto dead = dead_at.load();
        if (dead != 0 && sent.time_since_epoch().count() >= dead) fresh_acked.store(true);
        mine.push_back({std::move(key), std::move(value), sent, acked});
      }
    });
  }

  std::this_thread::sleep_for(before);
  const auto killed_at = Clock::now();
  if (::kill(static_cast<pid_t>(pid), SIGKILL) != 0) {
    std::cerr << "cache_events: kill " << pid << " failed\n";
    stop = true;
    for (auto& t : threads) t.join();
    return 1;
  }
  // SIGKILL is delivered asynchronously: until the process is gone it may still answer.
  while (!is_dead(static_cast<pid_t>(pid)) && Clock::now() < killed_at + 5s) std::this_thread::sleep_for(100us);
  const auto dead = Clock::now();
  dead_at = dead.time_since_epoch().count();
  std::this_thread::sleep_until(killed_at + after);
  while (!fresh_acked.load() && Clock::now() < killed_at + 30s) std::this_thread::sleep_for(10ms);
  stop = true;
  for (auto& t : threads) t.join();

  std::vector<Clock::time_point> times;
  std::optional<double> failover_ms;
  std::vector<std::string> keys;
  std::map<std::string, std::string> values;
  for (const auto& mine : acks) {
    for (const auto& a : mine) {
      times.push_back(a.acked);
      keys.push_back(a.key);
      values[a.key] = a.value;
      if (a.sent >= dead) {
        double ms = ms_between(killed_at, a.acked);
        if (!failover_ms || ms < *failover_ms) failover_ms = ms;
      }
    }
  }
  std::sort(times.begin(), times.end());
  double max_gap = 0;
  for (std::size_t i = 1; i < times.size(); ++i) max_gap = std::max(max_gap, ms_between(times[i - 1], times[i]));

  std::uint64_t lost = 0;
  auto got = read_all(*cache, keys);
  if (!got.ok()) {
    std::cerr << "cache_events: reading back failed: " << got.status().to_string() << "\n";
    return 1;
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& item = got.value()[i];
    if (item && item->value == values[keys[i]]) continue;
    if (++lost <= 10) std::cerr << "lost: " << keys[i] << (item ? " (another value)" : " (absent)") << "\n";
  }

  auto show = [](const std::optional<double>& ms) {
    std::ostringstream s;
    if (ms) s << std::fixed << std::setprecision(0) << *ms; else s << "none";
    return s.str();
  };
  std::cout << "failover_ms=" << show(failover_ms) << " max_gap_ms=" << show(max_gap) << " acknowledged=" << keys.size() << " lost=" << lost
            << " failed_writes=" << failed.load() << " writers=" << writers
            << " kill_to_exit_us=" << std::chrono::duration_cast<std::chrono::microseconds>(dead - killed_at).count()
            << std::endl;
  if (!failover_ms) std::cerr << "cache_events: no write sent after the kill was acknowledged within 30 s\n";
  return failover_ms && lost == 0 ? 0 : 1;
}

// --- scale-out -----------------------------------------------------------------------------

std::string key_of(std::size_t n) { return "key:" + std::to_string(n); }
std::string value_of(std::size_t n) { return "value:" + std::to_string(n); }

int scaleout_before(fourinone::Cache& cache, std::size_t count) {
  for (std::size_t at = 0; at < count; at += kChunk) {
    std::vector<std::pair<std::string, std::string>> chunk;
    for (std::size_t n = at; n < std::min(count, at + kChunk); ++n) chunk.emplace_back(key_of(n), value_of(n));
    auto r = cache.multi_set(chunk);
    if (!r.ok()) {
      std::cerr << "cache_events: multi_set from " << key_of(at) << ": " << r.status().to_string() << "\n";
      return 1;
    }
  }
  auto groups = cache.groups();
  std::cout << "set=" << count << " layout_version=" << cache.layout_version() << " groups=" << groups.size()
            << std::endl;
  return 0;
}

int scaleout_after(fourinone::Cache& cache, std::size_t count) {
  auto groups = cache.groups();
  if (groups.size() < 2) {
    std::cerr << "cache_events: the layout (version " << cache.layout_version() << ") has " << groups.size()
              << " group(s): the second group has not joined\n";
    return 1;
  }
  // Under the 1-group layout every key lived in the first group; a key moved when the new
  // layout gives it to another.
  const std::string& first = groups.front();
  std::vector<std::string> keys;
  std::vector<bool> moved;
  std::size_t moved_count = 0;
  for (std::size_t n = 0; n < count; ++n) {
    keys.push_back(key_of(n));
    moved.push_back(cache.group_of(keys.back()) != first);
    if (moved.back()) ++moved_count;
  }
  auto got = read_all(cache, keys);
  if (!got.ok()) {
    std::cerr << "cache_events: reading back failed: " << got.status().to_string() << "\n";
    return 1;
  }
  std::size_t stayed_hits = 0, stayed_misses = 0, moved_hits = 0, wrong = 0;
  for (std::size_t n = 0; n < count; ++n) {
    const auto& item = got.value()[n];
    if (!item) {
      if (!moved[n] && ++stayed_misses <= 10) std::cerr << "stayed but missing: " << keys[n] << "\n";
      continue;
    }
    if (item->value != value_of(n)) {
      if (++wrong <= 10) std::cerr << "wrong value: " << keys[n] << " holds '" << item->value << "'\n";
      continue;
    }
    ++(moved[n] ? moved_hits : stayed_hits);
  }
  std::cout << "moved=" << moved_count << " of " << count << " (" << std::fixed << std::setprecision(1)
            << (count ? 100.0 * static_cast<double>(moved_count) / static_cast<double>(count) : 0.0)
            << "%) stayed_hits=" << stayed_hits << " stayed_misses=" << stayed_misses << " moved_hits=" << moved_hits
            << " wrong=" << wrong << " layout_version=" << cache.layout_version() << std::endl;
  if (wrong > 0) std::cerr << "cache_events: " << wrong << " keys read back a value they were never given\n";
  return stayed_misses == 0 && wrong == 0 ? 0 : 1;
}

int run_scaleout(const Args& args) {
  const long keys = args.number("--keys", 100000);
  const std::string phase = args.text("--phase");
  if (keys < 1 || (phase != "before" && phase != "after")) return usage();
  auto cache = connect(args.text("--config", "config.xml"));
  if (!cache) return 1;
  const auto count = static_cast<std::size_t>(keys);
  return phase == "before" ? scaleout_before(*cache, count) : scaleout_after(*cache, count);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  Args args;
  args.mode = argv[1];
  for (int i = 2; i < argc; i += 2) {
    std::string flag = argv[i];
    static const std::vector<std::string> known = {"--config", "--pid", "--writers", "--before-ms",
                                                   "--after-ms", "--keys", "--phase"};
    if (std::find(known.begin(), known.end(), flag) == known.end() || i + 1 >= argc) return usage();
    args.flags[flag] = argv[i + 1];
  }
  try {
    if (args.mode == "failover") return run_failover(args);
    if (args.mode == "scaleout") return run_scaleout(args);
  } catch (const std::exception& e) {  // std::stol on a bad number
    std::cerr << "cache_events: " << e.what() << "\n";
    return 2;
  }
  return usage();
}
