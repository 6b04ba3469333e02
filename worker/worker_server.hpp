// WorkerServer: what runs behind MigrantWorker::wait_working. It serves the worker wire
// (worker/protocol.hpp) on an RpcServer, runs tasks on `capacity` task threads, keeps the
// worker's heartbeat node in the park (with its load, updated at most every 200 ms), and
// deregisters on the way out. Internal to worker/.
//
// DESIGN: the io thread (the caller of wait_working) owns the RpcServer, the connections and
// the task queue's bookkeeping; task threads only run do_task and post the answer back. A
// task's interrupt flag is an atomic the io thread sets (interrupt call, timeout) and the task
// thread reads through MigrantWorker::is_interrupted (a thread-local pointer). receive() runs
// on a thread of its own, one message at a time, so user code never blocks the io thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/asio.hpp"
#include "core/metrics.hpp"
#include "core/role_http.hpp"
#include "core/rpc_server.hpp"
#include "fourinone/worker.hpp"
#include "worker/directory.hpp"

namespace fourinone::detail {

class WorkerServer final : public core::RpcHandler {
 public:
  WorkerServer(MigrantWorker& worker, Config config, std::optional<WorkerOptions> options);
  ~WorkerServer() override;

  Status run(const std::string& host, std::uint16_t port, std::string_view type);
  void stop();
  std::optional<ServerAddress> address() const;

  // For MigrantWorker's protected helpers.
  static bool current_task_interrupted();
  Result<std::vector<WorkerLocal>> workers(std::string_view type, bool include_self);
  Result<std::size_t> self_index();
  Park& park();
  const Config& config() const { return config_; }

  // core::RpcHandler (io thread)
  void on_request(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string_view body) override;
  void on_close(const core::RpcConnectionPtr& connection) override;

 private:
  struct Task {
    std::weak_ptr<core::RpcConnection> connection;
    const core::RpcConnection* owner = nullptr;  // identity only: which connection sent it
    std::uint64_t request_id = 0;
    std::uint64_t task_id = 0;
    WareHouse input;
    std::chrono::milliseconds timeout{0};
    std::shared_ptr<std::atomic<bool>> interrupted = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<asio::steady_timer> timer;
    bool timed_out = false;  // io thread: the deadline passed and interrupted it
  };

  // What our registry entry says, with `load`.
  WorkerInfo info(std::uint32_t load) const;
  Status register_node();
  // After the park ended our session: a new session and node, retried every second.
  void reregister();
  void deregister();
  void reply(const core::RpcConnectionPtr& connection, std::uint64_t id, const Status& status, bool accepted,
             std::string payload);
  void on_task(const core::RpcConnectionPtr& connection, std::uint64_t id, std::uint64_t task_id,
               std::int64_t timeout_ms, std::string_view payload);
  void on_interrupt(const core::RpcConnectionPtr& connection, std::uint64_t id, std::uint64_t task_id);
  void on_receive(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string_view payload);
  void task_loop();
  void finished(const std::shared_ptr<Task>& task, WareHouse output);
  void publish_load();
  void schedule_load_update();
  // The status page and /metrics (WorkerOptions::http); worker_http.cpp. io thread.
  void write_metrics(core::MetricsWriter& out) const;
  core::RoleHttp::Rows status_rows() const;

  MigrantWorker& worker_;
  const Config config_;
  std::optional<WorkerOptions> given_options_;
  WorkerOptions options_;
  std::string type_;
  std::string service_;  // worker_service(type_)
  ServerAddress address_;
  std::atomic<bool> serving_{false};

  std::unique_ptr<Park> park_;
  std::unique_ptr<ServiceRegistry> registry_;  // on park_: our registration
  std::shared_ptr<WorkerDirectory> directory_;  // peers: get_worker_else, receive

  asio::io_context io_;
  std::unique_ptr<core::RpcServer> server_;
  std::unique_ptr<asio::signal_set> signals_;
  asio::steady_timer load_timer_;
  asio::steady_timer reregister_timer_;
  bool load_timer_armed_ = false;
  std::uint32_t published_load_ = 0;

  // Task queue: filled on the io thread, drained by the task threads.
  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<std::shared_ptr<Task>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> task_threads_;
  // io thread only: tasks queued or running, for interrupts.
  std::set<std::shared_ptr<Task>> active_;
  std::atomic<std::uint32_t> load_{0};

  // For /metrics: bumped on the io and task threads, read by the HTTP thread.
  std::shared_ptr<core::NetStats> net_stats_ = std::make_shared<core::NetStats>();
  core::Counter tasks_received_;
  core::Counter tasks_ok_, tasks_failed_, tasks_timed_out_, tasks_orphaned_;
  core::Counter interrupts_;
  core::Histogram task_seconds_;
  std::unique_ptr<core::RoleHttp> http_;

  asio::io_context receive_io_;  // receive() calls, one at a time
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> receive_work_;
  std::thread receive_thread_;
};

}  // namespace fourinone::detail
