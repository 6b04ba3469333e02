#include "park/recipes/domain_follower.hpp"

#include <utility>

namespace fourinone::recipes {

DomainFollower::DomainFollower(Park& park, std::string domain, Callback callback)
    : park_(park), domain_(std::move(domain)), callback_(std::move(callback)) {}

DomainFollower::~DomainFollower() { cancel(); }

void DomainFollower::cancel() {
  cancelled_ = true;
  if (watch_) watch_->cancel();
}

std::uint64_t DomainFollower::revision() {
  std::lock_guard lock(mutex_);
  return revision_;
}

Status DomainFollower::read_state() {
  // get_latest_domain answers nothing for a domain that never had a node, so the revision to
  // resume from comes from status() first: nothing happened to the domain up to the read, so
  // nothing happened to it up to that (earlier or equal) revision either.
  auto status = park_.status();
  if (!status.ok()) return status.status();
  auto snap = park_.get_latest_domain(domain_, 0);
  if (!snap.ok()) return snap.status();
  std::map<std::string, Node> state;
  std::uint64_t revision = status->revision;
  if (snap->has_value()) {
    revision = (*snap)->revision;
    for (auto& n : (*snap)->nodes) state.emplace(n.name, std::move(n));
  }
  std::lock_guard lock(mutex_);
  state_ = std::move(state);
  revision_ = revision;
  return {};
}

Result<std::shared_ptr<DomainFollower>> DomainFollower::start(Park& park, std::string domain, Callback callback) {
  std::shared_ptr<DomainFollower> f(new DomainFollower(park, std::move(domain), std::move(callback)));
  if (Status s = f->read_state(); !s.ok()) return s;
  f->callback_(Kind::initial, nullptr, f->revision_, f->state_);
  // Resume right after the snapshot: every later change arrives, none twice.
  std::weak_ptr<DomainFollower> weak = f;
  auto watch = park.watch(f->domain_, std::nullopt, f->revision_ + 1, [weak](const WatchEvent& e) {
    if (auto self = weak.lock()) self->on_event(e);
  });
  if (!watch.ok()) return watch.status();
  f->watch_ = std::move(watch).value();
  return f;
}

void DomainFollower::on_event(const WatchEvent& event) {
  if (cancelled_) return;
  if (event.type == WatchEvent::Type::resync) {
    // The history we needed is gone: the state we hold may be missing changes. Read it again
    // and hand over the whole of it; events at or below that read are then already in it.
    // If the read fails we keep the old state; the next event still applies on top of it.
    if (read_state().ok()) callback_(Kind::resync, nullptr, revision_, state_);
    return;
  }
  std::unique_lock lock(mutex_);
  if (event.revision <= revision_) return;  // already part of the state we read
  revision_ = event.revision;
  Kind kind = Kind::changed;
  if (event.type == WatchEvent::Type::deleted) {
    state_.erase(event.node.name);
    kind = Kind::removed;
  } else {
    state_[event.node.name] = event.node;
  }
  lock.unlock();
  callback_(kind, &event, event.revision, state_);
}

}  // namespace fourinone::recipes
