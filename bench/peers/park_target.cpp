// The park group as a peer_bench target, through the public client API (libfourinone).
#include <fourinone/lock.hpp>
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

  // The library's lock (include/fourinone/lock.hpp): a sequential heartbeat node per
  // contender, each waiting only for its predecessor; one DistributedLock per connection.
  bool lock(const std::string& name) override {
    if (!lock_ || lock_name_ != name) {
      lock_ = std::make_unique<fourinone::DistributedLock>(*park_, "bench-" + name);
      lock_name_ = name;
    }
    return lock_->lock().ok();
  }

  bool unlock() override { return lock_ && lock_->unlock().ok(); }

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

  TargetOptions options_;
  std::unique_ptr<fourinone::Park> park_;
  std::mutex stale_mutex_;
  std::unique_ptr<fourinone::Park> stale_;  // opened on the first stale read
  std::vector<std::unique_ptr<fourinone::Watch>> watches_;
  std::unique_ptr<fourinone::DistributedLock> lock_;  // before park_ goes (declared after it)
  std::string lock_name_;
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
