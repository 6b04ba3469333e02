// How a park server stores a Raft snapshot: the store's bytes plus the membership in effect at
// the snapshot's index (raft::Snapshot::membership), so a restarted server knows who is in its
// group without config.xml. Pure functions; park/log stores the result as opaque bytes.
//
// Format: kMembershipMarker, 'S', the membership's encoding's length (u64, little endian), the
// encoding (raft::encode_membership), then the store's bytes (Store::save, which starts with
// its version byte, 1 or 2). Bytes without the marker are a snapshot written before
// memberships lived in the log: the store's bytes alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "fourinone/error.hpp"
#include "park/raft/raft.hpp"

namespace fourinone::park {

struct StoredSnapshot {
  std::optional<raft::Membership> membership;
  std::string store_bytes;
};

std::string wrap_snapshot(const std::optional<raft::Membership>& membership, std::string_view store_bytes);
// Errors: internal naming what is wrong.
Result<StoredSnapshot> unwrap_snapshot(std::string bytes);

}  // namespace fourinone::park
