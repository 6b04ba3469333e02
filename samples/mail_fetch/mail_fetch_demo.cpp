// The mail-fetch farm (SCENARIOS.md, scenario 1): many mailboxes, a farm of fetchers, and
// machines that die or join while the job runs.
//
//   mail_fetch_demo worker     [--config F] [--host H] [--port P]
//   mail_fetch_demo contractor [--config F] [--mailboxes N] [--workers-expected W] [--rounds R]
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
//
// On the library's recipes (recipes.hpp): workers are instances of the registry service
// "workers.mailfetch" (ServiceRegistry, with their capacity and load), and a fetch round is
// run under the fair lock "mailfetch.rounds" (DistributedLock). Several contractors may be
// started for safety, as with a cron job on two machines: they take turns, one round at a
// time, and each records its round in the park node mailfetch/rounds with fenced_update, so
// a contractor that lost the lock while paused cannot write over a newer round.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "fourinone/contractor.hpp"
#include "fourinone/lock.hpp"
#include "fourinone/park.hpp"
#include "fourinone/registry.hpp"
#include "fourinone/worker.hpp"

namespace {

constexpr const char* kType = "mailfetch";
constexpr const char* kRoundLock = "mailfetch.rounds";      // one fetch round at a time
constexpr const char* kRoundsDomain = "mailfetch";          // the record of rounds: mailfetch/rounds
constexpr const char* kRoundsNode = "rounds";

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

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t total_messages(const fourinone::JobResult& job) {
  std::int64_t n = 0;
  for (const auto& r : job.results) n += r.get_int("messages").value_or(0);
  return n;
}

// The farm as every contractor sees it: the registry's instances of the workers' service.
void print_registry(fourinone::Park& park) {
  fourinone::ServiceRegistry registry(park);
  auto live = registry.instances(fourinone::worker_service(kType));
  if (!live.ok()) return;
  std::cout << live->size() << " worker(s) in the registry service " << fourinone::worker_service(kType) << ":\n";
  for (const auto& in : *live) {
    std::cout << "  " << in.address << " capacity=" << in.metadata.at("capacity") << " load=" << in.metadata.at("load")
              << "\n";
  }
}

// One fetch round: every mailbox, checked against this process's own computation.
int run_round(MailContractor& contractor, std::int64_t mailboxes) {
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
  std::cout << "all " << mailboxes << " mailboxes fetched, results match a single-process run" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  std::string config_path = "config.xml", host = "127.0.0.1";
  int port = 0, expected = 1, rounds = 1;
  std::int64_t mailboxes = 600;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    const std::string value = i + 1 < argc ? argv[++i] : "";
    if (flag == "--config") config_path = value;
    else if (flag == "--host") host = value;
    else if (flag == "--port") port = std::stoi(value);
    else if (flag == "--mailboxes") mailboxes = std::stoll(value);
    else if (flag == "--workers-expected") expected = std::stoi(value);
    else if (flag == "--rounds") rounds = std::stoi(value);
    else return std::cerr << "unknown flag " << flag << "\n", 2;
  }
  if (role != "worker" && role != "contractor") {
    std::cerr << "usage: mail_fetch_demo worker [--config F] [--host H] [--port P]\n"
                 "       mail_fetch_demo contractor [--config F] [--mailboxes N] [--workers-expected W] [--rounds R]\n";
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
    auto park = fourinone::Park::connect(config).value();
    print_registry(*park);
    fourinone::DistributedLock round_lock(*park, kRoundLock);
    for (int round = 1; round <= rounds; ++round) {
      // Fair: contractors waiting for the lock run their rounds in the order they asked.
      const std::uint64_t token = round_lock.lock().value();
      std::cout << "round " << round << ": holding lock " << kRoundLock << " with fencing token " << token << std::endl;
      const auto started = wall_ms();
      if (int code = run_round(contractor, mailboxes); code != 0) return code;
      const std::string line = "token=" + std::to_string(token) + " pid=" + std::to_string(::getpid()) +
                               " start_ms=" + std::to_string(started) + " end_ms=" + std::to_string(wall_ms()) +
                               " mailboxes=" + std::to_string(mailboxes) + " messages=" +
                               std::to_string(total_messages(contractor.job)) + "\n";
      auto recorded = fourinone::fenced_update(*park, kRoundsDomain, kRoundsNode, token,
                                               [&](std::string_view old) { return std::string(old) + line; });
      if (!recorded.ok()) {
        // bad_version: a newer holder recorded a round since; ours is stale and must not count.
        std::cout << "round " << round << " not recorded: " << recorded.status().to_string() << std::endl;
        return 1;
      }
      std::cout << "round " << round << " recorded in " << kRoundsDomain << "/" << kRoundsNode << " under token "
                << token << std::endl;
      if (fourinone::Status s = round_lock.unlock(); !s.ok()) {
        std::cout << "round " << round << ": the lock was lost before the end: " << s.to_string() << std::endl;
        return 1;
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << role << ": " << e.what() << "\n";
    return 1;
  }
}
