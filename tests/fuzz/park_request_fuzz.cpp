// A park server's request decoder: every client request and the peers' Raft messages
// (PeerRequest, PeerChunk) arrive as one proto::Request.
#include "park/protocol/messages.hpp"
#include "park/protocol/peer_messages.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fourinone::fuzz::round_trip<fourinone::park::proto::Request>(fourinone::fuzz::view(data, size), "park request");
  return 0;
}
