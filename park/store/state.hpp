// The Store's data and the few primitives that change it (internal to park/store).
//
// Every change to nodes goes through insert_node / erase_node / replace_node, which keep the
// derived indices (creation order, sessions, TTL, created time, bytes) in step. The command
// logic in store.cpp builds on them, and so does the transaction undo journal: a primitive's
// inverse is another primitive plus restoring the domain's metadata.
//
// Persisted state: revision, the counters, domains (creator, deletable, last change, nodes
// with their creation order), sessions and the exactly-once table. Everything else is
// derived and rebuilt by load().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "park/queue/queue_book.hpp"
#include "park/store/command.hpp"
#include "park/store/store.hpp"

namespace fourinone::park::detail {

// Prints "fourinone store: <message>" to stderr and aborts: a broken invariant.
[[noreturn]] void panic(const char* format, ...) __attribute__((format(printf, 1, 2)));

struct NodeKey {
  std::string domain;
  std::string name;
  auto operator<=>(const NodeKey&) const = default;
};

struct Entry {
  Node node;
  std::uint64_t order = 0;  // store-wide creation counter: list() order
};

struct DomainMeta {
  std::string creator;
  bool deletable = false;
  std::uint64_t last_change_revision = 0;
};

struct Domain {
  DomainMeta meta;
  std::map<std::string, Entry, std::less<>> nodes;
  std::map<std::uint64_t, Entry*> by_order;  // points into `nodes` (map nodes are stable)
};

// One client's remembered answers (Raft thesis §6.3).
struct ClientRecord {
  std::uint64_t acked_below = 0;
  std::uint64_t last_apply = 0;  // apply counter of its last applied command: eviction order
  std::map<std::uint64_t, ApplyResult> results;  // seq -> answer (events dropped)
};

// (deadline or created_ms, create_revision, order): unique, oldest first.
using TimeKey = std::tuple<std::int64_t, std::uint64_t, std::uint64_t>;

inline constexpr std::size_t kMaxClients = 10'000;
inline constexpr std::size_t kNodeOverhead = 160;

std::size_t node_bytes(const Node& n);

struct State {
  StoreLimits limits;

  // --- persisted ---
  std::uint64_t revision = 0;
  std::uint64_t next_order = 1;
  std::uint64_t next_session = 1;
  std::uint64_t apply_counter = 0;  // +1 per apply(): a deterministic "time" for eviction
  std::map<std::string, Domain, std::less<>> domains;
  std::map<std::uint64_t, SessionRecord> sessions;
  std::map<std::uint64_t, ClientRecord> clients;
  QueueBook queues;  // the message queue's channels (saved as their own section)

  // --- derived ---
  std::map<std::uint64_t, std::uint64_t> client_lru;  // last_apply -> client id
  std::map<std::uint64_t, std::map<std::uint64_t, NodeKey>> session_nodes;  // session -> order -> node
  std::map<TimeKey, NodeKey> ttl_index;      // nodes with expires_ms != 0
  std::map<TimeKey, NodeKey> created_index;  // non-heartbeat nodes
  std::size_t bytes = 0;
  std::size_t node_count = 0;

  Domain* find_domain(std::string_view domain);
  const Domain* find_domain(std::string_view domain) const;
  Entry* find_entry(std::string_view domain, std::string_view name);
  const Entry* find_entry(std::string_view domain, std::string_view name) const;
  std::optional<DomainMeta> domain_meta(std::string_view domain) const;

  // Adds a node that must not exist. A missing domain is created with `meta`; an existing
  // one keeps its metadata except last_change_revision, which becomes `revision`.
  void insert_node(Node node, std::uint64_t order, const DomainMeta& meta, std::uint64_t revision);
  // Removes a node that must exist and returns it (with its order). The domain goes with its
  // last node; otherwise its last_change_revision becomes `revision`.
  Entry erase_node(std::string_view domain, std::string_view name, std::uint64_t revision);
  // Replaces an existing node (same domain, name and order) and returns the old one.
  Node replace_node(Node node, std::uint64_t revision);
  // Sets an existing domain's metadata.
  void set_meta(std::string_view domain, const DomainMeta& meta);

  // Exactly-once bookkeeping.
  void touch_client(std::uint64_t client_id, ClientRecord& record);
  void evict_clients();

 private:
  void index(const Entry& e);
  void unindex(const Entry& e);
};

}  // namespace fourinone::park::detail

namespace fourinone::park {
struct Store::Impl : detail::State {};
}  // namespace fourinone::park
