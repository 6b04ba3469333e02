// peer_bench: the side-by-side load generator. The same workloads against ZooKeeper, etcd or a
// park group, through bench/peers/target.hpp; bench/peers.sh starts the three systems and
// runs this once per system.
//
//   peer_bench --system park|zookeeper|etcd --endpoints H:P,H:P,H:P [--workloads abcdefghs]
//              [--control DIR] [--seconds S] [--warmup S] [--inflight N] [--connections C] [--keys K]
//              [--value-size B] [--latency-ops N] [--watch-updates N] [--ttl-ms T] [--expiry-runs N]
//              [--lock-clients N] [--kills N]
//
// (a) puts of B-byte values over K keys, N in flight over C connections: ops/s, p50/p99
// (b) linearizable reads, then cheapest (stale/serializable) reads, same shape
// (c) one client, one put at a time (N = --latency-ops, 2,000): p50/p99
// (d) watch: one client puts, another watches; put send -> event, one at a time, 1,000 times
// (e) expiry: a child process holds an ephemeral key with a T ms session/lease, is SIGKILLed;
//     time until a watcher sees the key gone (median of N)
// (f) fair lock handoffs per second, N clients contending, each with its system's recipe
// (g) failover: kill -9 of the leader under write load (8 writers, one create at a time each,
//     and a prober sending a create every 2 ms); time from the kill to the first write sent
//     after it and acknowledged; median of N kills; acknowledged writes lost
//     Needs --control DIR with <i>.pid (pid of server i) and start-<i>.sh (restarts server i,
//     prints its pid), as bench/peers.sh writes them.
// (h) election failover: a child process leads (holds a lock with its system's recipe, T ms
//     session/lease), a standby waits for the same lock; the child is SIGKILLed; time until
//     the standby holds the lock, i.e. leads (median of N, as (e))
// (s) saturation: each row of (a) and (b) again with 2C, 4C, 8C connections (N/C in flight on
//     each, as before), stopping at the first doubling that gains less than 10%
//
// With --control, the throughput rows also print the three servers' CPU (from their pid files)
// and that of every other process beside the load generator's, all over the row and its one
// second of warm-up.
//
// Every figure is printed as "R <system> <row> <value>" for peers.sh, next to a readable line.
// Nothing here asserts a timing.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <latch>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "bench/cpu_time.hpp"
#include "bench/percentile.hpp"
#include "bench/split.hpp"
#include "server_cpu.hpp"
#include "target.hpp"

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Options {
  std::string system;
  std::vector<std::string> endpoints;
  std::string workloads = "abcdefg";
  std::string control;
  int seconds = 5;
  int warmup = 20;
  int inflight = 64;
  int connections = 8;
  int keys = 1000;
  int value_size = 100;
  int latency_ops = 2000;
  int watch_updates = 1000;
  int ttl_ms = 2000;
  int expiry_runs = 3;
  int lock_clients = 8;
  int kills = 5;
  std::string hold_key;   // internal: the child of workload (e)
  std::string hold_lock;  // internal: the child of workload (h)
};

using bench::split;

using bench::percentile;

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }
double millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

using bench::cpu_seconds;

// What a throughput row measures.
enum class Kind { write, linearizable_read, stale_read };

// One throughput row's figures.
struct Run {
  double ops = 0;
  double client_cpu_pct = 0;
  double servers_cpu_pct = 0;
  double others_cpu_pct = 0;  // neither the load generator nor the servers: noise
};

class Bench {
 public:
  Bench(Options options, std::unique_ptr<peers::Target> target)
      : o_(std::move(options)), target_(std::move(target)), system_(target_->name()) {}

  std::unique_ptr<peers::Connection> connect(int index, std::chrono::milliseconds session = 6000ms) {
    peers::TargetOptions t;
    t.endpoints = o_.endpoints;
    t.index = index;
    t.session_timeout = session;
    return target_->connect(t);
  }

  void report(const std::string& row, double value, const std::string& unit) {
    std::cout << "R " << system_ << " " << row << " " << value << "\n";
    std::cout << "  " << row << ": " << value << " " << unit << std::endl;
  }

  std::string key(int i) const { return "k" + std::to_string(i); }

  // Keeps o_.inflight calls going over o_.connections connections for o_.seconds (after one
  // second of warm-up that is not counted). Slot j runs one call at a time on connection
  // j % C, so each slot's latencies need no lock.
  // A warm-up run (row empty) is not reported.
  template <class Issue>
  bool closed_loop(const std::string& row, std::vector<std::unique_ptr<peers::Connection>>& conns, Issue issue) {
    struct Slot {
      std::vector<double> latencies;
      std::uint64_t done = 0, failed = 0;
    };
    std::vector<Slot> slots(static_cast<std::size_t>(o_.inflight));
    auto warm_until = Clock::now() + 1s;
    auto stop_at = warm_until + std::chrono::seconds(o_.seconds);
    std::latch finished(o_.inflight);
    std::function<void(int, std::uint64_t)> launch = [&](int j, std::uint64_t n) {
      auto sent = Clock::now();
      auto& conn = *conns[static_cast<std::size_t>(j % static_cast<int>(conns.size()))];
      issue(conn, key(static_cast<int>((n * 7919 + static_cast<std::uint64_t>(j)) % static_cast<std::uint64_t>(o_.keys))),
            [&, j, n, sent](bool ok) {
              auto now = Clock::now();
              auto& slot = slots[static_cast<std::size_t>(j)];
              if (sent >= warm_until && now <= stop_at) {
                slot.latencies.push_back(micros(now - sent));
                ++slot.done;
                if (!ok) ++slot.failed;
              }
              if (now < stop_at) launch(j, n + 1);
              else finished.count_down();
            });
    };
    const double cpu0 = cpu_seconds(), servers_cpu0 = peers::servers_cpu_seconds(o_.control);
    const double machine0 = peers::machine_busy_seconds();
    for (int j = 0; j < o_.inflight; ++j) launch(j, 0);
    finished.wait();
    const double cpu = cpu_seconds() - cpu0;
    const double servers_cpu = peers::servers_cpu_seconds(o_.control) - servers_cpu0;
    const double others_cpu = peers::machine_busy_seconds() - machine0 - cpu - servers_cpu;
    if (row.empty()) return true;
    std::vector<double> all;
    std::uint64_t done = 0, failed = 0;
    for (auto& s : slots) {
      all.insert(all.end(), s.latencies.begin(), s.latencies.end());
      done += s.done;
      failed += s.failed;
    }
    const double window = o_.seconds + 1.0;
    last_ = {static_cast<double>(done - failed) / o_.seconds, 100.0 * cpu / window, 100.0 * servers_cpu / window,
             100.0 * std::max(0.0, others_cpu) / window};
    report(row + "_ops", last_.ops, "ops/s");
    report(row + "_p50_us", percentile(all, 0.5), "us");
    report(row + "_p99_us", percentile(all, 0.99), "us");
    report_cpu(row, last_);
    if (failed) report(row + "_failed", static_cast<double>(failed), "calls failed");
    return failed == 0;
  }

  bool open_connections(std::vector<std::unique_ptr<peers::Connection>>& conns) {
    conns.clear();
    for (int i = 0; i < o_.connections; ++i) {
      auto c = connect(i);
      if (!c) return false;
      conns.push_back(std::move(c));
    }
    return true;
  }

  bool prepare() {
    auto c = connect(0);
    if (!c) return false;
    std::vector<std::string> keys;
    for (int i = 0; i < o_.keys; ++i) keys.push_back(key(i));
    keys.push_back("watched");
    return c->prepare_keys(keys, std::string(static_cast<std::size_t>(o_.value_size), 'v'));
  }

  // Each system gets the same warm-up before anything is measured: puts, linearizable and
  // cheapest reads of the keys for --warmup seconds. ZooKeeper's JVMs need it: on a freshly
  // started ensemble the write rate measured right after 5 s of warm-up was about half of what
  // the same ensemble gave 20 s later (the JIT still compiling, on the cores we measure on).
  bool warm_up() {
    std::vector<std::unique_ptr<peers::Connection>> conns;
    if (!open_connections(conns)) return false;
    std::string value(static_cast<std::size_t>(o_.value_size), 'u');
    std::atomic<std::uint64_t> n{0};
    const int seconds = std::exchange(o_.seconds, o_.warmup);
    const bool ok = closed_loop("", conns, [&](peers::Connection& c, const std::string& k, peers::Done done) {
      switch (n++ % 3) {
        case 0: return c.async_put(k, value, std::move(done));
        case 1: return c.async_get(k, true, std::move(done));
        default: return c.async_get(k, false, std::move(done));
      }
    });
    o_.seconds = seconds;
    return ok;
  }

  void report_cpu(const std::string& row, const Run& run) {
    report(row + "_client_cpu_pct", run.client_cpu_pct, "% of one core (load generator)");
    if (o_.control.empty()) return;
    report(row + "_servers_cpu_pct", run.servers_cpu_pct, "% of one core (the three servers)");
    report(row + "_others_cpu_pct", run.others_cpu_pct, "% of one core (every other process of the machine)");
  }

  // One throughput row of the given kind, on fresh connections.
  bool throughput(Kind kind, const std::string& row) {
    std::vector<std::unique_ptr<peers::Connection>> conns;
    if (!open_connections(conns)) return false;
    std::string value(static_cast<std::size_t>(o_.value_size), 'w');
    return closed_loop(row, conns, [&](peers::Connection& c, const std::string& k, peers::Done done) {
      if (kind == Kind::write) c.async_put(k, value, std::move(done));
      else c.async_get(k, kind == Kind::linearizable_read, std::move(done));
    });
  }

  bool writes() { return throughput(Kind::write, "a_write") && remember("a_write"); }

  bool reads() {
    const bool linearizable = throughput(Kind::linearizable_read, "b_read_linearizable") && remember("b_read_linearizable");
    return throughput(Kind::stale_read, "b_read_stale") && remember("b_read_stale") && linearizable;
  }

  bool remember(const std::string& row) {
    measured_[row] = last_;
    return true;
  }

  // (s) saturation: each throughput row again with the connections doubled (the same number
  // in flight on each) until a doubling gains less than 10%, up to 8 times the connections.
  // The last figure is what more clients no longer raise: the system's, not the load
  // generator's. The starting point is (a)'s or (b)'s figure when they ran.
  bool saturation() {
    const Options saved = o_;
    bool ok = true;
    for (const auto& [kind, base, name] : {std::tuple{Kind::write, "a_write", "s_write"},
                                           std::tuple{Kind::linearizable_read, "b_read_linearizable", "s_read_linearizable"},
                                           std::tuple{Kind::stale_read, "b_read_stale", "s_read_stale"}}) {
      const std::string prefix = name;
      o_ = saved;
      Run previous;
      if (auto it = measured_.find(base); it != measured_.end()) {
        previous = it->second;
      } else if (throughput(kind, prefix + "_c" + std::to_string(o_.connections))) {
        previous = last_;
      } else {
        ok = false;
        continue;
      }
      double gain = 0;
      while (o_.connections < 8 * saved.connections) {
        o_.connections *= 2;
        o_.inflight *= 2;
        if (!throughput(kind, prefix + "_c" + std::to_string(o_.connections))) {
          ok = false;
          break;
        }
        gain = previous.ops > 0 ? 100.0 * (last_.ops / previous.ops - 1) : 0;
        previous = last_;
        if (gain < 10) break;
      }
      report(prefix + "_saturated_ops", previous.ops, "ops/s, where the last doubling of connections gained < 10% (or at 8x)");
      report(prefix + "_saturated_connections", o_.connections, "connections");
      report(prefix + "_last_gain_pct", gain, "% from the last doubling");
      report_cpu(prefix + "_saturated", previous);
    }
    o_ = saved;
    return ok;
  }

  bool sequential_writes() {
    auto c = connect(0);
    if (!c) return false;
    std::string value(static_cast<std::size_t>(o_.value_size), 's');
    std::vector<double> latencies;
    int failed = 0;
    for (int i = -100; i < o_.latency_ops; ++i) {  // the first 100 warm up
      auto sent = Clock::now();
      bool ok = c->put(key((i + 100) % o_.keys), value);
      if (i >= 0) latencies.push_back(micros(Clock::now() - sent));
      if (!ok) ++failed;
    }
    report("c_seq_write_p50_us", percentile(latencies, 0.5), "us");
    report("c_seq_write_p99_us", percentile(latencies, 0.99), "us");
    if (failed) report("c_seq_write_failed", failed, "puts failed");
    return failed == 0;
  }

  bool watch_latency() {
    auto writer = connect(0);
    auto watcher = connect(1);
    if (!writer || !watcher) return false;
    std::mutex mutex;
    std::condition_variable cv;
    std::string last_seen;
    if (!watcher->watch("watched", [&](std::optional<std::string> v) {
          std::lock_guard lock(mutex);
          last_seen = v.value_or("");
          cv.notify_all();
        }))
      return false;
    std::vector<double> latencies;
    int missed = 0;
    for (int i = -50; i < o_.watch_updates; ++i) {
      std::string value = "update-" + std::to_string(i + 50);
      auto sent = Clock::now();
      if (!writer->put("watched", value)) {
        ++missed;
        continue;
      }
      std::unique_lock lock(mutex);
      if (!cv.wait_for(lock, 5s, [&] { return last_seen == value; })) {
        ++missed;
        continue;
      }
      if (i >= 0) latencies.push_back(micros(Clock::now() - sent));
    }
    report("d_watch_p50_us", percentile(latencies, 0.5), "us");
    report("d_watch_p99_us", percentile(latencies, 0.99), "us");
    if (missed) report("d_watch_missed", missed, "updates not seen within 5 s");
    return missed == 0;
  }

  // Starts this program as the child of workload (e) or (h) (`role`: --hold or --hold-lock on
  // `name`); true once it printed "ready". `child` is set either way, to be killed.
  bool start_holder(const char* self, const char* role, const std::string& name, pid_t& child) {
    int out[2];
    if (::pipe(out) != 0) return false;
    child = ::fork();
    if (child == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      std::string endpoints;
      for (const auto& e : o_.endpoints) endpoints += (endpoints.empty() ? "" : ",") + e;
      std::string ttl = std::to_string(o_.ttl_ms);
      ::execl(self, self, "--system", o_.system.c_str(), "--endpoints", endpoints.c_str(), "--ttl-ms", ttl.c_str(), role,
              name.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    char buffer[16] = {};
    auto n = ::read(out[0], buffer, sizeof buffer - 1);
    ::close(out[0]);
    return n > 0 && std::strncmp(buffer, "ready", 5) == 0;
  }

  // The child of workload (h): leads (holds lock `name`) until killed.
  int hold_lock(const std::string& name) {
    auto c = connect(3, std::chrono::milliseconds(o_.ttl_ms));
    if (!c || !c->lock(name)) return 1;
    std::cout << "ready" << std::endl;
    for (;;) std::this_thread::sleep_for(1h);
  }

  bool election(const char* self) {
    std::vector<double> delays;
    for (int run = 0; run < o_.expiry_runs; ++run) {
      const std::string name = "elect-" + std::to_string(::getpid()) + "-" + std::to_string(run);
      auto standby = connect(4, std::chrono::milliseconds(o_.ttl_ms));
      if (!standby) return false;
      pid_t child = -1;
      const bool ready = start_holder(self, "--hold-lock", name, child);
      std::mutex mutex;
      std::condition_variable cv;
      bool leads = false, failed = false;
      Clock::time_point leads_at;
      std::thread waiter([&] {
        const bool ok = ready && standby->lock(name);
        std::lock_guard lock(mutex);
        (ok ? leads : failed) = true;
        leads_at = Clock::now();
        cv.notify_all();
      });
      // The standby is in line, and the leader's session settled into its heartbeats.
      std::this_thread::sleep_for(500ms);
      const auto killed_at = Clock::now();
      if (child > 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
      }
      bool done;
      {
        std::unique_lock lock(mutex);
        done = cv.wait_for(lock, std::chrono::milliseconds(o_.ttl_ms * 5), [&] { return leads || failed; });
      }
      if (!done) {
        std::cerr << system_ << ": the standby did not lead within 5 x the session timeout\n";
        waiter.detach();  // it holds references to this frame's state: give up the whole run
        std::_Exit(1);
      }
      waiter.join();
      if (!ready || failed) {
        std::cerr << system_ << ": " << (ready ? "the standby's lock call failed" : "the leader never held its lock")
                  << "\n";
        return false;
      }
      if (leads_at < killed_at) {
        std::cerr << system_ << ": the standby held the lock while the leader was alive\n";
        return false;
      }
      standby->unlock();
      delays.push_back(millis(leads_at - killed_at));
      std::cout << "  election failover run " << run + 1 << ": " << delays.back() << " ms" << std::endl;
    }
    report("h_election_failover_median_ms", percentile(delays, 0.5),
           "ms (kill -9 of the leader -> the standby leads; session " + std::to_string(o_.ttl_ms) + " ms)");
    return true;
  }

  // The child of workload (e): holds an ephemeral key until killed.
  int hold(const std::string& key) {
    auto c = connect(2, std::chrono::milliseconds(o_.ttl_ms));
    if (!c || !c->create_ephemeral(key, "held", std::chrono::milliseconds(o_.ttl_ms))) return 1;
    std::cout << "ready" << std::endl;
    for (;;) std::this_thread::sleep_for(1h);
  }

  bool expiry(const char* self) {
    auto watcher = connect(0);
    if (!watcher) return false;
    std::vector<double> delays;
    for (int run = 0; run < o_.expiry_runs; ++run) {
      std::string k = "eph-" + std::to_string(::getpid()) + "-" + std::to_string(run);
      std::mutex mutex;
      std::condition_variable cv;
      bool present = false, gone = false;
      Clock::time_point gone_at;
      if (!watcher->watch(k, [&](std::optional<std::string> v) {
            std::lock_guard lock(mutex);
            if (v) present = true;
            else if (present && !gone) gone = true, gone_at = Clock::now();
            cv.notify_all();
          }))
        return false;
      pid_t child = -1;
      bool ready = start_holder(self, "--hold", k, child);
      {
        std::unique_lock lock(mutex);
        ready = ready && cv.wait_for(lock, 5s, [&] { return present; });
      }
      // Let the session settle into its steady heartbeats before the kill.
      std::this_thread::sleep_for(500ms);
      auto killed_at = Clock::now();
      if (child > 0) {  // (never kill(-1): that is every process we may signal)
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
      }
      if (!ready) {
        std::cerr << system_ << ": the child never held its ephemeral key\n";
        return false;
      }
      std::unique_lock lock(mutex);
      if (!cv.wait_for(lock, std::chrono::milliseconds(o_.ttl_ms * 5), [&] { return gone; })) {
        std::cerr << system_ << ": the ephemeral key outlived 5 x its timeout\n";
        return false;
      }
      delays.push_back(millis(gone_at - killed_at));
      std::cout << "  expiry run " << run + 1 << ": " << delays.back() << " ms" << std::endl;
    }
    report("e_expiry_median_ms", percentile(delays, 0.5), "ms (configured " + std::to_string(o_.ttl_ms) + " ms)");
    return true;
  }

  bool locks() {
    std::vector<std::unique_ptr<peers::Connection>> conns;
    for (int i = 0; i < o_.lock_clients; ++i) {
      auto c = connect(i);
      if (!c) return false;
      conns.push_back(std::move(c));
    }
    std::atomic<int> holders{0};
    std::atomic<bool> stop{false}, violated{false}, failed{false};
    std::atomic<std::uint64_t> handoffs{0};
    std::atomic<bool> counting{false};
    // A handoff's latency: from the holder starting its unlock to the next holder's lock
    // returning (only the holder writes these, so the lock itself orders the accesses).
    Clock::time_point release_started{};
    std::vector<double> handoff_us;
    std::vector<std::thread> threads;
    for (auto& c : conns) {
      threads.emplace_back([&, conn = c.get()] {
        while (!stop) {
          if (!conn->lock("bench")) return failed.store(true);
          if (holders.fetch_add(1) != 0) violated = true;
          if (counting) {
            ++handoffs;
            if (release_started != Clock::time_point{}) handoff_us.push_back(micros(Clock::now() - release_started));
          }
          release_started = Clock::now();
          holders.fetch_sub(1);
          if (!conn->unlock()) return failed.store(true);
        }
      });
    }
    std::this_thread::sleep_for(1s);  // warm-up
    counting = true;
    auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(o_.seconds));
    counting = false;
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    for (auto& t : threads) t.join();
    report("f_lock_handoffs_per_s", static_cast<double>(handoffs) / secs, "handoffs/s");
    report("f_handoff_p50_us", percentile(handoff_us, 0.5), "us (unlock started -> next lock returned)");
    report("f_handoff_p99_us", percentile(handoff_us, 0.99), "us");
    if (violated) std::cerr << system_ << ": two clients held the lock at once\n";
    if (failed) std::cerr << system_ << ": a lock or unlock call failed\n";
    return !violated && !failed;
  }

  std::string control_file(const std::string& name) const { return o_.control + "/" + name; }

  pid_t read_pid(int server) const {
    std::ifstream in(control_file(std::to_string(server) + ".pid"));
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
  }

  bool wait_until_serving(int server, std::chrono::seconds limit) {
    for (auto until = Clock::now() + limit; Clock::now() < until; std::this_thread::sleep_for(200ms))
      if (target_->serving(o_.endpoints[static_cast<std::size_t>(server)], key(0))) return true;
    return false;
  }

  bool failover() {
    if (o_.control.empty()) {
      std::cerr << "failover needs --control DIR\n";
      return false;
    }
    struct Ack {
      Clock::time_point sent, acked;
    };
    std::mutex mutex;
    std::vector<Ack> acks;
    std::vector<std::string> acknowledged;
    auto record_ack = [&](const std::string& k, Clock::time_point sent) {
      std::lock_guard lock(mutex);
      acks.push_back({sent, Clock::now()});
      acknowledged.push_back(k);
    };
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    std::vector<std::unique_ptr<peers::Connection>> conns;
    for (int c = 0; c < 8; ++c) {
      auto conn = connect(c);
      if (!conn) return false;
      conns.push_back(std::move(conn));
    }
    for (int c = 0; c < 8; ++c) {
      writers.emplace_back([&, c] {
        for (int n = 0; !stop; ++n) {
          std::string k = "f" + std::to_string(::getpid()) + "-" + std::to_string(c) + "-" + std::to_string(n);
          auto sent = Clock::now();
          if (conns[static_cast<std::size_t>(c)]->create(k, "x")) {
            record_ack(k, sent);
          } else {
            std::this_thread::sleep_for(1ms);  // a refusal comes back at once; don't spin
          }
        }
      });
    }
    // The writers above block on calls the dying leader will never answer (an etcd client holds
    // such a call until its 5 s deadline), so they alone would time those timeouts, not the
    // failover. A prober sends a new create every 2 ms whatever is pending; the first write
    // acknowledged after the kill is then the first one the group could take.
    std::atomic<int> probes_pending{0};
    std::thread prober([&] {
      for (int n = 0; !stop; ++n, std::this_thread::sleep_for(2ms)) {
        if (probes_pending > 2000) continue;
        std::string k = "p" + std::to_string(::getpid()) + "-" + std::to_string(n);
        auto sent = Clock::now();
        ++probes_pending;
        conns[static_cast<std::size_t>(n % 8)]->async_create(k, "x", [&, k, sent](bool ok) {
          if (ok) record_ack(k, sent);
          --probes_pending;
        });
      }
    });
    std::vector<double> gaps;
    bool ok = true;
    for (int k = 0; k < o_.kills && ok; ++k) {
      std::this_thread::sleep_for(1s);
      int leader = target_->leader_index(o_.endpoints);
      pid_t pid = leader < 0 ? 0 : read_pid(leader);
      if (leader < 0 || pid <= 0) {
        std::cerr << system_ << ": no leader (or no pid file) before kill " << k + 1 << "\n";
        ok = false;
        break;
      }
      auto killed_at = Clock::now();
      ::kill(pid, SIGKILL);
      std::optional<double> gap;
      for (auto deadline = killed_at + 30s; Clock::now() < deadline && !gap; std::this_thread::sleep_for(1ms)) {
        std::lock_guard lock(mutex);
        for (auto it = acks.rbegin(); it != acks.rend() && it->acked > killed_at; ++it)
          if (it->sent > killed_at && (!gap || millis(it->acked - killed_at) < *gap)) gap = millis(it->acked - killed_at);
      }
      if (!gap) {
        std::cerr << system_ << ": no write acknowledged within 30 s of the kill\n";
        ok = false;
        break;
      }
      gaps.push_back(*gap);
      std::cout << "  kill " << k + 1 << ": server " << leader << " -> first acknowledged write after " << *gap
                << " ms" << std::endl;
      std::string restart = "sh " + control_file("start-" + std::to_string(leader) + ".sh") + " >/dev/null";
      if (std::system(restart.c_str()) != 0 || !wait_until_serving(leader, 60s)) {
        std::cerr << system_ << ": server " << leader << " did not serve again after its restart\n";
        ok = false;
      }
      std::this_thread::sleep_for(1s);  // let it catch up before the next kill
    }
    stop = true;
    for (auto& t : writers) t.join();
    prober.join();
    for (auto until = Clock::now() + 30s; probes_pending > 0 && Clock::now() < until;) std::this_thread::sleep_for(10ms);
    if (!gaps.empty()) {
      report("g_failover_median_ms", percentile(gaps, 0.5), "ms (" + std::to_string(gaps.size()) + " kills)");
      report("g_failover_max_ms", percentile(gaps, 1.0), "ms");
    }
    // Every acknowledged write must be there: read them all back, linearizably. A read that
    // finds nothing may also be a read that failed (a server still catching up after its
    // restart times the connection out), so what is missing is read again, from fresh
    // connections, three times a second apart: only a write missing every time is lost.
    std::vector<std::string> missing;
    {
      std::mutex missing_mutex;
      std::vector<std::unique_ptr<peers::Connection>> readers;
      if (!open_connections(readers)) return false;
      std::atomic<std::size_t> next{0};
      std::vector<std::thread> threads;
      for (auto& r : readers) {
        threads.emplace_back([&, reader = r.get()] {
          for (std::size_t i; (i = next++) < acknowledged.size();) {
            if (reader->get(acknowledged[i])) continue;
            std::lock_guard lock(missing_mutex);
            missing.push_back(acknowledged[i]);
          }
        });
      }
      for (auto& t : threads) t.join();
    }
    const auto first_misses = missing.size();
    for (int attempt = 1; attempt <= 3 && !missing.empty(); ++attempt) {
      std::this_thread::sleep_for(1s);
      auto reader = connect(attempt);
      if (!reader) continue;
      std::erase_if(missing, [&](const std::string& k) { return reader->get(k).has_value(); });
    }
    if (first_misses > missing.size())
      std::cout << "  " << first_misses - missing.size() << " reads that found nothing at first found the write later"
                << std::endl;
    for (const auto& k : missing) std::cerr << system_ << ": acknowledged write " << k << " is missing\n";
    const auto lost = missing.size();
    report("g_acknowledged_writes", static_cast<double>(acknowledged.size()), "writes");
    report("g_lost_writes", static_cast<double>(lost), "acknowledged writes missing");
    return ok && lost == 0;
  }

  int run(const char* self) {
    std::cout << "peer_bench: " << system_ << " at";
    for (const auto& e : o_.endpoints) std::cout << " " << e;
    std::cout << std::endl;
    if (!prepare()) {
      std::cerr << system_ << ": could not create the keys\n";
      return 1;
    }
    if (!warm_up()) std::cerr << system_ << ": the warm-up failed\n";
    bool ok = true;
    for (char w : o_.workloads) {
      bool step = true;
      switch (w) {
        case 'a': step = writes(); break;
        case 'b': step = reads(); break;
        case 'c': step = sequential_writes(); break;
        case 'd': step = watch_latency(); break;
        case 'e': step = expiry(self); break;
        case 'f': step = locks(); break;
        case 'g': step = failover(); break;
        case 'h': step = election(self); break;
        case 's': step = saturation(); break;
        default: std::cerr << "unknown workload " << w << "\n"; return 2;
      }
      if (!step) std::cerr << system_ << ": workload " << w << " did not complete cleanly\n";
      ok &= step;
    }
    return ok ? 0 : 1;
  }

 private:
  Options o_;
  Run last_;                             // the last throughput row's figures
  std::map<std::string, Run> measured_;  // (a)'s and (b)'s, for (s)
  std::unique_ptr<peers::Target> target_;
  std::string system_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return std::cerr << flag << " needs a value\n", 2;
    std::string v = argv[i + 1];
    if (flag == "--system") o.system = v;
    else if (flag == "--endpoints") o.endpoints = split(v, ',');
    else if (flag == "--workloads") o.workloads = v;
    else if (flag == "--control") o.control = v;
    else if (flag == "--seconds") o.seconds = std::stoi(v);
    else if (flag == "--warmup") o.warmup = std::stoi(v);
    else if (flag == "--inflight") o.inflight = std::stoi(v);
    else if (flag == "--connections") o.connections = std::stoi(v);
    else if (flag == "--keys") o.keys = std::stoi(v);
    else if (flag == "--value-size") o.value_size = std::stoi(v);
    else if (flag == "--latency-ops") o.latency_ops = std::stoi(v);
    else if (flag == "--watch-updates") o.watch_updates = std::stoi(v);
    else if (flag == "--ttl-ms") o.ttl_ms = std::stoi(v);
    else if (flag == "--expiry-runs") o.expiry_runs = std::stoi(v);
    else if (flag == "--lock-clients") o.lock_clients = std::stoi(v);
    else if (flag == "--kills") o.kills = std::stoi(v);
    else if (flag == "--hold") o.hold_key = v;
    else if (flag == "--hold-lock") o.hold_lock = v;
    else return std::cerr << "unknown option " << flag << "\n", 2;
  }
  if (o.endpoints.empty() || o.inflight < 1 || o.connections < 1 || o.keys < 1)
    return std::cerr << "usage: see the top of bench/peers/peer_bench.cpp\n", 2;
  std::unique_ptr<peers::Target> target;
  if (o.system == "park") target = peers::make_park_target();
  else if (o.system == "zookeeper") target = peers::make_zookeeper_target();
  else if (o.system == "etcd") target = peers::make_etcd_target();
  else return std::cerr << "unknown system '" << o.system << "' (park, zookeeper or etcd)\n", 2;
  if (!target) return 3;  // not built here; the factory said why
  Bench bench(o, std::move(target));
  if (!o.hold_key.empty()) return bench.hold(o.hold_key);
  if (!o.hold_lock.empty()) return bench.hold_lock(o.hold_lock);
  return bench.run("/proc/self/exe");
}
