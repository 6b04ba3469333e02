#include "fourinone/config_watch.hpp"

#include "park/recipes/domain_follower.hpp"

namespace fourinone {
namespace {

class FollowingSubscription : public ConfigSubscription {
 public:
  explicit FollowingSubscription(std::shared_ptr<recipes::DomainFollower> f) : follower_(std::move(f)) {}
  ~FollowingSubscription() override { cancel(); }
  void cancel() override { follower_->cancel(); }

 private:
  std::shared_ptr<recipes::DomainFollower> follower_;
};

}  // namespace

const char* config_event_kind_name(ConfigEvent::Kind kind) noexcept {
  switch (kind) {
    case ConfigEvent::Kind::initial: return "initial";
    case ConfigEvent::Kind::changed: return "changed";
    case ConfigEvent::Kind::removed: return "removed";
    case ConfigEvent::Kind::resync: return "resync";
  }
  return "unknown";
}

Result<std::unique_ptr<ConfigSubscription>> ConfigSubscription::subscribe(Park& park, std::string_view domain,
                                                                          Callback callback) {
  using Kind = recipes::DomainFollower::Kind;
  auto follower = recipes::DomainFollower::start(
      park, std::string(domain),
      [callback = std::move(callback)](Kind kind, const WatchEvent* event, std::uint64_t revision,
                                       const std::map<std::string, Node>& state) {
        ConfigEvent e;
        e.revision = revision;
        switch (kind) {
          case Kind::initial: e.kind = ConfigEvent::Kind::initial; break;
          case Kind::resync: e.kind = ConfigEvent::Kind::resync; break;
          case Kind::changed: e.kind = ConfigEvent::Kind::changed; break;
          case Kind::removed: e.kind = ConfigEvent::Kind::removed; break;
        }
        if (event) {
          e.node = event->node.name;
          e.value = event->node.value;
        } else {
          e.state.reserve(state.size());
          for (const auto& [name, node] : state) e.state.push_back(node);
        }
        callback(e);
      });
  if (!follower.ok()) return follower.status();
  return std::unique_ptr<ConfigSubscription>(new FollowingSubscription(std::move(follower).value()));
}

}  // namespace fourinone
