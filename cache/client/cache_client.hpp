// CacheClient: the implementation of fourinone::Cache (include/fourinone/cache.hpp).
//
// DESIGN: one io thread owns the routing state (the hash ring, each group's primary) and the
// connections, a pool per server; every call is routed there. The park is read on a control
// thread of its own (park calls block): the layout and the group records at start, again on
// every park watch event, and whenever a server says our view is old. A call that meets
// not_leader, a dead connection or stale_layout waits for that refresh (or a short retry
// timer) and is routed again, until its deadline; so a client follows a failover or a
// scale-out by itself and never reads a key from a group that no longer owns it.
//
// Retried writes: set and remove are safe to repeat; add and compare_and_set may answer
// exists / bad_version when their first attempt was applied but its answer was lost.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cache/client/single_flight.hpp"
#include "cache/protocol/messages.hpp"
#include "cache/routing/layout.hpp"
#include "cache/routing/park_records.hpp"
#include "core/asio.hpp"
#include "core/rpc_client.hpp"
#include "fourinone/cache.hpp"

namespace fourinone::cache {

class CacheClient final : public Cache {
 public:
  using Clock = std::chrono::steady_clock;
  using ResponseDone = std::function<void(Result<proto::Response>)>;

  explicit CacheClient(CacheOptions options);
  ~CacheClient() override;

  // Connects to the park and reads the layout. Errors: unavailable.
  Status start();

  Result<CacheItem> get(std::string_view key) override;
  Result<std::uint64_t> set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) override;
  Result<std::uint64_t> add(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) override;
  Result<std::uint64_t> compare_and_set(std::string_view key, std::string_view value, std::uint64_t expected_version,
                                        std::chrono::milliseconds ttl) override;
  Result<CacheItem> remove(std::string_view key, std::uint64_t expected_version) override;
  Result<std::vector<std::optional<CacheItem>>> multi_get(const std::vector<std::string>& keys) override;
  Result<std::vector<std::uint64_t>> multi_set(const std::vector<std::pair<std::string, std::string>>& items,
                                               std::chrono::milliseconds ttl) override;
  Result<CacheItem> get_or_load(std::string_view key, const Loader& loader, std::chrono::milliseconds ttl) override;
  void async_get(std::string_view key, ItemCallback done) override;
  void async_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl,
                 VersionCallback done) override;
  Result<std::vector<CacheServerStats>> stats() override;
  std::string group_of(std::string_view key) const override;
  std::vector<std::string> groups() const override;
  std::uint64_t layout_version() const override;

 private:
  struct Call {
    proto::Request request;
    std::string route_key;   // non-empty: routed by this key's group at every attempt
    std::string group;       // otherwise: this group's primary ...
    std::string address;     // ... or this server exactly (stat)
    std::string sent_to;     // the server of the attempt in flight
    Clock::time_point deadline;
    // Exactly one is set. The async single-key forms keep the user's callback itself, so no
    // wrapper is allocated per call.
    ResponseDone done;
    ItemCallback item_done;
    VersionCallback version_done;
    void finish(Result<proto::Response> response);
  };
  struct Pool {
    std::vector<std::shared_ptr<core::RpcClient>> conns;
    // Calls of one io turn go to the same socket, so they leave in one gathered write (and
    // the server reads them in one); the next turn takes the next socket.
    std::size_t next = 0;
    bool turn_started = false;
    bool connecting = false;
    std::vector<Call> queued;  // waiting for the first connection
  };
  struct View {                // what the control thread read from the park
    Layout layout;
    std::map<std::string, std::string> primaries;  // group -> HOST:PORT
  };

  // --- io thread ---------------------------------------------------------------------------
  void submit(Call call);  // any thread
  void send(Call call);
  void on_answer(std::uint32_t slot, Result<std::string> body);
  void retry_later(Call call);
  void connect_pool(const std::string& address);
  void apply_view(View view);
  void retry_waiting();
  void sweep();

  // --- control thread ----------------------------------------------------------------------
  void request_refresh();  // any thread; coalesced
  Result<View> read_view();

  // --- any thread --------------------------------------------------------------------------
  Result<proto::Response> call_sync(Call call);
  // One request per group, in parallel, for a multi op; again from the start after a
  // stale_layout (gets and sets are safe to repeat), until the deadline.
  Result<std::vector<proto::ItemResult>> run_multi(const std::vector<proto::Item>& items, proto::Op op);
  Status check_key(std::string_view key) const;
  Status check_value(std::string_view value) const;
  Result<std::uint64_t> write(std::string_view key, std::string_view value, std::uint8_t mode,
                              std::uint64_t expected_version, std::chrono::milliseconds ttl);

  CacheOptions options_;
  ParkDomains domains_;
  std::unique_ptr<Park> park_;
  std::vector<std::unique_ptr<Watch>> watches_;
  core::RpcClientOptions rpc_options_;
  SingleFlight loads_;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> io_work_;
  boost::asio::io_context control_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> control_work_;
  std::thread io_thread_;
  std::thread control_thread_;
  std::thread::id io_thread_id_;

  // io thread only:
  HashRing ring_;
  std::map<std::string, std::string> primaries_;
  std::map<std::string, Pool> pools_;
  std::vector<Call> waiting_;
  // Calls sent and not answered, by slot: the answer's callback captures only (this, slot),
  // which std::function holds without allocating.
  std::vector<Call> in_flight_;
  std::vector<std::uint32_t> free_slots_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer sweep_timer_;
  bool retry_armed_ = false;
  bool closing_ = false;

  std::atomic<bool> refresh_queued_{false};
  mutable std::mutex ring_mutex_;
  std::shared_ptr<const HashRing> public_ring_;  // guarded by ring_mutex_: for group_of()
};

}  // namespace fourinone::cache
