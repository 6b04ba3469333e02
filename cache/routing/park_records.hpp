// What the cache keeps in the park, shared by servers and clients.
//
//   SERVICE.layout/current    the Layout (layout.hpp), version +1 per change (CAS)
//   SERVICE.groups/GROUP      the GroupRecord: who is primary in which epoch, and which members
//                             hold every acknowledged write (in_sync)
//   SERVICE/HOST:PORT         a heartbeat node per live server: its Registration
//
// SERVICE is CACHE/SERVICE (default "fourinone.cache"). The group record changes only by
// compare-and-set on its park version, so two servers can never both win a takeover, and a
// primary that drops a backup from in_sync does so before it acknowledges a write the backup
// did not confirm (see cache/README.md, "Replication").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/error.hpp"

namespace fourinone::cache {

struct GroupRecord {
  std::uint64_t epoch = 0;
  std::string primary;                 // HOST:PORT
  std::vector<std::string> in_sync;    // HOST:PORT of members with every acknowledged write
  bool has_in_sync(std::string_view server) const;
  template <class A>
  void serialize(A& ar) { ar(epoch, primary, in_sync); }
};

struct Registration {
  std::string group;
  std::string role;                    // starting, primary, backup, syncing
  std::uint64_t epoch = 0;
  template <class A>
  void serialize(A& ar) { ar(group, role, epoch); }
};

std::string encode_group_record(const GroupRecord& record);
Result<GroupRecord> decode_group_record(std::string_view bytes);
std::string encode_registration(const Registration& registration);
Result<Registration> decode_registration(std::string_view bytes);

struct ParkDomains {
  std::string servers;  // SERVICE
  std::string groups;   // SERVICE.groups
  std::string layout;   // SERVICE.layout
  explicit ParkDomains(const std::string& service)
      : servers(service), groups(service + ".groups"), layout(service + ".layout") {}
};
inline constexpr std::string_view kLayoutNode = "current";

}  // namespace fourinone::cache
