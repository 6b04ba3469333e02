// ConfigSubscription: a domain used as a configuration (SCENARIOS.md: config center) — first
// its complete current state, then every change, in order.
//
// What is guaranteed:
// - The first event is `initial`, carrying every node of the domain as read at `revision`.
// - Then one `changed` (created or updated) or `removed` event per change, in revision
//   order, none missed and none repeated — across reconnects and leader changes, because the
//   subscription is a Park::watch resumed from the snapshot's revision.
// - If the park no longer holds the history needed to resume (compacted), the domain is read
//   again and delivered whole as a `resync` event; changes after it follow as usual.
// Callbacks run one at a time: the initial one on the thread calling subscribe(), before it
// returns; the others on the Park's callback thread. They may call the Park.
// Thread-safety: like Park.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/park.hpp"

namespace fourinone {

struct ConfigEvent {
  enum class Kind : std::uint8_t { initial, changed, removed, resync };
  Kind kind = Kind::initial;
  std::uint64_t revision = 0;  // group revision of the change (or of the read)
  std::string node;            // changed/removed: the node's name
  std::string value;           // changed: the new value; removed: the value it had
  std::vector<Node> state;     // initial/resync: every node of the domain, ordered by name
};
const char* config_event_kind_name(ConfigEvent::Kind kind) noexcept;

class ConfigSubscription {
 public:
  using Callback = std::function<void(const ConfigEvent&)>;

  // Errors: those of Park::status, get_latest_domain and watch.
  static Result<std::unique_ptr<ConfigSubscription>> subscribe(Park& park, std::string_view domain,
                                                               Callback callback);
  virtual ~ConfigSubscription() = default;
  // Stops the callbacks (also done by destruction).
  virtual void cancel() = 0;
};

}  // namespace fourinone
