#include "worker/directory.hpp"

#include <spdlog/spdlog.h>

#include <future>

#include "core/wire_archive.hpp"
#include "worker/protocol.hpp"
#include "worker/worker_config.hpp"

namespace fourinone::detail {
namespace {

using Clock = std::chrono::steady_clock;
using Loss = TaskCall::Loss;

// A call with no timeout still needs a deadline for the RPC client: far enough to never come.
constexpr auto kNoDeadline = std::chrono::hours(24 * 365);

WareHouse exception_result(std::string message) {
  WareHouse out;
  out.set_exception(std::move(message));
  return out;
}

}  // namespace

bool TaskCall::finish(WareHouse output, Loss loss) {
  std::function<void()> callback;
  {
    std::lock_guard lock(mutex);
    if (state != TaskState::not_ready) return false;
    result = std::move(output);
    state = result.state() == TaskState::not_ready ? TaskState::ready : result.state();
    result.set_state(state);
    this->loss = loss;
    callback = std::move(on_done);
    done.store(true, std::memory_order_release);
  }
  done_cv.notify_all();
  if (callback) callback();
  return true;
}

WorkerDirectory::WorkerDirectory(const Config& config, Park* park, std::unique_ptr<Park> own_park)
    : config_(config), own_park_(std::move(own_park)), park_(park ? park : own_park_.get()), work_(io_.get_executor()) {
  // Workers take the same logins as the park (USERS), so the same credentials.
  const ParkOptions park_options = ParkOptions::from_config(config);
  rpc_options_.client_id = core::random_client_id();
  rpc_options_.user = park_options.user;
  rpc_options_.password = park_options.password;
  rpc_options_.tls = core::TlsContext::for_client(park_options.tls);
  default_timeout_ = worker_timeout(config).value_or(std::chrono::milliseconds(0));
  io_thread_ = std::thread([this] { io_.run(); });
}

Result<std::shared_ptr<WorkerDirectory>> WorkerDirectory::open(const Config& config, Park* park) {
  if (auto timeout = worker_timeout(config); !timeout.ok()) return timeout.status();
  std::unique_ptr<Park> own;
  if (park == nullptr) {
    auto connected = Park::connect(config);
    if (!connected.ok()) return connected.status();
    own = std::move(connected).value();
  }
  return std::shared_ptr<WorkerDirectory>(new WorkerDirectory(config, park, std::move(own)));
}

// Handlers on the io thread use `this`: close() drains that thread before any member goes.
// The directory is never destroyed on its own io thread, since no handler owns it.
WorkerDirectory::~WorkerDirectory() { close(); }

void WorkerDirectory::close() {
  if (closed_.exchange(true)) return;
  {
    std::lock_guard lock(watch_mutex_);
    watches_.clear();  // no more departure events
  }
  // Fail what is still running, close the connections, then let the io thread end.
  asio::post(io_, [this] {
    auto links = std::move(links_);  // closing a client calls on_link_closed, which edits links_
    links_.clear();
    for (auto& [address, link] : links) {
      if (link.client) link.client->close();
      for (auto& use : link.waiting) use(nullptr, Status(Errc::cancelled, "closed"));
      for (auto& [id, weak] : link.calls) {
        if (auto call = weak.lock()) call->finish(exception_result("task to " + address + " cancelled: closed"), Loss::gone);
      }
    }
  });
  work_.reset();
  if (io_thread_.joinable()) io_thread_.join();
  own_park_.reset();
}

Result<std::vector<WorkerLocal>> WorkerDirectory::workers(std::string_view type) {
  if (closed_) return Status(Errc::unavailable, "the worker directory is closed");
  auto nodes = park_->list(worker_domain(type));
  if (!nodes.ok()) {
    if (nodes.status().code() == Errc::not_found) return std::vector<WorkerLocal>{};
    return nodes.status();
  }
  std::vector<WorkerLocal> out;
  for (const Node& node : nodes.value()) {
    auto info = WorkerInfo::from_node(node);
    if (!info.ok()) {
      spdlog::warn("worker node {}/{} does not decode, skipped: {}", node.domain, node.name, info.status().message());
      continue;
    }
    out.push_back(handle(info.value()));
  }
  return out;
}

WorkerLocal WorkerDirectory::handle(const WorkerInfo& info) { return WorkerLocal(shared_from_this(), info); }

void WorkerDirectory::track(std::string_view type) {
  std::lock_guard lock(watch_mutex_);
  if (closed_ || watches_.count(std::string(type)) > 0) return;
  std::weak_ptr<WorkerDirectory> weak = weak_from_this();
  auto watch = park_->watch(worker_domain(type), std::nullopt, 0, [weak](const WatchEvent& event) {
    if (event.type != WatchEvent::Type::deleted) return;
    // Posting needs the directory alive; its handlers run on the io thread, which close()
    // drains before the directory goes, so they may use `this`.
    if (auto self = weak.lock()) {
      WorkerDirectory* raw = self.get();
      asio::post(raw->io_, [raw, name = event.node.name] { raw->worker_left(name); });
    }
  });
  if (!watch.ok()) {
    spdlog::warn("cannot watch the workers of type {}: {}; deaths show as dropped connections only", type,
                 watch.status().message());
    return;
  }
  watches_[std::string(type)] = std::move(watch).value();
}

void WorkerDirectory::worker_left(const std::string& worker) {
  auto it = links_.find(worker);
  if (it == links_.end()) return;
  it->second.departed = "worker " + worker + " left the park (its heartbeat node vanished)";
  if (it->second.client) it->second.client->close();  // fails its calls through on_link_closed
}

void WorkerDirectory::with_client(const std::string& worker, std::function<void(core::RpcClient*, const Status&)> use) {
  Link& link = links_[worker];
  if (link.client && link.client->is_open()) {
    use(link.client.get(), Status());
    return;
  }
  link.waiting.push_back(std::move(use));
  if (link.connecting) return;
  link.connecting = true;
  link.departed.clear();
  auto address = parse_server_address(worker);
  if (!address.ok()) {
    on_link_closed(worker, address.status());
    return;
  }
  core::RpcClient::connect(io_, address.value(), rpc_options_, [this, worker](Result<std::shared_ptr<core::RpcClient>> r) {
    Link& l = links_[worker];
    l.connecting = false;
    if (!r.ok()) {
      on_link_closed(worker, r.status());
      return;
    }
    l.client = std::move(r).value();
    l.client->set_close_handler([this, worker](const Status& why) { on_link_closed(worker, why); });
    auto waiting = std::move(l.waiting);
    l.waiting.clear();
    for (auto& use : waiting) use(l.client.get(), Status());
  });
}

void WorkerDirectory::on_link_closed(const std::string& worker, const Status& why) {
  auto it = links_.find(worker);
  if (it == links_.end()) return;
  Link link = std::move(it->second);
  links_.erase(it);
  const std::string reason = !link.departed.empty() ? link.departed
                                                     : "worker " + worker + " is gone: " + why.message();
  for (auto& use : link.waiting) use(nullptr, Status(Errc::unavailable, reason));
  for (auto& [id, weak] : link.calls) {
    if (auto call = weak.lock()) call->finish(exception_result(reason), Loss::gone);
  }
}

TaskResult WorkerDirectory::send_task(const WorkerInfo& worker, const WareHouse& input,
                                      std::chrono::milliseconds timeout, std::function<void()> on_done) {
  auto call = std::make_shared<TaskCall>();
  call->directory = weak_from_this();
  call->worker = worker.address.to_string();
  call->task_id = next_task_id_++;
  call->on_done = std::move(on_done);
  if (timeout.count() <= 0) timeout = default_timeout_;
  WorkerRequest request{WorkerCall::task, call->task_id, timeout.count(), input.encode()};
  if (closed_) {
    call->finish(exception_result("the contractor is closed"), Loss::none);
    return TaskResult(call);
  }
  asio::post(io_, [this, call, body = core::encode(request), timeout]() mutable { start_task(call, std::move(body), timeout); });
  return TaskResult(call);
}

void WorkerDirectory::start_task(const std::shared_ptr<TaskCall>& call, std::string body, std::chrono::milliseconds timeout) {
  with_client(call->worker, [this, call, body = std::move(body), timeout](core::RpcClient* client, const Status& why) {
    if (client == nullptr) {
      call->finish(exception_result("cannot send the task to " + call->worker + ": " + why.message()), Loss::unsent);
      return;
    }
    links_[call->worker].calls[call->task_id] = call;
    // The worker interrupts the task at the timeout itself; this side waits a little longer
    // for the answer before giving up on it.
    const auto deadline = Clock::now() + (timeout.count() > 0 ? timeout + std::chrono::milliseconds(200)
                                                               : std::chrono::duration_cast<std::chrono::milliseconds>(kNoDeadline));
    client->call(body, deadline, [this, call, timeout](Result<std::string> reply) {
      auto it = links_.find(call->worker);
      if (it != links_.end()) it->second.calls.erase(call->task_id);
      if (!reply.ok()) {
        if (reply.status().code() == Errc::timeout) {
          interrupt(call->worker, call->task_id);
          call->finish(exception_result("task on " + call->worker + " timed out after " + std::to_string(timeout.count()) +
                                        " ms"), Loss::timeout);
        } else {
          const std::string reason = it != links_.end() && !it->second.departed.empty()
                                         ? it->second.departed
                                         : "worker " + call->worker + " is gone: " + reply.status().message();
          call->finish(exception_result(reason), Loss::gone);
        }
        return;
      }
      WorkerReply answer;
      if (Status s = core::decode(reply.value(), answer, "worker reply"); !s.ok()) {
        call->finish(exception_result("worker " + call->worker + " answered garbage: " + s.message()), Loss::none);
        return;
      }
      if (answer.status.code() == Errc::timeout) {
        call->finish(exception_result(answer.status.message()), Loss::timeout);
        return;
      }
      if (!answer.status.ok()) {
        call->finish(exception_result("worker " + call->worker + " refused the task: " + answer.status.to_string()), Loss::none);
        return;
      }
      auto output = WareHouse::decode(answer.payload);
      if (!output.ok()) {
        call->finish(exception_result("worker " + call->worker + " answered garbage: " + output.status().message()), Loss::none);
        return;
      }
      call->finish(std::move(output).value(), Loss::none);
    });
  });
}

void WorkerDirectory::interrupt(const std::string& worker, std::uint64_t task_id) {
  if (closed_) return;
  WorkerRequest request{WorkerCall::interrupt, task_id, 0, {}};
  asio::post(io_, [this, worker, body = core::encode(request)] {
    auto it = links_.find(worker);
    if (it == links_.end() || !it->second.client || !it->second.client->is_open()) return;  // nothing runs there
    it->second.client->call(body, Clock::now() + std::chrono::seconds(10), [worker](Result<std::string> reply) {
      WorkerReply answer;
      if (reply.ok() && core::decode(reply.value(), answer, "worker reply").ok() && !answer.status.ok()) {
        spdlog::warn("worker {} refused the interrupt: {}", worker, answer.status.message());
      }
    });
  });
}

Result<bool> WorkerDirectory::receive(const std::string& worker, const WareHouse& message,
                                      std::chrono::milliseconds timeout) {
  if (closed_) return Status(Errc::cancelled, "the directory is closed");
  auto promise = std::make_shared<std::promise<Result<bool>>>();
  auto future = promise->get_future();
  WorkerRequest request{WorkerCall::receive, 0, 0, message.encode()};
  asio::post(io_, [this, worker, promise, timeout, body = core::encode(request)] {
    with_client(worker, [promise, timeout, body](core::RpcClient* client, const Status& why) {
      if (client == nullptr) {
        promise->set_value(Status(Errc::unavailable, "cannot reach worker: " + why.message()));
        return;
      }
      client->call(body, Clock::now() + timeout, [promise](Result<std::string> reply) {
        if (!reply.ok()) {
          promise->set_value(reply.status());
          return;
        }
        WorkerReply answer;
        if (Status s = core::decode(reply.value(), answer, "worker reply"); !s.ok()) {
          promise->set_value(s);
        } else if (!answer.status.ok()) {
          promise->set_value(answer.status);
        } else {
          promise->set_value(answer.accepted);
        }
      });
    });
  });
  if (future.wait_for(timeout + std::chrono::seconds(1)) != std::future_status::ready) {
    return Status(Errc::timeout, "receive on worker " + worker + " got no answer");
  }
  return future.get();
}

}  // namespace fourinone::detail
