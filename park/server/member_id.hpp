// The Raft id of the park server whose data directory this is, kept in DIR/MEMBER_ID.
//
// A server of a new group takes its place in PARK/SERVERS as its id; a server added to a
// running group (fourinone park --join) takes the id the leader gave it, from the first
// message the leader sends. Either way the id is written here before the server acts on
// anything, and from then on this file, not config.xml, says who the server is: config.xml
// may be edited (members added, removed, reordered) without a server changing its identity.
#pragma once

#include <optional>
#include <string>

#include "fourinone/error.hpp"
#include "park/raft/raft.hpp"

namespace fourinone::park {

// Nothing when the file does not exist. Errors: internal for an unreadable or damaged file.
Result<std::optional<raft::NodeId>> read_member_id(const std::string& dir);
// Written to a temporary file, fsynced and renamed over: never half there. Errors: internal.
Status write_member_id(const std::string& dir, raft::NodeId id);

}  // namespace fourinone::park
