// A worker's request decoder and the WareHouse a task carries (contractor -> worker and back).
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

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
    // A worker reads its task's objects as the types it expects; whatever the bytes claim,
    // that must fail or succeed without allocating more than they hold.
    for (const auto& entry : house->entries()) {
      (void)house->get_object<std::vector<std::string>>(entry.first);
      (void)house->get_object<std::map<std::string, std::vector<std::uint64_t>>>(entry.first);
    }
    // What decodes must encode and decode to the same thing.
    auto again = WareHouse::decode(house->encode());
    if (!again.ok() || again->encode() != house->encode()) __builtin_trap();
  }
  return 0;
}
