#include "park/server/park_server.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "park/server/data_dir_lock.hpp"
#include "park/server/member_id.hpp"
#include "park/server/park_service.hpp"
#include "park/server/recovery.hpp"

namespace fourinone::park {


Result<std::unique_ptr<ParkServer>> ParkServer::start(const ParkServerOptions& options) {
  auto mq = load_mq_settings(options.config);
  if (!mq.ok()) return mq.status();
  const auto& servers = options.config.park.servers;
  const auto place = std::find(servers.begin(), servers.end(), options.self);
  std::string dir = options.config.resolved_data_dir() + "/" + options.self.host + "_" +
                    std::to_string(options.self.port);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(Errc::internal, "cannot create data directory " + dir + ": " + ec.message());

  auto lock = DataDirLock::acquire(dir);
  if (!lock.ok()) return lock.status();
  // Who we are (member_id.hpp): the id this data directory was given, else our place in
  // PARK/SERVERS (a new group), else nobody yet (joining).
  auto stored_id = read_member_id(dir);
  if (!stored_id.ok()) return stored_id.status();
  raft::NodeId member_id = 0;
  if (stored_id.value()) {
    member_id = *stored_id.value();
  } else if (!options.join && place != servers.end()) {
    member_id = static_cast<raft::NodeId>(place - servers.begin()) + 1;
    if (Status s = write_member_id(dir, member_id); !s.ok()) return s;
  } else if (!options.join) {
    return Status(Errc::config_error,
                  options.config.file + ": " + options.self.to_string() +
                      " is not listed in PARK/SERVERS; to add a server to a running group, start it with --join "
                      "and run: fourinone ctl member add " + options.self.to_string());
  }
  const auto started = std::chrono::steady_clock::now();
  auto log = open_server_log(dir, options.sync, options.config.park.wal_segment);
  if (!log.ok()) return log.status();
  StoreLimits limits{options.config.park.max_name, options.config.park.max_value};
  auto recovered = recover(*log.value(), limits);
  if (!recovered.ok()) return recovered.status();
  spdlog::info("opened and recovered {} from {} in {} ms: log index {}, revision {}, {} entries after the snapshot",
               options.self.to_string(), dir,
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count(),
               recovered->restore.applied, recovered->store.revision(), recovered->restore.entries.size());

  if (member_id == 0) spdlog::info("{} waits to be added to a running group (fourinone ctl member add)", options.self.to_string());
  auto service = std::make_unique<ParkService>(options, std::move(mq).value(), std::move(recovered).value(),
                                               std::move(log).value(), std::move(lock).value(), member_id, dir);
  if (Status s = service->listen(); !s.ok()) return s;
  return std::unique_ptr<ParkServer>(std::move(service));
}

}  // namespace fourinone::park
