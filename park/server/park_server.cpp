#include "park/server/park_server.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/wire_archive.hpp"
#include "park/server/data_dir_lock.hpp"
#include "park/server/park_service.hpp"
#include "park/store/serialize.hpp"

namespace fourinone::park {
namespace {

// Rebuilds the store from the snapshot and the log after it. Returns the last applied index.
Result<std::uint64_t> recover(LogStorage& log, Store& store, const StoreLimits& limits) {
  std::uint64_t applied = 0;
  if (auto snap = log.snapshot()) {
    auto loaded = Store::load(snap->data, limits);
    if (!loaded.ok()) return Status(Errc::internal, "snapshot at index " + std::to_string(snap->index) +
                                                        " is corrupt: " + loaded.status().message());
    store = std::move(loaded).value();
    applied = snap->index;
  }
  // Only committed entries may be applied; the rest wait for the group's verdict (Raft
  // replays them once the leader confirms the commit index).
  std::uint64_t last = std::min(log.last_index(), log.hard_state().commit);
  while (applied < last) {
    auto entries = log.read(applied + 1, last + 1, 64u << 20);
    if (!entries.ok()) return Status(Errc::internal, "reading the log: " + entries.status().message());
    for (const auto& entry : entries.value()) {
      applied = entry.index;
      if (entry.data.empty()) continue;  // a leader's noop entry (see replicated_log.cpp)
      Command command;
      if (Status s = core::decode(entry.data, command, "log entry"); !s.ok()) {
        return Status(Errc::internal, "log entry " + std::to_string(entry.index) + " is corrupt: " + s.message());
      }
      store.apply(command);
    }
  }
  return applied;
}

}  // namespace

Result<std::unique_ptr<ParkServer>> ParkServer::start(const ParkServerOptions& options) {
  auto mq = load_mq_settings(options.config);
  if (!mq.ok()) return mq.status();
  const auto& servers = options.config.park.servers;
  if (std::find(servers.begin(), servers.end(), options.self) == servers.end()) {
    return Status(Errc::config_error, options.config.file + ": " + options.self.to_string() +
                                          " is not listed in PARK/SERVERS");
  }
  std::string dir = options.config.resolved_data_dir() + "/" + options.self.host + "_" +
                    std::to_string(options.self.port);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Errc::internal, "cannot create data directory " + dir + ": " + ec.message());

  auto lock = DataDirLock::acquire(dir);
  if (!lock.ok()) return lock.status();
  auto log = open_server_log(dir, options.sync);
  if (!log.ok()) return log.status();
  StoreLimits limits{options.config.park.max_name, options.config.park.max_value};
  Store store(limits);
  auto applied = recover(*log.value(), store, limits);
  if (!applied.ok()) return applied.status();
  spdlog::info("recovered {} from {}: log index {}, revision {}", options.self.to_string(), dir, applied.value(),
               store.revision());

  auto service = std::make_unique<ParkService>(options, std::move(mq).value(), std::move(store), applied.value(), std::move(log).value(),
                                               std::move(lock).value());
  if (Status s = service->listen(); !s.ok()) return s;
  return std::unique_ptr<ParkServer>(std::move(service));
}

}  // namespace fourinone::park
