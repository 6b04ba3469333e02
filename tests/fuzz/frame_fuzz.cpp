// The frame header every connection reads first, and the login handshake's frames.
#include "core/frame.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fourinone;
  const auto bytes = fuzz::view(data, size);
  if (bytes.size() >= core::kFrameHeaderSize) {
    const core::FrameHeader header = core::decode_header(bytes.data());
    (void)core::check_header(header, core::kDefaultMaxFrame);
  }
  fuzz::round_trip<core::HelloRequest>(bytes, "hello");
  fuzz::round_trip<core::HelloReply>(bytes, "hello reply");
  fuzz::round_trip<core::AuthRequest>(bytes, "auth");
  fuzz::round_trip<core::AuthReply>(bytes, "auth reply");
  return 0;
}
