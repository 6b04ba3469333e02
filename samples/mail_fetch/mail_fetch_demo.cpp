// The mail-fetch farm (SCENARIOS.md, scenario 1): many mailboxes, a farm of fetchers, and
// machines that die or join while the job runs.
//
//   mail_fetch_demo worker     [--config F] [--host H] [--port P]
//   mail_fetch_demo contractor [--config F] [--mailboxes N] [--workers-expected W]
//
// Task K is "fetch mailbox K". The worker simulates the fetch deterministically: it takes
// 20-60 ms and finds a message count and a checksum that depend only on K. So the task is
// idempotent (run_job may run it twice: after a worker death, a timeout, or as a speculative
// copy of a straggler) and the contractor can check every answer against a computation of
// its own.
//
// The contractor runs all tasks with run_job (task_timeout 3 s) and prints the job's progress
// as the park publishes it (a second connection watches the job's node in "fourinone.jobs",
// which any other process could watch too). Kill a worker with kill -9 or start a new one
// during the run: the dead one's tasks run again elsewhere, the new one gets work at once.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "fourinone/contractor.hpp"
#include "fourinone/park.hpp"
#include "fourinone/worker.hpp"

namespace {

constexpr const char* kType = "mailfetch";

// What fetching mailbox K gives, everywhere the same: the worker's simulation and the check.
struct Fetch {
  std::int64_t delay_ms = 0, messages = 0, checksum = 0;
};

std::uint64_t mix(std::uint64_t x) {  // splitmix64: a cheap, well-spread hash of K
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Fetch simulate_fetch(std::int64_t mailbox) {
  const std::uint64_t h = mix(static_cast<std::uint64_t>(mailbox));
  Fetch f;
  f.delay_ms = 20 + static_cast<std::int64_t>(h % 41);          // 20..60 ms of "network"
  f.messages = static_cast<std::int64_t>((h >> 16) % 25);       // 0..24 new messages
  std::uint64_t sum = 0;
  for (std::int64_t m = 0; m < f.messages; ++m) sum = mix(sum ^ (h + static_cast<std::uint64_t>(m)));  // the headers
  f.checksum = static_cast<std::int64_t>(sum >> 1);             // fits an int64
  return f;
}

class MailFetcher : public fourinone::MigrantWorker {
 public:
  using MigrantWorker::MigrantWorker;

 protected:
  fourinone::WareHouse do_task(const fourinone::WareHouse& in) override {
    const std::int64_t mailbox = in.get_int("mailbox").value();
    const Fetch f = simulate_fetch(mailbox);
    // The "fetch": wait in small steps, so an interrupt (timeout, or a faster copy of this
    // task finishing elsewhere) stops it promptly. A cut-short fetch returns no result.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(f.delay_ms);
    while (std::chrono::steady_clock::now() < until) {
      if (is_interrupted()) throw std::runtime_error("fetch of mailbox " + std::to_string(mailbox) + " interrupted");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return fourinone::WareHouse{{"mailbox", mailbox}, {"messages", f.messages}, {"checksum", f.checksum}};
  }
};

class MailContractor : public fourinone::Contractor {
 public:
  using Contractor::Contractor;

  fourinone::JobResult job;

  // Input: {mailboxes: N}. Runs the job; main() checks it.
  fourinone::WareHouse give_task(const fourinone::WareHouse& in) override {
    const std::int64_t n = in.get_int("mailboxes").value();
    std::vector<fourinone::WareHouse> tasks;
    for (std::int64_t k = 0; k < n; ++k) tasks.push_back(fourinone::WareHouse{{"mailbox", k}});

    fourinone::JobOptions options;
    options.task_timeout = std::chrono::seconds(3);  // a fetch stuck this long is given to another worker
    options.progress_line = false;                   // we print our own, from the park
    options.progress_node = std::string(kType) + "-" + std::to_string(::getpid());
    std::atomic<bool> finished{false};
    std::thread progress([&] { watch_progress(options.progress_node, finished); });
    auto result = run_job(kType, tasks, options);
    finished = true;
    progress.join();
    job = std::move(result).value();
    return fourinone::WareHouse{{"progress_node", job.progress_node}};
  }

 private:
  // Prints the job's progress node whenever it changes (at most twice a second). It uses its
  // own park connection: any process could do the same with the node's name.
  void watch_progress(const std::string& node, const std::atomic<bool>& finished) {
    auto park = fourinone::Park::connect(config());
    if (!park.ok()) return;
    std::uint64_t version = 0;
    while (!finished) {
      auto latest = park.value()->get_latest(fourinone::kJobDomain, node, version, std::chrono::milliseconds(500));
      if (latest.ok() && latest.value() && !finished) {
        version = latest.value()->version;
        std::cout << "progress: " << latest.value()->value << std::endl;
        for (int i = 0; i < 50 && !finished; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  std::string config_path = "config.xml", host = "127.0.0.1";
  int port = 0, expected = 1;
  std::int64_t mailboxes = 600;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    const std::string value = i + 1 < argc ? argv[++i] : "";
    if (flag == "--config") config_path = value;
    else if (flag == "--host") host = value;
    else if (flag == "--port") port = std::stoi(value);
    else if (flag == "--mailboxes") mailboxes = std::stoll(value);
    else if (flag == "--workers-expected") expected = std::stoi(value);
    else return std::cerr << "unknown flag " << flag << "\n", 2;
  }
  if (role != "worker" && role != "contractor") {
    std::cerr << "usage: mail_fetch_demo worker [--config F] [--host H] [--port P]\n"
                 "       mail_fetch_demo contractor [--config F] [--mailboxes N] [--workers-expected W]\n";
    return 2;
  }
  try {
    fourinone::Config config = fourinone::load_config(config_path).value();
    if (role == "worker") {
      MailFetcher worker(config);
      fourinone::Status s = worker.wait_working(host, static_cast<std::uint16_t>(port), kType);
      if (!s.ok()) return std::cerr << "worker: " << s.to_string() << "\n", 1;
      return 0;
    }

    MailContractor contractor(config);
    for (int i = 0; i < 100 && contractor.get_waiting_workers(kType).value().size() < static_cast<std::size_t>(expected); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::cout << "fetching " << mailboxes << " mailboxes with " << contractor.get_waiting_workers(kType).value().size()
              << " worker(s)" << std::endl;
    (void)contractor.give_task(fourinone::WareHouse{{"mailboxes", mailboxes}});
    const fourinone::JobResult& job = contractor.job;

    std::cout << "done in " << job.elapsed.count() << " ms: " << job.failed << " failed, " << job.reruns
              << " rerun(s) (lost workers, timeouts, speculative copies)\n";
    std::cout << "tasks per worker:\n";
    for (const auto& [worker, n] : job.tasks_per_worker) std::cout << "  " << worker << ": " << n << "\n";

    // Every answer must be what this process computes for the same mailbox.
    std::int64_t wrong = 0;
    for (std::int64_t k = 0; k < mailboxes; ++k) {
      const fourinone::WareHouse& r = job.results[static_cast<std::size_t>(k)];
      const Fetch want = simulate_fetch(k);
      const bool same = r.ready() && r.get_int("mailbox").value_or(-1) == k &&
                        r.get_int("messages").value_or(-1) == want.messages &&
                        r.get_int("checksum").value_or(-1) == want.checksum;
      if (!same && ++wrong <= 5) std::cout << "  mailbox " << k << ": got " << r.to_string() << "\n";
    }
    if (wrong > 0) {
      std::cout << wrong << " of " << mailboxes << " mailboxes are missing or differ from a single-process run\n";
      return 1;
    }
    std::cout << "all " << mailboxes << " mailboxes fetched, results match a single-process run\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << role << ": " << e.what() << "\n";
    return 1;
  }
}
