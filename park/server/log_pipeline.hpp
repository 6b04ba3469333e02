// LogPipeline: every write goes through here — appended to the log, made durable, then
// applied to the state machine, then answered (DESIGN §4.4: acknowledged only once durable).
//
// DESIGN: propose() runs on the server's io thread. Proposals collect while the storage
// thread is busy; when it is free, everything collected goes down as one batch: one LMDB
// transaction, one fsync (group commit, as leveldb's writer queue). The storage thread then
// posts the batch back and the io thread applies the commands in log order and runs their
// callbacks. One batch is in flight at a time; the next one is gathered meanwhile, so fsync
// and request handling overlap. A failed append is never retried: the pipeline refuses all
// later writes (STYLE §2, leveldb's bg_error_) and the operator must look at the disk.
// This is the one-member log; Raft replication replaces the "durable => committed" step.
#pragma once


#include "core/asio.hpp"
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "park/log/log_storage.hpp"
#include "park/store/command.hpp"

namespace fourinone::park {

namespace asio = boost::asio;

class LogPipeline {
 public:
  using Done = std::function<void(const ApplyResult& result)>;
  using Apply = std::function<ApplyResult(const Command& command)>;
  using SaveSnapshot = std::function<std::string()>;

  struct Options {
    std::size_t max_batch = 4096;               // commands per append
    std::uint64_t snapshot_every = 100'000;     // entries between snapshots (log compaction)
  };

  // `applied_index` is the last index already in the state machine (after recovery).
  LogPipeline(asio::io_context& io, std::unique_ptr<LogStorage> log, std::uint64_t applied_index, Apply apply,
              SaveSnapshot save_snapshot, Options options);
  ~LogPipeline();

  void propose(Command command, Done done);
  // Waits for the batch in flight, then stops the storage thread. Pending proposals fail.
  void stop();

  std::uint64_t applied_index() const { return applied_index_; }
  bool failed() const { return !failure_.ok(); }
  std::size_t queued() const { return queued_.commands.size(); }

 private:
  struct Batch {
    std::vector<Command> commands;
    std::vector<Done> callbacks;
  };
  void maybe_start_batch();
  void on_batch_durable(std::shared_ptr<Batch> batch, Status status);
  void maybe_snapshot();

  asio::io_context& io_;
  std::unique_ptr<LogStorage> log_;  // used on the storage thread only (after construction)
  Apply apply_;
  SaveSnapshot save_snapshot_;
  Options options_;

  asio::io_context storage_io_;
  asio::executor_work_guard<asio::io_context::executor_type> storage_work_;
  std::thread storage_thread_;

  Batch queued_;                    // io thread
  bool in_flight_ = false;          // io thread
  std::uint64_t last_index_ = 0;    // io thread: last index handed to storage
  std::uint64_t applied_index_ = 0;
  std::uint64_t snapshot_index_ = 0;
  Status failure_;
  bool stopped_ = false;
};

}  // namespace fourinone::park
