// ParkService: the request handler behind a ParkServer (see park_server.hpp for the design).
#pragma once


#include "core/asio.hpp"
#include <chrono>
#include <memory>
#include <set>

#include "core/rpc_server.hpp"
#include "park/protocol/messages.hpp"
#include "park/server/data_dir_lock.hpp"
#include "park/server/replicated_log.hpp"
#include "park/server/park_server.hpp"
#include "park/server/watch_hub.hpp"
#include "park/session/session_tracker.hpp"
#include "park/store/store.hpp"

namespace fourinone::park {

class ParkService final : public ParkServer, public core::RpcHandler {
 public:
  ParkService(const ParkServerOptions& options, Store store, std::uint64_t applied_index,
              std::unique_ptr<LogStorage> log, DataDirLock dir_lock);
  ~ParkService() override;

  Status listen();
  void run() override;
  void stop() override;
  std::uint16_t port() const override { return rpc_.port(); }

  // core::RpcHandler
  void on_request(const core::RpcConnectionPtr& conn, std::uint64_t id, std::string_view body) override;
  void on_close(const core::RpcConnectionPtr& conn) override;

 private:
  void handle_write(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::WriteRequest&& request);
  void handle_status(const core::RpcConnectionPtr& conn, std::uint64_t id);
  void handle_read(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::Request&& request);
  void serve_read(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::Request& request);
  void reply_not_leader(const core::RpcConnectionPtr& conn, std::uint64_t id, Status why);
  void on_role_changed(raft::Role role);
  Status load_snapshot(const std::string& data);
  ReplicatedLog::Options log_options() const;
  Status check_write(const proto::WriteRequest& request) const;
  ApplyResult apply(const Command& command);
  void propose_internal(Command command);
  void on_tick();
  void schedule_tick();
  void schedule_clear(std::chrono::milliseconds delay);
  static std::int64_t now_ms();

  DataDirLock dir_lock_;  // first in, last out: held until everything else is gone
  ParkServerOptions options_;
  boost::asio::io_context io_;
  boost::asio::signal_set signals_;
  Store store_;
  core::RpcServer rpc_;
  WatchHub hub_;
  SessionTracker sessions_;
  ReplicatedLog log_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer clear_timer_;
  std::set<std::uint64_t> expiring_sessions_;  // expire proposals in flight
  bool ttl_in_flight_ = false;
  bool stopping_ = false;
};

}  // namespace fourinone::park
