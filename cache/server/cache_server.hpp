// CacheServer: one member of a cache group (`fourinone cache --server HOST:PORT`).
//
// DESIGN: the main io thread owns the store, the role, the layout, the links to backups and
// every write waiting for acknowledgements: it is their only writer. Connections are spread
// over CACHE/THREADS io threads (the main one among them). A get is answered on its
// connection's thread under a shared lock (state_mutex_), reading the store without changing
// it (second-chance recency only sets a flag); every other request is handed to the main
// thread, which takes the lock exclusively while it changes shared state, and whose answers
// go back to each connection's own thread. The park is only spoken to from GroupControl's
// thread; its decisions are posted to the main thread.
//
// A write on the primary: check the key's group under the current layout, apply it to the
// store, queue the change on every backup link, and answer once every backup that is (or may
// become at any moment) in sync acknowledged it and no in_sync change is in progress.
// Changes queued in one io turn go out as one replicate request per backup (group
// replication), in the order they were applied, on one connection, so a backup applies
// exactly the primary's sequence. A link that fails is dropped from the group's in_sync list
// in the park before any write waiting for it is answered; a new link starts with a full
// copy (sync_begin, sync_chunk..., sync_end) and joins in_sync once it confirmed the copy and
// every batch sent during it (Link::State).
//
// Reads are answered by the primary alone, from memory. A read may see a write that is not
// yet acknowledged (as in Redis); a write is only promised once acknowledged.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/cache_config.hpp"
#include "cache/protocol/messages.hpp"
#include "cache/protocol/views.hpp"
#include "cache/routing/layout.hpp"
#include "cache/server/group_control.hpp"
#include "cache/store/cache_store.hpp"
#include "core/asio.hpp"
#include "core/rpc_client.hpp"
#include "core/role_http.hpp"
#include "core/rpc_server.hpp"

namespace fourinone::cache {

struct CacheServerOptions {
  Config config;
  ServerAddress self;
  std::optional<ServerAddress> http;  // status page and /metrics (fourinone cache --http)
};

class CacheServer final : public core::RpcHandler, public ControlEvents {
 public:
  // Loads the CACHE rows, binds, registers in the park and starts deciding its role.
  // Errors: config_error (not in any CACHEGROUP, bad row), unavailable (port taken, no park).
  static Result<std::unique_ptr<CacheServer>> start(CacheServerOptions options);
  ~CacheServer() override;

  // Serves until SIGINT/SIGTERM or stop(); then leaves the park (its registration goes).
  void run();
  void stop();  // any thread

  // core::RpcHandler (the connection's io thread)
  void on_request(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string_view body) override;
  // A pipelined burst's keys: their buckets are fetched before the first is looked up.
  bool wants_peek() const override { return true; }
  void on_peek(std::string_view body) override;

 private:
  struct Link;
  struct PendingWrite {
    core::RpcConnectionPtr connection;
    std::uint64_t request_id = 0;
    std::string reply;     // the answer's frame (core::frame_buffer), sent once `waiting` is 0
    int waiting = 0;
  };
  // The replicated form of a request's writes: encoded proto::Items, in apply order.
  struct Changes {
    std::string bytes;
    std::size_t count = 0;
  };

  CacheServer(CacheServerOptions options, CacheSettings settings, std::string group);

  // ControlEvents (control thread): post to io.
  void on_layout(Layout layout) override;
  void on_role(Role role, std::uint64_t epoch, std::string primary) override;
  void on_members(std::vector<std::string> members) override;
  void on_in_sync_changed(std::string member, bool added, bool done) override;

  // --- any connection thread ---------------------------------------------------------------
  bool on_main_thread() const;
  // A get: role, layout and key checks and the store read, with state_mutex_ held shared
  // (or on the main thread, which is the only writer).
  void serve_get(const core::RpcConnectionPtr& connection, std::uint64_t id, const proto::Item& item,
                 std::uint64_t layout_version);

  // --- main io thread ----------------------------------------------------------------------
  // Answers on the connection's own thread (now, or posted there).
  void send_reply(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string frame);
  void send_fail(const core::RpcConnectionPtr& connection, std::uint64_t id, const Status& status);
  void handle_client(const core::RpcConnectionPtr& connection, std::uint64_t id, proto::Request& request);
  void handle_replication(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string_view body);
  // Checks a client's key: empty, too long, control characters, wrong group. OK or the error.
  Status check_key(std::string_view key) const;
  void do_get(const proto::Item& item, proto::ItemResult& out);
  // The single-key get, answered from the store's bytes without an intermediate copy.
  void answer_get(const core::RpcConnectionPtr& connection, std::uint64_t id, const proto::Item& item);
  // Applies one client write; on success appends its replicated form to `changes`.
  void do_write(proto::Op op, const proto::Item& item, proto::ItemResult& out, Changes& changes);
  // Sends `frame` (a sealed-later answer) once every backup has `changes`.
  void answer_after_replication(const core::RpcConnectionPtr& connection, std::uint64_t id, std::string frame,
                                const Changes& changes);
  void ack_one(std::uint64_t pending_id);
  void reply_status(const core::RpcConnectionPtr& connection, std::uint64_t id, const Status& s);
  void fill_stats(proto::Response& response);
  void write_metrics(core::MetricsWriter& out);  // main thread

  void become(Role role, std::uint64_t epoch, const std::string& primary);
  void set_members(const std::vector<std::string>& members);
  void open_link(const std::string& member);
  void send_full_copy(Link& link);
  void flush_links();
  void maybe_request_add(Link& link);
  void link_failed(const std::string& member, std::uint64_t generation, const Status& why);
  void defer_link_failed(const std::string& member, std::uint64_t generation, const Status& why);
  void finish_shrink(const std::string& member, bool done);
  void step_down(const std::string& why);
  void close_links();
  void sweep();

  std::int64_t now_ms() const;

  CacheServerOptions options_;
  CacheSettings settings_;
  std::string group_;
  std::string self_;

  boost::asio::io_context io_;
  // Connection threads besides the main one (CACHE/THREADS - 1).
  std::vector<std::unique_ptr<boost::asio::io_context>> extra_ios_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> extra_work_;
  std::vector<std::thread> extra_threads_;
  std::shared_ptr<core::NetStats> net_stats_ = std::make_shared<core::NetStats>();
  std::unique_ptr<core::RpcServer> rpc_;
  std::unique_ptr<core::RoleHttp> http_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer sweep_timer_;
  std::unique_ptr<GroupControl> control_;
  core::RpcClientOptions link_options_;

  // Written on the main thread only, under state_mutex_ held exclusively; read there freely
  // and on connection threads under state_mutex_ held shared: store_, layout_, ring_, role_,
  // epoch_, primary_.
  mutable std::shared_mutex state_mutex_;
  CacheStore store_;
  Layout layout_;
  HashRing ring_;
  Role role_ = Role::starting;
  std::uint64_t epoch_ = 0;         // newest epoch seen (record or replication)
  std::string primary_;             // HOST:PORT of the group's primary as last announced
  // main thread only:
  std::uint64_t synced_epoch_ = 0;  // backup: the epoch whose full copy it holds (0: none)
  std::vector<std::string> members_;  // primary: live members to link to
  std::map<std::string, std::unique_ptr<Link>> links_;
  std::map<std::string, std::vector<std::uint64_t>> shrinks_;  // member -> writes waiting for it
  std::unordered_map<std::uint64_t, PendingWrite> pending_;
  Changes changes_scratch_;  // handle_client's, reused
  std::vector<proto::ItemView> replica_items_;  // handle_replication's, reused
  std::uint64_t next_pending_ = 1;
  std::uint64_t next_generation_ = 1;
  bool flush_posted_ = false;
  bool stopping_ = false;
};

// The primary's connection to one backup (internal to the server's files).
struct CacheServer::Link {
  enum class State {
    connecting,   // TCP and hello under way; writes do not wait for it (the copy will hold them)
    syncing,      // the full copy is queued; later writes follow it on the same connection, and
                  // are answered without waiting for this backup (it is not in in_sync)
    catching_up,  // the copy is confirmed; writes from now on wait for it; the batches sent
                  // while syncing (up to caught_up_batch) are still to be confirmed
    adding,       // it holds every write answered so far; the park is being told
    in_sync,      // in the group record's in_sync list
  };
  std::string member;
  std::uint64_t generation = 0;  // tells this link's callbacks from a former link's
  State state = State::connecting;
  std::shared_ptr<core::RpcClient> conn;
  std::string outbox;                     // encoded changes of this io turn, not sent yet
  std::size_t outbox_count = 0;           // how many changes `outbox` holds
  std::vector<std::uint64_t> outbox_ids;  // pending writes those changes belong to
  // Replicate batches sent here and not yet confirmed: batch number -> their pending writes.
  std::map<std::uint64_t, std::vector<std::uint64_t>> unacked;
  std::uint64_t last_batch = 0;
  std::uint64_t caught_up_batch = 0;  // catching_up: the last batch sent while syncing
  // Writes wait for this backup's confirmation (it is, or may at any moment become, in sync).
  bool counts() const noexcept { return state != State::connecting && state != State::syncing; }
};

}  // namespace fourinone::cache
