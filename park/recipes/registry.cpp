#include "fourinone/registry.hpp"

#include <algorithm>

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>

#include "park/recipes/domain_follower.hpp"

namespace fourinone {
namespace {

// What an instance node holds (cereal's portable binary form, see value.hpp).
struct Record {
  std::string address;
  std::map<std::string, std::string> metadata;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(address, metadata);
  }
};

Instance to_instance(const Node& node) {
  Instance in;
  in.id = node.name;
  in.session = node.session;
  // A node written by something else than this class is listed with no address rather
  // than hiding the instance.
  if (auto r = decode_value<Record>(node.value); r.ok()) {
    in.address = std::move(r->address);
    in.metadata = std::move(r->metadata);
  }
  return in;
}

// Adapts DomainFollower to the registry's Watch (the follower is the watch).
class RegistryWatch : public Watch {
 public:
  explicit RegistryWatch(std::shared_ptr<recipes::DomainFollower> f) : follower_(std::move(f)) {}
  void cancel() override { follower_->cancel(); }
  std::uint64_t last_revision() const override { return follower_->revision(); }

 private:
  std::shared_ptr<recipes::DomainFollower> follower_;
};

}  // namespace

std::string ServiceRegistry::domain_of(std::string_view service) {
  return "fourinone.registry:" + std::string(service);
}

Status ServiceRegistry::register_instance(std::string_view service, std::string_view instance_id,
                                          std::string_view address,
                                          const std::map<std::string, std::string>& metadata) {
  CreateOptions options;
  options.heartbeat = true;
  options.policy = Policy::read;  // others may list it; only its owner changes or removes it
  Record record{std::string(address), metadata};
  auto r = park_.create(domain_of(service), instance_id, record, options);
  return r.ok() ? Status() : r.status();
}

Status ServiceRegistry::update_metadata(std::string_view service, std::string_view instance_id,
                                       const std::map<std::string, std::string>& metadata) {
  // Compare-and-set on the node's version, so a concurrent update of the address (a
  // re-register after a restart) is never overwritten with a stale one.
  for (;;) {
    auto node = park_.get(domain_of(service), instance_id);
    if (!node.ok()) return node.status();
    Record record{to_instance(*node).address, metadata};
    auto r = park_.update(domain_of(service), instance_id, record, static_cast<std::int64_t>(node->version));
    if (r.ok()) return Status();
    if (r.status().code() != Errc::bad_version) return r.status();
  }
}

Status ServiceRegistry::deregister(std::string_view service, std::string_view instance_id) {
  auto r = park_.remove(domain_of(service), instance_id);
  return r.ok() ? Status() : r.status();
}

Result<std::vector<Instance>> ServiceRegistry::instances(std::string_view service) {
  auto nodes = park_.list(domain_of(service));
  std::vector<Instance> out;
  if (!nodes.ok()) {
    if (nodes.status().code() == Errc::not_found) return out;
    return nodes.status();
  }
  for (const auto& n : *nodes) out.push_back(to_instance(n));
  std::sort(out.begin(), out.end(), [](const Instance& a, const Instance& b) { return a.id < b.id; });
  return out;
}

Result<std::unique_ptr<Watch>> ServiceRegistry::watch(std::string_view service, Callback callback) {
  auto follower = recipes::DomainFollower::start(
      park_, domain_of(service),
      [callback = std::move(callback)](recipes::DomainFollower::Kind, const WatchEvent*, std::uint64_t,
                                       const std::map<std::string, Node>& state) {
        std::vector<Instance> live;  // the map is ordered by name: ordered by id
        live.reserve(state.size());
        for (const auto& [name, node] : state) live.push_back(to_instance(node));
        callback(live);
      });
  if (!follower.ok()) return follower.status();
  return std::unique_ptr<Watch>(new RegistryWatch(std::move(follower).value()));
}

}  // namespace fourinone
