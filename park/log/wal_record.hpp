// The WAL's record format (park/log/README.md, "On-disk format (WAL)"): encoding into a write
// buffer and decoding one record from bytes. Internal to park/log/. Pure; thread-safe.
//
// A segment file starts with a 16-byte header (magic, then the segment's sequence number) and
// then holds records back to back; the zero bytes of a preallocated file mark the end:
//
//   u32 body length (0 = end of data) | u32 CRC-32C of the body | body
//   body = u8 type, then: entry: u64 index, u64 term, data
//                         state: u64 term, u64 vote, u64 commit
//                         start: u64 snapshot index, u64 snapshot term, u64 1 when a
//                                snapshot exists (0 for a log that never had one)
// All integers little-endian.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "park/log/log_storage.hpp"

namespace fourinone::park::wal {

inline constexpr std::size_t kSegmentHeaderSize = 16;
inline constexpr std::size_t kRecordHeaderSize = 8;
inline constexpr std::size_t kEntryBodyOverhead = 17;  // type, index, term

enum class RecordType : std::uint8_t { entry = 1, state = 2, start = 3 };

// The segment header for sequence number `seq`.
std::string segment_header(std::uint64_t seq);
// Whether `header` is ours for segment `seq` (ok), all zero (blank: a segment taken into use
// but never written), or anything else (foreign: another file, or another sequence number).
enum class HeaderCheck { ok, blank, foreign };
HeaderCheck check_segment_header(std::string_view header, std::uint64_t seq);

// Appends one record to `out`; returns the offset of its body within `out`.
std::size_t put_entry(std::string& out, const LogEntry& entry);
std::size_t put_state(std::string& out, const HardState& state);
std::size_t put_start(std::string& out, const std::optional<Snapshot>& snapshot);  // nullopt: no snapshot yet

// A record's header, read from kRecordHeaderSize bytes.
struct RecordHeader {
  std::uint32_t body_size = 0;
  std::uint32_t crc = 0;
};
RecordHeader read_record_header(const char* bytes);

// A decoded body. For entries, `data` views into the body passed to decode_body.
struct Record {
  RecordType type = RecordType::entry;
  std::uint64_t a = 0, b = 0, c = 0;  // entry: index, term; state: term, vote, commit; start: index, term, has
  std::string_view data;
};
// Decodes a body whose CRC matched. nullopt for an unknown type or a wrong size.
std::optional<Record> decode_body(std::string_view body);
// Checks `body` against the CRC of its header, then decodes it; nullopt when either fails.
std::optional<Record> decode_checked(std::string_view body, std::uint32_t crc);

}  // namespace fourinone::park::wal
