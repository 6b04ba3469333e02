#include "park/server/log_pipeline.hpp"

#include <spdlog/spdlog.h>

#include "core/wire_archive.hpp"
#include "park/store/serialize.hpp"

namespace fourinone::park {

LogPipeline::LogPipeline(asio::io_context& io, std::unique_ptr<LogStorage> log, std::uint64_t applied_index,
                         Apply apply, SaveSnapshot save_snapshot, Options options)
    : io_(io),
      log_(std::move(log)),
      apply_(std::move(apply)),
      save_snapshot_(std::move(save_snapshot)),
      options_(options),
      storage_work_(storage_io_.get_executor()),
      last_index_(applied_index),
      applied_index_(applied_index) {
  auto snap = log_->snapshot();
  snapshot_index_ = snap ? snap->index : 0;
  storage_thread_ = std::thread([this] { storage_io_.run(); });
}

LogPipeline::~LogPipeline() { stop(); }

void LogPipeline::stop() {
  if (stopped_) return;
  stopped_ = true;
  storage_work_.reset();
  if (storage_thread_.joinable()) storage_thread_.join();
  Batch leftover = std::move(queued_);
  for (auto& cb : leftover.callbacks) cb(ApplyResult{Status(Errc::unavailable, "server shutting down")});
}

void LogPipeline::propose(Command command, Done done) {
  if (stopped_) {
    done(ApplyResult{Status(Errc::unavailable, "server shutting down")});
    return;
  }
  if (!failure_.ok()) {
    done(ApplyResult{failure_});
    return;
  }
  queued_.commands.push_back(std::move(command));
  queued_.callbacks.push_back(std::move(done));
  maybe_start_batch();
}

void LogPipeline::maybe_start_batch() {
  if (in_flight_ || queued_.commands.empty() || stopped_) return;
  auto batch = std::make_shared<Batch>();
  if (queued_.commands.size() <= options_.max_batch) {
    std::swap(*batch, queued_);
  } else {
    auto n = static_cast<std::ptrdiff_t>(options_.max_batch);
    batch->commands.assign(std::make_move_iterator(queued_.commands.begin()),
                           std::make_move_iterator(queued_.commands.begin() + n));
    batch->callbacks.assign(std::make_move_iterator(queued_.callbacks.begin()),
                            std::make_move_iterator(queued_.callbacks.begin() + n));
    queued_.commands.erase(queued_.commands.begin(), queued_.commands.begin() + n);
    queued_.callbacks.erase(queued_.callbacks.begin(), queued_.callbacks.begin() + n);
  }
  in_flight_ = true;
  std::uint64_t first = last_index_ + 1;
  last_index_ += batch->commands.size();
  asio::post(storage_io_, [this, batch, first] {
    // Encoding happens here, off the io thread.
    std::vector<LogEntry> entries;
    entries.reserve(batch->commands.size());
    std::uint64_t index = first;
    for (const auto& c : batch->commands) entries.push_back(LogEntry{index++, 1, core::encode(c)});
    Status status = log_->append(entries);
    asio::post(io_, [this, batch, status] { on_batch_durable(batch, status); });
  });
}

void LogPipeline::on_batch_durable(std::shared_ptr<Batch> batch, Status status) {
  in_flight_ = false;
  if (!status.ok()) {
    failure_ = Status(Errc::internal, "the log could not be written; refusing writes: " + status.message());
    spdlog::critical("{}", failure_.message());
    for (auto& cb : batch->callbacks) cb(ApplyResult{failure_});
    Batch leftover = std::move(queued_);
    for (auto& cb : leftover.callbacks) cb(ApplyResult{failure_});
    return;
  }
  for (std::size_t i = 0; i < batch->commands.size(); ++i) {
    ApplyResult result = apply_(batch->commands[i]);
    ++applied_index_;
    batch->callbacks[i](result);
  }
  maybe_snapshot();
  maybe_start_batch();
}

void LogPipeline::maybe_snapshot() {
  if (applied_index_ - snapshot_index_ < options_.snapshot_every) return;
  auto snap = std::make_shared<Snapshot>(Snapshot{applied_index_, 1, save_snapshot_()});
  snapshot_index_ = applied_index_;
  asio::post(storage_io_, [this, snap] {
    Status s = log_->save_snapshot(*snap);
    if (!s.ok()) {
      spdlog::error("snapshot at index {} failed: {}", snap->index, s.to_string());
    } else {
      spdlog::info("snapshot at index {} ({} bytes); log compacted", snap->index, snap->data.size());
    }
  });
}

}  // namespace fourinone::park
