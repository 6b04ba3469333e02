// Store: the park's state machine — domains, nodes, sessions, the revision counter and the
// exactly-once table. Pure: no clocks, threads, files or sockets; apply() is deterministic,
// so every replica that applies the same commands holds the same state, byte for byte in
// save(). Not thread-safe: owned by one thread (the server's state loop).
//
// DESIGN
// - A domain exists while it has nodes; nodes keep creation order (a per-store counter), so
//   list() returns them in the order they were created, whatever the names.
// - The revision counts applied changes: +1 per command that changed any node; all events of
//   a command share it. Session bookkeeping alone does not move the revision.
// - Permissions are checked here (the caller travels in the command) so a denied write changes
//   nothing on any replica.
// - apply() never throws; a broken invariant aborts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "park/queue/queue_book.hpp"
#include "park/store/command.hpp"

namespace fourinone::park {

struct StoreLimits {
  std::size_t max_name = 255;               // bytes in a domain or node name
  std::size_t max_value = 16u << 20;        // bytes in one value
};

// "" if ok, else why the name is refused (empty, too long, control characters, '/').
std::string check_name(std::string_view name, std::size_t max_name);

class Store {
 public:
  explicit Store(StoreLimits limits = {});
  ~Store();
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;

  ApplyResult apply(const Command& command);

  // Reads.
  const Node* find(std::string_view domain, std::string_view node) const;
  std::vector<Node> list(std::string_view domain) const;  // creation order; empty if none
  bool has_domain(std::string_view domain) const;
  // The highest mod/create/delete revision seen in the domain (0 if it never existed or was
  // removed and forgotten).
  std::uint64_t domain_revision(std::string_view domain) const;
  std::uint64_t revision() const;
  std::size_t bytes() const;          // accounted memory: names, values, metadata estimate, queues
  const QueueBook& queues() const;    // the message queue's channels (CommandKind::mq)
  std::size_t node_count() const;
  std::size_t domain_count() const;
  const std::map<std::uint64_t, SessionRecord>& sessions() const;
  // For the status page: domains in name order after `after` (exclusive), at most `max`.
  struct DomainSummary {
    std::string name;
    std::size_t nodes = 0;
    std::uint64_t revision = 0;  // its last change
  };
  std::vector<DomainSummary> domains(std::string_view after, std::size_t max) const;
  std::size_t heartbeat_node_count() const;  // nodes owned by a session
  std::size_t ttl_node_count() const;        // nodes with a TTL deadline

  // For the leader's timers: nodes whose TTL deadline is <= now_ms, and non-heartbeat nodes
  // created before created_before_ms (the clear task); at most `max` of each, oldest first.
  std::vector<NodeRef> ttl_expired(std::int64_t now_ms, std::size_t max) const;
  std::vector<NodeRef> created_before(std::int64_t created_before_ms, std::size_t max) const;

  // Snapshot: the whole state as bytes, and back. load() returns bad_request on corrupt input.
  std::string save() const;
  static Result<Store> load(std::string_view bytes, StoreLimits limits = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fourinone::park
