#include "cache/server/group_control.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

namespace fourinone::cache {

const char* role_name(Role role) noexcept {
  switch (role) {
    case Role::starting: return "starting";
    case Role::primary: return "primary";
    case Role::backup: return "backup";
  }
  return "unknown";
}

GroupControl::GroupControl(GroupControlOptions options, ControlEvents& events)
    : options_(std::move(options)),
      events_(events),
      self_(options_.self.to_string()),
      domains_(options_.settings.service),
      work_(io_.get_executor()),
      timer_(io_) {}

GroupControl::~GroupControl() { stop(); }

Status GroupControl::start() {
  // `fourinone up` starts the park and the cache servers together: give the park time to
  // elect a leader before giving up.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  Status layout_status;
  while (true) {
    if (!park_) {
      auto park = Park::connect(options_.park);
      if (park.ok()) park_ = std::move(park.value());
      layout_status = park.status();
    }
    if (park_) layout_status = ensure_layout();
    if (layout_status.ok()) break;
    const Errc code = layout_status.code();
    if ((code != Errc::unavailable && code != Errc::timeout && code != Errc::not_leader) ||
        std::chrono::steady_clock::now() > give_up) {
      return layout_status;
    }
    spdlog::info("cache {}: waiting for the park: {}", self_, layout_status.to_string());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }

  // Our heartbeat node. A previous run of this address may still hold it until its session
  // expires: wait for that (a restarted server must not pose as its former self).
  Registration reg{options_.group, "starting", 0};
  CreateOptions hb;
  hb.heartbeat = true;
  auto deadline = std::chrono::steady_clock::now() + options_.park.session_timeout * 2 + std::chrono::seconds(5);
  while (true) {
    auto created = park_->create(domains_.servers, self_, encode_registration(reg), hb);
    if (created.ok()) break;
    if (created.status().code() != Errc::exists || std::chrono::steady_clock::now() > deadline) {
      return Status(created.status().code(), "cannot register " + self_ + " in the park: " + created.status().message());
    }
    spdlog::info("cache {}: an earlier run's registration is still in the park; waiting for it to expire", self_);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  registered_role_ = "starting";

  auto poke_me = [this](const WatchEvent&) { poke(); };
  for (const std::string* domain : {&domains_.servers, &domains_.groups, &domains_.layout}) {
    auto w = park_->watch(*domain, std::nullopt, 0, poke_me);
    if (!w.ok()) return w.status();
    watches_.push_back(std::move(w.value()));
  }
  park_->on_session_state([this](SessionState state) {
    if (state == SessionState::expired) {
      // Our heartbeat node is gone: someone else may take over. Stop acting as primary at
      // once, then register again.
      on_control([this] {
        spdlog::warn("cache {}: park session expired; stepping down and registering again", self_);
        announce(Role::starting, announced_epoch_, announced_primary_);
        synced_epoch_ = 0;
        (void)park_->open_session();
        Registration again{options_.group, "starting", 0};
        CreateOptions hb2;
        hb2.heartbeat = true;
        (void)park_->create(domains_.servers, self_, encode_registration(again), hb2);
        registered_role_ = "starting";
        registered_epoch_ = 0;
        recheck();
      });
    }
  });
  thread_ = std::thread([this] { io_.run(); });
  poke();
  return {};
}

void GroupControl::stop() {
  if (!thread_.joinable()) return;
  boost::asio::post(io_, [this] {
    stopped_ = true;
    timer_.cancel();
    watches_.clear();
    if (park_) (void)park_->close_session();  // our registration goes at once
    work_.reset();
  });
  thread_.join();
  park_.reset();
}

void GroupControl::on_control(std::function<void()> work) { boost::asio::post(io_, std::move(work)); }

void GroupControl::poke() {
  on_control([this] {
    if (!stopped_) recheck();
  });
}

void GroupControl::request_shrink(std::string member, std::uint64_t epoch) {
  on_control([this, member = std::move(member), epoch] { change_in_sync(member, epoch, false); });
}

void GroupControl::request_add(std::string member, std::uint64_t epoch) {
  on_control([this, member = std::move(member), epoch] { change_in_sync(member, epoch, true); });
}

void GroupControl::report_synced(std::uint64_t epoch) {
  on_control([this, epoch] {
    synced_epoch_ = epoch;
    if (announced_role_ == Role::backup) {
      update_registration(epoch != 0 && epoch == announced_epoch_ ? "backup" : "syncing", announced_epoch_);
    }
  });
}

void GroupControl::schedule_recheck() {
  timer_.expires_after(options_.recheck);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) recheck();
  });
}

void GroupControl::recheck() {
  if (stopped_) return;
  read_layout();
  decide();
  schedule_recheck();
}

// The layout in the park is the truth; config.xml seeds it and may append groups
// (scale-out). A group of the park's layout missing from config is kept: removing a group
// would silently move keys, which needs an explicit step this version does not offer.
Status GroupControl::ensure_layout() {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto node = park_->get(domains_.layout, kLayoutNode);
    if (!node.ok() && node.status().code() != Errc::not_found) return node.status();
    Layout current;
    if (node.ok()) {
      auto decoded = decode_layout(node->value);
      if (!decoded.ok()) return decoded.status();
      current = decoded.value();
    }
    Layout wanted = current;
    wanted.vnodes = current.version == 0 ? options_.settings.vnodes : current.vnodes;
    bool changed = current.version == 0;
    for (const auto& group : options_.settings.groups) {
      const GroupLayout* have = current.find_group(group.name);
      if (have == nullptr) {
        wanted.groups.push_back(group);
        changed = true;
      } else if (have->servers != group.servers) {
        // Members may change (a replaced machine): the placement depends on names only.
        for (auto& g : wanted.groups) {
          if (g.name == group.name) g.servers = group.servers;
        }
        changed = true;
      }
    }
    if (!changed) {
      layout_ = current;
      events_.on_layout(current);
      return {};
    }
    wanted.version = current.version + 1;
    auto bytes = encode_layout(wanted);
    auto written = node.ok() ? park_->update(domains_.layout, kLayoutNode, bytes, static_cast<std::int64_t>(node->version))
                             : park_->create(domains_.layout, kLayoutNode, bytes);
    if (written.ok()) {
      spdlog::info("cache {}: layout version {} with {} group(s)", self_, wanted.version, wanted.groups.size());
      layout_ = wanted;
      events_.on_layout(wanted);
      return {};
    }
    if (written.status().code() != Errc::bad_version && written.status().code() != Errc::exists) return written.status();
  }
  return Status(Errc::unavailable, "the cache layout in the park keeps changing; try again");
}

void GroupControl::read_layout() {
  auto node = park_->get(domains_.layout, kLayoutNode);
  if (!node.ok()) return;
  auto layout = decode_layout(node->value);
  if (!layout.ok() || layout->version == layout_.version) return;
  layout_ = layout.value();
  events_.on_layout(layout_);
}

bool GroupControl::update_registration(const std::string& role, std::uint64_t epoch) {
  if (role == registered_role_ && epoch == registered_epoch_) return true;
  auto r = park_->update(domains_.servers, self_, encode_registration({options_.group, role, epoch}));
  if (!r.ok()) {
    spdlog::warn("cache {}: cannot update registration: {}", self_, r.status().to_string());
    return false;
  }
  registered_role_ = role;
  registered_epoch_ = epoch;
  return true;
}

void GroupControl::announce(Role role, std::uint64_t epoch, const std::string& primary) {
  if (role == announced_role_ && epoch == announced_epoch_ && primary == announced_primary_) return;
  spdlog::info("cache {}: {} of group {} in epoch {} (primary {})", self_, role_name(role), options_.group, epoch,
               primary.empty() ? "none" : primary);
  announced_role_ = role;
  announced_epoch_ = epoch;
  announced_primary_ = primary;
  announced_members_.clear();
  events_.on_role(role, epoch, primary);
}

void GroupControl::decide() {
  auto listed = park_->list(domains_.servers);
  if (!listed.ok() && listed.status().code() != Errc::not_found) return;  // park away: keep the role
  std::map<std::string, Registration> live;  // members of our group, by address
  if (listed.ok()) {
    for (const auto& node : listed.value()) {
      auto reg = decode_registration(node.value);
      if (reg.ok() && reg->group == options_.group) live[node.name] = reg.value();
    }
  }
  auto record_node = park_->get(domains_.groups, options_.group);
  if (!record_node.ok() && record_node.status().code() != Errc::not_found) return;

  if (!record_node.ok()) {
    // A new group: the first to create the record leads it. The first server of the group's
    // list is the preferred primary (as in the original): the others give it a head start of
    // one recheck period per place in the list.
    const GroupLayout* group = layout_.find_group(options_.group);
    std::size_t place = 0;
    if (group != nullptr) {
      for (std::size_t i = 0; i < group->servers.size(); ++i) {
        if (group->servers[i] == options_.self) place = i;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (!group_absent_since_) group_absent_since_ = now;
    if (place > 0 && now - *group_absent_since_ < options_.recheck * static_cast<int>(2 * place)) return;
    GroupRecord first{1, self_, {self_}};
    auto created = park_->create(domains_.groups, options_.group, encode_group_record(first));
    if (created.ok()) {
      announce(Role::primary, 1, self_);
      update_registration("primary", 1);
    }
    return;  // a loser sees the winner's record on the next recheck (its watch fires)
  }
  auto record = decode_group_record(record_node->value);
  if (!record.ok()) {
    spdlog::error("cache {}: group record of {} is unreadable: {}", self_, options_.group, record.status().to_string());
    return;
  }

  // The record's primary counts as live only while it is not a new run of that address: a
  // server that restarted registers as "starting" and holds nothing. Counting it made a
  // deadlock when a whole group restarted (seen in the demo run twice): the backup followed
  // the restarted "primary", which in turn waited for the backup to take over.
  const auto primary_reg = live.find(record->primary);
  const bool primary_live = primary_reg != live.end() && primary_reg->second.role != "starting";
  if (record->primary == self_ && announced_role_ == Role::primary && announced_epoch_ == record->epoch) {
    update_registration("primary", record->epoch);
    std::vector<std::string> members;
    for (const auto& [address, reg] : live) {
      if (address != self_) members.push_back(address);
    }
    if (members != announced_members_) {
      announced_members_ = members;
      events_.on_members(members);
    }
    return;
  }
  if (record->primary != self_ && primary_live) {
    // The server reports when it holds a full copy of this epoch (a new primary sends one
    // first); until then our registration says syncing, and we may not take over.
    announce(Role::backup, record->epoch, record->primary);
    update_registration(synced_epoch_ == record->epoch ? "backup" : "syncing", record->epoch);
    return;
  }

  // No live primary (or the record names a former run of this address). Who may take over?
  std::vector<std::string> ready;  // live, in the record's in_sync, synced under its epoch
  for (const auto& [address, reg] : live) {
    bool synced = address == self_ ? (announced_role_ == Role::backup && synced_epoch_ == record->epoch)
                                   : (reg.role == "backup" && reg.epoch == record->epoch);
    if (address != record->primary && record->has_in_sync(address) && synced) ready.push_back(address);
  }
  std::string chosen;
  if (!ready.empty()) {
    chosen = ready.front();
  } else {
    // Nobody holds the group's data any more: the first live member in config order starts
    // the group again, empty.
    const GroupLayout* group = layout_.find_group(options_.group);
    if (group != nullptr) {
      for (const auto& server : group->servers) {
        if (live.count(server.to_string())) {
          chosen = server.to_string();
          break;
        }
      }
    }
    if (chosen.empty() && live.count(self_)) chosen = self_;
    if (chosen == self_) {
      spdlog::warn("cache {}: no live member of group {} holds its data; starting it again empty", self_,
                   options_.group);
    }
  }
  if (chosen != self_) {
    if (announced_role_ == Role::primary) announce(Role::starting, record->epoch, "");
    return;  // `chosen` takes over; we follow when its record appears
  }
  GroupRecord next{record->epoch + 1, self_, {self_}};
  auto won = park_->update(domains_.groups, options_.group, encode_group_record(next),
                           static_cast<std::int64_t>(record_node->version));
  if (!won.ok()) return;  // someone else changed it first: re-read on the next recheck
  spdlog::info("cache {}: took over group {} in epoch {}", self_, options_.group, next.epoch);
  announce(Role::primary, next.epoch, self_);
  update_registration("primary", next.epoch);
  decide();  // announce the members at once
}

void GroupControl::change_in_sync(const std::string& member, std::uint64_t epoch, bool add) {
  for (int attempt = 0; attempt < 50 && !stopped_; ++attempt) {
    auto node = park_->get(domains_.groups, options_.group);
    if (!node.ok()) {
      if (node.status().code() == Errc::not_found) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // park away: writes wait
      continue;
    }
    auto record = decode_group_record(node->value);
    if (!record.ok() || record->epoch != epoch || record->primary != self_) break;
    bool present = record->has_in_sync(member);
    if (present == add) {
      events_.on_in_sync_changed(member, add, true);
      return;
    }
    GroupRecord next = record.value();
    if (add) {
      next.in_sync.push_back(member);
    } else {
      next.in_sync.erase(std::remove(next.in_sync.begin(), next.in_sync.end(), member), next.in_sync.end());
    }
    auto r = park_->update(domains_.groups, options_.group, encode_group_record(next),
                           static_cast<std::int64_t>(node->version));
    if (r.ok()) {
      spdlog::info("cache {}: {} {} in_sync of group {}", self_, add ? "added" : "removed", member, options_.group);
      events_.on_in_sync_changed(member, add, true);
      return;
    }
    if (r.status().code() != Errc::bad_version) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  events_.on_in_sync_changed(member, add, false);
}

}  // namespace fourinone::cache
