// mq_bench: the side-by-side message-queue load generator. The same workloads against our
// queue (a park group), Redis lists and ZooKeeper's queue recipe, through bench/mq/target.hpp;
// bench/mq.sh starts each system and runs this once per system.
//
//   mq_bench --system fourinone --config FILE | --system redis --server HOST:PORT
//            | --system zookeeper --endpoints H:P,H:P,H:P
//            [--workloads one_to_one,four_to_four,pubsub] [--seconds 5] [--warmup 1]
//            [--window 256] [--batch 64] [--wait-ms 100] [--size 100] [--rate 500]
//            [--max-backlog 10000] [--drain-seconds 30] [--check]
//
// --check: exit 0 if the target is built in (3 if not) without connecting to anything.
//
// one_to_one: 1 producer + 1 consumer on a queue; four_to_four: 4 + 4. Each producer keeps
//   --window sends outstanding; each consumer receives up to --batch messages (waiting up to
//   --wait-ms), then acks them. The figure is messages received and acked per second, end to
//   end, over --seconds after --warmup.
// pubsub: one publisher at --rate messages/s, one subscriber (receive, ack); the latency of a
//   message is its receipt minus its send (the send time is in the body; same host,
//   steady_clock): p50 and p99 over the messages sent and received in the window.
//
// DESIGN: every message is "<producer>:<sequence>:<send ns>:" padded to --size bytes (100), so
// the consumer side checks each one against what was sent (ledger.hpp). Producers pause while
// --max-backlog messages are issued and not yet received, so the channel stays bounded and
// the drain short: the figure is the rate the system sustains end to end, not how fast it
// swallows sends into a growing queue. After the window the producers stop and wait for their
// sends; the consumers go on until every acknowledged send was received (or --drain-seconds
// passed): "lost" counts acknowledged sends never received. A producer or consumer is one
// connection of its own; each runs on a thread of its own, blocking calls being what a
// consumer of each system does.
//
// Prints "<workload>_<figure>: <value> <unit>" lines (mq.sh reads them) after one line saying
// how the target's clients use the system. Exit status: 0 measured cleanly; 1 a call failed,
// a message was lost or unexpected, or the system could not be reached; 2 bad usage; 3 the
// target was not built in. Nothing here asserts a timing.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <semaphore>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/cpu_time.hpp"
#include "bench/percentile.hpp"
#include "bench/split.hpp"
#include "ledger.hpp"
#include "target.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using namespace mqbench;

struct Options {
  std::string system;
  TargetOptions target;
  std::vector<std::string> workloads = {"one_to_one", "four_to_four", "pubsub"};
  double seconds = 5;
  double warmup = 1;
  std::chrono::milliseconds wait{100};
  std::size_t size = 100;
  double rate = 500;
  std::uint64_t max_backlog = 10000;
  double drain_seconds = 30;
  bool check = false;
};

struct Workload {
  std::string name;
  Flow flow = Flow::queue;
  int producers = 1;
  int consumers = 1;
  double rate = 0;  // sends per second of each producer; 0: as fast as the window allows
};

constexpr std::ptrdiff_t kMaxWindow = 1 << 16;
using Window = std::counting_semaphore<kMaxWindow>;

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "mq_bench: " << why << "\n(usage: see the top of bench/mq/mq_bench.cpp)\n";
  std::exit(2);
}

double number(const std::string& flag, const std::string& text, double low, double high) {
  try {
    std::size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && v >= low && v <= high) return v;
  } catch (const std::exception&) {
  }
  usage(flag + " wants a number from " + std::to_string(low) + " to " + std::to_string(high) + ", not '" + text + "'");
}

using bench::split;

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--check") {
      o.check = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) usage(flag + " wants a value");
    std::string v = argv[i + 1];
    if (flag == "--system") o.system = v;
    else if (flag == "--config") o.target.config = v;
    else if (flag == "--server") {
      auto colon = v.rfind(':');
      if (colon == std::string::npos || colon == 0) usage("--server wants HOST:PORT");
      o.target.host = v.substr(0, colon);
      o.target.port = static_cast<std::uint16_t>(number("--server's port", v.substr(colon + 1), 1, 65535));
    } else if (flag == "--endpoints") o.target.endpoints = split(v, ',');
    else if (flag == "--workloads") o.workloads = split(v, ',');
    else if (flag == "--seconds") o.seconds = number(flag, v, 0.1, 3600);
    else if (flag == "--warmup") o.warmup = number(flag, v, 0, 3600);
    else if (flag == "--window") o.target.window = static_cast<std::size_t>(number(flag, v, 1, kMaxWindow));
    else if (flag == "--batch") o.target.batch = static_cast<std::size_t>(number(flag, v, 1, 100000));
    else if (flag == "--wait-ms") o.wait = std::chrono::milliseconds(static_cast<long>(number(flag, v, 1, 60000)));
    else if (flag == "--size") o.size = static_cast<std::size_t>(number(flag, v, 1, 1 << 20));
    else if (flag == "--rate") o.rate = number(flag, v, 1, 1e6);
    else if (flag == "--max-backlog") o.max_backlog = static_cast<std::uint64_t>(number(flag, v, 1, 1e9));
    else if (flag == "--drain-seconds") o.drain_seconds = number(flag, v, 0, 3600);
    else usage("unknown option " + flag);
  }
  if (o.check) return o;
  if (o.system == "fourinone" && o.target.config.empty()) usage("--system fourinone wants --config FILE");
  if (o.system == "redis" && o.target.host.empty()) usage("--system redis wants --server HOST:PORT");
  if (o.system == "zookeeper" && o.target.endpoints.empty()) usage("--system zookeeper wants --endpoints H:P,...");
  for (const auto& w : o.workloads)
    if (w != "one_to_one" && w != "four_to_four" && w != "pubsub") usage("unknown workload " + w);
  return o;
}

std::int64_t now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

// One workload against one target: its connections, threads and figures.
class Run {
 public:
  Run(const Options& o, Target& target, Workload w)
      : o_(o), target_(target), w_(std::move(w)), ledger_(static_cast<std::size_t>(w_.producers)) {}

  // Runs it and prints its lines; false when something failed or was lost.
  bool execute() {
    std::string channel = w_.name + "-" + std::to_string(::getpid());
    std::cout << "mq_bench: " << target_.name() << " " << w_.name << " (" << w_.producers << " producer(s), "
              << w_.consumers << " consumer(s)): " << target_.describe(w_.flow) << std::endl;
    // Consumers first: a topic subscription sees only what is published after it was made.
    for (int i = 0; i < w_.consumers; ++i) {
      auto c = target_.consumer(w_.flow, channel, i);
      if (!c) return fail("cannot open consumer " + std::to_string(i));
      consumers_.push_back(std::move(c));
    }
    for (int i = 0; i < w_.producers; ++i) {
      auto p = target_.producer(w_.flow, channel, w_.consumers + i);
      if (!p) return fail("cannot open producer " + std::to_string(i));
      producers_.push_back(std::move(p));
      windows_.push_back(std::make_unique<Window>(static_cast<std::ptrdiff_t>(o_.target.window)));
    }
    samples_.resize(consumers_.size());
    consumers_running_ = static_cast<int>(consumers_.size());

    std::vector<std::thread> consumer_threads, producer_threads;
    for (std::size_t i = 0; i < consumers_.size(); ++i) consumer_threads.emplace_back([this, i] { consume(i); });
    for (std::size_t i = 0; i < producers_.size(); ++i) producer_threads.emplace_back([this, i] { produce(i); });

    sleep_unless_failed(o_.warmup);
    const auto t0 = Clock::now();
    const double cpu0 = bench::cpu_seconds();
    const std::uint64_t consumed0 = consumed_, acked0 = ledger_.sends_acked();
    measure_from_ns_ = now_ns();
    sleep_unless_failed(o_.seconds);
    measure_until_ns_ = now_ns();
    const auto t1 = Clock::now();
    const double cpu1 = bench::cpu_seconds();
    const std::uint64_t consumed1 = consumed_, acked1 = ledger_.sends_acked();

    // Drain: the producers stop and wait for their sends, the consumers take what is left
    // (even after a failed call, as long as a consumer is still taking).
    drain_deadline_ = t1 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.drain_seconds));
    stop_producers_ = true;
    for (auto& t : producer_threads) t.join();
    while (ledger_.unreceived() > 0 && consumers_running_ > 0 && Clock::now() < drain_deadline_.load())
      std::this_thread::sleep_for(5ms);
    const auto drained = Clock::now();
    // Only a drain that every consumer saw through can call a missing message lost.
    const bool consumers_survived = consumers_running_ == static_cast<int>(consumers_.size());
    stop_consumers_ = true;
    for (auto& t : consumer_threads) t.join();

    const double window = std::chrono::duration<double>(t1 - t0).count();
    const std::string& p = w_.name;
    if (w_.flow == Flow::topic) {
      std::vector<double> all;
      for (auto& s : samples_) all.insert(all.end(), s.begin(), s.end());
      line(p + "_p50_us", bench::percentile(all, 0.5), "us (publish -> received)");
      line(p + "_p99_us", bench::percentile(all, 0.99), "us");
      line(p + "_samples", static_cast<double>(all.size()), "messages sent and received in the window", 0);
    }
    line(p + "_msgs_per_s", static_cast<double>(consumed1 - consumed0) / window, "msg/s (received and acked)");
    line(p + "_sends_per_s", static_cast<double>(acked1 - acked0) / window, "msg/s (sends acknowledged)");
    line(p + "_client_cpu_pct", 100.0 * (cpu1 - cpu0) / window, "% of one core (mq_bench itself)");
    line(p + "_sent", static_cast<double>(ledger_.sends_acked()), "messages acknowledged in all", 0);
    line(p + "_received", static_cast<double>(ledger_.received()), "distinct messages received in all", 0);
    line(p + "_drain_s", std::chrono::duration<double>(drained - t1).count(), "s after the window until all were received");
    if (consumers_survived) line(p + "_lost", static_cast<double>(ledger_.unreceived()), "acknowledged sends never received", 0);
    else line(p + "_undrained", static_cast<double>(ledger_.unreceived()), "acknowledged sends not received: a consumer failed, so not counted as lost", 0);
    line(p + "_duplicates", static_cast<double>(ledger_.duplicates()), "messages received again", 0);
    line(p + "_unexpected", static_cast<double>(ledger_.unexpected()), "received, never sent", 0);
    line(p + "_send_failures", static_cast<double>(ledger_.send_failures()), "sends refused or failed", 0);
    bool clean = !failed_ && ledger_.unreceived() == 0 && ledger_.unexpected() == 0 && ledger_.send_failures() == 0;
    if (failed_) std::cerr << "mq_bench: " << target_.name() << " " << p << ": " << first_error() << "\n";
    if (ledger_.unreceived() > 0 && consumers_survived)
      std::cerr << "mq_bench: " << target_.name() << " " << p << ": " << ledger_.unreceived()
                << " acknowledged messages not received " << o_.drain_seconds << " s after the window\n";
    return clean;
  }

 private:
  void produce(std::size_t index) {
    Producer& producer = *producers_[index];
    Window& window = *windows_[index];
    const auto p = static_cast<std::uint32_t>(index);
    const auto interval = w_.rate > 0 ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1 / w_.rate))
                                      : Clock::duration::zero();
    auto next = Clock::now();
    for (std::uint64_t n = 0; !stop_producers_; ++n) {
      while (!stop_producers_ && ledger_.backlog() >= o_.max_backlog) std::this_thread::sleep_for(200us);
      if (interval != Clock::duration::zero()) {
        std::this_thread::sleep_until(next);
        // After a stall, go on at the rate rather than catching up in a burst.
        next = std::max(next + interval, Clock::now() - 10 * interval);
      }
      bool slot = false;
      while (!stop_producers_ && !(slot = window.try_acquire_for(10ms))) {
      }
      if (!slot) break;  // (with a slot it sends even when told to stop: the drain waits for it)
      ledger_.issued(p, n);
      std::string body = make_body({p, n, now_ns()}, o_.size);
      producer.async_send(std::move(body), [this, p, n, &window](bool ok, const std::string& error) {
        ledger_.answered(p, n, ok);
        if (!ok) note_error(error);
        window.release();
      });
    }
    // Every send outstanding must be answered before the producer goes (its callbacks use it).
    for (std::size_t k = 0; k < o_.target.window; ++k) {
      if (!window.try_acquire_until(std::max(drain_deadline_.load(), Clock::now() + 10s))) {
        std::cerr << "mq_bench: " << target_.name() << " left sends unanswered\n";
        std::fflush(nullptr);
        ::_exit(1);  // callbacks may still come: nothing can be torn down safely
      }
    }
  }

  void consume(std::size_t index) {
    struct Leaving {
      std::atomic<int>& running;
      ~Leaving() { --running; }
    } leaving{consumers_running_};
    Consumer& consumer = *consumers_[index];
    std::vector<std::string> bodies;
    while (!stop_consumers_) {
      bodies.clear();
      std::string error = consumer.receive(o_.target.batch, o_.wait, bodies);
      if (!error.empty()) return note_error(error);
      const std::int64_t now = now_ns();
      for (const std::string& body : bodies) {
        ledger_.received(body);
        if (w_.flow != Flow::topic) continue;
        auto stamp = read_body(body);
        if (stamp && stamp->sent_ns >= measure_from_ns_ && now <= measure_until_ns_)
          samples_[index].push_back(static_cast<double>(now - stamp->sent_ns) / 1000.0);
      }
      error = consumer.ack();
      if (!error.empty()) return note_error(error);
      consumed_ += bodies.size();
    }
  }

  void sleep_unless_failed(double seconds) {
    auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    while (!failed_ && Clock::now() < until) std::this_thread::sleep_for(10ms);
  }

  // "name: value unit"; counts (whole numbers) without decimals.
  void line(const std::string& name, double value, const std::string& unit, int decimals = 1) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    std::cout << name << ": " << text << " " << unit << std::endl;
  }

  void note_error(const std::string& error) {
    std::lock_guard lock(mutex_);
    if (first_error_.empty()) first_error_ = error;
    failed_ = true;
  }
  std::string first_error() {
    std::lock_guard lock(mutex_);
    return first_error_;
  }
  bool fail(const std::string& why) {
    std::cerr << "mq_bench: " << target_.name() << " " << w_.name << ": " << why << "\n";
    return false;
  }

  const Options& o_;
  Target& target_;
  Workload w_;
  Ledger ledger_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  std::vector<std::unique_ptr<Producer>> producers_;
  std::vector<std::unique_ptr<Window>> windows_;  // one per producer
  std::vector<std::vector<double>> samples_;       // per consumer: latencies in us
  std::atomic<std::uint64_t> consumed_{0};         // received and acked
  std::atomic<bool> stop_producers_{false}, stop_consumers_{false}, failed_{false};
  std::atomic<int> consumers_running_{0};
  std::atomic<std::int64_t> measure_from_ns_{INT64_MAX}, measure_until_ns_{INT64_MAX};
  std::atomic<Clock::time_point> drain_deadline_{Clock::time_point::max()};
  std::mutex mutex_;
  std::string first_error_;  // guarded by mutex_
};

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_options(argc, argv);
  std::unique_ptr<Target> target;
  if (o.system == "fourinone") target = make_fourinone_target(o.target);
  else if (o.system == "redis") target = make_redis_target(o.target);
  else if (o.system == "zookeeper") target = make_zookeeper_target(o.target);
  else usage("--system is fourinone, redis or zookeeper");
  if (!target) return 3;  // not built in; the factory said why
  if (o.check) return 0;

  bool clean = true;
  for (const std::string& name : o.workloads) {
    Workload w{name};
    if (name == "four_to_four") w.producers = w.consumers = 4;
    if (name == "pubsub") {
      w.flow = Flow::topic;
      w.rate = o.rate;
    }
    clean &= Run(o, *target, w).execute();
  }
  return clean ? 0 : 1;
}
