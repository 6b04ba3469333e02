#include "park/server/watch_hub.hpp"

#include <algorithm>

#include "core/wire_archive.hpp"
#include "park/store/store.hpp"

namespace fourinone::park {
namespace {

std::size_t event_bytes(const WatchEvent& e) {
  return 96 + e.node.domain.size() + e.node.name.size() + e.node.value.size() + e.node.creator.size();
}

bool matches(const std::optional<std::string>& node, const WatchEvent& e) { return !node || *node == e.node.name; }

}  // namespace

WatchHub::WatchHub(boost::asio::io_context& io, const Store& store, std::size_t max_history_bytes)
    : io_(io), store_(store), max_history_bytes_(max_history_bytes), history_start_(store.revision() + 1) {}

void WatchHub::send(const core::RpcConnectionPtr& conn, std::uint64_t watch_id, proto::WatchPush& push) {
  push.watch_id = watch_id;
  conn->push(watch_id, core::encode(push));
}

void WatchHub::publish(const std::vector<WatchEvent>& events) {
  if (events.empty()) return;
  for (const auto& e : events) {
    history_.push_back(e);
    history_bytes_ += event_bytes(e);
    domain_revisions_[e.node.domain] = e.revision;
  }
  while (history_bytes_ > max_history_bytes_ && history_.size() > 1) {
    history_bytes_ -= event_bytes(history_.front());
    history_start_ = history_.front().revision + 1;
    history_.pop_front();
  }

  // Watchers: one push per watcher for this batch.
  std::map<WatchKey, proto::WatchPush> pushes;
  for (const auto& e : events) {
    auto it = watchers_by_domain_.find(e.node.domain);
    if (it == watchers_by_domain_.end()) continue;
    for (const auto& key : it->second) {
      auto& w = watchers_.at(key);
      if (e.revision < w.next_revision || !matches(w.node, e)) continue;
      pushes[key].events.push_back(e);
    }
  }
  std::uint64_t last = events.back().revision;
  for (auto& [key, push] : pushes) {
    auto& w = watchers_.at(key);
    w.next_revision = last + 1;
    if (auto conn = w.conn.lock()) send(conn, key.second, push);
  }

  // Waiters on these domains.
  std::set<std::uint64_t> ready;
  for (const auto& e : events) {
    auto it = waiters_by_domain_.find(e.node.domain);
    if (it == waiters_by_domain_.end()) continue;
    ready.insert(it->second.begin(), it->second.end());
  }
  for (auto id : ready) finish_waiter(id, true);
}

void WatchHub::resync_all() {
  std::uint64_t now = store_.revision();
  history_.clear();
  history_bytes_ = 0;
  history_start_ = now + 1;
  for (auto& [key, w] : watchers_) {
    w.next_revision = now + 1;
    if (auto conn = w.conn.lock()) {
      proto::WatchPush push;
      push.resync = true;
      push.revision = now;
      send(conn, key.second, push);
    }
  }
  std::vector<std::uint64_t> waiting;
  for (const auto& [id, waiter] : waiters_) waiting.push_back(id);
  for (auto id : waiting) finish_waiter(id, true);
}

void WatchHub::add_watch(const core::RpcConnectionPtr& conn, const proto::WatchRequest& request) {
  WatchKey key{conn.get(), request.watch_id};
  remove_watch(conn, request.watch_id);
  Watcher w{conn, request.domain, request.node, 0};
  std::uint64_t now = store_.revision();
  std::uint64_t from = request.from_revision == 0 ? now + 1 : request.from_revision;
  if (from < history_start_) {
    proto::WatchPush push;
    push.resync = true;
    push.revision = now;
    send(conn, request.watch_id, push);
    from = now + 1;
  } else if (from <= now) {
    proto::WatchPush push;
    auto first = std::lower_bound(history_.begin(), history_.end(), from,
                                  [](const WatchEvent& e, std::uint64_t r) { return e.revision < r; });
    for (auto it = first; it != history_.end(); ++it) {
      if (it->node.domain == request.domain && matches(request.node, *it)) push.events.push_back(*it);
    }
    if (!push.events.empty()) send(conn, request.watch_id, push);
    from = now + 1;
  }
  w.next_revision = from;
  watchers_[key] = std::move(w);
  watchers_by_domain_[request.domain].insert(key);
}

void WatchHub::remove_watch(const core::RpcConnectionPtr& conn, std::uint64_t watch_id) {
  WatchKey key{conn.get(), watch_id};
  auto it = watchers_.find(key);
  if (it == watchers_.end()) return;
  auto d = watchers_by_domain_.find(it->second.domain);
  if (d != watchers_by_domain_.end()) {
    d->second.erase(key);
    if (d->second.empty()) watchers_by_domain_.erase(d);
  }
  watchers_.erase(it);
}

void WatchHub::remove_connection(const core::RpcConnection* conn) {
  auto it = watchers_.lower_bound(WatchKey{conn, 0});
  while (it != watchers_.end() && it->first.first == conn) {
    auto d = watchers_by_domain_.find(it->second.domain);
    if (d != watchers_by_domain_.end()) {
      d->second.erase(it->first);
      if (d->second.empty()) watchers_by_domain_.erase(d);
    }
    it = watchers_.erase(it);
  }
  std::vector<std::uint64_t> gone;
  for (auto& [id, waiter] : waiters_) {
    auto c = waiter.conn.lock();
    if (!c || c.get() == conn) gone.push_back(id);
  }
  for (auto id : gone) {
    auto w = waiters_.find(id);
    auto d = waiters_by_domain_.find(w->second.request.domain);
    if (d != waiters_by_domain_.end()) {
      d->second.erase(id);
      if (d->second.empty()) waiters_by_domain_.erase(d);
    }
    w->second.timer->cancel();
    waiters_.erase(w);
  }
}

std::uint64_t WatchHub::domain_revision(const std::string& domain) const {
  auto it = domain_revisions_.find(domain);
  std::uint64_t seen = it == domain_revisions_.end() ? 0 : it->second;
  return std::max(seen, store_.domain_revision(domain));
}

bool WatchHub::answer_latest_now(const proto::LatestRequest& request, proto::Response& response) const {
  response.revision = store_.revision();
  if (!request.node.empty()) {
    const Node* node = store_.find(request.domain, request.node);
    if (!node || node->version == request.since) return false;
    response.changed = true;
    response.nodes = {*node};
    return true;
  }
  if (domain_revision(request.domain) <= request.since) return false;
  response.changed = true;
  response.nodes = store_.list(request.domain);
  return true;
}

void WatchHub::latest(const core::RpcConnectionPtr& conn, std::uint64_t id, const proto::LatestRequest& request) {
  proto::Response response;
  if (answer_latest_now(request, response) || request.wait_ms <= 0) {
    conn->reply(id, core::encode(response));
    return;
  }
  std::uint64_t waiter_id = next_waiter_id_++;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_);
  timer->expires_after(std::chrono::milliseconds(std::min<std::int64_t>(request.wait_ms, 24ll * 3600 * 1000)));
  timer->async_wait([this, waiter_id](const boost::system::error_code& ec) {
    if (!ec) finish_waiter(waiter_id, false);
  });
  waiters_by_domain_[request.domain].insert(waiter_id);
  waiters_.emplace(waiter_id, Waiter{conn, id, request, std::move(timer)});
}

void WatchHub::finish_waiter(std::uint64_t waiter_id, bool check_now) {
  auto it = waiters_.find(waiter_id);
  if (it == waiters_.end()) return;
  proto::Response response;
  bool changed = answer_latest_now(it->second.request, response);
  if (check_now && !changed) return;  // a change elsewhere in the domain; keep waiting
  response.revision = store_.revision();
  if (auto conn = it->second.conn.lock()) conn->reply(it->second.request_id, core::encode(response));
  auto d = waiters_by_domain_.find(it->second.request.domain);
  if (d != waiters_by_domain_.end()) {
    d->second.erase(waiter_id);
    if (d->second.empty()) waiters_by_domain_.erase(d);
  }
  it->second.timer->cancel();
  waiters_.erase(it);
}

}  // namespace fourinone::park
