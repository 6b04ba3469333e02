// run_job: many tasks over the live workers of a type (include/fourinone/contractor.hpp has
// the promises). Internal to worker/.
#pragma once

#include <string_view>
#include <vector>

#include "fourinone/contractor.hpp"
#include "worker/directory.hpp"

namespace fourinone::detail {

Result<JobResult> run_job(WorkerDirectory& directory, std::string_view type, const std::vector<WareHouse>& tasks,
                          const JobOptions& options);

// The progress node's value: "done=D total=T failed=F workers=W running=R reruns=X".
struct JobProgress {
  std::size_t done = 0, total = 0, failed = 0, workers = 0, running = 0, reruns = 0;
  std::string encode() const;
};

}  // namespace fourinone::detail
