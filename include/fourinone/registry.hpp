// ServiceRegistry: which instances of a service are alive right now (the Dubbo-style
// registry of SCENARIOS.md), built only on the public Park API.
//
// What is guaranteed:
// - An instance registered here is a heartbeat node of this Park's session: it disappears
//   when the process dies or loses the park for longer than the session timeout, and at
//   once when the Park is destroyed or deregister() is called. After the session expired
//   (SessionState::expired) the instance is gone; call register_instance again.
// - watch() calls back with the complete live set first, then after every change, in the
//   order of the changes. It rides on a resumable Park::watch, so a reconnect or a leader
//   change loses no change; if the park no longer has the history, the set is read again.
// Layout: domain "fourinone.registry:<service>" (names may not hold a slash), one node per
// instance named by its id, readable by all, changed or removed only by its owner.
// Thread-safety: like Park. Watch callbacks run on the Park's callback thread (the first one
// on the calling thread, before watch() returns).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/park.hpp"

namespace fourinone {

struct Instance {
  std::string id;
  std::string address;                          // e.g. "10.0.0.5:20880"
  std::map<std::string, std::string> metadata;  // free-form: version, weight, zone, ...
  std::uint64_t session = 0;                    // the owning park session
};

class ServiceRegistry {
 public:
  using Callback = std::function<void(const std::vector<Instance>& live)>;

  explicit ServiceRegistry(Park& park) : park_(park) {}

  // Errors: exists (the id is taken by a live instance), session_expired, and Park's.
  Status register_instance(std::string_view service, std::string_view instance_id, std::string_view address,
                           const std::map<std::string, std::string>& metadata = {});
  // Replaces the metadata of an instance (its load, weight, state...): watchers see the change
  // like any other. Only the registering client may (the node is its own). Errors:
  // not_found, no_permission.
  Status update_metadata(std::string_view service, std::string_view instance_id,
                         const std::map<std::string, std::string>& metadata);
  // The same without blocking, for a server's own io thread (a worker publishes its load so):
  // `done` runs once, on the Park's callback thread, with the outcome.
  void async_update_metadata(std::string_view service, std::string_view instance_id,
                             std::map<std::string, std::string> metadata, std::function<void(Status)> done);
  // Errors: not_found, no_permission (another client's instance).
  Status deregister(std::string_view service, std::string_view instance_id);
  // The live instances, ordered by id. An unknown service has none.
  Result<std::vector<Instance>> instances(std::string_view service);
  // Keep the returned Watch alive as long as the callbacks are wanted.
  Result<std::unique_ptr<Watch>> watch(std::string_view service, Callback callback);

  static std::string domain_of(std::string_view service);
  // Reads an instance from a node of domain_of(service), for code that follows the domain
  // with Park::watch itself (the compute runtime's jobs do). A node this class did not write
  // is an instance with no address and no metadata.
  static Instance instance_of(const Node& node);

 private:
  Park& park_;
};

}  // namespace fourinone
