// ParkClient: the implementation of fourinone::Park (include/fourinone/park.hpp).
//
// DESIGN: one io thread owns the connection and every piece of call state; public methods
// post to it and (for the synchronous forms) wait on a future. User callbacks run on a
// second thread, one at a time and in order, so a slow callback never stalls the
// connection, and a callback may call the synchronous API without deadlock.
// Every call is remembered until answered or past its deadline. When the connection drops,
// the client reconnects (servers in config order, with backoff) and resends what is still
// open: writes carry (client id, seq), so the store applies a resent write once and returns
// the first answer (Raft thesis §6.3). Watches resume from the last revision delivered.
#pragma once


#include "core/asio.hpp"
#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "core/rpc_client.hpp"
#include "fourinone/park.hpp"
#include "park/protocol/messages.hpp"

namespace fourinone::park {

class ParkClient final : public Park {
 public:
  using Clock = std::chrono::steady_clock;
  using ResponseDone = std::function<void(Result<proto::Response>)>;

  explicit ParkClient(ParkOptions options);
  ~ParkClient() override;

  // Connects to the first server that answers. Errors: unavailable, unauthenticated.
  Status connect_first();

  Result<Node> create(std::string_view domain, std::string_view node, std::string_view value,
                      const CreateOptions& options) override;
  Result<Node> create_sequential(std::string_view domain, std::string_view value,
                                 const CreateOptions& options) override;
  Result<Node> update(std::string_view domain, std::string_view node, std::string_view value,
                      std::int64_t expected_version) override;
  Result<Node> remove(std::string_view domain, std::string_view node, std::int64_t expected_version) override;
  Result<std::vector<Node>> remove_domain(std::string_view domain) override;
  Status set_deletable(std::string_view domain) override;
  Result<TxnResult> commit(const Txn& txn) override;

  Result<Node> get(std::string_view domain, std::string_view node) override;
  Result<std::vector<Node>> list(std::string_view domain) override;
  Result<std::optional<Node>> get_latest(std::string_view domain, std::string_view node, std::uint64_t old_version,
                                         std::chrono::milliseconds wait) override;
  Result<std::optional<DomainSnapshot>> get_latest_domain(std::string_view domain, std::uint64_t since_revision,
                                                             std::chrono::milliseconds wait) override;

  Result<std::unique_ptr<Watch>> watch(std::string_view domain, std::optional<std::string> node,
                                       std::uint64_t from_revision, WatchCallback callback) override;
  Result<std::unique_ptr<Watch>> add_listener(std::string_view domain, std::string_view node,
                                              std::uint64_t old_version, Listener listener) override;

  void async_create(std::string_view domain, std::string_view node, std::string_view value,
                    const CreateOptions& options, NodeCallback done) override;
  void async_update(std::string_view domain, std::string_view node, std::string_view value,
                    std::int64_t expected_version, NodeCallback done) override;
  void async_get(std::string_view domain, std::string_view node, NodeCallback done) override;
  void async_remove(std::string_view domain, std::string_view node, std::int64_t expected_version,
                    NodeCallback done) override;

  Status open_session() override;
  Status close_session() override;
  SessionState session_state() const override { return session_state_.load(); }
  std::uint64_t session_id() const override { return session_id_.load(); }
  void on_session_state(std::function<void(SessionState)> callback) override;

  Result<ParkStatus> status() override;
  Status add_member(std::string_view address) override;
  Status remove_member(std::string_view address) override;
  Result<std::vector<MemberStatus>> members() override;

  // --- for the parts built on the park (mq/) ---------------------------------------------
  // Any thread. A queue command, exactly once like a write (its seq is set here); done runs
  // on the io thread and must not block. timeout: the call's deadline (a receive adds its wait).
  void call_mq(proto::MqRequest request, std::chrono::milliseconds timeout, ResponseDone done);
  // A queue read (stats or the channel list); linearizable unless options.stale_reads.
  void call_mq_read(proto::MqReadRequest request, ResponseDone done);
  // Runs fn on the callback thread, after every callback posted before it.
  void post_callback(std::function<void()> fn);
  // The session that owns this consumer's leases: the current one, or a new one when none
  // is open or the last one expired (its leases went back to the queues).
  Result<std::uint64_t> lease_session();
  const ParkOptions& options() const { return options_; }

 private:
  struct Call {
    std::string body;
    Clock::time_point deadline;
    ResponseDone done;
    std::uint64_t seq = 0;  // writes: the exactly-once sequence number
    bool sent_on_current = false;
  };
  struct WatchState;
  class WatchHandle;

  // --- io thread -----------------------------------------------------------------------
  void submit(proto::Request request, ResponseDone done, std::chrono::milliseconds timeout);
  void submit_write(proto::WriteRequest request, ResponseDone done);
  // WriteRequest or MqRequest: gets the next seq and the acked_below mark.
  template <class Sequenced>
  void submit_sequenced(Sequenced request, ResponseDone done, std::chrono::milliseconds timeout);
  void send_call(std::uint64_t call_id);
  // A server answered not_leader: go to the leader it names, or try again shortly.
  void on_not_leader(std::uint64_t call_id, proto::Response response);
  void finish_call(std::uint64_t call_id, Result<proto::Response> result);
  void on_connected(std::shared_ptr<core::RpcClient> conn);
  void on_connection_lost(const Status& why);
  void try_connect(std::size_t attempt);
  void on_push(std::uint64_t stream, std::string_view body);
  void sweep();
  void heartbeat();
  void set_session_state(SessionState state);
  void register_watch(const std::shared_ptr<WatchState>& w);
  // Any thread: stops a watch's callbacks now and tells the server (fire and forget).
  void stop_watch(const std::shared_ptr<WatchState>& w);
  Status start_watch(const std::shared_ptr<WatchState>& w, std::uint64_t from_revision);

  // --- any thread ----------------------------------------------------------------------
  Result<proto::Response> call_sync(proto::Request request, std::chrono::milliseconds timeout);
  Status change_member(bool add, std::string_view address);
  Result<proto::Response> write_sync(proto::WriteRequest request);
  void write_async(proto::WriteRequest request, NodeCallback done);
  Result<std::uint64_t> ensure_session();
  proto::WriteRequest single_op(Op op);
  Status check_op(const Op& op) const;

  // Lets a Watch handle that outlives the client find out it is gone.
  struct Liveness {
    std::mutex mutex;
    ParkClient* client = nullptr;  // guarded by mutex; null once the client is closing
  };

  // The options of every connection to a server: login, frame limit, TLS.
  core::RpcClientOptions rpc_options() const;

  ParkOptions options_;
  std::uint64_t client_id_;
  std::shared_ptr<core::TlsContext> tls_;  // made once from options_.tls; nullptr: plain TCP
  std::shared_ptr<Liveness> liveness_ = std::make_shared<Liveness>();

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> io_work_;
  boost::asio::io_context callbacks_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> callbacks_work_;
  std::thread io_thread_;
  std::thread callback_thread_;

  // io thread only:
  std::shared_ptr<core::RpcClient> conn_;
  bool connecting_ = false;
  bool closing_ = false;
  std::size_t next_server_ = 0;
  std::uint64_t next_call_id_ = 1;
  std::uint64_t next_seq_ = 1;
  std::map<std::uint64_t, Call> calls_;
  std::set<std::uint64_t> open_seqs_;  // writes not yet answered: acked_below = smallest
  std::map<std::uint64_t, std::shared_ptr<WatchState>> watches_;
  std::uint64_t next_watch_id_ = 1;
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer heartbeat_timer_;
  boost::asio::steady_timer reconnect_timer_;
  Clock::time_point last_heartbeat_ok_;

  std::mutex session_mutex_;  // serializes open_session/close_session callers
  std::atomic<std::uint64_t> session_id_{0};
  std::atomic<SessionState> session_state_{SessionState::none};
  std::mutex state_callback_mutex_;
  std::function<void(SessionState)> state_callback_;  // guarded by state_callback_mutex_
};

}  // namespace fourinone::park
