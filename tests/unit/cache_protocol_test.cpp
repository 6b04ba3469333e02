// The cache's hand-rolled encoders (cache/protocol/views.hpp) write exactly what cereal writes
// for the proto:: types, so either side may use either.
#include <doctest/doctest.h>

#include "cache/protocol/views.hpp"

namespace proto = fourinone::cache::proto;
using fourinone::core::encode;

TEST_CASE("a single-item response encoded from views is byte for byte the proto::Response") {
  proto::Response r;
  r.code = 3;
  r.message = "why";
  r.layout_version = 42;
  r.item = proto::ItemResult{7, std::string(300, 'v'), 9, 1234};
  std::string out;
  proto::append_single_response(out, 3, "why", 42, 7, std::string(300, 'v'), 9, 1234);
  CHECK(out == encode(r));
  proto::Response empty;
  std::string out2;
  proto::append_single_response(out2, 0, "", 0, 0, "", 0, 0);
  CHECK(out2 == encode(empty));
}

TEST_CASE("a batch request encoded from its head and appended items decodes as the proto::Request") {
  std::string out;
  proto::append_batch_request_head(out, proto::Op::replicate, 5, 8, 2);
  proto::append_item(out, "k1", "value one", 0, 3, 0);
  proto::append_item(out, "k2", "", proto::kItemRemove, 0, 77);
  proto::Request expected;
  expected.op = static_cast<std::uint8_t>(proto::Op::replicate);
  expected.layout_version = 5;
  expected.epoch = 8;
  expected.items = {proto::Item{"k1", "value one", 0, 3, 0}, proto::Item{"k2", "", proto::kItemRemove, 0, 77}};
  CHECK(out == encode(expected));
  proto::Request decoded;
  REQUIRE(fourinone::core::decode(out, decoded, "request").ok());
  CHECK(decoded.items.size() == 2);
  CHECK(decoded.items[1].ttl_ms == 77);
}
