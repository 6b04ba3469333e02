// Internal to the recipes: the live contents of one domain, kept current from a snapshot and
// a resumable watch. The registry and the config subscription are both "the whole domain,
// then every change", so they share this one piece instead of each handling resync.
//
// Order of callbacks: `initial` on the thread that calls start(), before start() returns;
// every later one on the Park's callback thread, one at a time, in revision order.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "fourinone/park.hpp"

namespace fourinone::recipes {

class DomainFollower : public std::enable_shared_from_this<DomainFollower> {
 public:
  enum class Kind : std::uint8_t { initial, changed, removed, resync };
  // `event` is null for initial and resync; `state` is the domain after the change, by name.
  using Callback = std::function<void(Kind kind, const WatchEvent* event, std::uint64_t revision,
                                      const std::map<std::string, Node>& state)>;

  // Reads the domain (an absent domain is empty), delivers `initial`, then follows it.
  // Errors: those of the read and of Park::watch. Shared: the watch callback holds a weak
  // reference, so a callback running while the owner drops the follower finishes safely
  // (Watch::cancel does not wait for a running callback).
  static Result<std::shared_ptr<DomainFollower>> start(Park& park, std::string domain, Callback callback);

  ~DomainFollower();
  DomainFollower(const DomainFollower&) = delete;
  DomainFollower& operator=(const DomainFollower&) = delete;

  void cancel();
  // The revision the state is current to (the last change applied or the last read).
  std::uint64_t revision();

 private:
  DomainFollower(Park& park, std::string domain, Callback callback);
  // The domain as it is now and the revision it was read at.
  Status read_state();
  void on_event(const WatchEvent& event);

  Park& park_;
  std::string domain_;
  Callback callback_;
  std::mutex mutex_;  // state_ and revision_ (callbacks are serial; cancel may race them)
  std::map<std::string, Node> state_;
  std::uint64_t revision_ = 0;
  std::unique_ptr<Watch> watch_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace fourinone::recipes
