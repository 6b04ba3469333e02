// Encoding the hot messages from views, without building proto:: objects first: the same
// bytes as encoding the proto:: types (tests/unit/cache_protocol_test.cpp checks that), but
// a value read from the store or received in a request is copied once, into the frame.
#pragma once

#include <boost/endian/conversion.hpp>
#include <cereal/cereal.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "cache/protocol/messages.hpp"
#include "core/wire_archive.hpp"

namespace fourinone::cache::proto {

// cereal's encoding of a std::string: a size tag, then the bytes.
inline void save_text(core::WireOutputArchive& ar, std::string_view text) {
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(text.size())));
  if (!text.empty()) ar(cereal::binary_data(text.data(), text.size()));
}

// Appends what core::encode(Item{key, value, mode, version, ttl_ms}) would.
inline void append_item(std::string& out, std::string_view key, std::string_view value, std::uint8_t mode,
                        std::uint64_t version, std::int64_t ttl_ms) {
  core::WireOutputArchive ar(out);
  save_text(ar, key);
  save_text(ar, value);
  ar(mode, version, ttl_ms);
}

// Appends what core::encode(Response) would for a Response that holds one ItemResult and
// nothing else (no items, no fields).
inline void append_single_response(std::string& out, std::uint8_t code, std::string_view message,
                                   std::uint64_t layout_version, std::uint8_t item_code, std::string_view value,
                                   std::uint64_t version, std::int64_t ttl_ms) {
  core::WireOutputArchive ar(out);
  ar(code);
  save_text(ar, message);
  ar(layout_version, item_code);
  save_text(ar, value);
  ar(version, ttl_ms);
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(0)));  // items
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(0)));  // fields
}

// Appends what core::encode(Request{op, layout_version, epoch, Item{}, items}) would, up to
// and including the items' count; the caller appends the `count` encoded items after it.
inline void append_batch_request_head(std::string& out, Op op, std::uint64_t layout_version, std::uint64_t epoch,
                                      std::size_t count) {
  core::WireOutputArchive ar(out);
  ar(static_cast<std::uint8_t>(op), layout_version, epoch);
  append_item(out, {}, {}, 0, 0, 0);
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(count)));
}

// Reads what the functions above write, without copying: every length is checked against the
// bytes left first (as core::WireInputArchive does), so garbage fails instead of allocating.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}

  bool u8(std::uint8_t& v) { return raw(&v, 1); }
  bool u64(std::uint64_t& v) {
    unsigned char b[8];
    if (!raw(b, 8)) return false;
    v = boost::endian::load_little_u64(b);
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!u64(u)) return false;
    v = static_cast<std::int64_t>(u);
    return true;
  }
  bool text(std::string_view& v) {
    std::uint64_t size = 0;
    if (!u64(size) || size > in_.size() - pos_) return false;
    v = in_.substr(pos_, size);
    pos_ += size;
    return true;
  }
  std::size_t remaining() const noexcept { return in_.size() - pos_; }

 private:
  bool raw(void* out, std::size_t n) {
    if (n > in_.size() - pos_) return false;
    std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
};

struct ItemView {
  std::string_view key;
  std::string_view value;
  std::uint8_t mode = 0;
  std::uint64_t version = 0;
  std::int64_t ttl_ms = 0;
};

inline bool read_item(ByteReader& r, ItemView& item) {
  return r.text(item.key) && r.text(item.value) && r.u8(item.mode) && r.u64(item.version) && r.i64(item.ttl_ms);
}

// The head of a batch request (see append_batch_request_head); `count` items follow.
inline bool read_batch_head(ByteReader& r, std::uint8_t& op, std::uint64_t& layout_version, std::uint64_t& epoch,
                            std::uint64_t& count) {
  ItemView single;
  if (!r.u8(op) || !r.u64(layout_version) || !r.u64(epoch) || !read_item(r, single) || !r.u64(count)) return false;
  // Every item takes at least 33 bytes: a count beyond what is left is garbage.
  return count <= r.remaining() / 33;
}

}  // namespace fourinone::cache::proto
