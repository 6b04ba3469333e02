// Migrant workers (the original's MigrantWorker) and the handles others use to reach them.
//
// A worker program derives from MigrantWorker, implements do_task, and calls wait_working.
// The worker then serves tasks over the Fourinone wire and registers in the park's service
// registry (registry.hpp) as an instance of the service worker_service(type), its id and
// address its host:port, its capacity and current load in the metadata. A worker that dies
// (or loses its park session) vanishes from that service, so every contractor learns of it;
// one that starts joins running jobs. Only the worker itself may change or remove its entry.
//
// Tasks run on the worker's task threads, at most `capacity` at once, each in a fresh copy of
// its input. An exception thrown by do_task reaches the caller as an EXCEPTION result with the
// exception's message; the worker goes on serving. A task that cannot be decoded is refused
// with a clear error and also leaves the worker serving.
//
// Thread-safety: WorkerLocal and TaskResult are cheap handles, safe to copy and to use from
// any thread. A MigrantWorker's do_task and receive run on its task and io threads; protect
// state you share between calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"
#include "fourinone/park.hpp"
#include "fourinone/registry.hpp"
#include "fourinone/warehouse.hpp"

namespace fourinone {

namespace detail {
class WorkerDirectory;
struct TaskCall;
class WorkerServer;
}  // namespace detail

// The registry service workers of `type` register in: "workers.<type>", so the domain
// worker_domain(type) is "fourinone.registry:workers.<type>".
std::string worker_service(std::string_view type);
std::string worker_domain(std::string_view type);  // ServiceRegistry::domain_of(worker_service(type))

// What a worker advertises in the registry. The metadata keys are type, capacity, load,
// service (0 or 1) and pid; `fourinone ctl services workers.<type>` prints them.
struct WorkerInfo {
  std::string type;
  ServerAddress address;      // where it serves tasks
  std::uint32_t capacity = 1; // tasks it runs at once
  std::uint32_t load = 0;     // tasks running or queued, as of its last update
  bool service = false;       // WORKER/SERVICE: cannot be interrupted
  std::int64_t pid = 0;
  std::uint64_t since_revision = 0;  // the park revision of its registration (its order)

  std::map<std::string, std::string> metadata() const;
  // Errors: bad_request naming the missing key or the entry that does not parse. Unknown
  // keys are skipped, so that a newer worker may advertise more.
  static Result<WorkerInfo> from_instance(const Instance& instance);
  // from_instance of a node of worker_domain(type), with since_revision filled in.
  static Result<WorkerInfo> from_node(const Node& node);
};

// The result of one task sent to a worker: NOT_READY at first, then READY or EXCEPTION.
// Poll state(), or wait.
class TaskResult {
 public:
  TaskResult() = default;  // an EXCEPTION result "no task"

  TaskState state() const;
  bool done() const { return state() != TaskState::not_ready; }
  // Waits until done (true) or until `timeout` passes (false).
  bool wait_for(std::chrono::milliseconds timeout) const;
  // Waits until done and returns the worker's output (state READY) or an EXCEPTION result.
  WareHouse wait() const;
  // The result as it is now: an empty NOT_READY WareHouse while the task runs.
  WareHouse get() const;
  // Asks the worker to interrupt this task (it sees is_interrupted()); the result still
  // arrives, with whatever do_task returned. Refused by a service worker (logged).
  void interrupt() const;
  // The worker the task went to, as "host:port".
  std::string worker() const;

 private:
  friend class detail::WorkerDirectory;
  explicit TaskResult(std::shared_ptr<detail::TaskCall> call) : call_(std::move(call)) {}
  std::shared_ptr<detail::TaskCall> call_;
};

// A handle on one live worker, from Contractor::get_waiting_workers or a worker's
// get_worker_else / get_worker_all.
class WorkerLocal {
 public:
  const WorkerInfo& info() const noexcept { return info_; }
  std::string address() const { return info_.address.to_string(); }

  // Sends the task and returns at once. The result is EXCEPTION promptly when the worker
  // dies (its connection drops or its park node vanishes), never a hang. With a timeout the
  // worker is asked to interrupt the task when it passes, and the result becomes EXCEPTION
  // ("timed out") if no answer came by then. Without one, WORKER/TIMEOUT applies when set.
  TaskResult do_task(const WareHouse& input) const;
  TaskResult do_task(const WareHouse& input, std::chrono::milliseconds timeout) const;
  // Interrupts every task sent to this worker from this process that is still running.
  void interrupt() const;
  // Delivers `message` to the worker's receive(); its answer (accepted or not).
  // Errors: unavailable when the worker cannot be reached; timeout.
  Result<bool> receive(const WareHouse& message, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  friend class detail::WorkerDirectory;
  WorkerLocal(std::shared_ptr<detail::WorkerDirectory> directory, WorkerInfo info)
      : directory_(std::move(directory)), info_(std::move(info)) {}
  std::shared_ptr<detail::WorkerDirectory> directory_;
  WorkerInfo info_;
};

struct WorkerOptions {
  std::uint32_t capacity = 1;  // tasks run at once, each on its own thread
  bool service = false;        // a shared service: interrupt() is refused (WORKER/SERVICE)
  bool handle_signals = true;  // SIGINT and SIGTERM end wait_working cleanly
  // Where to serve a status page and /metrics (WORKER/HTTP); unset: none.
  std::optional<ServerAddress> http;
  // WORKER row: SERVICE, and CAPACITY and HTTP (our additions).
  static Result<WorkerOptions> from_config(const Config& config);
};

class MigrantWorker {
 public:
  // Options from the config's WORKER row.
  explicit MigrantWorker(Config config);
  MigrantWorker(Config config, WorkerOptions options);
  virtual ~MigrantWorker();
  MigrantWorker(const MigrantWorker&) = delete;
  MigrantWorker& operator=(const MigrantWorker&) = delete;

  // Serves tasks as a worker of `type` until stop(), a signal (see WorkerOptions) or the loss
  // of the park session; deregisters before returning. Listens on host:port (port 0: any
  // free port); wait_working(type) takes them from WORKER/SERVERS (default localhost:2088).
  // Errors: unavailable (park unreachable, port taken), config_error, bad_request (type).
  Status wait_working(std::string_view type);
  Status wait_working(std::string_view host, std::uint16_t port, std::string_view type);
  // Ends wait_working; safe from any thread (not from a signal handler).
  void stop();
  // Where this worker serves, once wait_working has registered it.
  std::optional<ServerAddress> address() const;

 protected:
  // The work. `input` is this task's own copy. Throw to fail the task with a message.
  virtual WareHouse do_task(const WareHouse& input) = 0;
  // A message from another worker or a contractor (WorkerLocal::receive). May run while a
  // task runs. Returns whether it was accepted.
  virtual bool receive(const WareHouse& /*message*/) { return true; }

  // True once the task running on the calling thread was interrupted (or timed out).
  bool is_interrupted() const;
  // The other live workers of `type` (default: ours), in registration order, and all of them.
  Result<std::vector<WorkerLocal>> get_worker_else(std::string_view type = {});
  Result<std::vector<WorkerLocal>> get_worker_all(std::string_view type = {});
  // Our position in get_worker_all() of our own type. Errors: not_found before wait_working.
  Result<std::size_t> self_index();
  // The park connection of this worker (open while wait_working runs).
  Park& park();

 private:
  friend class detail::WorkerServer;
  std::unique_ptr<detail::WorkerServer> server_;
};

}  // namespace fourinone
