// A worker's HTTP port (WorkerOptions::http, WORKER/HTTP): a small status page and /metrics.
// Everything shown is an atomic or fixed after start, so the HTTP thread reads it directly.
#include "core/version.hpp"
#include "worker/worker_server.hpp"

namespace fourinone::detail {

std::string WorkerServer::metrics_text() const {
  core::MetricsWriter out;
  core::write_process_metrics(out, "worker", core::build_version(), core::build_commit());
  out.gauge("fourinone_worker_info", "Always 1; the labels name the worker.", 1,
            {{"type", type_}, {"address", address_.to_string()}});
  out.gauge("fourinone_worker_capacity", "Tasks this worker runs at once.", options_.capacity);
  out.gauge("fourinone_worker_tasks_active", "Tasks queued or running.", load_.load(std::memory_order_relaxed));
  out.counter("fourinone_worker_tasks_received_total", "Tasks received from contractors.",
              static_cast<double>(tasks_received_.value()));
  out.counter("fourinone_worker_tasks_total", "Tasks finished, by result.", static_cast<double>(tasks_ok_.value()),
              {{"result", "ok"}});
  out.counter("fourinone_worker_tasks_total", "", static_cast<double>(tasks_failed_.value()), {{"result", "failed"}});
  out.counter("fourinone_worker_tasks_total", "", static_cast<double>(tasks_timed_out_.value()),
              {{"result", "timed_out"}});
  out.counter("fourinone_worker_tasks_orphaned_total",
              "Tasks finished after their contractor had gone (the result was dropped).",
              static_cast<double>(tasks_orphaned_.value()));
  out.counter("fourinone_worker_interrupts_total", "Tasks a contractor interrupted.",
              static_cast<double>(interrupts_.value()));
  out.histogram("fourinone_worker_task_duration_seconds", "Time do_task took.", task_seconds_);
  core::write_net_metrics(out, *net_stats_);
  return out.text();
}

core::HttpReply WorkerServer::http_page(const core::HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") return core::HttpReply::text(405, "only GET is served here\n");
  if (request.path == "/metrics") {
    core::HttpReply r = core::HttpReply::text(200, metrics_text());
    r.content_type = std::string(core::kMetricsContentType);
    return r;
  }
  if (request.path != "/") return core::HttpReply::text(404, "no page " + request.path + " here; try / or /metrics\n");
  const auto done = tasks_ok_.value() + tasks_failed_.value() + tasks_timed_out_.value();
  std::string body =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"2\"><title>Worker " +
      core::html_escape(address_.to_string()) +
      "</title><style>body{font-family:system-ui,sans-serif;margin:1.5em}th,td{border:1px solid #ccc;"
      "padding:.25em .6em;text-align:left}table{border-collapse:collapse}</style></head><body><nav>"
      "<a href=\"/metrics\">Metrics</a>" +
      (request.logins ? " <a href=\"/logout\">Log out</a>" : "") + "</nav><h1>Worker " +
      core::html_escape(address_.to_string()) + "</h1><table id=\"worker\"><tr><th>Type</th><td>" +
      core::html_escape(type_) + "</td></tr><tr><th>Capacity</th><td>" + std::to_string(options_.capacity) +
      (options_.service ? " (a shared service)" : "") + "</td></tr><tr><th>Active tasks</th><td id=\"active\">" +
      std::to_string(load_.load(std::memory_order_relaxed)) + "</td></tr><tr><th>Finished</th><td id=\"finished\">" +
      std::to_string(done) + "</td></tr><tr><th>Failed</th><td>" + std::to_string(tasks_failed_.value()) +
      "</td></tr><tr><th>Timed out</th><td>" + std::to_string(tasks_timed_out_.value()) +
      "</td></tr></table><p>Refreshes every 2 s.</p></body></html>";
  core::HttpReply r;
  r.body = std::move(body);
  return r;
}

}  // namespace fourinone::detail
