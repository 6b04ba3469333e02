// Layout: which cache groups exist and which keys each one holds (consistent hashing).
//
// DESIGN: pure code, no I/O. The layout lives in the park (domain fourinone.cache.layout,
// node "current") with a version that grows by one on every change; servers and clients
// build the same HashRing from it, so they agree on every key's group without talking.
//
// Placement: each group gets `vnodes` points on a 64-bit ring, at hash("GROUP#i") for
// i in [0, vnodes); a key belongs to the first point at or after hash(key), wrapping around.
// Adding a group to N groups therefore moves about 1/(N+1) of the keys, all of them to the
// new group. The hash is 64-bit FNV-1a followed by a murmur3-style finalizer: fixed here
// forever, because every process of a deployment must compute the same placement.
//
// Pinned keys: a key of the form "@GROUP:rest" belongs to GROUP whatever the ring says. The
// facade's add() makes such keys, so they resolve after any scale-out (no clocks involved,
// unlike the original's time-based keys).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"

namespace fourinone {

// Here rather than in config.hpp so the public header stays free of cereal; every cache file
// that serializes a GroupLayout includes this header and so finds it by ADL.
template <class A>
void serialize(A& ar, ServerAddress& a) {
  ar(a.host, a.port);
}

}  // namespace fourinone

namespace fourinone::cache {

inline constexpr std::uint32_t kDefaultVnodes = 160;

struct GroupLayout {
  std::string name;                     // [A-Za-z0-9_.-]{1,64}
  std::vector<ServerAddress> servers;   // first: the preferred primary
  friend bool operator==(const GroupLayout&, const GroupLayout&) = default;
  template <class A>
  void serialize(A& ar) { ar(name, servers); }
};

struct Layout {
  std::uint64_t version = 0;            // 0: none yet
  std::uint32_t vnodes = kDefaultVnodes;
  std::vector<GroupLayout> groups;      // in the order they were added
  friend bool operator==(const Layout&, const Layout&) = default;

  const GroupLayout* find_group(std::string_view name) const;
  // The group that lists this server, or nullptr.
  const GroupLayout* group_of(const ServerAddress& server) const;
};

// Bytes <-> Layout for the park node (cereal, the project's WireArchive).
std::string encode_layout(const Layout& layout);
Result<Layout> decode_layout(std::string_view bytes);  // bad_request on garbage

// Group names: bad_request naming the name when it is not [A-Za-z0-9_.-]{1,64}.
Status check_group_name(std::string_view name);

// 64-bit hash of the placement (see the top of this file).
std::uint64_t placement_hash(std::string_view bytes) noexcept;

// "@GROUP:rest" -> GROUP; nullopt for any other key.
std::optional<std::string_view> pinned_group(std::string_view key) noexcept;
// "@GROUP:" + id.
std::string make_pinned_key(std::string_view group, std::string_view id);

class HashRing {
 public:
  HashRing() = default;
  explicit HashRing(const Layout& layout);

  // The group name a key belongs to; empty when the layout has no groups or the key is
  // pinned to a group the layout does not have.
  std::string_view owner(std::string_view key) const noexcept;
  // Its index in layout.groups (or -1 when owner() is empty).
  int owner_index(std::string_view key) const noexcept;
  std::uint64_t version() const noexcept { return version_; }
  const std::vector<std::string>& groups() const noexcept { return groups_; }

 private:
  std::uint64_t version_ = 0;
  std::vector<std::string> groups_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> points_;  // (hash, group index), sorted
};

}  // namespace fourinone::cache
