#include "park/store/state.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace fourinone::park::detail {

void panic(const char* format, ...) {
  std::fputs("fourinone store: ", stderr);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::abort();
}

std::size_t node_bytes(const Node& n) {
  return n.domain.size() + n.name.size() + n.value.size() + n.creator.size() + n.create_host.size() +
         n.update_host.size() + kNodeOverhead;
}

Domain* State::find_domain(std::string_view domain) {
  auto it = domains.find(domain);
  return it == domains.end() ? nullptr : &it->second;
}

const Domain* State::find_domain(std::string_view domain) const {
  auto it = domains.find(domain);
  return it == domains.end() ? nullptr : &it->second;
}

Entry* State::find_entry(std::string_view domain, std::string_view name) {
  Domain* d = find_domain(domain);
  if (!d) return nullptr;
  auto it = d->nodes.find(name);
  return it == d->nodes.end() ? nullptr : &it->second;
}

const Entry* State::find_entry(std::string_view domain, std::string_view name) const {
  const Domain* d = find_domain(domain);
  if (!d) return nullptr;
  auto it = d->nodes.find(name);
  return it == d->nodes.end() ? nullptr : &it->second;
}

std::optional<DomainMeta> State::domain_meta(std::string_view domain) const {
  const Domain* d = find_domain(domain);
  if (!d) return std::nullopt;
  return d->meta;
}

void State::index(const Entry& e) {
  const Node& n = e.node;
  NodeKey key{n.domain, n.name};
  if (n.session != 0) {
    if (!session_nodes[n.session].emplace(e.order, key).second) {
      panic("order %llu indexed twice in session %llu", static_cast<unsigned long long>(e.order),
            static_cast<unsigned long long>(n.session));
    }
  } else if (!created_index.emplace(TimeKey{n.created_ms, n.create_revision, e.order}, key).second) {
    panic("order %llu indexed twice by creation time", static_cast<unsigned long long>(e.order));
  }
  if (n.expires_ms != 0 && !ttl_index.emplace(TimeKey{n.expires_ms, n.create_revision, e.order}, key).second) {
    panic("order %llu indexed twice by TTL", static_cast<unsigned long long>(e.order));
  }
  bytes += node_bytes(n);
  ++node_count;
}

void State::unindex(const Entry& e) {
  const Node& n = e.node;
  if (n.session != 0) {
    auto s = session_nodes.find(n.session);
    if (s == session_nodes.end() || s->second.erase(e.order) != 1) {
      panic("%s/%s missing from the index of session %llu", n.domain.c_str(), n.name.c_str(),
            static_cast<unsigned long long>(n.session));
    }
    if (s->second.empty()) session_nodes.erase(s);
  } else if (created_index.erase(TimeKey{n.created_ms, n.create_revision, e.order}) != 1) {
    panic("%s/%s missing from the creation-time index", n.domain.c_str(), n.name.c_str());
  }
  if (n.expires_ms != 0 && ttl_index.erase(TimeKey{n.expires_ms, n.create_revision, e.order}) != 1) {
    panic("%s/%s missing from the TTL index", n.domain.c_str(), n.name.c_str());
  }
  std::size_t b = node_bytes(n);
  if (bytes < b || node_count == 0) panic("byte or node count underflow at %s/%s", n.domain.c_str(), n.name.c_str());
  bytes -= b;
  --node_count;
}

void State::insert_node(Node node, std::uint64_t order, const DomainMeta& meta, std::uint64_t revision) {
  auto [dit, fresh] = domains.try_emplace(node.domain);
  Domain& d = dit->second;
  if (fresh) d.meta = meta;
  d.meta.last_change_revision = revision;
  std::string name = node.name;
  auto [it, inserted] = d.nodes.try_emplace(std::move(name), Entry{std::move(node), order});
  if (!inserted) panic("insert of existing node %s/%s", dit->first.c_str(), it->first.c_str());
  if (!d.by_order.emplace(order, &it->second).second) {
    panic("creation order %llu used twice in domain %s", static_cast<unsigned long long>(order), dit->first.c_str());
  }
  index(it->second);
}

Entry State::erase_node(std::string_view domain, std::string_view name, std::uint64_t revision) {
  auto dit = domains.find(domain);
  if (dit == domains.end()) panic("erase in missing domain %.*s", static_cast<int>(domain.size()), domain.data());
  Domain& d = dit->second;
  auto it = d.nodes.find(name);
  if (it == d.nodes.end()) {
    panic("erase of missing node %.*s/%.*s", static_cast<int>(domain.size()), domain.data(),
          static_cast<int>(name.size()), name.data());
  }
  unindex(it->second);
  if (d.by_order.erase(it->second.order) != 1) panic("creation order index of %s out of step", dit->first.c_str());
  Entry out = std::move(it->second);
  d.nodes.erase(it);
  if (d.nodes.empty()) {
    if (!d.by_order.empty()) panic("domain %s has no nodes but an order index", dit->first.c_str());
    domains.erase(dit);
  } else {
    d.meta.last_change_revision = revision;
  }
  return out;
}

Node State::replace_node(Node node, std::uint64_t revision) {
  Domain* d = find_domain(node.domain);
  if (!d) panic("replace in missing domain %s", node.domain.c_str());
  auto it = d->nodes.find(node.name);
  if (it == d->nodes.end()) panic("replace of missing node %s/%s", node.domain.c_str(), node.name.c_str());
  unindex(it->second);
  Node old = std::exchange(it->second.node, std::move(node));
  index(it->second);
  d->meta.last_change_revision = revision;
  return old;
}

void State::set_meta(std::string_view domain, const DomainMeta& meta) {
  Domain* d = find_domain(domain);
  if (!d) panic("metadata for missing domain %.*s", static_cast<int>(domain.size()), domain.data());
  d->meta = meta;
}

void State::touch_client(std::uint64_t client_id, ClientRecord& record) {
  if (record.last_apply != 0) client_lru.erase(record.last_apply);
  record.last_apply = apply_counter;
  if (!client_lru.emplace(apply_counter, client_id).second) {
    panic("apply counter %llu used by two clients", static_cast<unsigned long long>(apply_counter));
  }
}

void State::evict_clients() {
  while (clients.size() > kMaxClients) {
    auto oldest = client_lru.begin();
    if (oldest == client_lru.end()) panic("client table and its eviction index out of step");
    clients.erase(oldest->second);
    client_lru.erase(oldest);
  }
}

}  // namespace fourinone::park::detail
