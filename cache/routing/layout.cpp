// Layout encoding, group-name checks and the consistent-hash ring (see layout.hpp).
// placement_hash is ours on purpose: placement must not move when a library changes its hash (std::hash, boost::hash may).
//
// Encoded layout (WireArchive, little-endian): u8 format (kLayoutFormat), u64 version,
// u32 vnodes, u64 group count, then per group: string name, u64 server count, then per
// server: string host, u16 port. Strings are a u64 length and the bytes. The format byte lets
// a later release refuse, rather than misread, a layout written in a newer shape.
#include "cache/routing/layout.hpp"

#include <algorithm>
#include <set>

#include "core/wire_archive.hpp"

namespace fourinone::cache {

namespace {

constexpr std::uint8_t kLayoutFormat = 1;
constexpr std::uint32_t kMaxVnodes = 4096;
constexpr std::size_t kMaxGroupName = 64;

// Layout has no serialize() of its own so that its byte form, format byte included, lives
// only here.
struct LayoutWire {
  std::uint8_t format = kLayoutFormat;
  Layout* layout = nullptr;

  template <class A>
  void serialize(A& ar) {
    ar(format, layout->version, layout->vnodes, layout->groups);
  }
};

bool valid_name_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

// check_group_name without the allocation, for the per-request path of pinned_group().
bool valid_group_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxGroupName) return false;
  return std::all_of(name.begin(), name.end(), valid_name_char);
}

Status validate(const Layout& layout) {
  if (layout.version == 0) return Status(Errc::bad_request, "cache layout: version must be > 0");
  if (layout.vnodes == 0 || layout.vnodes > kMaxVnodes) {
    return Status(Errc::bad_request, "cache layout: vnodes " + std::to_string(layout.vnodes) + " is not in 1.." +
                                         std::to_string(kMaxVnodes));
  }
  std::set<std::string_view> seen;
  for (const GroupLayout& group : layout.groups) {
    if (Status s = check_group_name(group.name); !s.ok()) return Status(Errc::bad_request, "cache layout: " + s.message());
    if (!seen.insert(group.name).second) {
      return Status(Errc::bad_request, "cache layout: group '" + group.name + "' appears twice");
    }
    if (group.servers.empty()) {
      return Status(Errc::bad_request, "cache layout: group '" + group.name + "' has no servers");
    }
  }
  return {};
}

}  // namespace

const GroupLayout* Layout::find_group(std::string_view name) const {
  for (const GroupLayout& group : groups) {
    if (group.name == name) return &group;
  }
  return nullptr;
}

const GroupLayout* Layout::group_of(const ServerAddress& server) const {
  for (const GroupLayout& group : groups) {
    if (std::find(group.servers.begin(), group.servers.end(), server) != group.servers.end()) return &group;
  }
  return nullptr;
}

std::string encode_layout(const Layout& layout) {
  // LayoutWire only reads through the pointer when saving.
  LayoutWire wire{kLayoutFormat, const_cast<Layout*>(&layout)};
  return core::encode(wire);
}

Result<Layout> decode_layout(std::string_view bytes) {
  // The format byte first: a newer shape should be named as such, not as garbage.
  if (bytes.empty()) return Status(Errc::bad_request, "cache layout: empty");
  auto format = static_cast<std::uint8_t>(bytes.front());
  if (format != kLayoutFormat) {
    return Status(Errc::bad_request, "cache layout: unknown format " + std::to_string(format) + " (this build reads " +
                                         std::to_string(kLayoutFormat) + ")");
  }
  Layout layout;
  LayoutWire wire{0, &layout};
  if (Status s = core::decode(bytes, wire, "cache layout"); !s.ok()) return s;
  if (Status s = validate(layout); !s.ok()) return s;
  return layout;
}

Status check_group_name(std::string_view name) {
  if (valid_group_name(name)) return {};
  // Cut what we echo back: the name may be long garbage off the wire.
  std::string shown(name.substr(0, kMaxGroupName + 1));
  return Status(Errc::bad_request, "group name '" + shown + "' is not [A-Za-z0-9_.-]{1,64}");
}

std::uint64_t placement_hash(std::string_view bytes) noexcept {
  // FNV-1a 64 (offset basis and prime from the FNV spec). Bytes are taken as unsigned so
  // that the result does not depend on whether char is signed.
  std::uint64_t h = 14695981039346656037ull;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  // FNV's low bits mix poorly for short, similar keys ("g#1", "g#2"); murmur3's fmix64
  // spreads every input bit over the whole word.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

std::optional<std::string_view> pinned_group(std::string_view key) noexcept {
  if (key.empty() || key.front() != '@') return std::nullopt;
  // ':' is not a name character, so the first one ends the group.
  std::size_t colon = key.find(':', 1);
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view group = key.substr(1, colon - 1);
  if (!valid_group_name(group)) return std::nullopt;
  return group;
}

std::string make_pinned_key(std::string_view group, std::string_view id) {
  std::string key;
  key.reserve(group.size() + id.size() + 2);
  key += '@';
  key += group;
  key += ':';
  key += id;
  return key;
}

// REQUIRES: a layout that passes decode_layout's checks (unique names, vnodes <= 4096); with
// duplicate names the first group of that name owns the pinned keys.
HashRing::HashRing(const Layout& layout) : version_(layout.version) {
  groups_.reserve(layout.groups.size());
  points_.reserve(layout.groups.size() * layout.vnodes);
  for (std::uint32_t g = 0; g < layout.groups.size(); ++g) {
    const std::string& name = layout.groups[g].name;
    groups_.push_back(name);
    for (std::uint32_t i = 0; i < layout.vnodes; ++i) {
      points_.emplace_back(placement_hash(name + "#" + std::to_string(i)), g);
    }
  }
  // Pairs sort by hash, then group index: two groups on the same point resolve the same way
  // in every process.
  std::sort(points_.begin(), points_.end());
}

int HashRing::owner_index(std::string_view key) const noexcept {
  if (std::optional<std::string_view> pinned = pinned_group(key)) {
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      if (groups_[g] == *pinned) return static_cast<int>(g);
    }
    // Pinned to a group we do not know: not ours to guess (it may be a newer layout's group).
    return -1;
  }
  if (points_.empty()) return -1;
  std::uint64_t h = placement_hash(key);
  auto it = std::lower_bound(points_.begin(), points_.end(), h,
                             [](const std::pair<std::uint64_t, std::uint32_t>& p, std::uint64_t v) { return p.first < v; });
  if (it == points_.end()) it = points_.begin();  // past the last point: wrap to the first
  return static_cast<int>(it->second);
}

std::string_view HashRing::owner(std::string_view key) const noexcept {
  int index = owner_index(key);
  if (index < 0) return {};
  return groups_[static_cast<std::size_t>(index)];
}

}  // namespace fourinone::cache
