// Frames: the unit of the wire (DESIGN §3; byte layout in park/protocol/WIRE.md).
//
// Every frame is a fixed 20-byte header followed by `body_length` bytes of body:
//   magic u32 | version u16 | type u16 | request id u64 | body length u32   (big-endian)
// The header is checked before the body is read or any memory is reserved for it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "fourinone/error.hpp"

namespace fourinone::core {

inline constexpr std::uint32_t kFrameMagic = 0x46344E31;  // "F4N1"
inline constexpr std::uint16_t kProtocolVersion = 1;
inline constexpr std::size_t kFrameHeaderSize = 20;
// Default frame limit: the 16 MiB default value plus room for names and metadata.
inline constexpr std::uint32_t kDefaultMaxFrame = (16u << 20) + (1u << 20);

enum class FrameType : std::uint16_t {
  hello = 1,        // client -> server: HelloRequest
  hello_reply = 2,  // server -> client: HelloReply
  auth = 3,         // client -> server: AuthRequest
  auth_reply = 4,   // server -> client: AuthReply
  request = 5,      // client -> server: an application request
  response = 6,     // server -> client: the answer to request `id`
  push = 7,         // server -> client: unsolicited (watch events); id = stream id
  error = 8,        // either way: a Status; id 0 = the whole connection (then it closes)
};
inline constexpr std::uint16_t kMaxFrameType = 8;

struct FrameHeader {
  std::uint32_t magic = kFrameMagic;
  std::uint16_t version = kProtocolVersion;
  FrameType type = FrameType::request;
  std::uint64_t id = 0;
  std::uint32_t body_length = 0;
};

void encode_header(const FrameHeader& header, char* out);  // writes kFrameHeaderSize bytes
FrameHeader decode_header(const char* in);                 // reads kFrameHeaderSize bytes

// Checks a decoded header: magic, version, known type, body within max_frame.
// Errors: bad_request (magic, version, type) and too_large (body length).
Status check_header(const FrameHeader& header, std::uint32_t max_frame);

// A whole frame (header + body) as one string, ready to write.
std::string make_frame(FrameType type, std::uint64_t id, std::string_view body);

// Building a frame in place, so a body is encoded once and never copied: start with
// frame_buffer() (kFrameHeaderSize placeholder bytes), append the body, then seal_frame()
// writes the header for the body that follows it.
std::string frame_buffer(std::size_t body_size_hint = 0);
void seal_frame(std::string& frame, FrameType type, std::uint64_t id);
// The body length of a buffer from frame_buffer().
inline std::size_t frame_body_size(const std::string& frame) { return frame.size() - kFrameHeaderSize; }

// --- handshake bodies (cereal, WireArchive) ----------------------------------------------
struct HelloRequest {
  std::uint64_t client_id = 0;
  std::string user;          // empty: no login
  std::string client_nonce;  // random
  template <class A>
  void serialize(A& ar) { ar(client_id, user, client_nonce); }
};

struct HelloReply {
  std::string server_id;     // HOST:PORT of the answering server
  bool auth_required = false;
  std::string salt;          // for `user`; present when auth_required
  std::uint32_t iterations = 0;
  std::string server_nonce;
  template <class A>
  void serialize(A& ar) { ar(server_id, auth_required, salt, iterations, server_nonce); }
};

struct AuthRequest {
  std::string proof;
  template <class A>
  void serialize(A& ar) { ar(proof); }
};

struct AuthReply {
  std::string server_signature;  // proves the server knows the user's keys
  template <class A>
  void serialize(A& ar) { ar(server_signature); }
};

}  // namespace fourinone::core
