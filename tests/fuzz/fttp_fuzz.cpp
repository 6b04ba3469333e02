// An fttp server's request decoder: a head, then the data of a write.
#include "fileops/protocol/messages.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fourinone;
  const auto bytes = fuzz::view(data, size);
  fileops::proto::Request request;
  std::string_view payload;
  if (fileops::proto::decode_body(bytes, request, payload, "fttp request").ok()) {
    // The data is a view into the body, never past it.
    if (payload.size() > bytes.size() ||
        (!payload.empty() && (payload.data() < bytes.data() || payload.data() + payload.size() > bytes.data() + bytes.size()))) {
      __builtin_trap();
    }
  }
  return 0;
}
