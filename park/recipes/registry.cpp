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

// Adapts DomainFollower to the registry's Watch (the follower is the watch).
class RegistryWatch : public Watch {
 public:
  explicit RegistryWatch(std::shared_ptr<recipes::DomainFollower> f) : follower_(std::move(f)) {}
  void cancel() override { follower_->cancel(); }
  std::uint64_t last_revision() const override { return follower_->revision(); }

 private:
  std::shared_ptr<recipes::DomainFollower> follower_;
};

// One try of async_update_metadata: read the node, write it back under its version; a lost
// race (bad_version) tries again, as update_metadata does.
void update_metadata_step(Park& park, std::string domain, std::string id, std::map<std::string, std::string> metadata,
                          std::function<void(Status)> done) {
  park.async_get(domain, id, [&park, domain, id, metadata = std::move(metadata), done = std::move(done)](Result<Node> node) mutable {
    if (!node.ok()) return done(node.status());
    Record record{ServiceRegistry::instance_of(*node).address, metadata};
    park.async_update(domain, id, encode_value(record), static_cast<std::int64_t>(node->version),
                      [&park, domain, id, metadata = std::move(metadata), done = std::move(done)](Result<Node> r) mutable {
                        if (r.ok()) return done(Status());
                        if (r.status().code() != Errc::bad_version) return done(r.status());
                        update_metadata_step(park, std::move(domain), std::move(id), std::move(metadata), std::move(done));
                      });
  });
}

}  // namespace

Instance ServiceRegistry::instance_of(const Node& node) {
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
    Record record{instance_of(*node).address, metadata};
    auto r = park_.update(domain_of(service), instance_id, record, static_cast<std::int64_t>(node->version));
    if (r.ok()) return Status();
    if (r.status().code() != Errc::bad_version) return r.status();
  }
}

void ServiceRegistry::async_update_metadata(std::string_view service, std::string_view instance_id,
                                            std::map<std::string, std::string> metadata,
                                            std::function<void(Status)> done) {
  update_metadata_step(park_, domain_of(service), std::string(instance_id), std::move(metadata), std::move(done));
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
  for (const auto& n : *nodes) out.push_back(instance_of(n));
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
        for (const auto& [name, node] : state) live.push_back(instance_of(node));
        callback(live);
      });
  if (!follower.ok()) return follower.status();
  return std::unique_ptr<Watch>(new RegistryWatch(std::move(follower).value()));
}

}  // namespace fourinone
