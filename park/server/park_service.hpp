// ParkService: the request handler behind a ParkServer (see park_server.hpp for the design).
#pragma once


#include "core/asio.hpp"
#include <array>
#include <chrono>
#include <memory>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "core/metrics.hpp"
#include "core/rpc_server.hpp"
#include "park/protocol/messages.hpp"
#include "park/queue/queue_config.hpp"
#include "park/server/data_dir_lock.hpp"
#include "park/server/replicated_log.hpp"
#include "park/server/park_http.hpp"
#include "park/server/park_server.hpp"
#include "park/server/recovery.hpp"
#include "park/server/watch_hub.hpp"
#include "park/session/session_tracker.hpp"
#include "park/store/store.hpp"

namespace fourinone::park {

class ParkService final : public ParkServer, public core::RpcHandler {
 public:
  // `recovered` is what park/server/recovery.hpp rebuilt from `log`.
  // `member_id`: our Raft id (0: joining; member_id.hpp), kept in `data_dir`.
  ParkService(const ParkServerOptions& options, MqSettings mq_settings, Recovered recovered,
              std::unique_ptr<LogStorage> log, DataDirLock dir_lock, raft::NodeId member_id, std::string data_dir);
  ~ParkService() override;

  Status listen();
  void run() override;
  void stop() override;
  std::uint16_t port() const override { return rpc_.port(); }
  std::uint16_t http_port() const override { return http_ ? http_->port() : 0; }
  Status failure() const override { return storage_failure_; }

  // For the status page and /metrics (park/server/park_http.hpp); io thread only.
  ParkStatus status_info() const;
  const Store& store() const { return store_; }
  std::size_t watcher_count() const { return hub_.watcher_count(); }
  void write_metrics(core::MetricsWriter& out) const;  // park_metrics.cpp
  const ParkServerOptions& options() const { return options_; }
  // A change an admin makes through the status page: one op as `user`, proposed like a
  // client's write (the node's permissions apply). `done` runs on the io thread with the
  // result (not_leader naming the leader on a follower).
  void admin_change(const std::string& user, Op op, std::function<void(const Status&)> done);

  // core::RpcHandler
  void on_request(const core::RpcConnectionPtr& conn, std::uint64_t id, std::string_view body) override;
  void on_close(const core::RpcConnectionPtr& conn) override;

 private:
  void handle_write(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::WriteRequest&& request);
  void handle_status(const core::RpcConnectionPtr& conn, std::uint64_t id);
  void handle_member(const core::RpcConnectionPtr& conn, std::uint64_t id, const proto::MemberRequest& request);
  // Admin operations (membership): anyone without USERS, else the users in PARK/ADMINS.
  Status check_admin(const core::RpcConnectionPtr& conn, const char* operation) const;
  bool may_speak_for_a_server(const core::RpcConnectionPtr& conn);
  void warn_if_open() const;
  void handle_read(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::Request&& request);
  void serve_read(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::Request& request);
  void reply_not_leader(const core::RpcConnectionPtr& conn, std::uint64_t id, Status why);
  // Every answer to a request goes out here, so /metrics counts each result.
  void answer(const core::RpcConnectionPtr& conn, std::uint64_t id, const proto::Response& response);
  void on_role_changed(raft::Role role);
  void on_storage_failed(const Status& why);
  Status load_snapshot(const std::string& data);
  ReplicatedLog::Options log_options() const;
  Status check_write(const proto::WriteRequest& request) const;
  ApplyResult apply(const Command& command);
  void propose_internal(Command command);
  void on_tick();
  void schedule_tick();
  void schedule_clear(std::chrono::milliseconds delay);
  static std::int64_t now_ms();

  // --- the message queue (park_service_mq.cpp) ---
  // A queue command on its way: proposed, or (a receive) waiting for messages.
  struct PendingMq {
    std::weak_ptr<core::RpcConnection> conn;
    const core::RpcConnection* conn_id = nullptr;
    std::uint64_t id = 0;
    Command command;
    std::chrono::steady_clock::time_point wait_until;
    std::unique_ptr<boost::asio::steady_timer> timer;  // while waiting
    std::vector<std::shared_ptr<PendingMq>> handoffs;  // a send: receivers riding along
  };
  using MqKey = std::pair<std::string, std::string>;  // (channel, subscriber)
  void handle_mq(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::MqRequest&& request);
  void handle_mq_read(const core::RpcConnectionPtr& conn, std::uint64_t id, proto::MqReadRequest&& request);
  void serve_mq_read(const core::RpcConnectionPtr& conn, std::uint64_t id, const proto::MqReadRequest& request);
  Status check_mq(const proto::MqRequest& request) const;
  void propose_mq(std::shared_ptr<PendingMq> pending);
  void wait_for_messages(std::shared_ptr<PendingMq> pending);
  // A send takes the first waiting receivers of its channel along (MqHandoff), as many as
  // its messages can serve, and answers them from its apply result.
  void attach_waiters(PendingMq& send, MqCommand& command);
  void finish_handoffs(PendingMq& send, const ApplyResult& result);
  void reply_mq(const std::shared_ptr<PendingMq>& pending, const ApplyResult& result);
  // After an apply: hand newly available messages to waiting receivers (posted, so no
  // proposal is made from inside an apply).
  void wake_receivers(const MqResult& result);
  void drop_waiters(const core::RpcConnection* conn);
  void fail_waiters(const Status& why);
  void mq_tick(std::int64_t now);

  DataDirLock dir_lock_;  // first in, last out: held until everything else is gone
  ParkServerOptions options_;
  raft::NodeId member_id_;
  std::string data_dir_;
  // /metrics (park_metrics.cpp): requests by kind (the index of proto::Request), answers by
  // result, and the time writes and linearizable reads take.
  std::shared_ptr<core::NetStats> net_stats_ = std::make_shared<core::NetStats>();
  std::array<core::Counter, std::variant_size_v<proto::Request>> requests_by_kind_;
  std::array<core::Counter, static_cast<std::size_t>(kLastErrc) + 1> answers_by_result_;
  core::Histogram write_seconds_;
  core::Histogram read_seconds_;
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
  MqSettings mq_settings_;
  std::map<MqKey, std::deque<std::shared_ptr<PendingMq>>> waiting_;  // receivers, first come first served
  std::set<MqKey> to_wake_;
  bool lease_expiry_in_flight_ = false;
  bool age_out_in_flight_ = false;
  bool stopping_ = false;
  Status storage_failure_;
  // The status page and /metrics (PARK/HTTP), if configured. Last: destroyed first, so its
  // thread is gone before anything it reads (through io_) is.
  std::unique_ptr<ParkHttp> http_;
};

}  // namespace fourinone::park
