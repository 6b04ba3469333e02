#include "core/frame.hpp"

#include <boost/endian/conversion.hpp>

namespace fourinone::core {

// Big-endian fields through Boost.Endian (header-only, part of the Boost we use already).
void encode_header(const FrameHeader& header, char* out) {
  auto* p = reinterpret_cast<unsigned char*>(out);
  boost::endian::store_big_u32(p, header.magic);
  boost::endian::store_big_u16(p + 4, header.version);
  boost::endian::store_big_u16(p + 6, static_cast<std::uint16_t>(header.type));
  boost::endian::store_big_u64(p + 8, header.id);
  boost::endian::store_big_u32(p + 16, header.body_length);
}

FrameHeader decode_header(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  FrameHeader header;
  header.magic = boost::endian::load_big_u32(p);
  header.version = boost::endian::load_big_u16(p + 4);
  header.type = static_cast<FrameType>(boost::endian::load_big_u16(p + 6));
  header.id = boost::endian::load_big_u64(p + 8);
  header.body_length = boost::endian::load_big_u32(p + 16);
  return header;
}

Status check_header(const FrameHeader& header, std::uint32_t max_frame) {
  if (header.magic != kFrameMagic) return Status(Errc::bad_request, "not a Fourinone frame (bad magic)");
  if (header.version != kProtocolVersion) {
    return Status(Errc::bad_request, "protocol version " + std::to_string(header.version) +
                                         " is not supported; this server speaks version " +
                                         std::to_string(kProtocolVersion));
  }
  auto type = static_cast<std::uint16_t>(header.type);
  if (type == 0 || type > kMaxFrameType) return Status(Errc::bad_request, "unknown frame type " + std::to_string(type));
  if (header.body_length > max_frame) {
    return Status(Errc::too_large, "frame of " + std::to_string(header.body_length) + " bytes exceeds the limit of " +
                                       std::to_string(max_frame));
  }
  return {};
}

std::string make_frame(FrameType type, std::uint64_t id, std::string_view body) {
  std::string frame(kFrameHeaderSize + body.size(), '\0');
  encode_header(FrameHeader{kFrameMagic, kProtocolVersion, type, id, static_cast<std::uint32_t>(body.size())},
                frame.data());
  if (!body.empty()) std::memcpy(frame.data() + kFrameHeaderSize, body.data(), body.size());
  return frame;
}

std::string frame_buffer(std::size_t body_size_hint) {
  std::string frame;
  frame.reserve(kFrameHeaderSize + body_size_hint);
  frame.resize(kFrameHeaderSize);
  return frame;
}

void seal_frame(std::string& frame, FrameType type, std::uint64_t id) {
  encode_header(FrameHeader{kFrameMagic, kProtocolVersion, type, id,
                            static_cast<std::uint32_t>(frame.size() - kFrameHeaderSize)},
                frame.data());
}

}  // namespace fourinone::core
