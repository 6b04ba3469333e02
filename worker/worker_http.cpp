// What a worker's HTTP port (WorkerOptions::http, WORKER/HTTP; core/role_http.hpp) shows.
#include "core/version.hpp"
#include "worker/worker_server.hpp"

namespace fourinone::detail {

void WorkerServer::write_metrics(core::MetricsWriter& out) const {
  core::write_process_metrics(out, "worker", core::build_version(), core::build_commit());
  out.gauge("fourinone_worker_info", "Always 1; the labels name the worker.", 1,
            {{"type", type_}, {"address", address_.to_string()}});
  out.gauge("fourinone_worker_capacity", "Tasks this worker runs at once.", options_.capacity);
  out.gauge("fourinone_worker_tasks_active", "Tasks queued or running.", load_.load(std::memory_order_relaxed));
  out.counter("fourinone_worker_tasks_received_total", "Tasks received from contractors.",
              tasks_received_);
  out.counter("fourinone_worker_tasks_total", "Tasks finished, by result.", tasks_ok_,
              {{"result", "ok"}});
  out.counter("fourinone_worker_tasks_total", "", tasks_failed_, {{"result", "failed"}});
  out.counter("fourinone_worker_tasks_total", "", tasks_timed_out_,
              {{"result", "timed_out"}});
  out.counter("fourinone_worker_tasks_orphaned_total",
              "Tasks finished after their contractor had gone (the result was dropped).",
              tasks_orphaned_);
  out.counter("fourinone_worker_interrupts_total", "Tasks a contractor interrupted.",
              interrupts_);
  out.histogram("fourinone_worker_task_duration_seconds", "Time do_task took.", task_seconds_);
  core::write_net_metrics(out, *net_stats_);
}

core::RoleHttp::Rows WorkerServer::status_rows() const {
  const auto finished = tasks_ok_.value() + tasks_failed_.value() + tasks_timed_out_.value();
  return {{"type", type_},
          {"address", address_.to_string()},
          {"capacity", std::to_string(options_.capacity) + (options_.service ? " (a shared service)" : "")},
          {"active tasks", std::to_string(load_.load(std::memory_order_relaxed))},
          {"finished", std::to_string(finished)},
          {"failed", std::to_string(tasks_failed_.value())},
          {"timed out", std::to_string(tasks_timed_out_.value())}};
}

}  // namespace fourinone::detail
