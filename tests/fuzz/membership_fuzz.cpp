// A group's membership as peers and disks hand it over: a membership log entry, a stored
// snapshot's envelope (park/server/stored_snapshot.hpp) and the member book in its context.
#include "park/raft/raft.hpp"
#include "park/server/member_book.hpp"
#include "park/server/stored_snapshot.hpp"
#include "tests/fuzz/fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fourinone;
  const std::string_view bytes = fuzz::view(data, size);
  // The encoding is canonical: what decodes encodes to the very same bytes.
  if (auto m = raft::decode_membership(bytes)) {
    if (raft::encode_membership(*m) != bytes || !m->well_formed()) __builtin_trap();
    (void)park::member_book_of(*m, {});
  }
  if (auto stored = park::unwrap_snapshot(std::string(bytes)); stored.ok() && stored->membership) {
    auto again = park::unwrap_snapshot(park::wrap_snapshot(stored->membership, stored->store_bytes));
    if (!again.ok() || again->membership != stored->membership || again->store_bytes != stored->store_bytes) {
      __builtin_trap();
    }
  }
  if (auto book = park::decode_member_book(bytes); book.ok()) {
    auto again = park::decode_member_book(park::encode_member_book(book.value()));
    if (!again.ok() || again->addresses != book->addresses || again->next_id != book->next_id) __builtin_trap();
  }
  return 0;
}
