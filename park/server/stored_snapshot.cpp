#include "park/server/stored_snapshot.hpp"

namespace fourinone::park {

namespace {
constexpr char kTag = 'S';
constexpr std::size_t kHeader = 2 + 8;
}  // namespace

std::string wrap_snapshot(const std::optional<raft::Membership>& membership, std::string_view store_bytes) {
  if (!membership) return std::string(store_bytes);
  const std::string encoded = raft::encode_membership(*membership);
  std::string out;
  out.reserve(kHeader + encoded.size() + store_bytes.size());
  out.push_back(raft::kMembershipMarker);
  out.push_back(kTag);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(static_cast<std::uint64_t>(encoded.size()) >> (8 * i)));
  out.append(encoded);
  out.append(store_bytes);
  return out;
}

Result<StoredSnapshot> unwrap_snapshot(std::string bytes) {
  StoredSnapshot out;
  if (bytes.empty() || bytes.front() != raft::kMembershipMarker) {
    out.store_bytes = std::move(bytes);
    return out;
  }
  if (bytes.size() < kHeader || bytes[1] != kTag) {
    return Status(Errc::internal, "snapshot: the membership header is cut short or unknown");
  }
  std::uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[2 + i])) << (8 * i);
  if (length > bytes.size() - kHeader) {
    return Status(Errc::internal, "snapshot: the membership is longer than the snapshot (" + std::to_string(length) +
                                      " bytes of " + std::to_string(bytes.size() - kHeader) + ")");
  }
  out.membership = raft::decode_membership(std::string_view(bytes).substr(kHeader, length));
  if (!out.membership) return Status(Errc::internal, "snapshot: the membership does not decode");
  out.store_bytes = bytes.substr(kHeader + length);
  return out;
}

}  // namespace fourinone::park
