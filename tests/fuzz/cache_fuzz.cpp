// A cache server's decoders: client requests (proto::Request), and replication batches read
// straight from their bytes (ByteReader), as a backup reads its primary's.
#include "cache/protocol/messages.hpp"
#include "cache/protocol/views.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fourinone;
  const auto bytes = fuzz::view(data, size);
  fuzz::round_trip<cache::proto::Request>(bytes, "cache request");
  cache::proto::ByteReader reader(bytes);
  std::uint8_t op = 0;
  std::uint64_t layout_version = 0, epoch = 0, count = 0;
  if (cache::proto::read_batch_head(reader, op, layout_version, epoch, count)) {
    cache::proto::ItemView item;
    for (std::uint64_t i = 0; i < count && cache::proto::read_item(reader, item); ++i) {
      if (item.key.size() > bytes.size() || item.value.size() > bytes.size()) __builtin_trap();
    }
  }
  return 0;
}
