// Contractors (the original's Contractor): the side that hands out work.
//
// A contractor program derives from Contractor, implements give_task, and inside it finds
// workers (get_waiting_workers) and sends them tasks (WorkerLocal::do_task), or hands a whole
// list of tasks to run_job. Contractors chain: a.to_next(b).to_next(c), then
// a.give_task(input, true) feeds each output to the next one.
//
// run_job (beyond the original) is the way to spread many tasks over many workers:
// - each worker gets at most its advertised capacity of tasks at a time, so work goes to
//   whoever has room, not round-robin into a busy worker;
// - a task whose worker dies or times out runs again on another worker (at-least-once: make
//   tasks idempotent); a task whose do_task throws is not re-run and comes back EXCEPTION;
// - workers that register while the job runs start getting tasks at once;
// - near the end, stragglers may be run a second time on idle workers (the first result wins);
// - results come back in task order; progress shows as a terminal line (when stderr is a
//   terminal) and as a park node "done=D total=T failed=F workers=W running=R" others can watch.
//
// Thread-safety: one thread drives a Contractor; the handles it returns are thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"
#include "fourinone/park.hpp"
#include "fourinone/warehouse.hpp"
#include "fourinone/worker.hpp"

namespace fourinone {

// The park domain of job progress nodes: "fourinone.jobs".
inline constexpr const char* kJobDomain = "fourinone.jobs";

struct JobOptions {
  // A task running longer than this is interrupted and run again elsewhere; 0 = no limit.
  std::chrono::milliseconds task_timeout{0};
  // With no live worker of the type, wait this long for one before failing (unavailable).
  std::chrono::milliseconds wait_for_workers{30000};
  // Runs of one task (after deaths and timeouts) before it is given up as EXCEPTION.
  std::uint32_t max_attempts = 3;
  // Near the end, run stragglers again on idle workers; the first result wins.
  bool speculative = true;
  // A progress line on stderr when it is a terminal.
  bool progress_line = true;
  // The progress node's name in kJobDomain; empty: "<type>-<pid>-<n>".
  std::string progress_node;
};

struct JobResult {
  std::vector<WareHouse> results;                     // in task order; READY or EXCEPTION
  std::size_t failed = 0;                             // results that are EXCEPTION
  std::size_t reruns = 0;                             // runs beyond the first (deaths, timeouts, speculation)
  std::map<std::string, std::size_t> tasks_per_worker;  // results used, by worker address
  std::chrono::milliseconds elapsed{0};
  std::string progress_node;                          // where the progress was published
};

class Contractor {
 public:
  explicit Contractor(Config config);
  virtual ~Contractor();
  Contractor(const Contractor&) = delete;
  Contractor& operator=(const Contractor&) = delete;

  // The work of this contractor.
  virtual WareHouse give_task(const WareHouse& input) = 0;
  // give_task(input); with `chain`, its output goes to the next contractor's give_task(.., true),
  // and the last output is returned. Your class's give_task hides this overload (C++ name
  // hiding): call it through a Contractor&, add `using Contractor::give_task;`, or use run_chain.
  WareHouse give_task(const WareHouse& input, bool chain);
  // give_task(input, true).
  WareHouse run_chain(const WareHouse& input) { return give_task(input, true); }
  // Sets the contractor that follows this one and returns it, for a.to_next(b).to_next(c).
  Contractor& to_next(Contractor& next);

  // The live workers of `type`, in registration order (empty when there are none).
  // Errors: unavailable when the park cannot be reached.
  Result<std::vector<WorkerLocal>> get_waiting_workers(std::string_view type);
  // Sends `input` to every worker at once and waits for all; results in worker order.
  std::vector<WareHouse> do_task_batch(const std::vector<WorkerLocal>& workers, const WareHouse& input);
  // Runs every task on the workers of `type` (see the top of this file).
  // Errors: unavailable when no worker shows up within wait_for_workers or the park is gone.
  Result<JobResult> run_job(std::string_view type, const std::vector<WareHouse>& tasks, const JobOptions& options = {});

  // Closes the connections to workers and to the park; later calls connect again.
  void exit();
  // The park connection (opened on first use). Throws fourinone::Error when unreachable.
  Park& park();
  const Config& config() const noexcept { return config_; }

 private:
  Result<std::shared_ptr<detail::WorkerDirectory>> directory();

  Config config_;
  Contractor* next_ = nullptr;
  std::shared_ptr<detail::WorkerDirectory> directory_;
};

}  // namespace fourinone
