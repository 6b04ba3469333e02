#include "core/frame.hpp"

#include <cstring>

namespace fourinone::core {
namespace {

void put_be(char* out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

std::uint64_t get_be(const char* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

}  // namespace

void encode_header(const FrameHeader& header, char* out) {
  put_be(out, header.magic, 4);
  put_be(out + 4, header.version, 2);
  put_be(out + 6, static_cast<std::uint16_t>(header.type), 2);
  put_be(out + 8, header.id, 8);
  put_be(out + 16, header.body_length, 4);
}

FrameHeader decode_header(const char* in) {
  FrameHeader header;
  header.magic = static_cast<std::uint32_t>(get_be(in, 4));
  header.version = static_cast<std::uint16_t>(get_be(in + 4, 2));
  header.type = static_cast<FrameType>(get_be(in + 6, 2));
  header.id = get_be(in + 8, 8);
  header.body_length = static_cast<std::uint32_t>(get_be(in + 16, 4));
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
