#include "worker/worker_server.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>

#include "core/wire_archive.hpp"
#include "worker/protocol.hpp"
#include "worker/worker_config.hpp"

namespace fourinone::detail {
namespace {

// The interrupt flag of the task running on this thread (nullptr between tasks).
thread_local const std::atomic<bool>* current_interrupt = nullptr;

constexpr auto kLoadUpdatePeriod = std::chrono::milliseconds(200);

Status check_type(std::string_view type) {
  if (type.empty()) return Status(Errc::bad_request, "a worker type must not be empty");
  for (char c : type) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20) {
      return Status(Errc::bad_request, "worker type '" + std::string(type) + "' contains '/' or a control character");
    }
  }
  return Status();
}

}  // namespace

WorkerServer::WorkerServer(MigrantWorker& worker, Config config, std::optional<WorkerOptions> options)
    : worker_(worker),
      config_(std::move(config)),
      given_options_(std::move(options)),
      load_timer_(io_),
      reregister_timer_(io_) {}

WorkerServer::~WorkerServer() { stop(); }

bool WorkerServer::current_task_interrupted() {
  return current_interrupt != nullptr && current_interrupt->load(std::memory_order_relaxed);
}

std::optional<ServerAddress> WorkerServer::address() const {
  if (!serving_) return std::nullopt;
  return address_;
}

Park& WorkerServer::park() {
  if (!park_) throw Error(Status(Errc::unavailable, "the worker has no park connection before wait_working"));
  return *park_;
}

Status WorkerServer::run(const std::string& host, std::uint16_t port, std::string_view type) {
  if (Status s = check_type(type); !s.ok()) return s;
  if (given_options_) {
    options_ = *given_options_;
  } else {
    auto options = WorkerOptions::from_config(config_);
    if (!options.ok()) return options.status();
    options_ = options.value();
  }
  if (options_.capacity == 0) return Status(Errc::bad_request, "worker capacity must be at least 1");
  type_ = std::string(type);
  service_ = worker_service(type_);

  auto park = Park::connect(config_);
  if (!park.ok()) return park.status();
  park_ = std::move(park).value();
  registry_ = std::make_unique<ServiceRegistry>(*park_);
  auto directory = WorkerDirectory::open(config_, park_.get());
  if (!directory.ok()) return directory.status();
  directory_ = std::move(directory).value();

  core::RpcServerOptions rpc;
  rpc.users = config_.park.users;
  rpc.tls = core::TlsContext::for_server(config_);
  rpc.stats = net_stats_;
  server_ = std::make_unique<core::RpcServer>(io_, *this, rpc);
  if (Status s = server_->listen(host, port); !s.ok()) return s;
  address_ = ServerAddress{host, server_->port()};

  // Registered before any thread starts, so that a refusal returns with nothing to join.
  // Requests already queued on the socket wait for io_.run() below.
  if (Status s = register_node(); !s.ok()) return s;
  if (options_.http) {
    http_ = std::make_unique<core::RoleHttp>(
        "worker " + address_.to_string() + " of type " + type_, config_, io_,
        core::RoleHttp::Sources{[this](core::MetricsWriter& out) { write_metrics(out); },
                                [this] { return status_rows(); }});
    if (Status s = http_->start(options_.http->host, options_.http->port); !s.ok()) {
      deregister();
      return s;
    }
    spdlog::info("worker {}: status page and /metrics on http://{}:{}/", address_.to_string(), options_.http->host,
                 http_->port());
  }
  for (std::uint32_t i = 0; i < options_.capacity; ++i) task_threads_.emplace_back([this] { task_loop(); });
  receive_work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(receive_io_.get_executor());
  receive_thread_ = std::thread([this] { receive_io_.run(); });
  if (options_.handle_signals) {
    signals_ = std::make_unique<asio::signal_set>(io_, SIGINT, SIGTERM);
    signals_->async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      spdlog::info("worker {} of type {}: signal {}, stopping", address_.to_string(), type_, signal);
      stop();
    });
  }
  park_->on_session_state([this](SessionState state) {
    if (state != SessionState::expired) return;
    // The park dropped us (cut off longer than the session timeout): contractors have given
    // our tasks to others. Join again under a new session rather than serve unseen.
    asio::post(io_, [this] {
      if (!serving_) return;
      spdlog::warn("worker {}: park session expired; registering again", address_.to_string());
      reregister();
    });
  });
  spdlog::info("worker of type {} serving on {} (capacity {}{})", type_, address_.to_string(), options_.capacity,
               options_.service ? ", service" : "");
  serving_ = true;
  io_.run();
  serving_ = false;
  if (http_) http_->stop();

  deregister();
  {
    // Tasks not started yet are dropped: their callers saw the connection close and run
    // them elsewhere. Running ones were interrupted; the threads end when they return.
    std::lock_guard lock(queue_mutex_);
    queue_.clear();
    stopping_ = true;
  }
  queue_cv_.notify_all();
  for (auto& t : task_threads_) t.join();
  task_threads_.clear();
  receive_work_.reset();
  receive_io_.stop();
  if (receive_thread_.joinable()) receive_thread_.join();
  directory_->close();
  registry_.reset();
  park_.reset();
  return Status();
}

void WorkerServer::stop() {
  // Interrupt what runs so that the task threads can be joined, then end io_.run().
  asio::post(io_, [this] {
    for (const auto& task : active_) task->interrupted->store(true);
    if (server_) server_->stop();
    if (signals_) signals_->cancel();
    load_timer_.cancel();
    reregister_timer_.cancel();
    io_.stop();
  });
}

WorkerInfo WorkerServer::info(std::uint32_t load) const {
  WorkerInfo info;
  info.type = type_;
  info.address = address_;
  info.capacity = options_.capacity;
  info.load = load;
  info.service = options_.service;
  info.pid = static_cast<std::int64_t>(::getpid());
  return info;
}

Status WorkerServer::register_node() {
  const WorkerInfo info = this->info(load_);
  const std::string id = address_.to_string();
  // An entry with our address is a dead predecessor (our port was free, so it no longer
  // serves) whose session has not ended yet. Only its owner may remove it (a worker of the
  // same login may): otherwise wait for the park to end that session, which it does within
  // SESSIONTIMEOUT (plus MAXDELAY after a leader change).
  const auto give_up = std::chrono::steady_clock::now() + config_.park.session_timeout + config_.park.max_delay +
                       std::chrono::seconds(2);
  for (;;) {
    Status s = registry_->register_instance(service_, id, id, info.metadata());
    if (s.ok()) break;
    const bool in_time = std::chrono::steady_clock::now() < give_up;
    if (s.code() == Errc::exists) {
      auto held = park_->get(worker_domain(type_), id);
      if (!held.ok() && held.status().code() == Errc::not_found && in_time) continue;  // it went while we looked
      if (held.ok() && held->heartbeat() && in_time) {
        if (!registry_->deregister(service_, id).ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (held.ok()) {
        s = Status(Errc::exists, held->heartbeat() ? "it is held by session " + std::to_string(held->session) +
                                                         ", which did not end within the session timeout"
                                                   : "it is held by a node of " + held->creator + " that never expires");
      }
    }
    return Status(s.code(), "cannot register worker " + id + " in the park: " + s.message());
  }
  published_load_ = info.load;
  return Status();
}

void WorkerServer::reregister() {
  Status s = park_->open_session();
  if (s.ok()) s = register_node();
  if (s.ok() || !serving_) return;
  // The park may be out of reach for a while: keep serving the connections we have, and try
  // again every second.
  spdlog::warn("worker {}: cannot register again yet ({}); retrying", address_.to_string(), s.message());
  reregister_timer_.expires_after(std::chrono::seconds(1));
  reregister_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && serving_) reregister();
  });
}

void WorkerServer::deregister() {
  if (!park_) return;
  Status removed = registry_->deregister(service_, address_.to_string());
  if (!removed.ok() && removed.code() != Errc::not_found) {
    spdlog::warn("worker {}: deregistering failed ({}); the node goes with the session", address_.to_string(),
                 removed.message());
  }
  (void)park_->close_session();
}

void WorkerServer::schedule_load_update() {
  if (load_timer_armed_ || !serving_) return;
  load_timer_armed_ = true;
  load_timer_.expires_after(kLoadUpdatePeriod);
  load_timer_.async_wait([this](const boost::system::error_code& ec) {
    load_timer_armed_ = false;
    if (!ec) publish_load();
  });
}

void WorkerServer::publish_load() {
  const std::uint32_t load = load_;
  if (load == published_load_) return;
  published_load_ = load;
  registry_->async_update_metadata(service_, address_.to_string(), info(load).metadata(), [](Status s) {
    if (!s.ok()) spdlog::debug("worker load update failed: {}", s.message());
  });
}

void WorkerServer::reply(const core::RpcConnectionPtr& connection, std::uint64_t id, const Status& status,
                         bool accepted, std::string payload) {
  if (!connection->is_open()) return;
  connection->reply(id, core::encode(WorkerReply{status, accepted, std::move(payload)}));
}

void WorkerServer::on_request(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string_view body) {
  WorkerRequest request;
  if (Status s = core::decode(body, request, "worker request"); !s.ok()) {
    reply(connection, id, s, false, {});
    return;
  }
  switch (request.call) {
    case WorkerCall::task:
      on_task(connection, id, request.task_id, request.timeout_ms, request.payload);
      return;
    case WorkerCall::interrupt:
      on_interrupt(connection, id, request.task_id);
      return;
    case WorkerCall::receive:
      on_receive(connection, id, request.payload);
      return;
  }
  reply(connection, id, Status(Errc::bad_request, "unknown worker call " + std::to_string(static_cast<int>(request.call))),
        false, {});
}

void WorkerServer::on_task(const core::RpcConnectionPtr& connection, std::uint64_t id, std::uint64_t task_id,
                           std::int64_t timeout_ms, std::string_view payload) {
  auto input = WareHouse::decode(payload);
  if (!input.ok()) {
    reply(connection, id, Status(Errc::bad_request, "task payload refused: " + input.status().message()), false, {});
    return;
  }
  tasks_received_.add();
  auto task = std::make_shared<Task>();
  task->connection = connection;
  task->owner = connection.get();
  task->request_id = id;
  task->task_id = task_id;
  task->input = std::move(input).value();
  task->timeout = std::chrono::milliseconds(std::max<std::int64_t>(0, timeout_ms));
  if (task->timeout.count() > 0) {
    // The framework-side timeout: the task is told to stop (is_interrupted), cooperatively.
    task->timer = std::make_shared<asio::steady_timer>(io_, task->timeout);
    task->timer->async_wait([task = std::weak_ptr<Task>(task)](const boost::system::error_code& ec) {
      auto t = task.lock();
      if (ec || !t) return;
      t->timed_out = true;
      t->interrupted->store(true);
    });
  }
  active_.insert(task);
  ++load_;
  schedule_load_update();
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(task);
  }
  queue_cv_.notify_one();
}

void WorkerServer::on_interrupt(const core::RpcConnectionPtr& connection, std::uint64_t id, std::uint64_t task_id) {
  if (options_.service) {
    reply(connection, id, Status(Errc::no_permission, "worker " + address_.to_string() + " is a service; its tasks cannot be interrupted"),
          false, {});
    return;
  }
  std::size_t hit = 0;
  for (const auto& task : active_) {
    if (task->owner == connection.get() && (task_id == 0 || task->task_id == task_id)) {
      task->interrupted->store(true);
      interrupts_.add();
      ++hit;
    }
  }
  reply(connection, id, Status(), hit > 0, {});
}

void WorkerServer::on_receive(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string_view payload) {
  auto message = WareHouse::decode(payload);
  if (!message.ok()) {
    reply(connection, id, Status(Errc::bad_request, "message refused: " + message.status().message()), false, {});
    return;
  }
  asio::post(receive_io_, [this, connection, id, message = std::move(message).value()] {
    bool accepted = false;
    Status status;
    try {
      accepted = worker_.receive(message);
    } catch (const std::exception& e) {
      status = Status(Errc::internal, std::string("receive threw: ") + e.what());
    }
    asio::post(io_, [this, connection, id, status, accepted] { reply(connection, id, status, accepted, {}); });
  });
}

void WorkerServer::on_close(const core::RpcConnectionPtr& connection) {
  // Nobody waits for these answers any more: tell the tasks to stop early.
  for (const auto& task : active_) {
    if (task->owner == connection.get()) task->interrupted->store(true);
  }
}

void WorkerServer::task_loop() {
  for (;;) {
    std::shared_ptr<Task> task;
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    WareHouse output;
    current_interrupt = task->interrupted.get();
    const auto started = std::chrono::steady_clock::now();
    try {
      output = worker_.do_task(task->input);
      if (output.state() == TaskState::not_ready) output.set_state(TaskState::ready);
    } catch (const std::exception& e) {
      output = WareHouse();
      output.set_exception(std::string("do_task on ") + address_.to_string() + " threw: " + e.what());
    } catch (...) {
      output = WareHouse();
      output.set_exception("do_task on " + address_.to_string() + " threw a non-standard exception");
    }
    current_interrupt = nullptr;
    task_seconds_.observe(std::chrono::steady_clock::now() - started);
    asio::post(io_, [this, task, output = std::move(output)]() mutable { finished(task, std::move(output)); });
  }
}

void WorkerServer::finished(const std::shared_ptr<Task>& task, WareHouse output) {
  if (task->timer) task->timer->cancel();
  active_.erase(task);
  --load_;
  schedule_load_update();
  auto connection = task->connection.lock();
  if (task->timed_out) {
    tasks_timed_out_.add();
  } else if (output.state() == TaskState::exception) {
    tasks_failed_.add();
  } else {
    tasks_ok_.add();
  }
  if (!connection) {
    tasks_orphaned_.add();
    return;
  }
  if (task->timed_out) {
    // Cut short by its deadline: what do_task returned after the interrupt is not a result.
    reply(connection, task->request_id,
          Status(Errc::timeout, "task timed out after " + std::to_string(task->timeout.count()) + " ms on worker " +
                                    address_.to_string() + " (interrupted)"),
          false, {});
    return;
  }
  reply(connection, task->request_id, Status(), false, output.encode());
}

Result<std::vector<WorkerLocal>> WorkerServer::workers(std::string_view type, bool include_self) {
  if (!serving_ || !directory_) return Status(Errc::unavailable, "the worker is not running (call wait_working first)");
  auto all = directory_->workers(type.empty() ? std::string_view(type_) : type);
  if (!all.ok() || include_self) return all;
  std::vector<WorkerLocal> others;
  for (auto& w : all.value()) {
    if (w.info().address != address_) others.push_back(std::move(w));
  }
  return others;
}

Result<std::size_t> WorkerServer::self_index() {
  auto all = workers({}, true);
  if (!all.ok()) return all.status();
  for (std::size_t i = 0; i < all->size(); ++i) {
    if ((*all)[i].info().address == address_) return i;
  }
  return Status(Errc::not_found, "worker " + address_.to_string() + " is not registered");
}

}  // namespace fourinone::detail

namespace fourinone {

MigrantWorker::MigrantWorker(Config config)
    : server_(std::make_unique<detail::WorkerServer>(*this, std::move(config), std::nullopt)) {}
MigrantWorker::MigrantWorker(Config config, WorkerOptions options)
    : server_(std::make_unique<detail::WorkerServer>(*this, std::move(config), options)) {}
MigrantWorker::~MigrantWorker() = default;

Status MigrantWorker::wait_working(std::string_view type) {
  auto address = detail::default_worker_address(server_->config());
  if (!address.ok()) return address.status();
  return wait_working(address->host, address->port, type);
}

Status MigrantWorker::wait_working(std::string_view host, std::uint16_t port, std::string_view type) {
  return server_->run(std::string(host), port, type);
}

void MigrantWorker::stop() { server_->stop(); }
std::optional<ServerAddress> MigrantWorker::address() const { return server_->address(); }
bool MigrantWorker::is_interrupted() const { return detail::WorkerServer::current_task_interrupted(); }
Result<std::vector<WorkerLocal>> MigrantWorker::get_worker_else(std::string_view type) { return server_->workers(type, false); }
Result<std::vector<WorkerLocal>> MigrantWorker::get_worker_all(std::string_view type) { return server_->workers(type, true); }
Result<std::size_t> MigrantWorker::self_index() { return server_->self_index(); }
Park& MigrantWorker::park() { return server_->park(); }

}  // namespace fourinone
