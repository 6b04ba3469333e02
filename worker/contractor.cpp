// Contractor: the original's API (give_task, chains, worker lists, batches) over the
// WorkerDirectory; run_job lives in job.cpp.
#include "fourinone/contractor.hpp"

#include "worker/directory.hpp"
#include "worker/job.hpp"

namespace fourinone {

Contractor::Contractor(Config config) : config_(std::move(config)) {}

Contractor::~Contractor() { exit(); }

WareHouse Contractor::give_task(const WareHouse& input, bool chain) {
  WareHouse output = give_task(input);
  if (chain && next_ != nullptr) return next_->give_task(output, true);
  return output;
}

Contractor& Contractor::to_next(Contractor& next) {
  next_ = &next;
  return next;
}

Result<std::shared_ptr<detail::WorkerDirectory>> Contractor::directory() {
  if (!directory_) {
    auto opened = detail::WorkerDirectory::open(config_);
    if (!opened.ok()) return opened.status();
    directory_ = std::move(opened).value();
  }
  return directory_;
}

Park& Contractor::park() { return directory().value()->park(); }

Result<std::vector<WorkerLocal>> Contractor::get_waiting_workers(std::string_view type) {
  auto dir = directory();
  if (!dir.ok()) return dir.status();
  dir.value()->track(type);
  return dir.value()->workers(type);
}

std::vector<WareHouse> Contractor::do_task_batch(const std::vector<WorkerLocal>& workers, const WareHouse& input) {
  std::vector<TaskResult> running;
  running.reserve(workers.size());
  for (const auto& worker : workers) running.push_back(worker.do_task(input));
  std::vector<WareHouse> results;
  results.reserve(running.size());
  for (const auto& r : running) results.push_back(r.wait());
  return results;
}

Result<JobResult> Contractor::run_job(std::string_view type, const std::vector<WareHouse>& tasks,
                                      const JobOptions& options) {
  auto dir = directory();
  if (!dir.ok()) return dir.status();
  return detail::run_job(*dir.value(), type, tasks, options);
}

void Contractor::exit() {
  if (directory_) directory_->close();
  directory_.reset();
}

}  // namespace fourinone
