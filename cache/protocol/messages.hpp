// The cache's request and response bodies (inside core frames; byte layout in cache/protocol/WIRE.md).
//
// One Request shape serves every operation: the single-key fields carry get/set/remove, and
// `items` carries multi-key and replication batches. Every client request names the layout
// version it routed with, so a server that knows a newer layout (or does not own the key)
// answers stale_layout instead of a wrong value. Replication requests carry the primary's
// epoch instead: a backup refuses an epoch older than the newest it has seen, which fences
// a deposed primary.
#pragma once

#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fourinone::cache::proto {

enum class Op : std::uint8_t {
  get = 1,
  set = 2,          // mode: store/SetMode
  remove = 3,
  multi_get = 4,    // items: keys
  multi_set = 5,    // items: key, value, ttl
  stat = 6,
  replicate = 10,   // primary -> backup: items in apply order (kind set or remove)
  sync_begin = 11,  // primary -> backup: drop everything, a full copy follows
  sync_chunk = 12,  // primary -> backup: part of the full copy
  sync_end = 13,    // primary -> backup: the copy is complete; the stream goes on
};
inline constexpr std::uint8_t kMaxOp = 13;

inline constexpr std::uint8_t kItemRemove = 255;  // Item::mode of a replicated remove

struct Item {
  std::string key;
  std::string value;
  std::uint8_t mode = 0;              // SetMode for client sets; kItemRemove in replication
  std::uint64_t version = 0;          // expected version (client), the version (replication)
  std::int64_t ttl_ms = 0;            // time to live; 0: none
  template <class A>
  void serialize(A& ar) { ar(key, value, mode, version, ttl_ms); }
};

struct Request {
  std::uint8_t op = 0;
  std::uint64_t layout_version = 0;   // client requests: the layout the client routed with
  std::uint64_t epoch = 0;            // replication: the sender's primary epoch
  Item item;                          // single-key ops
  std::vector<Item> items;            // multi-key ops and replication batches
  template <class A>
  void serialize(A& ar) { ar(op, layout_version, epoch, item, items); }
};

struct ItemResult {
  std::uint8_t code = 0;              // Errc
  std::string value;
  std::uint64_t version = 0;
  std::int64_t ttl_ms = 0;            // time left; 0: none
  template <class A>
  void serialize(A& ar) { ar(code, value, version, ttl_ms); }
};

struct Response {
  std::uint8_t code = 0;              // Errc of the whole request
  std::string message;                // for errors; not_leader: the primary's address
  std::uint64_t layout_version = 0;   // the layout the server holds
  ItemResult item;                    // single-key ops
  std::vector<ItemResult> items;      // multi-key ops
  std::vector<std::pair<std::string, std::string>> fields;  // stat
  template <class A>
  void serialize(A& ar) { ar(code, message, layout_version, item, items, fields); }
};

}  // namespace fourinone::cache::proto
