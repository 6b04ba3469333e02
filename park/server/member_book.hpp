// MemberBook: where each member of a park group listens, kept in the Raft membership's
// context so that it travels in the log and in snapshots with the membership itself (the log,
// not config.xml, is the truth once a group runs; config.xml only starts it).
//
// Ids are never reused: a new member gets next_id, so late messages of a removed server can
// never pass for a new one's. The bootstrap membership (a new group, from PARK/SERVERS) has an
// empty context: member i is the i-th SERVERS entry. Pure functions; no I/O.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fourinone/config.hpp"
#include "fourinone/error.hpp"
#include "park/raft/raft.hpp"

namespace fourinone::park {

struct MemberBook {
  std::map<raft::NodeId, ServerAddress> addresses;
  raft::NodeId next_id = 1;
};

// "next=6;1=127.0.0.1:9001;2=...". Errors: bad_request naming what is wrong.
std::string encode_member_book(const MemberBook& book);
Result<MemberBook> decode_member_book(std::string_view text);

// The book of `membership`: its context, or the PARK/SERVERS places for the bootstrap one.
// Errors: internal when the context does not decode or misses a member.
Result<MemberBook> member_book_of(const raft::Membership& membership, const std::vector<ServerAddress>& bootstrap);

// The membership with `address` added as a learner under a new id (the leader promotes it once
// it has caught up). Errors: exists when it is a member.
Result<raft::Membership> membership_adding(const raft::Membership& now, const std::vector<ServerAddress>& bootstrap,
                                           const ServerAddress& address);
// The membership without the member at `address`. Errors: not_found; bad_request for the last
// voter.
Result<raft::Membership> membership_removing(const raft::Membership& now, const std::vector<ServerAddress>& bootstrap,
                                             const ServerAddress& address);

}  // namespace fourinone::park
