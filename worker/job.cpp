// JobRunner: run_job's scheduler. Its state is guarded by one mutex and changed from two
// places: a finished run is handled on the directory's io thread the moment it arrives, and
// the next task is sent from there at once (waking the caller's thread for every task
// would cost two thread wake-ups per task, the main cost of tiny tasks); the caller's thread
// loops every 50 ms (or when woken) for workers joining and leaving (dropped into an Inbox
// by the park's callback thread), stragglers, progress and the end of the job.
//
// Scheduling: a task goes to the live worker with the most free capacity (capacity minus the
// tasks this job has running there), so a busy or small worker gets less. A run that ends
// `lost` (death, departure, timeout) puts its task back at the front of the queue; an
// EXCEPTION from do_task is the task's result. When the queue is empty and a worker is idle,
// the oldest run that has taken more than three times the median task time is started a
// second time elsewhere; whichever finishes first is used.
#include "worker/job.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>

namespace fourinone::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kProgressPeriod = std::chrono::milliseconds(200);
constexpr auto kLoopWake = std::chrono::milliseconds(50);
constexpr auto kProgressTtl = std::chrono::hours(1);

struct Run {
  std::size_t task = 0;
  std::string worker;
  TaskResult result;
  Clock::time_point started;
  bool rerun = false;  // counted in JobResult::reruns
};

// What other threads hand the loop. Shared, so that a run finishing after the job returned
// (a speculative loser) still has somewhere to go.
struct Inbox {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::shared_ptr<Run>> finished;
  std::deque<WatchEvent> events;
};

struct WorkerSlot {
  std::optional<WorkerLocal> handle;
  std::uint32_t capacity = 1;
  std::uint32_t in_flight = 0;
  bool alive = false;
  // After a run was lost because the worker could not be reached, it gets no task until
  // then (doubling from 250 ms to 4 s): a killed worker's node stays in the park until its
  // session expires, and each try at it would burn one of a task's attempts.
  Clock::time_point retry_after{};
  Clock::duration backoff{};
  // Unreachable this many times in a row, it counts as gone for this job until the park
  // shows it again (a created or updated node): a worker listed but never reachable from
  // here must not keep the job waiting for ever.
  int failures = 0;
};

constexpr int kMaxFailures = 5;

constexpr auto kFirstBackoff = std::chrono::milliseconds(250);
constexpr auto kMaxBackoff = std::chrono::seconds(4);

struct TaskSlot {
  std::uint32_t attempts = 0;
  bool done = false;
  std::vector<std::shared_ptr<Run>> running;
  std::string last_error;
};

std::atomic<std::uint64_t> job_counter{0};

// True while this thread holds a JobRunner's state mutex: a run that finishes inside
// send_task (a closed directory answers at once) is then queued, not handled re-entrantly.
thread_local bool in_scheduler = false;

class JobRunner : public std::enable_shared_from_this<JobRunner> {
 public:
  JobRunner(WorkerDirectory& directory, std::string_view type, const std::vector<WareHouse>& tasks,
            const JobOptions& options)
      : directory_(directory), type_(type), tasks_(tasks), options_(options), slots_(tasks.size()) {
    result_.results.resize(tasks.size());
    progress_line_ = options.progress_line && ::isatty(::fileno(stderr)) == 1;
  }

  Result<JobResult> run();

 private:
  // io thread: a run finished.
  void on_finished(const std::shared_ptr<Run>& run);
  // The loop's turn under the state mutex; returns the progress to publish.
  JobProgress turn(std::deque<std::shared_ptr<Run>>& finished, std::deque<WatchEvent>& events);
  Status load_workers();
  void add_worker(const Node& node);
  void handle(const WatchEvent& event);
  void handle(const std::shared_ptr<Run>& run);
  void dispatch();
  void speculate();
  void send(std::size_t task, WorkerSlot& worker);
  std::size_t alive_workers() const;
  std::size_t running() const;
  void publish_progress(const JobProgress& progress, bool final);

  WorkerDirectory& directory_;
  const std::string type_;
  const std::vector<WareHouse>& tasks_;
  const JobOptions options_;
  std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  std::unique_ptr<Watch> watch_;

  std::mutex state_mutex_;  // guards everything below
  bool active_ = true;      // false once run() returned: late runs are ignored

  std::map<std::string, WorkerSlot> workers_;  // by address
  std::deque<std::size_t> pending_;
  std::vector<TaskSlot> slots_;
  std::vector<Clock::duration> durations_;  // of successful runs, for straggler detection
  std::size_t done_ = 0;
  JobResult result_;
  std::string progress_node_;
  bool progress_line_ = false;
  Clock::time_point last_progress_;
};

std::size_t JobRunner::alive_workers() const {
  return static_cast<std::size_t>(std::count_if(workers_.begin(), workers_.end(), [](const auto& w) { return w.second.alive; }));
}

std::size_t JobRunner::running() const {
  std::size_t n = 0;
  for (const auto& [address, w] : workers_) n += w.in_flight;
  return n;
}

void JobRunner::add_worker(const Node& node) {
  auto info = WorkerInfo::from_node(node);
  if (!info.ok()) {
    spdlog::warn("job: worker node {}/{} does not decode, skipped: {}", node.domain, node.name, info.status().message());
    return;
  }
  WorkerSlot& slot = workers_[node.name];
  slot.handle = directory_.handle(info.value());
  slot.capacity = std::max<std::uint32_t>(1, info->capacity);
  slot.alive = true;
  slot.failures = 0;
}

Status JobRunner::load_workers() {
  Park& park = directory_.park();
  const std::string domain = worker_domain(type_);
  auto current = park.get_latest_domain(domain, 0);
  if (!current.ok()) return current.status();
  if (current.value()) {
    for (const Node& node : current.value()->nodes) add_worker(node);
  }
  const std::uint64_t from = current.value() ? current.value()->revision + 1 : 0;
  std::weak_ptr<Inbox> weak = inbox_;
  auto watch = park.watch(domain, std::nullopt, from, [weak](const WatchEvent& event) {
    if (auto inbox = weak.lock()) {
      std::lock_guard lock(inbox->mutex);
      inbox->events.push_back(event);
      inbox->wake.notify_one();
    }
  });
  if (!watch.ok()) return watch.status();
  watch_ = std::move(watch).value();
  directory_.track(type_);
  return Status();
}

void JobRunner::handle(const WatchEvent& event) {
  switch (event.type) {
    case WatchEvent::Type::created:
    case WatchEvent::Type::updated:
      add_worker(event.node);  // an update refreshes capacity; a worker back at an old address revives
      return;
    case WatchEvent::Type::deleted: {
      // Its running tasks fail as `lost` through the directory and are queued again then.
      auto it = workers_.find(event.node.name);
      if (it != workers_.end()) it->second.alive = false;
      return;
    }
    case WatchEvent::Type::resync: {
      auto nodes = directory_.park().list(worker_domain(type_));
      for (auto& [address, w] : workers_) w.alive = false;
      if (nodes.ok()) {
        for (const Node& node : nodes.value()) add_worker(node);
      }
      return;
    }
  }
}

void JobRunner::handle(const std::shared_ptr<Run>& run) {
  auto w = workers_.find(run->worker);
  if (w != workers_.end() && w->second.in_flight > 0) --w->second.in_flight;
  TaskSlot& slot = slots_[run->task];
  std::erase(slot.running, run);
  if (slot.done) return;  // a speculative copy already answered
  auto call = WorkerDirectory::call_of(run->result);
  WareHouse output;
  TaskCall::Loss loss = TaskCall::Loss::none;
  {
    std::lock_guard lock(call->mutex);
    output = call->result;
    loss = call->loss;
  }
  if (w != workers_.end()) {
    WorkerSlot& worker = w->second;
    if (loss == TaskCall::Loss::gone || loss == TaskCall::Loss::unsent) {
      if (++worker.failures >= kMaxFailures && worker.alive) {
        worker.alive = false;
        spdlog::warn("job: worker {} unreachable {} times in a row; not used until the park shows it again",
                     run->worker, worker.failures);
      }
      worker.backoff = worker.backoff == Clock::duration{} ? Clock::duration(kFirstBackoff)
                                                           : std::min<Clock::duration>(2 * worker.backoff, kMaxBackoff);
      worker.retry_after = Clock::now() + worker.backoff;
    } else {
      worker.backoff = Clock::duration{};
      worker.failures = 0;
    }
  }
  if (loss == TaskCall::Loss::unsent) {
    // The task never reached the worker: not an attempt, and not a re-run.
    --slot.attempts;
    if (run->rerun) --result_.reruns;
  }
  if (loss != TaskCall::Loss::none) {
    slot.last_error = output.error();
    if (!slot.running.empty()) return;  // another copy may still make it
    if (slot.attempts < options_.max_attempts) {
      pending_.push_front(run->task);
      return;
    }
    output = WareHouse();
    output.set_exception("task " + std::to_string(run->task) + " gave up after " + std::to_string(slot.attempts) +
                         " attempts; last: " + slot.last_error);
  }
  slot.done = true;
  ++done_;
  if (output.failed()) {
    ++result_.failed;
  } else {
    durations_.push_back(Clock::now() - run->started);
  }
  ++result_.tasks_per_worker[run->worker];
  result_.results[run->task] = std::move(output);
  // Stop the other copies: their answers would be thrown away.
  for (const auto& other : slot.running) other->result.interrupt();
}

void JobRunner::send(std::size_t task, WorkerSlot& worker) {
  auto run = std::make_shared<Run>();
  run->task = task;
  run->worker = worker.handle->address();
  run->started = Clock::now();
  TaskSlot& slot = slots_[task];
  run->rerun = slot.attempts > 0;
  if (run->rerun) ++result_.reruns;
  ++slot.attempts;
  slot.running.push_back(run);
  ++worker.in_flight;
  std::weak_ptr<JobRunner> weak = weak_from_this();
  run->result = directory_.send_task(worker.handle->info(), tasks_[task], options_.task_timeout, [weak, run] {
    if (auto self = weak.lock()) self->on_finished(run);
  });
}

void JobRunner::on_finished(const std::shared_ptr<Run>& run) {
  if (in_scheduler) {
    std::lock_guard lock(inbox_->mutex);
    inbox_->finished.push_back(run);
    inbox_->wake.notify_one();
    return;
  }
  bool complete = false;
  {
    std::lock_guard lock(state_mutex_);
    if (!active_) return;
    in_scheduler = true;
    handle(run);
    dispatch();
    in_scheduler = false;
    complete = done_ == tasks_.size();
  }
  if (complete) {
    std::lock_guard lock(inbox_->mutex);
    inbox_->wake.notify_one();
  }
}

JobProgress JobRunner::turn(std::deque<std::shared_ptr<Run>>& finished, std::deque<WatchEvent>& events) {
  std::lock_guard lock(state_mutex_);
  in_scheduler = true;
  for (const auto& event : events) handle(event);
  for (const auto& run : finished) handle(run);
  dispatch();
  speculate();
  in_scheduler = false;
  return JobProgress{done_, tasks_.size(), result_.failed, alive_workers(), running(), result_.reruns};
}

void JobRunner::dispatch() {
  while (!pending_.empty()) {
    WorkerSlot* best = nullptr;
    const auto now = Clock::now();
    for (auto& [address, w] : workers_) {
      if (!w.alive || w.in_flight >= w.capacity || now < w.retry_after) continue;
      if (best == nullptr || w.capacity - w.in_flight > best->capacity - best->in_flight) best = &w;
    }
    if (best == nullptr) return;
    const std::size_t task = pending_.front();
    pending_.pop_front();
    if (slots_[task].done) continue;
    send(task, *best);
  }
}

void JobRunner::speculate() {
  if (!options_.speculative || !pending_.empty() || durations_.size() < 3) return;
  auto sorted = durations_;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
  const auto threshold = std::max<Clock::duration>(3 * sorted[sorted.size() / 2], std::chrono::milliseconds(20));
  const auto now = Clock::now();
  for (auto& [address, w] : workers_) {
    if (!w.alive || w.in_flight >= w.capacity || now < w.retry_after) continue;
    // The oldest lone run elsewhere that is well past the typical task time.
    std::shared_ptr<Run> oldest;
    for (const TaskSlot& slot : slots_) {
      if (slot.done || slot.running.size() != 1 || slot.running.front()->worker == address) continue;
      if (slot.attempts >= options_.max_attempts) continue;
      const auto& run = slot.running.front();
      if (now - run->started > threshold && (!oldest || run->started < oldest->started)) oldest = run;
    }
    if (!oldest) return;
    send(oldest->task, w);
  }
}

void JobRunner::publish_progress(const JobProgress& progress, bool final) {
  const auto now = Clock::now();
  if (!final && now - last_progress_ < kProgressPeriod) return;
  last_progress_ = now;
  const std::string text = progress.encode();
  if (final) {
    // Synchronous, so that whoever reads the node after run_job returns sees the last figures.
    auto r = directory_.park().update(kJobDomain, progress_node_, text);
    if (!r.ok()) spdlog::warn("job progress update failed: {}", r.status().message());
  } else {
    directory_.park().async_update(kJobDomain, progress_node_, text, kAnyVersion, [](Result<Node> r) {
      if (!r.ok()) spdlog::debug("job progress update failed: {}", r.status().message());
    });
  }
  if (progress_line_) {
    std::fprintf(stderr, "\r%s: %zu/%zu done, %zu failed, %zu workers, %zu running   %s", type_.c_str(), progress.done,
                 progress.total, progress.failed, progress.workers, progress.running, final ? "\n" : "");
    std::fflush(stderr);
  }
}

Result<JobResult> JobRunner::run() {
  const auto started = Clock::now();
  progress_node_ = !options_.progress_node.empty()
                       ? options_.progress_node
                       : type_ + "-" + std::to_string(::getpid()) + "-" + std::to_string(++job_counter);
  result_.progress_node = std::string(kJobDomain) + "/" + progress_node_;
  if (Status s = load_workers(); !s.ok()) return s;
  CreateOptions ttl;
  ttl.ttl = kProgressTtl;  // the last figures stay readable for a while after the job
  JobProgress initial{0, tasks_.size(), 0, alive_workers(), 0, 0};
  auto created = directory_.park().create(kJobDomain, progress_node_, initial.encode(), ttl);
  if (!created.ok() && created.status().code() != Errc::exists) return created.status();

  {
    std::lock_guard lock(state_mutex_);
    for (std::size_t i = 0; i < tasks_.size(); ++i) pending_.push_back(i);
  }
  bool without_workers = false;  // (an optional<time_point> here trips GCC 12's maybe-uninitialized)
  Clock::time_point without_workers_since;
  auto finish = [this] {
    std::lock_guard lock(state_mutex_);
    active_ = false;
    return JobProgress{done_, tasks_.size(), result_.failed, alive_workers(), running(), result_.reruns};
  };
  for (;;) {
    std::deque<std::shared_ptr<Run>> finished;
    std::deque<WatchEvent> events;
    {
      std::unique_lock lock(inbox_->mutex);
      inbox_->wake.wait_for(lock, kLoopWake, [this] { return !inbox_->finished.empty() || !inbox_->events.empty(); });
      finished.swap(inbox_->finished);
      events.swap(inbox_->events);
    }
    const JobProgress progress = turn(finished, events);
    if (progress.done == progress.total) break;
    publish_progress(progress, false);

    if (progress.workers == 0 && progress.running == 0) {
      if (!without_workers) {
        without_workers = true;
        without_workers_since = Clock::now();
      }
      if (Clock::now() - without_workers_since > options_.wait_for_workers) {
        watch_.reset();
        publish_progress(finish(), true);
        return Status(Errc::unavailable, "no worker of type " + type_ + " for " +
                                             std::to_string(options_.wait_for_workers.count()) + " ms; " +
                                             std::to_string(progress.done) + " of " + std::to_string(progress.total) +
                                             " tasks done");
      }
    } else {
      without_workers = false;
    }
  }
  watch_.reset();
  publish_progress(finish(), true);
  result_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return std::move(result_);
}

}  // namespace

std::string JobProgress::encode() const {
  return "done=" + std::to_string(done) + " total=" + std::to_string(total) + " failed=" + std::to_string(failed) +
         " workers=" + std::to_string(workers) + " running=" + std::to_string(running) +
         " reruns=" + std::to_string(reruns);
}

Result<JobResult> run_job(WorkerDirectory& directory, std::string_view type, const std::vector<WareHouse>& tasks,
                          const JobOptions& options) {
  // Shared: a run that finishes after the job (a speculative loser) may still hold it briefly.
  auto runner = std::make_shared<JobRunner>(directory, type, tasks, options);
  return runner->run();
}

}  // namespace fourinone::detail
