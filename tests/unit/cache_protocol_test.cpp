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

TEST_CASE("the byte reader reads a batch back without copying and refuses truncated or lying input") {
  std::string out;
  proto::append_batch_request_head(out, proto::Op::replicate, 5, 8, 2);
  proto::append_item(out, "k1", "value one", 0, 3, 0);
  proto::append_item(out, "k2", "", proto::kItemRemove, 0, 77);
  proto::ByteReader r(out);
  std::uint8_t op = 0;
  std::uint64_t layout = 0, epoch = 0, count = 0;
  REQUIRE(proto::read_batch_head(r, op, layout, epoch, count));
  CHECK(op == static_cast<std::uint8_t>(proto::Op::replicate));
  CHECK(epoch == 8);
  REQUIRE(count == 2);
  proto::ItemView a, b;
  REQUIRE(proto::read_item(r, a));
  REQUIRE(proto::read_item(r, b));
  CHECK(a.key == "k1");
  CHECK(a.value == "value one");
  CHECK(a.version == 3);
  CHECK(b.mode == proto::kItemRemove);
  CHECK(b.ttl_ms == 77);
  CHECK(r.remaining() == 0);
  for (std::size_t cut = 0; cut < out.size(); ++cut) {  // every truncation fails somewhere
    proto::ByteReader t(std::string_view(out).substr(0, cut));
    proto::ItemView x;
    bool ok = proto::read_batch_head(t, op, layout, epoch, count) && proto::read_item(t, x) && proto::read_item(t, x);
    CHECK_FALSE(ok);
  }
  std::string lying;
  proto::append_batch_request_head(lying, proto::Op::replicate, 0, 1, 1000000);  // a count with nothing behind it
  proto::ByteReader l(lying);
  CHECK_FALSE(proto::read_batch_head(l, op, layout, epoch, count));
}
