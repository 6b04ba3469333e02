// A worker's request decoder and the WareHouse a task carries (contractor -> worker and back).
#include "fourinone/warehouse.hpp"
#include "tests/fuzz/fuzz_common.hpp"
#include "worker/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fourinone;
  const auto bytes = fuzz::view(data, size);
  fuzz::round_trip<detail::WorkerRequest>(bytes, "worker request");
  fuzz::round_trip<detail::WorkerReply>(bytes, "worker reply");
  auto house = WareHouse::decode(bytes);
  if (house.ok()) {
    // What decodes must encode and decode to the same thing.
    auto again = WareHouse::decode(house->encode());
    if (!again.ok() || again->encode() != house->encode()) __builtin_trap();
  }
  return 0;
}
