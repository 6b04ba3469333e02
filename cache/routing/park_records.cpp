#include "cache/routing/park_records.hpp"

#include <algorithm>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "core/wire_archive.hpp"

namespace fourinone::cache {

bool GroupRecord::has_in_sync(std::string_view server) const {
  return std::find(in_sync.begin(), in_sync.end(), server) != in_sync.end();
}

std::string encode_group_record(const GroupRecord& record) { return core::encode(record); }

Result<GroupRecord> decode_group_record(std::string_view bytes) {
  GroupRecord record;
  if (Status s = core::decode(bytes, record, "cache group record"); !s.ok()) return s;
  return record;
}

std::string encode_registration(const Registration& registration) { return core::encode(registration); }

Result<Registration> decode_registration(std::string_view bytes) {
  Registration registration;
  if (Status s = core::decode(bytes, registration, "cache server registration"); !s.ok()) return s;
  return registration;
}

}  // namespace fourinone::cache
