// WorkerDirectory: the calling side of the worker wire, shared by contractors and by workers
// that talk to their peers. It lists live workers from the park, keeps one RPC connection per
// worker, sends tasks and fills in their TaskResults. Internal to worker/.
//
// DESIGN: one io thread owns every connection and the table of calls in flight (no locks on
// them); public methods post to it. A task result turns EXCEPTION, never hangs, when:
// - the connection to its worker drops (the worker process died: the kernel resets it);
// - the worker's heartbeat node leaves the park (a dead machine sends no reset; the park's
//   session timeout notices) — for the types passed to track();
// - its timeout passes (the worker is also asked to interrupt the task).
// Such results carry a Loss (gone, timeout), so that a job knows to run the task elsewhere;
// an exception thrown by do_task has none: the task ran and failed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/asio.hpp"
#include "core/rpc_client.hpp"
#include "fourinone/config.hpp"
#include "fourinone/park.hpp"
#include "fourinone/worker.hpp"

namespace fourinone::detail {

namespace asio = boost::asio;

// The shared state behind a TaskResult.
struct TaskCall {
  std::mutex mutex;
  std::condition_variable done_cv;
  std::atomic<bool> done{false};  // set with state, for waiters that spin before they sleep
  TaskState state = TaskState::not_ready;
  WareHouse result;
  // Why a run failed without the task itself failing: its worker died or left (gone), or it
  // ran past its deadline (timeout). Either way a job runs the task again elsewhere.
  // `unsent`: the connection failed before the task was handed over.
  enum class Loss : std::uint8_t { none, unsent, gone, timeout };
  Loss loss = Loss::none;
  std::function<void()> on_done;  // called once, on the directory's io thread, after the result is set

  std::weak_ptr<WorkerDirectory> directory;
  std::string worker;  // host:port
  std::uint64_t task_id = 0;

  // Sets the result unless one is set already; returns whether this call set it.
  bool finish(WareHouse output, Loss loss);
};

class WorkerDirectory : public std::enable_shared_from_this<WorkerDirectory> {
 public:
  // `park` is shared when given (a worker's own connection), else opened from `config`.
  static Result<std::shared_ptr<WorkerDirectory>> open(const Config& config, Park* park = nullptr);
  ~WorkerDirectory();
  WorkerDirectory(const WorkerDirectory&) = delete;
  WorkerDirectory& operator=(const WorkerDirectory&) = delete;

  Park& park() { return *park_; }

  // Live workers of `type` in registration order. Nodes that do not decode are skipped
  // (with a warning). Errors: unavailable when the park is unreachable.
  Result<std::vector<WorkerLocal>> workers(std::string_view type);
  // A handle for a worker known by its info (from a watch event, say).
  WorkerLocal handle(const WorkerInfo& info);

  // Sends a task; `timeout` 0 means WORKER/TIMEOUT when set, else none. `on_done` (optional)
  // runs on the io thread once the result is in.
  TaskResult send_task(const WorkerInfo& worker, const WareHouse& input, std::chrono::milliseconds timeout,
                       std::function<void()> on_done = {});
  // Asks the worker to interrupt task `task_id`, or (0) every task this directory sent it.
  void interrupt(const std::string& worker, std::uint64_t task_id);
  Result<bool> receive(const std::string& worker, const WareHouse& message, std::chrono::milliseconds timeout);

  // Fails the calls to a worker of `type` as soon as its park node goes away.
  void track(std::string_view type);

  // Stops the io thread and fails every call still running; idempotent.
  void close();

  static std::shared_ptr<TaskCall> call_of(const TaskResult& result) { return result.call_; }

 private:
  WorkerDirectory(const Config& config, Park* park, std::unique_ptr<Park> own_park);

  struct Link {
    std::shared_ptr<core::RpcClient> client;
    bool connecting = false;
    std::vector<std::function<void(core::RpcClient*, const Status&)>> waiting;  // until connected
    std::map<std::uint64_t, std::weak_ptr<TaskCall>> calls;  // task id -> call, while running
    std::string departed;  // set when the worker left the park: the reason its calls fail
  };

  // io thread: runs `use` with a connected client for `worker` (or nullptr and the reason).
  void with_client(const std::string& worker, std::function<void(core::RpcClient*, const Status&)> use);
  void on_link_closed(const std::string& worker, const Status& why);
  void worker_left(const std::string& worker);
  void start_task(const std::shared_ptr<TaskCall>& call, std::string body, std::chrono::milliseconds timeout);

  const Config config_;
  std::unique_ptr<Park> own_park_;
  Park* park_;
  core::RpcClientOptions rpc_options_;
  std::chrono::milliseconds default_timeout_{0};  // WORKER/TIMEOUT

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread io_thread_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> next_task_id_{1};

  std::map<std::string, Link> links_;  // io thread only; by worker address

  std::mutex watch_mutex_;
  std::map<std::string, std::unique_ptr<Watch>> watches_;  // by type
};

}  // namespace fourinone::detail
