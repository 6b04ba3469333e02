// worker_bench: the contractor/worker figures of issue 4. Two roles:
//
//   worker_bench worker --config F [--capacity N]     a worker of type "bench"
//   worker_bench run --config F [--workers N] [--roundtrips N] [--tiny N] [--cpu-tasks N] [--cpu-ms N]
//
// `run` expects the workers to be running already (bench/workers.sh starts them) and prints:
// - empty-task round trip: one task at a time to one worker, contractor -> worker -> back,
//   waited for with wait() and, alternately, with wait_for();
// - tiny tasks per second through run_job over every registered worker;
// - a CPU-bound job (each task spins for --cpu-ms) on the first worker alone, then on the
//   first two, and the speedup.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/contractor.hpp"
#include "percentile.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using fourinone::WareHouse;

// Spins the CPU for about `ms` and returns something that depends on every step.
std::uint64_t spin(std::int64_t ms) {
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  std::uint64_t x = 88172645463325252ull;
  while (Clock::now() < until) {
    for (int i = 0; i < 4096; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
  }
  return x;
}

class BenchWorker : public fourinone::MigrantWorker {
 public:
  using MigrantWorker::MigrantWorker;

 protected:
  WareHouse do_task(const WareHouse& input) override {
    if (auto ms = input.get_int("spin"); ms.ok()) return WareHouse{{"x", static_cast<std::int64_t>(spin(*ms) >> 1)}};
    return input;  // empty and tiny tasks: the input back
  }
};

class BenchContractor : public fourinone::Contractor {
 public:
  using Contractor::Contractor;
  WareHouse give_task(const WareHouse& input) override { return input; }
};

using bench::percentile;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

fourinone::JobOptions quiet() {
  fourinone::JobOptions o;
  o.progress_line = false;
  o.speculative = false;  // measure the plain schedule
  return o;
}

int run(const fourinone::Config& config, int roundtrips, int tiny, int cpu_tasks, int cpu_ms) {
  BenchContractor contractor(config);
  auto workers = contractor.get_waiting_workers("bench").value();
  if (workers.empty()) {
    std::fprintf(stderr, "no workers of type bench are registered\n");
    return 1;
  }
  std::printf("worker_bench: %zu workers registered\n", workers.size());

  // 1. Round trip of an empty task, one at a time. Alternately waited for with wait() (which
  //    yields briefly before it sleeps) and wait_for() (which sleeps at once), so that both
  //    see the same noise.
  {
    std::vector<double> spin_us, sleep_us;
    for (int i = 0; i < 2 * roundtrips + 200; ++i) {
      const auto sent = Clock::now();
      auto result = workers[0].do_task(WareHouse{});
      const bool spin = i % 2 == 0;
      if (!spin) result.wait_for(std::chrono::seconds(10));
      WareHouse out = result.wait();
      if (!out.ready()) {
        std::fprintf(stderr, "round trip failed: %s\n", out.error().c_str());
        return 1;
      }
      if (i < 200) continue;  // warm-up
      (spin ? spin_us : sleep_us).push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
    }
    std::printf("%-40s p50 %8.1f us   p99 %8.1f us   (%d tasks)\n", "empty task round trip, wait()",
                percentile(spin_us, 0.5), percentile(spin_us, 0.99), roundtrips);
    std::printf("%-40s p50 %8.1f us   p99 %8.1f us   (%d tasks)\n", "empty task round trip, wait_for()",
                percentile(sleep_us, 0.5), percentile(sleep_us, 0.99), roundtrips);
  }

  // 2. Tiny tasks through run_job over every worker.
  {
    std::vector<WareHouse> tasks;
    for (int i = 0; i < tiny; ++i) tasks.push_back(WareHouse{{"n", i}});
    const auto start = Clock::now();
    auto job = contractor.run_job("bench", tasks, quiet());
    const double s = seconds_since(start);
    if (!job.ok() || job->failed != 0) {
      std::fprintf(stderr, "tiny job failed: %s\n", job.ok() ? "some tasks failed" : job.status().to_string().c_str());
      return 1;
    }
    std::printf("%-40s %10.0f tasks/s   (%d tasks, %zu workers, %.2f s)\n", "tiny tasks through run_job",
                tiny / s, tiny, job->tasks_per_worker.size(), s);
  }

  // 3. CPU-bound speedup from one worker to two. The tasks go to the workers by hand, one in
  //    flight per worker (what run_job does for capacity-1 workers), so that the first run
  //    can be held to one worker.
  if (workers.size() >= 2) {
    auto timed = [&](std::size_t worker_count) {
      const auto start = Clock::now();
      std::vector<fourinone::TaskResult> running(worker_count);
      std::vector<bool> busy(worker_count, false);
      int sent = 0, done = 0;
      while (done < cpu_tasks) {
        for (std::size_t w = 0; w < worker_count; ++w) {
          if (busy[w] && running[w].done()) {
            busy[w] = false;
            ++done;
          }
          if (!busy[w] && sent < cpu_tasks) {
            running[w] = workers[w].do_task(WareHouse{{"spin", cpu_ms}});
            busy[w] = true;
            ++sent;
          }
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      return seconds_since(start);
    };
    const double one = timed(1);
    const double two = timed(2);
    std::printf("%-40s 1 worker %.2f s   2 workers %.2f s   speedup %.2fx   (%d tasks of %d ms)\n",
                "CPU-bound job", one, two, one / two, cpu_tasks, cpu_ms);
  }
  contractor.exit();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: worker_bench worker|run --config F [options]\n");
    return 2;
  }
  const std::string role = argv[1];
  std::string config_path = "config.xml";
  int capacity = 1, roundtrips = 5000, tiny = 50000, cpu_tasks = 40, cpu_ms = 50;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string v = argv[i + 1];
    if (flag == "--config") config_path = v;
    else if (flag == "--capacity") capacity = std::stoi(v);
    else if (flag == "--roundtrips") roundtrips = std::stoi(v);
    else if (flag == "--tiny") tiny = std::stoi(v);
    else if (flag == "--cpu-tasks") cpu_tasks = std::stoi(v);
    else if (flag == "--cpu-ms") cpu_ms = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  auto config = fourinone::load_config(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().to_string().c_str());
    return 2;
  }
  if (role == "worker") {
    fourinone::WorkerOptions options;
    options.capacity = static_cast<std::uint32_t>(capacity);
    BenchWorker worker(config.value(), options);
    fourinone::Status s = worker.wait_working("127.0.0.1", 0, "bench");
    if (!s.ok()) std::fprintf(stderr, "worker: %s\n", s.to_string().c_str());
    return s.ok() ? 0 : 1;
  }
  if (role == "run") return run(config.value(), roundtrips, tiny, cpu_tasks, cpu_ms);
  std::fprintf(stderr, "unknown role %s\n", role.c_str());
  return 2;
}
