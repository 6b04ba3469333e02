// LeaderElection (election.hpp) on the waiting line (waiting_line.hpp).
#include "fourinone/election.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "park/recipes/waiting_line.hpp"

namespace fourinone {
namespace {

// How often the leader looks at its session: an expiry the client notices by itself (a
// heartbeat refused, or cut off past the timeout) produces no watch event.
constexpr auto kPoll = std::chrono::milliseconds(50);

std::optional<Leader> front(const std::map<std::string, Node>& nodes) {
  if (nodes.empty()) return std::nullopt;
  const Node& n = nodes.begin()->second;  // sequential names sort in creation order
  return Leader{n.value, n.create_revision};
}

bool same(const std::optional<Leader>& a, const std::optional<Leader>& b) {
  return a.has_value() == b.has_value() && (!a || a->token == b->token);
}

// One observe() call: the domain's nodes as its watch has seen them.
struct Observer {
  std::function<void(const std::optional<Leader>&)> callback;
  std::map<std::string, Node> nodes;
  std::optional<Leader> last;
  std::unique_ptr<Watch> watch;

  void reset(const std::vector<Node>& list) {
    nodes.clear();
    for (const auto& n : list) nodes[n.name] = n;
  }
  void notify_if_changed() {
    auto now = front(nodes);
    if (same(now, last)) return;
    last = now;
    callback(now);
  }
};

}  // namespace

struct LeaderElection::State {
  std::mutex mutex;
  std::condition_variable cv;
  std::string node;          // our node while campaigning or leading
  std::atomic<bool> leading{false};
  bool stop = false;         // the watcher thread should end (resign)
  bool node_gone = false;    // our node's watch saw it deleted
  std::function<void(const Status&)> on_lost;
  std::unique_ptr<Watch> own_watch;
  std::thread watcher;
  std::vector<std::shared_ptr<Observer>> observers;
};

LeaderElection::LeaderElection(Park& park, std::string name, std::string my_value)
    : park_(park), domain_("election." + std::move(name)), value_(std::move(my_value)),
      state_(std::make_shared<State>()) {}

LeaderElection::~LeaderElection() {
  if (!state_->node.empty()) (void)resign();
  std::vector<std::shared_ptr<Observer>> observers;
  {
    std::lock_guard lock(state_->mutex);
    observers.swap(state_->observers);
  }
  for (auto& o : observers) {
    if (o->watch) o->watch->cancel();
  }
}

void LeaderElection::on_lost(std::function<void(const Status& why)> callback) {
  std::lock_guard lock(state_->mutex);
  state_->on_lost = std::move(callback);
}

bool LeaderElection::is_leader() const { return state_->leading.load(); }

Result<std::uint64_t> LeaderElection::campaign(std::chrono::milliseconds wait) {
  auto& s = *state_;
  if (!s.node.empty() && !s.leading) (void)resign();  // the last term was lost: clear it up
  if (!s.node.empty()) return Status(Errc::bad_request, "already a candidate in " + domain_);
  auto deadline = recipes::deadline_after(wait);
  auto mine = recipes::join_line(park_, domain_, value_);
  if (!mine.ok()) return mine.status();
  auto predecessor = [](const std::vector<Node>& ahead) { return static_cast<long>(ahead.size()) - 1; };
  if (Status w = recipes::wait_turn(park_, domain_, mine->name, predecessor, deadline); !w.ok()) {
    (void)recipes::leave_line(park_, domain_, mine->name);
    return w;
  }
  // We lead. Watch our own node from its creation on, so its deletion is never missed; the
  // flags are reset first, so an event arriving at once is not overwritten.
  {
    std::lock_guard lock(s.mutex);
    s.stop = false;
    s.node_gone = false;
  }
  auto state = state_;
  auto watch = park_.watch(domain_, mine->name, mine->mod_revision + 1, [state](const WatchEvent& e) {
    if (e.type != WatchEvent::Type::deleted) return;
    std::lock_guard lock(state->mutex);
    state->node_gone = true;
    state->cv.notify_all();
  });
  if (!watch.ok()) {
    (void)recipes::leave_line(park_, domain_, mine->name);
    return watch.status();
  }
  {
    std::lock_guard lock(s.mutex);
    s.node = mine->name;
    s.own_watch = std::move(watch).value();
    s.leading = true;
  }
  Park* park = &park_;
  std::string domain = domain_;
  s.watcher = std::thread([state, park, domain] {
    std::unique_lock lock(state->mutex);
    for (;;) {
      if (state->stop) return;
      Status why;
      if (state->node_gone) {
        why = Status(Errc::not_found, "our node in " + domain + " was removed");
      } else if (park->session_state() == SessionState::expired) {
        why = recipes::expired_status(domain);
      }
      if (!why.ok()) {
        state->leading = false;
        auto callback = state->on_lost;
        lock.unlock();
        if (callback) callback(why);
        return;
      }
      state->cv.wait_for(lock, kPoll);
    }
  });
  return mine->create_revision;
}

Status LeaderElection::resign() {
  auto& s = *state_;
  if (s.node.empty()) return Status(Errc::not_found, "not a candidate in " + domain_);
  {
    std::lock_guard lock(s.mutex);
    s.stop = true;
    s.cv.notify_all();
  }
  if (s.watcher.joinable()) s.watcher.join();
  if (s.own_watch) s.own_watch->cancel();
  s.own_watch.reset();
  bool was_leading = s.leading.exchange(false);
  std::string node = std::move(s.node);
  s.node.clear();
  Status left = recipes::leave_line(park_, domain_, node);
  if (!was_leading && left.ok()) return recipes::expired_status(domain_);  // lost before resigning
  return left;
}

Result<Leader> LeaderElection::leader() {
  auto nodes = park_.list(domain_);
  if (!nodes.ok()) {
    if (nodes.status().code() == Errc::not_found) return Status(Errc::not_found, "no leader in " + domain_);
    return nodes.status();
  }
  if (nodes->empty()) return Status(Errc::not_found, "no leader in " + domain_);
  const Node& n = nodes->front();
  return Leader{n.value, n.create_revision};
}

Status LeaderElection::observe(std::function<void(const std::optional<Leader>& leader)> callback) {
  // An absent domain (no candidate yet) has no revision of its own: then the watch starts
  // from the group revision read before, replaying whatever happened since (harmless: the
  // events apply in order onto the empty line).
  auto before = park_.status();
  if (!before.ok()) return before.status();
  auto snapshot = park_.get_latest_domain(domain_, 0);
  if (!snapshot.ok() && snapshot.status().code() != Errc::not_found) return snapshot.status();
  DomainSnapshot line{before->revision, {}};
  if (snapshot.ok() && snapshot.value()) line = std::move(*snapshot.value());
  auto observer = std::make_shared<Observer>();
  observer->callback = std::move(callback);
  observer->reset(line.nodes);
  observer->notify_if_changed();
  if (!observer->last) observer->callback(std::nullopt);  // "now", even with no leader
  Park* park = &park_;
  std::string domain = domain_;
  // Watch callbacks run one at a time, so the observer needs no lock of its own.
  auto watch = park_.watch(domain_, std::nullopt, line.revision + 1,
                           [observer, park, domain](const WatchEvent& e) {
                             switch (e.type) {
                               case WatchEvent::Type::created:
                               case WatchEvent::Type::updated: observer->nodes[e.node.name] = e.node; break;
                               case WatchEvent::Type::deleted: observer->nodes.erase(e.node.name); break;
                               case WatchEvent::Type::resync: {
                                 auto again = park->get_latest_domain(domain, 0);
                                 if (again.ok() && again.value()) observer->reset(again.value()->nodes);
                                 break;
                               }
                             }
                             observer->notify_if_changed();
                           });
  if (!watch.ok()) return watch.status();
  observer->watch = std::move(watch).value();
  std::lock_guard lock(state_->mutex);
  state_->observers.push_back(std::move(observer));
  return {};
}

}  // namespace fourinone
