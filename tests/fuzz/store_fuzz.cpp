// A snapshot of the park's store, as a leader sends it to a follower or the disk gives it back.
#include "park/store/store.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fourinone;
  auto store = park::Store::load(fuzz::view(data, size), park::StoreLimits{});
  if (store.ok()) {
    // What loads must save and load again to the same bytes.
    const std::string saved = store->save();
    auto again = park::Store::load(saved, park::StoreLimits{});
    if (!again.ok() || again->save() != saved) __builtin_trap();
  }
  return 0;
}
