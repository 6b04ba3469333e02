// CancelDemo: stop the others once one worker has the answer.
//
//   cancel_demo worker     [--config F] [--host H] [--port P]
//   cancel_demo contractor [--config F] [--workers N] [--seed S]
//
// Every worker searches its own stream of random numbers below 1,000,000 for 888: worker i
// (in registration order) draws from a std::mt19937_64 seeded with S + i, so the streams are
// disjoint and every run is the same. A worker draws 1000 numbers per millisecond at most and
// checks is_interrupted() between batches: interruption is cooperative, a do_task that never
// looks cannot be stopped.
//
// The contractor starts every worker at once, polls the results, and as soon as one comes back
// with found=true it calls TaskResult::interrupt() on all the others. They return at once with
// interrupted=true and how many numbers they had drawn. With the default seed 8 and three
// workers, the second worker (seed 9) finds 888 after 382,165 draws, in about half a second.
#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fourinone/contractor.hpp"
#include "fourinone/worker.hpp"

namespace {

constexpr const char* kType = "cancelworker";
constexpr std::uint64_t kRange = 1'000'000;      // numbers are drawn below this
constexpr std::int64_t kMaxDraws = 20'000'000;   // give up after this many (about 20 s)

class CancelWorker : public fourinone::MigrantWorker {
 public:
  using MigrantWorker::MigrantWorker;

 protected:
  fourinone::WareHouse do_task(const fourinone::WareHouse& in) override {
    const std::int64_t seed = in.get_int("seed").value();
    std::mt19937_64 random(static_cast<std::uint64_t>(seed));  // mt19937_64 is the same everywhere
    std::int64_t draws = 0;
    bool found = false;
    while (!found && draws < kMaxDraws && !is_interrupted()) {
      for (int i = 0; i < 1000 && !found; ++i) {
        ++draws;
        found = random() % kRange == 888;
      }
      if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // pace the search
    }
    std::cout << "seed " << seed << ": " << (found ? "found 888" : is_interrupted() ? "interrupted" : "gave up")
              << " after " << draws << " draws" << std::endl;
    return fourinone::WareHouse{{"seed", seed}, {"found", found}, {"interrupted", is_interrupted()}, {"draws", draws}};
  }
};

class CancelContractor : public fourinone::Contractor {
 public:
  CancelContractor(fourinone::Config config, std::size_t expected) : Contractor(std::move(config)), expected_(expected) {}

  // Input: {seed}. Output: {winner: address or "", winner_seed}.
  fourinone::WareHouse give_task(const fourinone::WareHouse& in) override {
    std::vector<fourinone::WorkerLocal> workers;
    for (int i = 0; i < 100; ++i) {  // wait up to 10 s for the expected number of workers
      workers = get_waiting_workers(kType).value();
      if (workers.size() >= expected_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (workers.empty()) throw std::runtime_error("no worker of type cancelworker is waiting");

    const auto start = std::chrono::steady_clock::now();
    auto ms = [&] {
      return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()) + " ms";
    };
    const std::int64_t seed = in.get_int("seed").value();
    std::vector<fourinone::TaskResult> running;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      running.push_back(workers[i].do_task(fourinone::WareHouse{{"seed", seed + static_cast<std::int64_t>(i)}}));
      std::cout << "started " << workers[i].address() << " on seed " << seed + static_cast<std::int64_t>(i) << "\n";
    }

    // The original's polling loop: look at every result in turn until all are in.
    std::vector<bool> seen(running.size(), false);
    std::size_t remaining = running.size();
    fourinone::WareHouse out{{"winner", ""}, {"winner_seed", -1}};
    while (remaining > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      for (std::size_t i = 0; i < running.size(); ++i) {
        if (seen[i] || !running[i].done()) continue;
        seen[i] = true;
        --remaining;
        const fourinone::WareHouse r = running[i].wait();
        if (!r.ready()) {
          std::cout << ms() << ": " << workers[i].address() << " failed: " << r.error() << "\n";
          continue;
        }
        const std::int64_t draws = r.get_int("draws").value();
        if (r.get_bool("found").value() && out.get_string("winner").value().empty()) {
          std::cout << ms() << ": " << workers[i].address() << " found 888 after " << draws
                    << " draws; interrupting the others\n";
          out.put("winner", workers[i].address()).put("winner_seed", r.get_int("seed").value());
          for (std::size_t j = 0; j < running.size(); ++j) {
            if (!seen[j]) running[j].interrupt();
          }
        } else {
          std::cout << ms() << ": " << workers[i].address() << " stopped: interrupted="
                    << (r.get_bool("interrupted").value() ? "true" : "false") << " after " << draws << " draws\n";
        }
      }
    }
    std::cout << ms() << ": all " << running.size() << " worker(s) stopped\n";
    return out;
  }

 private:
  std::size_t expected_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string role = argc > 1 ? argv[1] : "";
  std::string config_path = "config.xml", host = "127.0.0.1";
  int port = 0, workers = 1;
  std::int64_t seed = 8;
  for (int i = 2; i < argc; ++i) {
    const std::string flag = argv[i];
    const std::string value = i + 1 < argc ? argv[++i] : "";
    if (flag == "--config") config_path = value;
    else if (flag == "--host") host = value;
    else if (flag == "--port") port = std::stoi(value);
    else if (flag == "--workers") workers = std::stoi(value);
    else if (flag == "--seed") seed = std::stoll(value);
    else return std::cerr << "unknown flag " << flag << "\n", 2;
  }
  if (role != "worker" && role != "contractor") {
    std::cerr << "usage: cancel_demo worker|contractor [--config F] [--host H] [--port P] [--workers N] [--seed S]\n";
    return 2;
  }
  try {
    fourinone::Config config = fourinone::load_config(config_path).value();
    if (role == "worker") {
      CancelWorker worker(config);
      fourinone::Status s = worker.wait_working(host, static_cast<std::uint16_t>(port), kType);
      if (!s.ok()) return std::cerr << "worker: " << s.to_string() << "\n", 1;
      return 0;
    }
    CancelContractor contractor(config, static_cast<std::size_t>(workers));
    const fourinone::WareHouse out = contractor.give_task(fourinone::WareHouse{{"seed", seed}});
    const std::string winner = out.get_string("winner").value();
    if (winner.empty()) return std::cout << "nobody found 888\n", 1;
    std::cout << "winner: " << winner << " (seed " << out.get_int("winner_seed").value() << ")\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << role << ": " << e.what() << "\n";
    return 1;
  }
}
