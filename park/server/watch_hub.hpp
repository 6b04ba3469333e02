// WatchHub: streams applied changes to watchers and answers waiting get_latest calls.
//
// DESIGN: runs on the server's io thread. It keeps a bounded history of recent events so a
// watcher can start (or resume after a reconnect) from a past revision without missing
// anything; if that revision is older than the history, the watcher gets a resync push and
// continues from now. Events of one revision always travel in one push, so a client's "last
// revision seen" is a safe place to resume from. get_latest waiters are answered by the
// first matching change or by their own timer — the server holds the call, nobody polls.
#pragma once


#include "core/asio.hpp"
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/rpc_server.hpp"
#include "park/protocol/messages.hpp"

namespace fourinone::park {

class Store;

class WatchHub {
 public:
  WatchHub(boost::asio::io_context& io, const Store& store, std::size_t max_history_bytes);

  // After each applied command that changed nodes.
  void publish(const std::vector<WatchEvent>& events);

  void add_watch(const core::RpcConnectionPtr& conn, const proto::WatchRequest& request);
  void remove_watch(const core::RpcConnectionPtr& conn, std::uint64_t watch_id);

  // Replies to request `id` on `conn` now if the answer is ready, else when a change comes
  // or after request.wait_ms.
  void latest(const core::RpcConnectionPtr& conn, std::uint64_t id, const proto::LatestRequest& request);

  void remove_connection(const core::RpcConnection* conn);

  // The store was replaced wholesale (a snapshot from the leader): the history has a hole, so
  // every watcher gets a resync push and continues from the new revision; waiters re-check.
  void resync_all();

  // The last revision that changed anything in the domain (0 if unknown).
  std::uint64_t domain_revision(const std::string& domain) const;
  std::uint64_t history_start() const { return history_start_; }
  std::size_t watcher_count() const { return watchers_.size(); }

 private:
  using WatchKey = std::pair<const core::RpcConnection*, std::uint64_t>;
  struct Watcher {
    std::weak_ptr<core::RpcConnection> conn;
    std::string domain;
    std::optional<std::string> node;
    std::uint64_t next_revision = 0;
  };
  struct Waiter {
    std::weak_ptr<core::RpcConnection> conn;
    std::uint64_t request_id = 0;
    proto::LatestRequest request;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  bool answer_latest_now(const proto::LatestRequest& request, proto::Response& response) const;
  void finish_waiter(std::uint64_t waiter_id, bool check_now);
  void send(const core::RpcConnectionPtr& conn, std::uint64_t watch_id, proto::WatchPush& push);

  boost::asio::io_context& io_;
  const Store& store_;
  std::size_t max_history_bytes_;

  std::deque<WatchEvent> history_;
  std::size_t history_bytes_ = 0;
  std::uint64_t history_start_;  // every event with revision >= this is in history_

  std::map<WatchKey, Watcher> watchers_;
  std::unordered_map<std::string, std::set<WatchKey>> watchers_by_domain_;

  std::uint64_t next_waiter_id_ = 1;
  std::map<std::uint64_t, Waiter> waiters_;
  std::unordered_map<std::string, std::set<std::uint64_t>> waiters_by_domain_;

  std::unordered_map<std::string, std::uint64_t> domain_revisions_;
};

}  // namespace fourinone::park
