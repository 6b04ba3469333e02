// The park group as a peer_bench target, through the public client API (libfourinone).
#include <fourinone/park.hpp>

#include <algorithm>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>

#include "target.hpp"

namespace peers {
namespace {

constexpr std::string_view kDomain = "bench";

fourinone::ParkOptions park_options(const TargetOptions& options, bool stale_reads) {
  fourinone::ParkOptions park;
  // Connection i tries the servers starting from number i, so connections (and with
  // stale reads, the servers answering them) spread over the group like the peers' clients.
  const auto n = options.endpoints.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto address = fourinone::parse_server_address(options.endpoints[(k + static_cast<std::size_t>(options.index)) % n]);
    if (address.ok()) park.servers.push_back(address.value());
  }
  park.session_timeout = options.session_timeout;
  park.heartbeat = std::max(std::chrono::milliseconds(50), options.session_timeout / 4);
  park.call_timeout = std::chrono::milliseconds(5000);
  park.connect_timeout = std::chrono::milliseconds(1000);
  park.stale_reads = stale_reads;
  return park;
}

class ParkConnection final : public Connection {
 public:
  ParkConnection(TargetOptions options, std::unique_ptr<fourinone::Park> park)
      : options_(std::move(options)), park_(std::move(park)) {}

  // The lock view's callback holds the view; dropping the watch breaks that cycle.
  ~ParkConnection() override {
    if (view_) view_->watch.reset();
  }

  void async_put(const std::string& key, const std::string& value, Done done) override {
    park_->async_update(kDomain, key, value, fourinone::kAnyVersion,
                        [done = std::move(done)](fourinone::Result<fourinone::Node> r) { done(r.ok()); });
  }

  void async_create(const std::string& key, const std::string& value, Done done) override {
    park_->async_create(kDomain, key, value, {},
                        [done = std::move(done)](fourinone::Result<fourinone::Node> r) { done(r.ok()); });
  }

  void async_get(const std::string& key, bool linearizable, Done done) override {
    fourinone::Park* park = linearizable ? park_.get() : stale_park();
    if (!park) return done(false);
    park->async_get(kDomain, key, [done = std::move(done)](fourinone::Result<fourinone::Node> r) { done(r.ok()); });
  }

  bool put(const std::string& key, const std::string& value) override {
    return park_->update(kDomain, key, value).ok();
  }

  bool create(const std::string& key, const std::string& value) override {
    return park_->create(kDomain, key, value).ok();
  }

  std::optional<std::string> get(const std::string& key) override {
    auto r = park_->get(kDomain, key);
    if (!r.ok()) return std::nullopt;
    return std::move(r.value().value);
  }

  bool prepare_keys(const std::vector<std::string>& keys, const std::string& value) override {
    for (const auto& key : keys) {
      auto r = park_->create(kDomain, key, value);
      if (!r.ok() && r.status().code() != fourinone::Errc::exists) {
        std::cerr << "park: create " << key << ": " << r.status().to_string() << "\n";
        return false;
      }
    }
    return true;
  }

  bool watch(const std::string& key, std::function<void(std::optional<std::string>)> on_change) override {
    auto w = park_->watch(kDomain, key, 0, [on_change = std::move(on_change)](const fourinone::WatchEvent& e) {
      if (e.type == fourinone::WatchEvent::Type::deleted) on_change(std::nullopt);
      else if (e.type != fourinone::WatchEvent::Type::resync) on_change(e.node.value);
    });
    if (!w.ok()) return false;
    watches_.push_back(std::move(w.value()));
    return true;
  }

  bool create_ephemeral(const std::string& key, const std::string& value, std::chrono::milliseconds) override {
    fourinone::CreateOptions heartbeat;
    heartbeat.heartbeat = true;  // the session's timeout was set when the connection opened
    return park_->create(kDomain, key, value, heartbeat).ok();
  }

  // Our lock recipe: a sequential heartbeat node in the lock's domain; the lowest holds it.
  // Each connection keeps one watch on the lock's domain for its whole life and so knows the
  // domain's nodes at all times (watches stream every change in order and skip none, unlike
  // ZooKeeper's one-shot watches). Taking the lock is then one create; the holder's delete
  // reaches the next in line as one pushed event, with no list or new watch per handoff.
  bool lock(const std::string& name) override {
    std::string domain = "bench-lock-" + name;
    fourinone::CreateOptions heartbeat;
    heartbeat.heartbeat = true;
    auto mine = park_->create_sequential(domain, "", heartbeat);
    if (!mine.ok()) return false;
    lock_domain_ = domain;
    my_node_ = mine->name;
    for (;;) {
      if (!view_ || view_->domain != domain || view_->lost) {
        if (!open_view(domain)) return false;
      }
      auto& v = *view_;
      std::unique_lock lock(v.mutex);
      v.waiter = my_node_;
      v.cv.wait(lock, [&] {
        return v.lost || (v.revision >= mine->create_revision && (v.nodes.empty() || *v.nodes.begin() == my_node_ ||
                                                                  !v.nodes.count(my_node_)));
      });
      if (v.lost) continue;                       // history gone: read the domain again
      if (!v.nodes.count(my_node_)) return false;  // our node went: the session expired
      return true;
    }
  }

  bool unlock() override { return park_->remove(lock_domain_, my_node_).ok(); }

 private:
  fourinone::Park* stale_park() {
    std::lock_guard lock(stale_mutex_);
    if (!stale_) {
      auto park = fourinone::Park::connect(park_options(options_, true));
      if (!park.ok()) return nullptr;
      stale_ = std::move(park.value());
    }
    return stale_.get();
  }

  // The nodes of a lock domain as this connection's watch has seen them.
  struct LockView {
    std::string domain;
    std::mutex mutex;
    std::condition_variable cv;
    std::set<std::string> nodes;  // sequential names sort in creation order
    std::uint64_t revision = 0;   // the domain as of this revision
    bool lost = false;            // the watch lost its history (resync): read again
    std::string waiter;           // the node whose holder waits: wake it only when it leads
    std::unique_ptr<fourinone::Watch> watch;
  };

  // Reads the domain once, then follows it with a watch from the next revision on.
  bool open_view(const std::string& domain) {
    if (view_ && view_->watch) view_->watch->cancel();
    auto view = std::make_shared<LockView>();
    view->domain = domain;
    auto snapshot = park_->get_latest_domain(domain, 0);
    if (!snapshot.ok() || !snapshot.value()) return false;
    for (const auto& n : snapshot.value()->nodes) view->nodes.insert(n.name);
    view->revision = snapshot.value()->revision;
    auto w = park_->watch(domain, std::nullopt, view->revision + 1, [view](const fourinone::WatchEvent& e) {
      std::lock_guard lock(view->mutex);
      switch (e.type) {
        case fourinone::WatchEvent::Type::created: view->nodes.insert(e.node.name); break;
        case fourinone::WatchEvent::Type::deleted: view->nodes.erase(e.node.name); break;
        case fourinone::WatchEvent::Type::resync: view->lost = true; break;
        default: break;
      }
      view->revision = std::max(view->revision, e.revision);
      // Every change of the domain comes here; wake the waiting lock() only when the answer
      // may have changed for it, not on every other contender's create and delete.
      if (view->lost || view->nodes.empty() || *view->nodes.begin() == view->waiter || !view->nodes.count(view->waiter))
        view->cv.notify_all();
    });
    if (!w.ok()) return false;
    view->watch = std::move(w.value());
    view_ = std::move(view);
    return true;
  }

  TargetOptions options_;
  std::unique_ptr<fourinone::Park> park_;
  std::shared_ptr<LockView> view_;
  std::mutex stale_mutex_;
  std::unique_ptr<fourinone::Park> stale_;  // opened on the first stale read
  std::vector<std::unique_ptr<fourinone::Watch>> watches_;
  std::string lock_domain_;
  std::string my_node_;
};

class ParkTarget final : public Target {
  // What that one server says of the group (a client pinned to it).
  static fourinone::Result<fourinone::ParkStatus> status_of(const std::string& endpoint) {
    TargetOptions one;
    one.endpoints = {endpoint};
    auto park = fourinone::Park::connect(park_options(one, true));
    if (!park.ok()) return park.status();
    return park.value()->status();
  }

 public:
  std::string name() const override { return "park"; }

  std::unique_ptr<Connection> connect(const TargetOptions& options) override {
    auto park = fourinone::Park::connect(park_options(options, false));
    if (!park.ok()) {
      std::cerr << "park: " << park.status().to_string() << "\n";
      return nullptr;
    }
    return std::make_unique<ParkConnection>(options, std::move(park.value()));
  }

  int leader_index(const std::vector<std::string>& endpoints) override {
    for (const auto& endpoint : endpoints) {
      auto status = status_of(endpoint);
      if (!status.ok() || status->leader.empty()) continue;
      auto it = std::find(endpoints.begin(), endpoints.end(), status->leader);
      return it == endpoints.end() ? -1 : static_cast<int>(it - endpoints.begin());
    }
    return -1;
  }

  // A member pinned alone cannot read linearizably (it sends the client to the leader), so
  // ask it for its status: it serves when it knows a leader and is leader or follower.
  bool serving(const std::string& endpoint, const std::string&) override {
    auto status = status_of(endpoint);
    return status.ok() && !status->leader.empty() && (status->role == "leader" || status->role == "follower");
  }
};

}  // namespace

std::unique_ptr<Target> make_park_target() { return std::make_unique<ParkTarget>(); }

}  // namespace peers
