#include "park/log/wal_record.hpp"

#include <boost/endian/conversion.hpp>
#include <cstring>

#include "park/log/crc32c.hpp"

namespace fourinone::park::wal {
namespace {

constexpr char kMagic[8] = {'F', '4', '1', 'W', 'A', 'L', '0', '1'};

// Little-endian integers of 4 or 8 bytes through Boost.Endian (a 4-byte v fits in 32 bits).
void put_le(std::string& out, std::uint64_t v, int bytes) {
  unsigned char le[8];
  boost::endian::store_little_u64(le, v);
  out.append(reinterpret_cast<const char*>(le), static_cast<std::size_t>(bytes));
}

std::uint64_t get_le(const char* p, int bytes) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return bytes == 8 ? boost::endian::load_little_u64(u) : boost::endian::load_little_u32(u);
}

// Reserves the record header, lets `body` write the body, then fills in size and CRC.
template <typename WriteBody>
std::size_t put_record(std::string& out, WriteBody&& body) {
  const std::size_t header_at = out.size();
  out.append(kRecordHeaderSize, '\0');
  const std::size_t body_at = out.size();
  body(out);
  const std::size_t body_size = out.size() - body_at;
  const std::uint32_t crc = crc32c(std::string_view(out).substr(body_at, body_size));
  std::string header;
  put_le(header, body_size, 4);
  put_le(header, crc, 4);
  std::memcpy(out.data() + header_at, header.data(), kRecordHeaderSize);
  return body_at;
}

}  // namespace

std::string segment_header(std::uint64_t seq) {
  std::string out(kMagic, sizeof kMagic);
  put_le(out, seq, 8);
  return out;
}

HeaderCheck check_segment_header(std::string_view header, std::uint64_t seq) {
  if (header.size() != kSegmentHeaderSize) return HeaderCheck::foreign;
  if (header.find_first_not_of('\0') == std::string_view::npos) return HeaderCheck::blank;
  if (std::memcmp(header.data(), kMagic, sizeof kMagic) != 0) return HeaderCheck::foreign;
  return get_le(header.data() + 8, 8) == seq ? HeaderCheck::ok : HeaderCheck::foreign;
}

std::size_t put_entry(std::string& out, const LogEntry& entry) {
  return put_record(out, [&](std::string& o) {
    o.push_back(static_cast<char>(RecordType::entry));
    put_le(o, entry.index, 8);
    put_le(o, entry.term, 8);
    o.append(entry.data);
  });
}

std::size_t put_state(std::string& out, const HardState& state) {
  return put_record(out, [&](std::string& o) {
    o.push_back(static_cast<char>(RecordType::state));
    put_le(o, state.term, 8);
    put_le(o, state.vote, 8);
    put_le(o, state.commit, 8);
  });
}

std::size_t put_start(std::string& out, const std::optional<Snapshot>& snapshot) {
  return put_record(out, [&](std::string& o) {
    o.push_back(static_cast<char>(RecordType::start));
    put_le(o, snapshot ? snapshot->index : 0, 8);
    put_le(o, snapshot ? snapshot->term : 0, 8);
    put_le(o, snapshot ? 1 : 0, 8);
  });
}

RecordHeader read_record_header(const char* bytes) {
  return RecordHeader{static_cast<std::uint32_t>(get_le(bytes, 4)), static_cast<std::uint32_t>(get_le(bytes + 4, 4))};
}

std::optional<Record> decode_body(std::string_view body) {
  if (body.empty()) return std::nullopt;
  Record r;
  const char* p = body.data() + 1;
  switch (static_cast<RecordType>(body[0])) {
    case RecordType::entry:
      if (body.size() < kEntryBodyOverhead) return std::nullopt;
      r.type = RecordType::entry;
      r.a = get_le(p, 8);
      r.b = get_le(p + 8, 8);
      r.data = body.substr(kEntryBodyOverhead);
      return r;
    case RecordType::state:
      if (body.size() != 25) return std::nullopt;
      r.type = RecordType::state;
      r.a = get_le(p, 8);
      r.b = get_le(p + 8, 8);
      r.c = get_le(p + 16, 8);
      return r;
    case RecordType::start:
      if (body.size() != 25) return std::nullopt;
      r.type = RecordType::start;
      r.a = get_le(p, 8);
      r.b = get_le(p + 8, 8);
      r.c = get_le(p + 16, 8);
      return r;
  }
  return std::nullopt;
}

std::optional<Record> decode_checked(std::string_view body, std::uint32_t crc) {
  if (crc32c(body) != crc) return std::nullopt;
  return decode_body(body);
}

}  // namespace fourinone::park::wal
