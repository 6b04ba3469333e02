// The partition balancer's loop; see partitions.hpp for what it guarantees.
#include <algorithm>
#include <charconv>

#include "fourinone/partitions.hpp"

namespace fourinone {
namespace {

std::vector<int> sorted(const std::set<int>& s) { return {s.begin(), s.end()}; }

bool parse_partition(const std::string& name, int& out) {
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), out);
  return ec == std::errc() && p == name.data() + name.size();
}

}  // namespace

PartitionBalancer::PartitionBalancer(Park& park, PartitionOptions options)
    : park_(park), options_(std::move(options)) {}

std::string PartitionBalancer::members_domain() const {
  return "fourinone.partitions:" + options_.group + ":members";
}
std::string PartitionBalancer::owners_domain() const { return "fourinone.partitions:" + options_.group + ":owners"; }

Result<std::unique_ptr<PartitionBalancer>> PartitionBalancer::start(Park& park, PartitionOptions options) {
  if (options.partitions <= 0) return Status(Errc::bad_request, "a partition group needs partitions > 0");
  if (options.member_id.empty()) return Status(Errc::bad_request, "a partition member needs an id");
  std::unique_ptr<PartitionBalancer> b(new PartitionBalancer(park, std::move(options)));
  auto wakeup = b->wakeup_;
  // The watches only wake the loop; it reads the domains itself. "From now on" is enough:
  // they start before the first read.
  auto members = park.watch(b->members_domain(), std::nullopt, 0, [wakeup](const WatchEvent&) { wakeup->poke(); });
  if (!members.ok()) return members.status();
  b->members_watch_ = std::move(members).value();
  auto owners = park.watch(b->owners_domain(), std::nullopt, 0, [wakeup](const WatchEvent&) { wakeup->poke(); });
  if (!owners.ok()) return owners.status();
  b->owners_watch_ = std::move(owners).value();
  auto* self = b.get();
  b->thread_ = std::thread([self] { self->run(); });
  return b;
}

PartitionBalancer::~PartitionBalancer() {
  if (members_watch_) members_watch_->cancel();
  if (owners_watch_) owners_watch_->cancel();
  {
    std::lock_guard lock(wakeup_->mutex);
    wakeup_->stopping = true;
  }
  wakeup_->cv.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<int> all;
  {
    std::lock_guard lock(mutex_);
    all = sorted(owned_);
  }
  if (!all.empty()) revoke(all, true);
  (void)park_.remove(members_domain(), options_.member_id);
}

std::vector<int> PartitionBalancer::owned() const {
  std::lock_guard lock(mutex_);
  return sorted(owned_);
}

void PartitionBalancer::Wakeup::poke() {
  {
    std::lock_guard lock(mutex);
    dirty = true;
  }
  cv.notify_all();
}

void PartitionBalancer::run() {
  for (;;) {
    {
      auto& w = *wakeup_;
      std::unique_lock lock(w.mutex);
      w.cv.wait_for(lock, options_.recheck, [&w] { return w.dirty || w.stopping; });
      if (w.stopping) return;
      w.dirty = false;
    }
    rebalance();
  }
}

void PartitionBalancer::revoke(const std::vector<int>& partitions, bool delete_nodes) {
  if (partitions.empty()) return;
  // Tell the user first: by the time another member can claim them, we have stopped.
  if (options_.on_revoked) options_.on_revoked(partitions);
  {
    std::lock_guard lock(mutex_);
    for (int p : partitions) owned_.erase(p);
  }
  for (int p : partitions) {
    auto version = owned_versions_.find(p);
    if (delete_nodes && version != owned_versions_.end()) {
      // We saw this node as ours a moment ago. Should our session have ended in between and
      // a successor created a fresh node (also version 1), this removes the successor's; it
      // then sees its node gone, reports the partition revoked and claims it again. Safe,
      // just churn.
      (void)park_.remove(owners_domain(), std::to_string(p), version->second);
    }
    if (version != owned_versions_.end()) owned_versions_.erase(version);
  }
}

void PartitionBalancer::rebalance() {
  auto state = park_.session_state();
  if (state == SessionState::suspended || state == SessionState::expired || state == SessionState::closed) {
    // Fencing: the park may end (or have ended) our session and give our partitions away.
    revoke(owned(), false);
    if (state == SessionState::expired) (void)park_.open_session();
    // The next recheck looks again.
    return;
  }
  // Be a member. A member node left by our previous session blocks the create until that
  // session ends; it names us all the same, so the assignment is right meanwhile.
  CreateOptions heartbeat;
  heartbeat.heartbeat = true;
  auto me = park_.get(members_domain(), options_.member_id);
  if (!me.ok() && me.status().code() == Errc::not_found) {
    (void)park_.create(members_domain(), options_.member_id, "", heartbeat);
  }
  // Read after the create, which opens the session the first time.
  const std::uint64_t session = park_.session_id();
  if (session == 0) return;

  auto members = park_.list(members_domain());
  if (!members.ok() && members.status().code() != Errc::not_found) return;  // try again later
  std::vector<std::string> names;
  if (members.ok()) {
    for (const auto& n : *members) names.push_back(n.name);
  }
  auto plan = assign_partitions(names, options_.partitions);
  std::set<int> target;
  if (auto it = plan.find(options_.member_id); it != plan.end()) target.insert(it->second.begin(), it->second.end());

  auto owners = park_.list(owners_domain());
  if (!owners.ok() && owners.status().code() != Errc::not_found) return;
  std::map<int, Node> holder;
  if (owners.ok()) {
    for (auto& n : *owners) {
      int p = -1;
      if (parse_partition(n.name, p)) holder.emplace(p, std::move(n));
    }
  }

  // Lost (our node is gone, e.g. a new session) or no longer ours by the plan.
  std::vector<int> lost, released;
  for (int p : owned()) {
    auto h = holder.find(p);
    if (h == holder.end() || h->second.session != session) {
      lost.push_back(p);
    } else if (!target.contains(p)) {
      released.push_back(p);
    }
  }
  revoke(lost, false);
  revoke(released, true);

  // Nodes of our session that we do not count as ours and should not have: left by a create
  // that timed out but happened, or kept through a suspension we reported as a revocation.
  // Left alone they would block their rightful owner until our session ends.
  for (const auto& [p, node] : holder) {
    bool just_released = std::find(released.begin(), released.end(), p) != released.end();
    if (node.session == session && !target.contains(p) && !owned_versions_.contains(p) && !just_released) {
      (void)park_.remove(owners_domain(), node.name, static_cast<std::int64_t>(node.version));
    }
  }

  std::vector<int> gained;
  std::set<int> have = [&] {
    std::lock_guard lock(mutex_);
    return owned_;
  }();
  // Partitions whose previous owner still holds them are left for a later pass: its release
  // or session expiry changes the owners domain, whose watch wakes us.
  for (int p : target) {
    if (have.contains(p)) continue;
    auto h = holder.find(p);
    if (h != holder.end()) {
      if (h->second.session == session) {  // ours already (e.g. after a reconnect)
        owned_versions_[p] = static_cast<std::int64_t>(h->second.version);
        gained.push_back(p);
      }
      continue;
    }
    auto created = park_.create(owners_domain(), std::to_string(p), options_.member_id, heartbeat);
    if (created.ok()) {
      owned_versions_[p] = static_cast<std::int64_t>(created->version);
      gained.push_back(p);
    }
  }
  if (!gained.empty()) {
    {
      std::lock_guard lock(mutex_);
      owned_.insert(gained.begin(), gained.end());
    }
    if (options_.on_assigned) options_.on_assigned(gained);
  }
}

}  // namespace fourinone
