// GroupControl: a cache server's dealings with the park — its registration, the layout, and
// who is primary of its group.
//
// DESIGN: park calls block, and the cache server's io thread must never wait on the park, so
// all of this runs on a control thread of its own. Decisions go to the server through
// ControlEvents (which posts them to its io thread); the server's requests come back here
// with post(). The control thread re-reads everything from the park on every watch event and
// at least every `recheck` period, so a missed event only delays a decision.
//
// Who is primary (the safety argument; cache/README.md has the story):
//  - the group record changes only by compare-and-set on its park version, so one takeover
//    wins and every loser re-reads;
//  - a member may take over only while the current primary's heartbeat node is gone and the
//    member is in the record's in_sync list *and* says in its own registration that it was
//    synced under the record's epoch (a restarted process is never in sync: it syncs anew);
//  - when no live member is in sync, the group's data is gone (a cache may lose it; the park
//    itself never does): the first live member in config order takes over empty;
//  - a takeover raises the epoch; backups refuse replication from an older epoch, which
//    fences a paused former primary.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cache/cache_config.hpp"
#include "cache/routing/layout.hpp"
#include "cache/routing/park_records.hpp"
#include "core/asio.hpp"
#include "fourinone/park.hpp"

namespace fourinone::cache {

enum class Role : std::uint8_t { starting, primary, backup };
const char* role_name(Role role) noexcept;

// What the control thread tells the server; each call is made on the control thread and
// must hand the work over to the server's own thread.
class ControlEvents {
 public:
  virtual ~ControlEvents() = default;
  virtual void on_layout(Layout layout) = 0;
  // The server's role in epoch `epoch`; primary names the group's primary (maybe self).
  virtual void on_role(Role role, std::uint64_t epoch, std::string primary) = 0;
  // On a primary: the live members of its group other than itself (link to each).
  virtual void on_members(std::vector<std::string> members) = 0;
  // Answer to request_shrink / request_add: done = the record now says so; false = this
  // server is no longer the primary of that epoch.
  virtual void on_in_sync_changed(std::string member, bool added, bool done) = 0;
};

struct GroupControlOptions {
  ParkOptions park;
  CacheSettings settings;
  std::string group;
  ServerAddress self;
  std::chrono::milliseconds recheck{500};
};

class GroupControl {
 public:
  GroupControl(GroupControlOptions options, ControlEvents& events);
  ~GroupControl();

  // Connects to the park, makes sure the layout holds this config's groups, registers this
  // server and starts deciding. Errors: unavailable (no park), config_error (layout clash).
  Status start();
  void stop();

  // --- any thread: the server's requests ----------------------------------------------
  // Drop `member` from in_sync (its link broke) before any further write is acknowledged.
  void request_shrink(std::string member, std::uint64_t epoch);
  // `member` has a full copy and the stream: add it to in_sync.
  void request_add(std::string member, std::uint64_t epoch);
  // This server (a backup) has a complete copy as of `epoch` (0: it has none any more).
  void report_synced(std::uint64_t epoch);
  // Something suggests the park changed (e.g. a client routed with a newer layout).
  void poke();

 private:
  void on_control(std::function<void()> work);
  void recheck();
  void schedule_recheck();
  Status ensure_layout();
  void read_layout();
  void decide();
  bool update_registration(const std::string& role, std::uint64_t epoch);
  void change_in_sync(const std::string& member, std::uint64_t epoch, bool add);
  void announce(Role role, std::uint64_t epoch, const std::string& primary);

  GroupControlOptions options_;
  ControlEvents& events_;
  std::string self_;
  ParkDomains domains_;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer timer_;
  std::thread thread_;

  // control thread only:
  std::unique_ptr<Park> park_;
  std::vector<std::unique_ptr<Watch>> watches_;
  Layout layout_;
  Role announced_role_ = Role::starting;
  std::uint64_t announced_epoch_ = 0;
  std::string announced_primary_;
  std::vector<std::string> announced_members_;
  std::string registered_role_;
  std::uint64_t registered_epoch_ = 0;
  std::uint64_t synced_epoch_ = 0;       // as reported by the server
  std::optional<std::chrono::steady_clock::time_point> group_absent_since_;  // no group record yet
  bool stopped_ = false;
};

}  // namespace fourinone::cache
