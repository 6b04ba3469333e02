// Encoding the hot messages from views, without building proto:: objects first: the same
// bytes as encoding the proto:: types (tests/unit/cache_protocol_test.cpp checks that), but
// a value read from the store or received in a request is copied once, into the frame.
#pragma once

#include <cereal/cereal.hpp>
#include <cstdint>
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

}  // namespace fourinone::cache::proto
